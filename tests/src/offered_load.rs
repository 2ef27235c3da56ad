//! Load offered to nodes' `GET /v2:checkStatus`, a Stripe-bound call that passes the limiter's
//! admission: open loop, bounded in count, for the limiter and load tests.

use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Counts {
    /// 200s that report the connection ACTIVE.
    pub admitted: u64,
    /// 429 RESOURCE_EXHAUSTED answers with a Retry-After.
    pub throttled: u64,
    /// Anything else (there must be none).
    pub other: Vec<String>,
    /// How long the offering took.
    pub elapsed: Duration,
}

/// Offers `rate` requests per second for `duration` to `urls`, round-robin.
pub async fn drive(urls: &[String], rate: u32, duration: Duration) -> Counts {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = (duration.as_secs_f64() * f64::from(rate)).round() as usize;
    let mut calls = tokio::task::JoinSet::new();
    let start = Instant::now();
    for i in 0..total {
        tick.tick().await;
        let request = http.get(format!("{}/v2:checkStatus", urls[i % urls.len()]));
        calls.spawn(async move {
            match request.send().await {
                Ok(r) if r.status() == 429 && r.headers().get("retry-after").is_none() => {
                    (0, "429 without Retry-After".to_string())
                }
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            }
        });
    }
    let mut counts = Counts {
        elapsed: start.elapsed(),
        ..Counts::default()
    };
    while let Some(result) = calls.join_next().await {
        match result.expect("call task") {
            (200, body) if body.contains("ACTIVE") => counts.admitted += 1,
            (429, body) if body.contains("RESOURCE_EXHAUSTED") => counts.throttled += 1,
            (status, body) => counts.other.push(format!("{status}: {body}")),
        }
    }
    counts
}
