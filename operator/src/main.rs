use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "stripe-operator",
    version,
    about = "Reconciles StripeConnection resources into connector node fleets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the StripeConnection CustomResourceDefinition as YAML.
    Crd,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => print!("{}", stripe_operator::crd_yaml()?),
    }
    Ok(())
}
