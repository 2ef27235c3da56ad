use clap::Parser;
use stripe_node::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    stripe_node::telemetry::init(&config.logging);
    stripe_node::server::run(config).await
}
