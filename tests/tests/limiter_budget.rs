//! The limiter's Lua GCRA, heartbeats and fallback against a real redis-server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::Redis;
use prometheus_client::registry::Registry;
use stripe_node::limiter::metrics::LimiterMetrics;
use stripe_node::limiter::shared::{Keys, Reason, SharedBudget, SharedSettings};
use stripe_node::limiter::{
    Decision, LEAST_TOLERANCE, Limiter, LimiterSettings, Mode, NodeLimiter,
};

fn settings(redis: &Redis, connection: &str, node: &str, tps: u32) -> SharedSettings {
    SharedSettings {
        redis_url: redis.url(),
        redis_password: None,
        keys: Keys::new(connection, Some("acct_test"), "sk_test_x"),
        node_id: node.to_string(),
        tps_per_node: tps,
        account_tps: 0,
        command_timeout: Duration::from_millis(200),
        heartbeat_ttl: Duration::from_secs(3),
        least_tolerance: LEAST_TOLERANCE,
    }
}

fn redis_conn(redis: &Redis) -> redis::Connection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

#[tokio::test]
async fn requests_are_spaced_by_the_emission_interval() {
    let redis = Redis::start();
    let budget = SharedBudget::new(settings(&redis, "a", "n1", 10)).unwrap();
    assert_eq!(budget.heartbeat().await.unwrap().connection, 1);
    // Tolerance of one interval: two back-to-back requests pass, the third waits ~100 ms.
    for _ in 0..2 {
        let v = budget.acquire().await.unwrap();
        assert_eq!(v.refused_by, None, "{v:?}");
        assert_eq!(v.capacity_tps, 10);
    }
    let v = budget.acquire().await.unwrap();
    assert_eq!(v.refused_by, Some(Reason::Connection), "{v:?}");
    assert!(
        v.retry_after > Duration::ZERO && v.retry_after <= Duration::from_millis(100),
        "{v:?}"
    );
    tokio::time::sleep(v.retry_after).await;
    assert_eq!(budget.acquire().await.unwrap().refused_by, None);
}

#[tokio::test]
async fn admitted_count_over_a_second_matches_the_rate() {
    let redis = Redis::start();
    let budget = SharedBudget::new(settings(&redis, "a", "n1", 50)).unwrap();
    budget.heartbeat().await.unwrap();
    let start = Instant::now();
    let mut admitted = 0u32;
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_secs(1) && calls < 200_000 {
        calls += 1;
        if budget.acquire().await.unwrap().refused_by.is_none() {
            admitted += 1;
        }
    }
    let scheduled = 50.0 * start.elapsed().as_secs_f64();
    // Never more than the schedule plus the tolerance (one interval: two extra slots at most);
    // a little less only if this busy loop was descheduled for longer than the tolerance.
    assert!(
        f64::from(admitted) <= scheduled + 2.0 && f64::from(admitted) >= scheduled * 0.9,
        "admitted {admitted} of {calls} calls, scheduled {scheduled:.1}"
    );
}

#[tokio::test]
async fn no_second_holds_more_than_the_rate_give_or_take_the_tolerance() {
    let redis = Redis::start();
    // 6 TPS, where one request is 17% of a second: the GCRA's tolerance alone lets a seventh
    // through within 0.85 s after idling (two back to back, then one per interval).
    let budget = SharedBudget::new(settings(&redis, "a", "n1", 6)).unwrap();
    budget.heartbeat().await.unwrap();
    let mut admitted_at = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        let v = budget.acquire().await.unwrap();
        if v.refused_by.is_none() {
            admitted_at.push(v.decided_at_us);
        }
        // Overload at ~200 requests per second, not a busy loop.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Windows on Redis's clock, where the budget decides: 6 in any second short of the
    // tolerance, so at most one more in a whole second (the tolerance's jitter).
    let window = 1_000_000 - LEAST_TOLERANCE.as_micros() as u64;
    for (i, &first) in admitted_at.iter().enumerate() {
        let count = |length: u64| {
            admitted_at[i..]
                .iter()
                .take_while(|&&t| t < first + length)
                .count()
        };
        assert!(
            count(window) <= 6 && count(1_000_000) <= 7,
            "too many admitted in the second from {first}: {admitted_at:?}"
        );
    }
    // The budget is not merely strict: over 2.5 s it gave out (nearly) all 15 slots.
    assert!(admitted_at.len() >= 13, "{admitted_at:?}");
}

#[tokio::test]
async fn capacity_follows_live_nodes() {
    let redis = Redis::start();
    let nodes: Vec<_> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| SharedBudget::new(settings(&redis, "a", n, 6)).unwrap())
        .collect();
    for node in &nodes {
        node.heartbeat().await.unwrap();
    }
    let v = nodes[0].acquire().await.unwrap();
    assert_eq!((v.live_nodes, v.capacity_tps), (3, 18), "{v:?}");

    nodes[2].leave().await.unwrap();
    let v = nodes[0].acquire().await.unwrap();
    assert_eq!((v.live_nodes, v.capacity_tps), (2, 12), "{v:?}");
    // It left the account's live nodes too.
    let keys = Keys::new("a", Some("acct_test"), "sk_test_x");
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(&keys.account_nodes)
        .arg(0)
        .arg(-1)
        .query(&mut redis_conn(&redis))
        .unwrap();
    assert_eq!(members, ["a/n1", "a/n2"]);

    // A node that stops heartbeating drops out when its heartbeat expires.
    let mut short = settings(&redis, "a", "n4", 6);
    short.heartbeat_ttl = Duration::from_millis(300);
    let short = SharedBudget::new(short).unwrap();
    assert_eq!(short.heartbeat().await.unwrap().connection, 3);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let v = nodes[0].acquire().await.unwrap();
    assert_eq!(v.live_nodes, 2, "{v:?}");
}

#[tokio::test]
async fn account_refusal_spends_nothing_of_the_connection_budget() {
    let redis = Redis::start();
    // Connection "other" spends the account's budget (one request per second).
    let mut other = settings(&redis, "other", "n1", 1000);
    other.account_tps = 1;
    let other = SharedBudget::new(other).unwrap();
    other.heartbeat().await.unwrap();
    assert_eq!(other.acquire().await.unwrap().refused_by, None);
    assert_eq!(
        other.acquire().await.unwrap().refused_by,
        Some(Reason::Account)
    );

    // Connection "mine" of the same account is refused by the account, not by itself ...
    let mut mine = settings(&redis, "mine", "n1", 1);
    mine.account_tps = 1;
    let mine_keys = mine.keys.clone();
    let mine = SharedBudget::new(mine).unwrap();
    mine.heartbeat().await.unwrap();
    let v = mine.acquire().await.unwrap();
    assert_eq!(v.refused_by, Some(Reason::Account), "{v:?}");
    assert!(v.retry_after > Duration::from_millis(500), "{v:?}");
    // ... and its own budget (1/s, which would hold state for a second) was not touched.
    let mut r = redis_conn(&redis);
    let state: Option<String> = redis::cmd("GET")
        .arg(&mine_keys.connection)
        .query(&mut r)
        .unwrap();
    assert_eq!(
        state, None,
        "the refused request spent the connection's budget"
    );
}

#[tokio::test]
async fn connections_of_one_account_share_its_budget_but_not_their_own() {
    let redis = Redis::start();
    let mut a = settings(&redis, "conn-a", "n1", 1000);
    a.account_tps = 2;
    let mut b = settings(&redis, "conn-b", "n1", 1000);
    b.account_tps = 2;
    let a = SharedBudget::new(a).unwrap();
    let b = SharedBudget::new(b).unwrap();
    a.heartbeat().await.unwrap();
    b.heartbeat().await.unwrap();
    let mut admitted = 0;
    for _ in 0..10 {
        for budget in [&a, &b] {
            let v = budget.acquire().await.unwrap();
            match v.refused_by {
                None => admitted += 1,
                Some(reason) => assert_eq!(reason, Reason::Account, "{v:?}"),
            }
        }
    }
    // 20 calls within a few ms: the account's two back-to-back slots, nothing more.
    assert_eq!(admitted, 2);
}

#[tokio::test]
async fn connections_on_one_redis_never_touch_each_others_keys() {
    let redis = Redis::start();
    let mut a = settings(&redis, "conn-a", "n1", 1);
    a.keys = Keys::new("conn-a", Some("acct_a"), "sk_test_x");
    let mut b = settings(&redis, "conn-b", "n1", 1);
    b.keys = Keys::new("conn-b", Some("acct_b"), "sk_test_x");
    let a = SharedBudget::new(a).unwrap();
    let b = SharedBudget::new(b).unwrap();
    a.heartbeat().await.unwrap();
    b.heartbeat().await.unwrap();
    // Spend conn-a's budget; conn-b is untouched.
    while a.acquire().await.unwrap().refused_by.is_none() {}
    let v = b.acquire().await.unwrap();
    assert_eq!(v.refused_by, None, "{v:?}");
    assert_eq!(v.live_nodes, 1);

    let mut r = redis_conn(&redis);
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut r).unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            "stripe-connector:account:acct_a:nodes",
            "stripe-connector:account:acct_b:nodes",
            "stripe-connector:connection:conn-a:gcra",
            "stripe-connector:connection:conn-a:nodes",
            "stripe-connector:connection:conn-a:recent",
            "stripe-connector:connection:conn-b:gcra",
            "stripe-connector:connection:conn-b:nodes",
            "stripe-connector:connection:conn-b:recent",
        ]
    );
}

#[tokio::test]
async fn the_script_is_loaded_again_after_redis_forgets_it() {
    let redis = Redis::start();
    let budget = SharedBudget::new(settings(&redis, "a", "n1", 1000)).unwrap();
    budget.heartbeat().await.unwrap();
    assert_eq!(budget.acquire().await.unwrap().refused_by, None);
    let mut r = redis_conn(&redis);
    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query::<()>(&mut r)
        .unwrap();
    assert_eq!(budget.acquire().await.unwrap().refused_by, None);
}

#[tokio::test]
async fn a_password_protected_redis_needs_the_password() {
    let redis = Redis::start();
    let mut r = redis_conn(&redis);
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret-pass")
        .query::<()>(&mut r)
        .unwrap();
    let mut with = settings(&redis, "a", "n1", 6);
    with.redis_password = Some(stripe_node::secret::Secret::new("s3cret-pass"));
    assert_eq!(
        SharedBudget::new(with)
            .unwrap()
            .heartbeat()
            .await
            .unwrap()
            .connection,
        1
    );

    let without = SharedBudget::new(settings(&redis, "a", "n2", 6)).unwrap();
    let error = without.heartbeat().await.unwrap_err();
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

fn node_limiter(redis_url: Option<String>, tps: u32, max_wait: Duration) -> Arc<NodeLimiter> {
    account_node_limiter(redis_url, "fallback", tps, 25, max_wait)
}

fn account_node_limiter(
    redis_url: Option<String>,
    connection: &str,
    tps: u32,
    account_tps: u32,
    max_wait: Duration,
) -> Arc<NodeLimiter> {
    let shared = redis_url.map(|url| SharedSettings {
        redis_url: url,
        redis_password: None,
        keys: Keys::new(connection, None, "sk_test_x"),
        node_id: "n1".into(),
        tps_per_node: tps,
        account_tps,
        command_timeout: Duration::from_millis(50),
        heartbeat_ttl: Duration::from_secs(3),
        least_tolerance: LEAST_TOLERANCE,
    });
    let metrics = LimiterMetrics::register(&mut Registry::default());
    NodeLimiter::start(
        LimiterSettings {
            tps_per_node: tps,
            max_wait,
            shared,
        },
        metrics,
    )
    .unwrap()
}

/// Polls (bounded) until the limiter is in `mode`.
async fn wait_for_mode(limiter: &NodeLimiter, mode: Mode) {
    for _ in 0..100 {
        if limiter.mode() == mode {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("limiter never reached {mode:?}: {}", limiter.details());
}

#[tokio::test]
async fn a_slow_redis_sends_the_node_local_and_it_comes_back() {
    let redis = Redis::start();
    let limiter = node_limiter(Some(redis.url()), 6, Duration::ZERO);
    wait_for_mode(&limiter, Mode::Shared).await;
    assert_eq!(limiter.details()["capacity_tps"], 6);

    // CLIENT PAUSE holds every client's commands: Redis is up but slower than the timeout.
    let mut r = redis_conn(&redis);
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1500)
        .arg("ALL")
        .query::<()>(&mut r)
        .unwrap();
    let decision = limiter.acquire().await;
    assert_eq!(limiter.mode(), Mode::Local);
    // The request was still decided, by the local budget (first slot: admitted, and one
    // interval of tolerance lets a second through at once).
    assert_eq!(decision, Decision::Admitted);
    assert_eq!(limiter.acquire().await, Decision::Admitted);
    assert!(matches!(
        limiter.acquire().await,
        Decision::Throttled { .. }
    ));

    wait_for_mode(&limiter, Mode::Shared).await;
}

#[tokio::test]
async fn a_node_starts_locally_without_redis_and_joins_when_it_answers() {
    let mut redis = Redis::start();
    let url = redis.url();
    redis.kill();
    let limiter = node_limiter(Some(url), 6, Duration::ZERO);
    assert_eq!(limiter.acquire().await, Decision::Admitted);
    assert_eq!(limiter.mode(), Mode::Local);
    redis.restart();
    wait_for_mode(&limiter, Mode::Shared).await;
    assert_eq!(limiter.details()["live_nodes"], 1);
}

#[tokio::test]
async fn cut_off_from_redis_a_node_keeps_to_its_share_of_the_account() {
    let mut redis = Redis::start();
    // Two connections on one account of 6/s, each node allowed 6/s on its own.
    let a = account_node_limiter(Some(redis.url()), "conn-a", 6, 6, Duration::ZERO);
    let b = account_node_limiter(Some(redis.url()), "conn-b", 6, 6, Duration::ZERO);
    for limiter in [&a, &b] {
        wait_for_mode(limiter, Mode::Shared).await;
    }
    // Both heartbeats have landed once the second node's next one counts two account nodes.
    for _ in 0..100 {
        if a.details()["account_live_nodes"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(a.details()["account_live_nodes"], 2, "{}", a.details());
    assert_eq!(a.details()["local_tps"], 3, "{}", a.details());

    redis.kill();
    // The first request after the outage is decided locally: admitted (a second through the
    // tolerance), then spaced by 1/3 s (not the 1/6 s of the node's own tps).
    assert_eq!(a.acquire().await, Decision::Admitted);
    assert_eq!(a.mode(), Mode::Local);
    assert_eq!(a.details()["capacity_tps"], 3, "{}", a.details());
    assert_eq!(a.acquire().await, Decision::Admitted);
    let Decision::Throttled { retry_after } = a.acquire().await else {
        panic!("a third request at once was admitted: {}", a.details());
    };
    assert!(retry_after > Duration::from_millis(250), "{retry_after:?}");
}

#[tokio::test]
async fn a_bounded_wait_queues_instead_of_rejecting() {
    let rejecting = node_limiter(None, 10, Duration::ZERO);
    assert_eq!(rejecting.acquire().await, Decision::Admitted);
    assert_eq!(rejecting.acquire().await, Decision::Admitted);
    assert!(matches!(
        rejecting.acquire().await,
        Decision::Throttled { .. }
    ));

    let waiting = node_limiter(None, 10, Duration::from_millis(500));
    for _ in 0..3 {
        assert_eq!(waiting.acquire().await, Decision::Admitted);
    }
    // Beyond the wait (10 more slots need ~1 s), requests are refused again.
    let mut throttled = 0;
    let calls = (0..10).map(|_| waiting.acquire());
    for decision in futures::future::join_all(calls).await {
        if matches!(decision, Decision::Throttled { .. }) {
            throttled += 1;
        }
    }
    assert!(throttled >= 3, "only {throttled} of 10 were refused");
}
