//! The distributed limiter over real node processes, a real redis-server and localstripe.
//! Traffic goes to GET /v2:checkStatus, a Stripe-bound method that passes the limiter's admission.
//! Assertions are on counts of admitted requests over a measured window, with a tolerance band.

use std::time::Duration;

use e2e::offered_load::{self, Counts};
use e2e::{Localstripe, Node, NodeOptions, Redis, TempFiles};
use serde_json::Value;

const TPS_PER_NODE: u32 = 6;

fn node(stripe: &Localstripe, redis: &Redis, connection: &str, id: &str, key: &str) -> Node {
    let mut options = NodeOptions::new(stripe.url());
    options.connection_name = connection.into();
    options.redis_url = Some(redis.url());
    options.tps_per_node = TPS_PER_NODE;
    options.api_key = key.into();
    options.extra_args = vec!["--node-id".into(), id.into()];
    Node::start(&options)
}

/// The value of one sample (`name{labels}` exactly as exposed), 0 when absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// Polls /readyz (bounded) until `check` holds for every node.
async fn wait_ready(nodes: &[&Node], check: impl Fn(&Value) -> bool) {
    for _ in 0..100 {
        let mut all = true;
        for n in nodes {
            all &= check(&n.readiness().await["limiter"]);
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for n in nodes {
        eprintln!("{}", n.readiness().await);
    }
    panic!("nodes never reached the expected limiter state");
}

fn shared_with(nodes: u64) -> impl Fn(&Value) -> bool {
    move |l: &Value| l["mode"] == "shared" && l["live_nodes"] == nodes
}

/// Offers `rate` requests per second for `duration` to the nodes, open loop, round-robin.
async fn drive(targets: &[&Node], rate: u32, duration: Duration) -> Counts {
    let urls: Vec<String> = targets.iter().map(|n| n.url()).collect();
    offered_load::drive(&urls, rate, duration).await
}

/// Admitted count within ±15% (plus the GCRA's back-to-back slot) of `tps` over the window.
fn assert_admitted(counts: &Counts, tps: u32, what: &str) {
    let expected = f64::from(tps) * counts.elapsed.as_secs_f64();
    let admitted = counts.admitted as f64;
    eprintln!(
        "{what}: admitted {admitted} and throttled {} over {:?}; expected about {expected:.1}",
        counts.throttled, counts.elapsed
    );
    assert!(
        counts.other.is_empty(),
        "{what}: unexpected answers {:?}",
        counts.other
    );
    assert!(
        admitted >= expected * 0.85 - 1.0 && admitted <= expected * 1.15 + 2.0,
        "{what}: admitted {admitted} over {:?}, expected about {expected:.0} ({counts:?})",
        counts.elapsed
    );
}

#[tokio::test]
async fn three_nodes_share_18_tps_whatever_the_skew() {
    let stripe = Localstripe::start();
    let redis = Redis::start();
    let nodes: Vec<Node> = (1..=3)
        .map(|i| node(&stripe, &redis, "skew", &format!("n{i}"), "sk_test_skew"))
        .collect();
    let all: Vec<&Node> = nodes.iter().collect();
    wait_ready(&all, shared_with(3)).await;

    // Every request to one node: it alone admits the whole connection's 18 TPS.
    let one = drive(&all[..1], 60, Duration::from_secs(3)).await;
    assert_admitted(&one, 18, "all traffic to one node");
    assert!(one.throttled > 0);

    // Spread over the three: still 18 TPS in total.
    let spread = drive(&all, 60, Duration::from_secs(3)).await;
    assert_admitted(&spread, 18, "traffic spread over three nodes");

    // Each node counted what it was offered: admitted + throttled = requests sent to it.
    let mut offered = 0.0;
    for n in &all {
        let m = n.metrics().await;
        offered += sample(&m, "stripe_connector_limiter_admitted_total")
            + sample(
                &m,
                "stripe_connector_limiter_throttled_total{reason=\"connection\"}",
            )
            + sample(
                &m,
                "stripe_connector_limiter_throttled_total{reason=\"account\"}",
            );
        assert_eq!(sample(&m, "stripe_connector_limiter_capacity_tps"), 18.0);
        assert_eq!(sample(&m, "stripe_connector_limiter_live_nodes"), 3.0);
        assert_eq!(
            sample(&m, "stripe_connector_limiter_mode{mode=\"shared\"}"),
            1.0
        );
        assert!(m.contains("stripe_connector_limiter_latency_seconds_bucket"));
    }
    let sent = one.admitted + one.throttled + spread.admitted + spread.throttled;
    assert_eq!(offered, sent as f64);
    let m = all[1].metrics().await;
    let rate = sample(&m, "stripe_connector_offered_requests_per_second");
    assert!(rate > 0.0 && rate <= 60.0, "offered rate {rate}");
}

#[tokio::test]
async fn capacity_follows_nodes_joining_and_leaving() {
    let stripe = Localstripe::start();
    let redis = Redis::start();
    let key = "sk_test_scale";
    let first = node(&stripe, &redis, "scale", "n1", key);
    let second = node(&stripe, &redis, "scale", "n2", key);
    wait_ready(&[&first, &second], shared_with(2)).await;
    assert_eq!(first.readiness().await["limiter"]["capacity_tps"], 12);

    let mut third = node(&stripe, &redis, "scale", "n3", key);
    wait_ready(&[&first, &second, &third], shared_with(3)).await;
    assert_eq!(first.readiness().await["limiter"]["capacity_tps"], 18);

    // SIGTERM: the node leaves at once (ZREM), not when its 3 s heartbeat would expire.
    third.service.signal(libc::SIGTERM);
    assert_eq!(
        third.service.wait(Duration::from_secs(10)),
        Some(true),
        "node exited"
    );
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let score: Option<f64> = redis::cmd("ZSCORE")
        .arg("stripe-connector:connection:scale:nodes")
        .arg("n3")
        .query(&mut r)
        .unwrap();
    assert_eq!(score, None, "n3 is still counted as live");
    // The next request sees the new capacity.
    let status = reqwest::get(format!("{}/v2:checkStatus", first.url()))
        .await
        .unwrap()
        .status();
    assert!(status == 200 || status == 429, "{status}");
    let limiter = &first.readiness().await["limiter"];
    assert_eq!(limiter["capacity_tps"], 12, "{limiter}");
    assert_eq!(limiter["live_nodes"], 2, "{limiter}");

    let counts = drive(&[&first, &second], 40, Duration::from_secs(3)).await;
    assert_admitted(&counts, 12, "two nodes left");
}

#[tokio::test]
async fn losing_redis_gives_local_mode_and_its_return_the_shared_budget() {
    let stripe = Localstripe::start();
    let mut redis = Redis::start();
    let key = "sk_test_fault";
    let a = node(&stripe, &redis, "fault", "n1", key);
    let b = node(&stripe, &redis, "fault", "n2", key);
    let both = [&a, &b];
    wait_ready(&both, shared_with(2)).await;

    let before = drive(&both, 30, Duration::from_secs(1)).await;
    assert!(before.other.is_empty(), "{:?}", before.other);

    // Redis dies mid-run: requests go on, answered 200 or 429 only.
    let load = tokio::spawn({
        let targets = [a.url(), b.url()];
        async move { offered_load::drive(&targets, 30, Duration::from_secs(3)).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill();
    let during = load.await.unwrap();
    assert!(
        during.other.is_empty(),
        "errors without Redis: {:?}",
        during.other
    );
    assert!(during.admitted > 0);
    for n in both {
        assert_eq!(n.readiness().await["limiter"]["mode"], "local");
        let m = n.metrics().await;
        assert_eq!(
            sample(&m, "stripe_connector_limiter_mode{mode=\"local\"}"),
            1.0
        );
        assert_eq!(sample(&m, "stripe_connector_limiter_capacity_tps"), 6.0);
        // Circuit breaker: a dead Redis sees the heartbeat's probe (once a second) and the few
        // requests in flight when it died, not every request.
        let errors = sample(&m, "stripe_connector_limiter_redis_errors_total");
        assert!((1.0..=10.0).contains(&errors), "{errors} Redis errors");
    }

    // Redis comes back (empty): the nodes rejoin and share the budget again.
    redis.restart();
    wait_ready(&both, shared_with(2)).await;
    let after = drive(&both, 40, Duration::from_secs(2)).await;
    assert_admitted(&after, 12, "back to the shared budget");
    for n in both {
        let m = n.metrics().await;
        assert_eq!(
            sample(&m, "stripe_connector_limiter_mode{mode=\"shared\"}"),
            1.0
        );
    }
}

#[tokio::test]
async fn two_connections_on_one_redis_do_not_interfere() {
    let stripe = Localstripe::start();
    let redis = Redis::start();
    let a1 = node(&stripe, &redis, "conn-a", "n1", "sk_test_a");
    let a2 = node(&stripe, &redis, "conn-a", "n2", "sk_test_a");
    // Same node id on another connection: a different set of live nodes.
    let b1 = node(&stripe, &redis, "conn-b", "n1", "sk_test_b");
    wait_ready(&[&a1, &a2], shared_with(2)).await;
    wait_ready(&[&b1], shared_with(1)).await;

    let (conn_a, conn_b) = ([&a1, &a2], [&b1]);
    let (a, b) = tokio::join!(
        drive(&conn_a, 40, Duration::from_secs(3)),
        drive(&conn_b, 30, Duration::from_secs(3)),
    );
    assert_admitted(&a, 12, "connection a (two nodes)");
    assert_admitted(&b, 6, "connection b (one node)");
}

#[tokio::test]
async fn connections_of_one_account_share_the_account_budget() {
    let stripe = Localstripe::start();
    let mut redis = Redis::start();
    // One API key (so one account), two connections of 6 TPS each, an account budget of 8.
    let start = |connection: &str| {
        let mut options = NodeOptions::new(stripe.url());
        options.connection_name = connection.into();
        options.redis_url = Some(redis.url());
        options.tps_per_node = TPS_PER_NODE;
        options.api_key = "sk_test_shared_account".into();
        options.extra_args = ["--node-id", "n1", "--account-tps", "8"]
            .map(String::from)
            .to_vec();
        Node::start(&options)
    };
    let x = start("conn-x");
    let y = start("conn-y");
    wait_ready(&[&x, &y], shared_with(1)).await;
    assert_eq!(x.readiness().await["limiter"]["account_tps"], 8);

    let counts = drive(&[&x, &y], 40, Duration::from_secs(3)).await;
    assert_admitted(&counts, 8, "two connections on one account");
    let account_refusals: f64 = [x.metrics().await, y.metrics().await]
        .iter()
        .map(|m| {
            sample(
                m,
                "stripe_connector_limiter_throttled_total{reason=\"account\"}",
            )
        })
        .sum();
    assert!(account_refusals > 0.0);

    // Alternating calls pass each connection's budget but not the account's; the 429 says so.
    let mut bodies = Vec::new();
    for n in [&x, &y].repeat(10) {
        let r = reqwest::get(format!("{}/v2:checkStatus", n.url()))
            .await
            .unwrap();
        if r.status() == 429 {
            bodies.push(r.text().await.unwrap());
        }
    }
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("the Stripe account of connection")),
        "{bodies:?}"
    );

    // Without Redis each node keeps to its share of the account (8 / 2 nodes), not its own 6.
    wait_ready(&[&x, &y], |l| l["account_live_nodes"] == 2).await;
    redis.kill();
    reqwest::get(format!("{}/v2:checkStatus", x.url()))
        .await
        .unwrap();
    reqwest::get(format!("{}/v2:checkStatus", y.url()))
        .await
        .unwrap();
    wait_ready(&[&x, &y], |l| l["mode"] == "local" && l["local_tps"] == 4).await;
    let counts = drive(&[&x, &y], 40, Duration::from_secs(3)).await;
    assert_admitted(&counts, 8, "two connections on one account, Redis gone");
}

#[tokio::test]
async fn a_node_reads_the_redis_password_from_its_file() {
    let redis = Redis::start();
    let mut r = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("pw-from-file")
        .query::<()>(&mut r)
        .unwrap();
    let files = TempFiles::new();
    let password_file = files.write("password", "pw-from-file\n");
    // No request reaches Stripe here, so no Stripe peer is needed.
    let mut options = NodeOptions::new("http://127.0.0.1:9");
    options.redis_url = Some(redis.url());
    options.extra_args = vec![
        "--node-id".into(),
        "n1".into(),
        "--redis-password-file".into(),
        password_file.display().to_string(),
    ];
    let node = Node::start(&options);
    wait_ready(&[&node], shared_with(1)).await;
}

#[test]
fn an_unreadable_redis_password_file_stops_the_node_with_a_clear_error() {
    let files = TempFiles::new();
    let key_file = files.write("api-key", "sk_test_x");
    let stderr = Node::start_up_error(
        &key_file,
        [
            "--redis-url",
            "redis://127.0.0.1:9/",
            "--redis-password-file",
            "/nonexistent/password",
        ],
    );
    assert!(
        stderr.contains("--redis-password-file /nonexistent/password: cannot read"),
        "{stderr}"
    );
}
