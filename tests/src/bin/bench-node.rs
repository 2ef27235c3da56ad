//! Benchmark (not a test): the same Stripe request straight to the Stripe fake and through a
//! node, side by side in one run. Prints the node's added latency (p50, p99), throughput with the
//! limiter out of the way, and the node's resident memory idle and under load.
//!
//! Run with `make bench-node` (release build). Figures go to docs/node.md.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use e2e::bench::{sibling, start_stripe_fake};
use e2e::{Service, TempFiles, free_port};
use hdrhistogram::Histogram;

#[derive(Parser)]
struct Args {
    /// Sequential requests per target for the latency figures.
    #[arg(long, default_value_t = 4000)]
    requests: u64,
    /// Concurrent connections for the throughput figures.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds of load per target for the throughput figures.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn latency(http: &reqwest::Client, url: &str, key: &str, n: u64) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..n {
        let start = Instant::now();
        let r = http.get(url).bearer_auth(key).send().await.expect("answer");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await.expect("body");
        h.record(start.elapsed().as_micros() as u64)
            .expect("record");
    }
    h
}

/// Completed requests per second, and how many answers were the limiter's 429 (a node's
/// limiter admits one request per emission interval even at a huge rate, so simultaneous
/// requests can collide; they are counted, not in the throughput, and sent again).
async fn throughput(url: &str, key: &str, concurrency: usize, seconds: u64) -> (f64, u64) {
    let throttled = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (done, stop, throttled) = (done.clone(), stop.clone(), throttled.clone());
        let (url, key) = (url.to_string(), key.to_string());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                let r = http
                    .get(&url)
                    .bearer_auth(&key)
                    .send()
                    .await
                    .expect("answer");
                if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    throttled.fetch_add(1, Ordering::Relaxed);
                    r.bytes().await.expect("body");
                    continue;
                }
                assert!(r.status().is_success(), "{url}: {}", r.status());
                r.bytes().await.expect("body");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    (
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
        throttled.load(Ordering::Relaxed),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let key = "sk_test_bench";
    let files = TempFiles::new();
    let key_file = files.write("api-key", key);
    let (_fake, fake) = start_stripe_fake();

    let (port, admin) = (free_port(), free_port());
    let mut node = Service::spawn(
        "stripe-node",
        Command::new(sibling("stripe-node"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .arg("--stripe-api-key-file")
            .arg(&key_file)
            .args(["--stripe-base-url", &fake])
            .args(["--tps-per-node", "1000000000"])
            .args(["--log-level", "warn"]),
    );
    node.wait_until_listening(port, Duration::from_secs(20));
    node.wait_until_listening(admin, Duration::from_secs(20));
    let pid = node.pid();

    let http = reqwest::Client::new();
    let customer: serde_json::Value = http
        .post(format!("{fake}/v1/customers"))
        .bearer_auth(key)
        .form(&[("email", "bench@example.com"), ("name", "Bench")])
        .send()
        .await?
        .json()
        .await?;
    let id = customer["id"].as_str().expect("customer id");
    let direct = format!("{fake}/v1/customers/{id}");
    let through = format!("http://127.0.0.1:{port}/v2/entityTypes/Customer/entities/{id}");

    // Warm up both paths (connection pools, allocators).
    latency(&http, &direct, key, 200).await;
    latency(&http, &through, key, 200).await;
    let rss_idle = rss_kib(pid);

    // Interleave the two targets in rounds so both see the same machine conditions.
    let rounds = 4;
    let mut d = Histogram::<u64>::new(3)?;
    let mut n = Histogram::<u64>::new(3)?;
    for _ in 0..rounds {
        d.add(latency(&http, &direct, key, args.requests / rounds).await)?;
        n.add(latency(&http, &through, key, args.requests / rounds).await)?;
    }

    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let (rps_direct, _) = throughput(&direct, key, args.concurrency, args.seconds).await;
    let (rps_node, throttled) = throughput(&through, key, args.concurrency, args.seconds).await;
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    let rss_load = peak.load(Ordering::Relaxed);

    let ms = |us: u64| us as f64 / 1000.0;
    let (d50, d99) = (d.value_at_quantile(0.5), d.value_at_quantile(0.99));
    let (n50, n99) = (n.value_at_quantile(0.5), n.value_at_quantile(0.99));
    println!(
        "stripe-node benchmark: GET one Customer, {} sequential requests per target, then {} s at concurrency {}",
        args.requests, args.seconds, args.concurrency
    );
    println!(
        "cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!();
    println!(
        "{:<28} {:>12} {:>12} {:>14}",
        "", "p50 ms", "p99 ms", "throughput/s"
    );
    println!(
        "{:<28} {:>12.3} {:>12.3} {:>14.0}",
        "straight to the fake",
        ms(d50),
        ms(d99),
        rps_direct
    );
    println!(
        "{:<28} {:>12.3} {:>12.3} {:>14.0}",
        "through the node",
        ms(n50),
        ms(n99),
        rps_node
    );
    println!(
        "{:<28} {:>12.3} {:>12.3} {:>14}",
        "added by the node",
        ms(n50.saturating_sub(d50)),
        ms(n99.saturating_sub(d99)),
        ""
    );
    println!(
        "{:<28} {:>12.2} {:>12.2} {:>14.2}",
        "ratio node / direct",
        n50 as f64 / d50.max(1) as f64,
        n99 as f64 / d99.max(1) as f64,
        rps_node / rps_direct.max(1.0)
    );
    println!();
    println!(
        "node RSS idle: {:.1} MiB, under load (peak): {:.1} MiB",
        rss_idle as f64 / 1024.0,
        rss_load as f64 / 1024.0
    );
    println!("limiter 429s during the node's load run (sent again, not counted): {throttled}");
    println!(
        "target: added p50 < 1 ms on loopback -> {}",
        if n50.saturating_sub(d50) < 1000 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!();
    println!(
        "reproduce: make bench-node   (cargo build --release --workspace --bins && target/release/bench-node --requests {} --concurrency {} --seconds {})",
        args.requests, args.concurrency, args.seconds
    );
    Ok(())
}
