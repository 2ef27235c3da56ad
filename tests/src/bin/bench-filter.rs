//! Benchmark (not a test): List with a fixed set of filter clauses on a Stripe fake holding
//! 10,000 customers (and 2,000 invoices), through this tree's node and a baseline node (today's
//! behaviour, built from another revision) side by side in one run. For each clause it walks
//! every page and prints the API pages, rows, Stripe calls per page and latency per page.
//!
//! Run with `make bench-filter` (release builds; BASE=main by default). Figures go to
//! docs/filter-clause.md.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use e2e::bench::{sibling, start_stripe_fake};
use e2e::{Service, TempFiles, free_port, loopback_url};
use hdrhistogram::Histogram;
use serde_json::Value;

#[derive(Parser)]
struct Args {
    /// The baseline node binary (today's behaviour).
    #[arg(long)]
    baseline_node: PathBuf,
    /// How the baseline is named in the table.
    #[arg(long, default_value = "baseline")]
    baseline_label: String,
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    #[arg(long, default_value_t = 2_000)]
    invoices: usize,
    /// Entities per List page.
    #[arg(long, default_value_t = 25)]
    page_size: usize,
}

fn start_node(binary: &PathBuf, fake: &str, key_file: &std::path::Path) -> (Service, String) {
    let (port, admin) = (free_port(), free_port());
    let mut node = Service::spawn(
        "stripe-node",
        Command::new(binary)
            .env_clear()
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--admin-listen",
                &format!("127.0.0.1:{admin}"),
            ])
            .args([
                "--connection-name",
                "bench",
                "--stripe-base-url",
                fake,
                "--tps-per-node",
                "1000000",
            ])
            .arg("--stripe-api-key-file")
            .arg(key_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    node.wait_until_listening(port, Duration::from_secs(20));
    (node, loopback_url(port))
}

async fn stripe_requests(http: &reqwest::Client, fake: &str) -> u64 {
    let body: Value = http
        .get(format!("{fake}/_fake/requests?path_prefix=/v1"))
        .send()
        .await
        .expect("fake answers")
        .json()
        .await
        .expect("json");
    body["count"].as_u64().expect("count")
}

/// Creates objects through Stripe's API on the fake, 16 at a time.
async fn seed(
    fake: &str,
    path: &str,
    n: usize,
    form: impl Fn(usize) -> Vec<(String, String)>,
) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(n);
    let forms: Vec<Vec<(String, String)>> = (0..n).map(form).collect();
    for chunk in forms.chunks(16) {
        let calls = chunk.iter().map(|f| {
            http.post(format!("{fake}{path}"))
                .bearer_auth("sk_test_seed")
                .form(f)
                .send()
        });
        for r in futures::future::join_all(calls).await {
            let r = r.expect("fake answers");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            out.push(r.json::<Value>().await.expect("json"));
        }
    }
    out
}

struct Walk {
    pages: usize,
    rows: usize,
    stripe_calls: u64,
    latency: Histogram<u64>,
}

/// Every page of a List, following its tokens.
async fn walk(
    http: &reqwest::Client,
    node: &str,
    fake: &str,
    entity: &str,
    clause: &str,
    page_size: usize,
) -> Walk {
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let before = stripe_requests(http, fake).await;
    let (mut pages, mut rows) = (0, 0);
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![
            ("conditions", clause.to_string()),
            ("pageSize", page_size.to_string()),
        ];
        if let Some(t) = &token {
            query.push(("pageToken", t.clone()));
        }
        let start = Instant::now();
        let r = http
            .get(format!("{node}/v2/entityTypes/{entity}/entities"))
            .query(&query)
            .send()
            .await
            .expect("node answers");
        assert!(r.status().is_success(), "{clause}: {}", r.status());
        let page: Value = r.json().await.expect("json");
        latency
            .record(start.elapsed().as_micros() as u64)
            .expect("record");
        pages += 1;
        rows += page["entities"].as_array().map_or(0, Vec::len);
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let stripe_calls = stripe_requests(http, fake).await - before;
    Walk {
        pages,
        rows,
        stripe_calls,
        latency,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let files = TempFiles::new();
    let key_file = files.write("api-key", "sk_test_bench");
    let (_fake, fake) = start_stripe_fake();

    let started = Instant::now();
    let customer = |i: usize| {
        let mut form = vec![
            ("email".into(), format!("c{i}@example.com")),
            ("name".into(), format!("Customer {i}")),
            ("metadata[user_id]".into(), format!("u{i}")),
        ];
        if i % 100 == 0 {
            form.push(("description".into(), "vip account".into()));
        }
        form
    };
    // The newest fifth a second later, for the created range (the fake stamps whole seconds).
    let older = args.customers * 4 / 5;
    let mut customers = seed(&fake, "/v1/customers", older, customer).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let newer = seed(&fake, "/v1/customers", args.customers - older, |i| {
        customer(older + i)
    });
    customers.extend(newer.await);
    let first = customers[0]["id"].as_str().expect("id").to_string();
    let invoices = seed(&fake, "/v1/invoices", args.invoices, |_| {
        vec![("customer".into(), first.clone())]
    })
    .await;
    let http = reqwest::Client::new();
    for invoice in invoices.iter().step_by(10) {
        let id = invoice["id"].as_str().expect("id");
        let r = http
            .post(format!("{fake}/v1/invoices/{id}/finalize"))
            .bearer_auth("sk_test_seed")
            .send()
            .await?;
        assert!(r.status().is_success());
    }
    let t = customers[older]["created"].as_i64().expect("created");
    println!(
        "seeded {} customers and {} invoices (every 10th paid) in {:.1} s",
        args.customers,
        args.invoices,
        started.elapsed().as_secs_f64()
    );

    let baseline = start_node(&args.baseline_node, &fake, &key_file);
    let current = start_node(&sibling("stripe-node"), &fake, &key_file);
    let clauses = [
        (
            "metadata equality",
            "Customer",
            "Metadata.user_id = 'u7777'".to_string(),
        ),
        (
            "email",
            "Customer",
            "Email = 'c7777@example.com'".to_string(),
        ),
        ("created range", "Customer", format!("Created >= {t}")),
        (
            "status IN list",
            "Invoice",
            "Status IN ('paid', 'uncollectible')".to_string(),
        ),
        (
            "LIKE Stripe cannot narrow",
            "Customer",
            "Description LIKE '%vip%'".to_string(),
        ),
        (
            "LIKE as a substring search",
            "Customer",
            "Email LIKE '%777@example.com'".to_string(),
        ),
    ];
    println!(
        "\n| clause | node | API pages | rows | Stripe calls | Stripe calls per page | ms per page p50 | ms per page mean |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (what, entity, clause) in &clauses {
        let mut results = Vec::new();
        for (label, node) in [
            (args.baseline_label.as_str(), &baseline.1),
            ("this tree", &current.1),
        ] {
            let w = walk(&http, node, &fake, entity, clause, args.page_size).await;
            println!(
                "| {what}: `{clause}` | {label} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
                w.pages,
                w.rows,
                w.stripe_calls,
                w.stripe_calls as f64 / w.pages as f64,
                w.latency.value_at_quantile(0.5) as f64 / 1000.0,
                w.latency.mean() / 1000.0,
            );
            results.push(w);
        }
        let (old, new) = (&results[0], &results[1]);
        assert_eq!(
            old.rows, new.rows,
            "{clause}: both nodes must return the same rows"
        );
        println!(
            "|  | {} / this tree | | | {:.1}x | | whole walk {:.1}x | |",
            args.baseline_label,
            old.stripe_calls as f64 / new.stripe_calls.max(1) as f64,
            (old.latency.mean() * old.pages as f64) / (new.latency.mean() * new.pages as f64),
        );
    }
    drop((baseline, current));
    Ok(())
}
