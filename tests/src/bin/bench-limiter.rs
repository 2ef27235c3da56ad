//! Benchmark of the distributed limiter (`make bench-limiter`; not a test).
//!
//! Starts a real redis-server, then for 1, 2, 10 and 50 simulated nodes (each with its own Redis
//! connection, limiter instance and heartbeat) offers more load than the connection's capacity
//! and measures what is admitted. Side by side, on the same load, it runs a fixed-window
//! INCR+EXPIRE limiter (the approach of envoyproxy/ratelimit) to show its overshoot at window
//! edges. Two loads:
//! - steady: each node is offered `overload` × its share, evenly spaced;
//! - random: the same rate at random times (Poisson arrivals), as independent callers make;
//! - edge bursts: 1 s on (5 × the share), 1 s off, each burst straddling a wall-clock second,
//!   which is where fixed windows turn over.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use e2e::Redis;
use hdrhistogram::Histogram;
use redis::aio::ConnectionManager;
use stripe_node::limiter::shared::{Keys, SharedBudget, SharedSettings};
use stripe_node::limiter::{HEARTBEAT_TTL, LEAST_TOLERANCE};

#[derive(Parser, Debug)]
#[command(about = "Distributed limiter benchmark against a real redis-server")]
struct Args {
    /// Seconds of load per run (each fleet size × limiter × load).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Transactions per second per node (the connection's setting).
    #[arg(long, default_value_t = 6)]
    tps_per_node: u32,
    /// Fleet sizes to simulate.
    #[arg(long, value_delimiter = ',', default_value = "1,2,10,50")]
    nodes: Vec<u32>,
    /// Offered load over capacity in the steady load.
    #[arg(long, default_value_t = 2.0)]
    overload: f64,
    /// The GCRA's least burst tolerance in milliseconds (the node uses LEAST_TOLERANCE).
    #[arg(long, default_value_t = LEAST_TOLERANCE.as_millis() as u64)]
    tolerance_ms: u64,
    /// Loads to run.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "steady,random,edge-bursts"
    )]
    loads: Vec<Load>,
}

#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
enum Load {
    Steady,
    Random,
    EdgeBursts,
}

impl Load {
    fn name(self) -> &'static str {
        match self {
            Load::Steady => "steady",
            Load::Random => "random",
            Load::EdgeBursts => "edge bursts",
        }
    }

    /// Offered rate per node while active, and whether the load is active at a wall-clock time.
    fn rate(self, share: f64, overload: f64) -> f64 {
        match self {
            Load::Steady | Load::Random => share * overload,
            Load::EdgeBursts => share * 5.0,
        }
    }

    fn active(self, unix: f64) -> bool {
        match self {
            Load::Steady | Load::Random => true,
            // On during [2k + 0.5, 2k + 1.5): across the turn of the second 2k + 1.
            Load::EdgeBursts => (unix % 2.0) >= 0.5 && (unix % 2.0) < 1.5,
        }
    }
}

#[derive(Clone)]
enum Limiter {
    Gcra(Box<SharedBudget>),
    FixedWindow {
        connection: ConnectionManager,
        prefix: String,
        limit: u64,
    },
}

impl Limiter {
    /// Whether the request was admitted, and when the limiter decided by its own clock (Unix
    /// seconds): Redis's for the GCRA, the caller's for the fixed window.
    async fn acquire(&self) -> redis::RedisResult<(bool, f64)> {
        match self {
            Limiter::Gcra(budget) => {
                let verdict = budget.acquire().await?;
                Ok((
                    verdict.refused_by.is_none(),
                    verdict.decided_at_us as f64 / 1e6,
                ))
            }
            Limiter::FixedWindow {
                connection,
                prefix,
                limit,
            } => {
                // envoyproxy/ratelimit: key per (descriptor, window start by the caller's
                // clock); INCRBY and EXPIRE pipelined in one round trip.
                let decided = unix_now();
                let window = decided as u64;
                let key = format!("{prefix}:{window}");
                let (count,): (u64,) = redis::pipe()
                    .cmd("INCRBY")
                    .arg(&key)
                    .arg(1)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(2)
                    .ignore()
                    .query_async(&mut connection.clone())
                    .await?;
                Ok((count <= *limit, decided))
            }
        }
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

struct Stats {
    /// Unix time of each admitted request's decision, by the limiter's clock.
    admitted_at: Vec<f64>,
    /// Unix time of each admitted request's ask, by the caller's clock.
    asked_at: Vec<f64>,
    latency_us: Histogram<u64>,
    requests: u64,
    errors: u64,
}

struct Report {
    offered_tps: f64,
    admitted_tps: f64,
    accuracy: f64,
    worst_aligned: f64,
    worst_sliding: f64,
    /// How far apart the first and last admits of the busiest sliding window are, in ms.
    worst_sliding_span_ms: f64,
    worst_sliding_asked: f64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    round_trips: f64,
    commands: f64,
    errors: u64,
    requests: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let redis = Redis::start();
    let mut info = redis::Client::open(redis.url())?
        .get_multiplexed_async_connection()
        .await?;
    let version: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut info)
        .await?;
    let version = version
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    println!(
        "bench-limiter: redis-server {version} on 127.0.0.1, {} s per run, {} TPS per node, steady and random loads {}x capacity, edge bursts 5x for 1 s of every 2",
        args.seconds, args.tps_per_node, args.overload
    );
    println!(
        "{:<11} {:<13} {:>5} {:>6} {:>9} {:>10} {:>8} {:>9} {:>10} {:>7} {:>9} {:>7} {:>7} {:>7} {:>9} {:>9} {:>6}",
        "load",
        "limiter",
        "nodes",
        "target",
        "offered/s",
        "admitted/s",
        "accuracy",
        "worst 1s",
        "worst slid",
        "span ms",
        "slid@ask",
        "p50 us",
        "p99 us",
        "max us",
        "trips/req",
        "cmds/req",
        "errors"
    );
    for &load in &args.loads {
        for &nodes in &args.nodes {
            for gcra in [true, false] {
                let r = run(&redis, &mut info, &args, load, nodes, gcra).await?;
                let target = f64::from(args.tps_per_node * nodes);
                println!(
                    "{:<11} {:<13} {:>5} {:>6} {:>9.1} {:>10.1} {:>7.1}% {:>8.0}% {:>9.0}% {:>7.1} {:>8.0}% {:>7} {:>7} {:>7} {:>9.2} {:>9.2} {:>6}",
                    load.name(),
                    if gcra { "GCRA (ours)" } else { "fixed window" },
                    nodes,
                    target,
                    r.offered_tps,
                    r.admitted_tps,
                    r.accuracy,
                    r.worst_aligned,
                    r.worst_sliding,
                    r.worst_sliding_span_ms,
                    r.worst_sliding_asked,
                    r.p50_us,
                    r.p99_us,
                    r.max_us,
                    r.round_trips,
                    r.commands,
                    r.errors
                );
                if r.requests == 0 {
                    anyhow::bail!("no request was made");
                }
            }
        }
    }
    println!(
        "accuracy = admitted/s ÷ target; worst 1s = busiest wall-clock second ÷ target; worst slid = busiest sliding 1 s window ÷ target;"
    );
    println!(
        "  both on the limiter's decision clock (Redis TIME for the GCRA, the caller's clock for the fixed window); span ms = first to last admit in that busiest window (the shortest such span); slid@ask = busiest sliding 1 s window by the callers' ask times"
    );
    println!(
        "trips/req = client round trips per request (heartbeats excluded); cmds/req = Redis commands per request, those run inside the script included (INFO commandstats delta)"
    );
    Ok(())
}

async fn run(
    redis: &Redis,
    info: &mut redis::aio::MultiplexedConnection,
    args: &Args,
    load: Load,
    nodes: u32,
    gcra: bool,
) -> anyhow::Result<Report> {
    let run_id = format!(
        "bench-{}-{nodes}-{}",
        load.name().replace(' ', "-"),
        if gcra { "gcra" } else { "fixed" }
    );
    let target = f64::from(args.tps_per_node * nodes);
    let mut limiters = Vec::new();
    for i in 0..nodes {
        if gcra {
            let budget = SharedBudget::new(SharedSettings {
                redis_url: redis.url(),
                redis_password: None,
                keys: Keys::new(&run_id, Some("acct_bench"), ""),
                node_id: format!("node-{i}"),
                tps_per_node: args.tps_per_node,
                // Checked in the same script as in production, set high enough not to bind.
                account_tps: 1_000_000,
                command_timeout: Duration::from_millis(50),
                heartbeat_ttl: HEARTBEAT_TTL,
                least_tolerance: Duration::from_millis(args.tolerance_ms),
            })?;
            budget.heartbeat().await?;
            limiters.push(Limiter::Gcra(Box::new(budget)));
        } else {
            let connection = redis::Client::open(redis.url())?
                .get_connection_manager()
                .await?;
            limiters.push(Limiter::FixedWindow {
                connection,
                prefix: format!("{run_id}:window"),
                limit: (target as u64).max(1),
            });
        }
    }

    let before = command_stats(info).await?;
    let stats = Arc::new(Mutex::new(Stats {
        admitted_at: Vec::new(),
        asked_at: Vec::new(),
        latency_us: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        requests: 0,
        errors: 0,
    }));
    let duration = Duration::from_secs(args.seconds);
    let start = Instant::now();
    let end = start + duration;
    let share = f64::from(args.tps_per_node);
    let interval = Duration::from_secs_f64(1.0 / load.rate(share, args.overload));
    let mut tasks = tokio::task::JoinSet::new();
    let heartbeats = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (i, limiter) in limiters.iter().cloned().enumerate() {
        let stats = stats.clone();
        // Nodes' request streams are spread evenly over one interval.
        let phase = interval.mul_f64(i as f64 / f64::from(nodes));
        tasks.spawn(offer(
            limiter.clone(),
            load,
            start + phase,
            end,
            interval,
            stats,
        ));
        if let Limiter::Gcra(budget) = limiter {
            let heartbeats = heartbeats.clone();
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                while Instant::now() < end {
                    tick.tick().await;
                    if budget.heartbeat().await.is_ok() {
                        heartbeats.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
    let after = command_stats(info).await?;

    if let Some(Limiter::Gcra(_)) = limiters.first() {
        for l in &limiters {
            if let Limiter::Gcra(budget) = l {
                budget.leave().await?;
            }
        }
    }

    let stats = stats.lock().unwrap_or_else(|p| p.into_inner());
    let mut admitted = stats.admitted_at.clone();
    admitted.sort_by(f64::total_cmp);
    // Wall-clock seconds, the fixed window's own windows.
    let mut per_second = std::collections::HashMap::<u64, u32>::new();
    for &t in &admitted {
        *per_second.entry(t as u64).or_default() += 1;
    }
    let worst_aligned = per_second.values().copied().max().unwrap_or(0);
    let (worst_sliding, worst_sliding_span) = busiest_second(&admitted);
    let mut asked = stats.asked_at.clone();
    asked.sort_by(f64::total_cmp);
    let (worst_sliding_asked, _) = busiest_second(&asked);
    // Round trips: EVALSHA (GCRA) or the pipelined INCRBY+EXPIRE (fixed window, one trip),
    // without the heartbeats' EVALSHAs and the INFO calls of this benchmark.
    let delta =
        |name: &str| after.get(name).copied().unwrap_or(0) - before.get(name).copied().unwrap_or(0);
    let heartbeat_calls = heartbeats.load(std::sync::atomic::Ordering::Relaxed);
    let requests = stats.requests.max(1) as f64;
    let (round_trips, commands) = if gcra {
        let evalsha = delta("evalsha") + delta("eval");
        let total: u64 = after.keys().map(|k| delta(k)).sum::<u64>() - delta("info");
        // Each heartbeat runs EVALSHA and 9 commands inside (TIME, then ZADD,
        // ZREMRANGEBYSCORE, PEXPIRE and ZCARD on the connection's and the account's sets).
        let heartbeat_total = heartbeat_calls * 10;
        (
            (evalsha.saturating_sub(heartbeat_calls)) as f64 / requests,
            total.saturating_sub(heartbeat_total) as f64 / requests,
        )
    } else {
        let total: u64 = after.keys().map(|k| delta(k)).sum::<u64>() - delta("info");
        (delta("incrby") as f64 / requests, total as f64 / requests)
    };
    let admitted_tps = admitted.len() as f64 / duration.as_secs_f64();
    Ok(Report {
        offered_tps: stats.requests as f64 / duration.as_secs_f64(),
        admitted_tps,
        accuracy: admitted_tps / target * 100.0,
        worst_aligned: f64::from(worst_aligned) / target * 100.0,
        worst_sliding: worst_sliding as f64 / target * 100.0,
        worst_sliding_span_ms: worst_sliding_span * 1000.0,
        worst_sliding_asked: worst_sliding_asked as f64 / target * 100.0,
        p50_us: stats.latency_us.value_at_quantile(0.5),
        p99_us: stats.latency_us.value_at_quantile(0.99),
        max_us: stats.latency_us.max(),
        round_trips,
        commands,
        errors: stats.errors,
        requests: stats.requests,
    })
}

/// One simulated node's offered load: open loop, one request per interval while the load is
/// active, each decided concurrently (a slow answer does not slow the offered load).
async fn offer(
    limiter: Limiter,
    load: Load,
    first: Instant,
    end: Instant,
    interval: Duration,
    stats: Arc<Mutex<Stats>>,
) {
    let mut calls = tokio::task::JoinSet::new();
    let mut at = first;
    while at < end {
        tokio::time::sleep_until(at.into()).await;
        at += match load {
            // Poisson arrivals: exponential gaps with the same mean.
            Load::Random => interval.mul_f64(-(1.0 - rand::random::<f64>()).ln()),
            _ => interval,
        };
        if !load.active(unix_now()) {
            continue;
        }
        let limiter = limiter.clone();
        let stats = stats.clone();
        calls.spawn(async move {
            let asked = Instant::now();
            let asked_unix = unix_now();
            let result = limiter.acquire().await;
            let latency = asked.elapsed();
            let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.requests += 1;
            stats
                .latency_us
                .saturating_record(latency.as_micros() as u64);
            match result {
                Ok((true, decided)) => {
                    stats.admitted_at.push(decided);
                    stats.asked_at.push(asked_unix);
                }
                Ok((false, _)) => {}
                Err(_) => stats.errors += 1,
            }
        });
    }
    while calls.join_next().await.is_some() {}
}

/// The most admits in any half-open 1 s window, and the shortest time from first to last admit
/// among the windows holding that many; `times` sorted.
fn busiest_second(times: &[f64]) -> (usize, f64) {
    let mut busiest = (0, 0.0);
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= 1.0 {
            lo += 1;
        }
        let (count, span) = (hi - lo + 1, times[hi] - times[lo]);
        if count > busiest.0 || (count == busiest.0 && span < busiest.1) {
            busiest = (count, span);
        }
    }
    busiest
}

/// Calls per command from INFO commandstats.
async fn command_stats(
    info: &mut redis::aio::MultiplexedConnection,
) -> anyhow::Result<std::collections::HashMap<String, u64>> {
    let text: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(info)
        .await?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_string(), calls))
        })
        .collect())
}
