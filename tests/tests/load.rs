//! Load test, bounded in count and duration: three node processes behind one redis-server (the
//! shared limiter, 6 TPS per node = 18 TPS), offered about 100 requests per second for 60 s with
//! the Stripe fake as the Stripe peer. Every answer is 200 or 429, each node's memory stays flat,
//! and the admitted rate is within 5% of 18 TPS. Figures are printed for docs/reliability.md:
//! `cargo nextest run -p stripe-connector-tests --test load --no-capture`.
//! It is the one long test (about 65 s); .config/nextest.toml runs it alone.

use std::time::Duration;

use e2e::offered_load::drive;
use e2e::{Node, NodeOptions, Redis, StripeFake};

const TPS_PER_NODE: u32 = 6;
const NODES: u32 = 3;
const OFFERED_RPS: u32 = 100;
const WARM_UP: Duration = Duration::from_secs(3);
const RUN: Duration = Duration::from_secs(60);
/// Flat memory: a node's RSS may grow this much over the run (allocator slack, pools).
const MAX_RSS_GROWTH_KIB: u64 = 20 * 1024;

/// Resident memory of a process in KiB (`VmRSS` of /proc/<pid>/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

async fn live_nodes(node: &Node) -> u64 {
    node.readiness().await["limiter"]["live_nodes"]
        .as_u64()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_hold_18_tps_for_a_minute_past_capacity() {
    let fake = StripeFake::start();
    let redis = Redis::start();
    let nodes: Vec<Node> = (1..=NODES)
        .map(|i| {
            let mut options = NodeOptions::new(fake.url());
            options.connection_name = "load".into();
            options.redis_url = Some(redis.url());
            options.tps_per_node = TPS_PER_NODE;
            options.extra_args = vec!["--node-id".into(), format!("n{i}")];
            options.env = vec![("LOG_LEVEL".into(), "warn".into())];
            Node::start(&options)
        })
        .collect();
    for _ in 0..100 {
        let mut all = true;
        for n in &nodes {
            all &= live_nodes(n).await == u64::from(NODES);
        }
        if all {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();

    let warm = drive(&urls, OFFERED_RPS, WARM_UP).await;
    assert!(warm.other.is_empty(), "warm-up: {:?}", warm.other);
    let rss_start: Vec<u64> = nodes.iter().map(|n| rss_kib(n.service.pid())).collect();

    let counts = drive(&urls, OFFERED_RPS, RUN).await;
    let rss_end: Vec<u64> = nodes.iter().map(|n| rss_kib(n.service.pid())).collect();

    let tps = f64::from(TPS_PER_NODE * NODES);
    let secs = counts.elapsed.as_secs_f64();
    let expected = tps * secs;
    let admitted = counts.admitted as f64;
    println!(
        "load: {} nodes x {TPS_PER_NODE} TPS, offered {} requests over {secs:.1} s ({:.1}/s)",
        NODES,
        counts.admitted + counts.throttled + counts.other.len() as u64,
        (counts.admitted + counts.throttled) as f64 / secs
    );
    println!(
        "load: admitted {} ({:.2}/s, expected {expected:.0} = {tps} TPS, {:+.2}%), throttled {} (429), other {}",
        counts.admitted,
        admitted / secs,
        (admitted / expected - 1.0) * 100.0,
        counts.throttled,
        counts.other.len()
    );
    for (i, (start, end)) in rss_start.iter().zip(&rss_end).enumerate() {
        println!(
            "load: node n{} RSS {:.1} MiB after warm-up, {:.1} MiB at the end ({:+.1} MiB)",
            i + 1,
            *start as f64 / 1024.0,
            *end as f64 / 1024.0,
            (*end as f64 - *start as f64) / 1024.0
        );
    }

    assert!(
        counts.other.is_empty(),
        "answers other than 200/429: {:?}",
        &counts.other[..counts.other.len().min(5)]
    );
    assert!(counts.throttled > 0, "the run never went past capacity");
    // ±5%, plus the GCRA's back-to-back slot per node.
    let slack = f64::from(NODES);
    assert!(
        admitted >= expected * 0.95 - slack && admitted <= expected * 1.05 + slack,
        "admitted {admitted} over {secs:.1} s, expected {expected:.0} ±5%"
    );
    for (i, (start, end)) in rss_start.iter().zip(&rss_end).enumerate() {
        assert!(
            *end < start + MAX_RSS_GROWTH_KIB,
            "node n{} grew from {start} KiB to {end} KiB",
            i + 1
        );
    }
}
