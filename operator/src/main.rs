use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use stripe_operator::children::Settings;
use stripe_operator::controller::RunArgs;
use stripe_operator::{children, render};
use tracing_subscriber::EnvFilter;

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
    /// Print the RBAC the operator needs (a ClusterRole and the leader-election Role) as YAML;
    /// the chart grants exactly this (tests/python/test_rbac.py).
    Rbac {
        /// Name of the ClusterRole (the Role gets `-leader-election` appended).
        #[arg(long, default_value = "stripe-operator")]
        name: String,
        /// Namespace of the operator (where its leader Lease lives).
        #[arg(long, default_value = "stripe-system")]
        namespace: String,
    },
    /// Run the controller.
    Run {
        #[command(flatten)]
        args: RunArgs,
        /// Log format.
        #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "json")]
        log_format: LogFormat,
    },
    /// Print the objects the operator would write for a StripeConnection manifest (a
    /// multi-document YAML). A manifest without namespace or uid gets `default` and a
    /// placeholder uid; the client token is freshly generated.
    Render {
        /// The StripeConnection manifest (YAML).
        file: PathBuf,
        /// Node image to render with.
        #[arg(long, default_value = "stripe-connector-node:dev")]
        node_image: String,
        /// Redis URL to render with.
        #[arg(long)]
        redis_url: Option<String>,
        /// Render the Redis password Secret too (with this placeholder password).
        #[arg(long)]
        redis_password: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crd => print!("{}", stripe_operator::crd_yaml()?),
        Command::Rbac { name, namespace } => print!(
            "{}",
            render::to_yaml(&stripe_operator::rbac::manifests(&name, &namespace))?
        ),
        Command::Render {
            file,
            node_image,
            redis_url,
            redis_password,
        } => {
            let manifest = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let conn = render::parse(&manifest)?;
            let settings = Settings {
                node_image,
                redis_url,
                redis_password,
            };
            let objects = render::objects(&conn, &settings, &children::generate_client_token());
            print!("{}", render::to_yaml(&objects)?);
        }
        Command::Run { args, log_format } => {
            init_logging(log_format);
            tokio::runtime::Runtime::new()?.block_on(stripe_operator::controller::run(args))?;
        }
    }
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
