//! `stripe-operator run`: the controller, behind a leader Lease, with its admin endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::{self, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use prometheus_client::registry::Registry;
use stripe_node::admin::termination_signal;
use stripe_node::secret::SecretFile;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::admin::{self, AdminState};
use crate::children::Settings;
use crate::crd::{CaBundleKind, StripeConnection, StripeConnectionSpec};
use crate::leader::Leadership;
use crate::metrics::Metrics;
use crate::reconcile::{Context, RESYNC, error_policy, reconcile};
use crate::triggers;

/// Flags of `stripe-operator run`; each also reads an environment variable.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Container image of the connector node.
    #[arg(long, env = "NODE_IMAGE")]
    pub node_image: String,
    /// Redis URL the nodes share their limiter through (none: each node limits itself).
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// File with the Redis password; copied into each connection's Secret for its nodes.
    #[arg(long, env = "REDIS_PASSWORD_FILE")]
    pub redis_password_file: Option<PathBuf>,
    /// Namespaces to watch, comma separated; empty watches all.
    #[arg(
        long,
        env = "WATCH_NAMESPACES",
        value_delimiter = ',',
        default_value = ""
    )]
    pub watch_namespaces: Vec<String>,
    /// Take a coordination.k8s.io Lease before reconciling, so replicas never both act.
    #[arg(long, env = "LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    /// Namespace of the leader Lease (the operator's own).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,
    /// Name of the leader Lease.
    #[arg(long, env = "LEASE_NAME", default_value = "stripe-operator")]
    pub lease_name: String,
    /// Address of /healthz, /readyz and /metrics.
    #[arg(long, env = "ADMIN_LISTEN", default_value = "0.0.0.0:9090")]
    pub admin_listen: SocketAddr,
    /// Seconds after which a healthy connection is reconciled again without any watch event.
    #[arg(long, env = "RESYNC_SECONDS", default_value_t = RESYNC.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub resync_seconds: u64,
}

impl RunArgs {
    /// The settings every connection's children are built with.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        // Read by the node's rules (trimmed, refused when empty), as the nodes read the copy.
        let redis_password = match &self.redis_password_file {
            Some(path) => Some(
                SecretFile::open("--redis-password-file", path)?
                    .current()
                    .expose()
                    .to_string(),
            ),
            None => None,
        };
        if let Some(url) = &self.redis_url
            && url_has_password(url)
        {
            anyhow::bail!(
                "--redis-url must not carry a password (it would be copied into every \
                 connection's ConfigMap); use --redis-password-file"
            );
        }
        Ok(Settings {
            node_image: self.node_image.clone(),
            redis_url: self.redis_url.clone().filter(|u| !u.is_empty()),
            redis_password,
        })
    }

    fn namespaces(&self) -> Vec<String> {
        self.watch_namespaces
            .iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    }
}

/// Whether a URL like `redis://user:pass@host` has a password in its userinfo.
fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// Runs until SIGTERM/SIGINT (clean exit) or until the leader Lease is lost (error, so the pod
/// restarts and campaigns again).
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let client = Client::try_default().await?;
    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let admin = AdminState::new(registry);

    // Cancelled by SIGTERM, by losing the leader Lease, or when the controllers end.
    let stop = CancellationToken::new();
    let stopped = || stop.clone().cancelled_owned();
    let admin_task = tokio::spawn(admin::serve(args.admin_listen, admin.clone(), stop.clone()));
    tokio::spawn({
        let stop = stop.clone();
        async move {
            termination_signal().await;
            stop.cancel();
        }
    });

    client.apiserver_version().await?;
    admin.ready.store(true, Ordering::Relaxed);

    let leadership = if args.leader_election {
        let identity = std::env::var("POD_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| format!("stripe-operator-{}", std::process::id()));
        let acquired = Leadership::acquire(
            client.clone(),
            &args.lease_namespace,
            &args.lease_name,
            &identity,
            stopped(),
        )
        .await?;
        let Some(leadership) = acquired else {
            let _ = admin_task.await;
            return Ok(());
        };
        // Losing the lease stops the controllers like a signal does.
        let lost = leadership.lost();
        let lost_stop = stop.clone();
        // Ends on a stop too, so it drops its view of the Lease and `release` can give it up.
        tokio::spawn(async move {
            tokio::select! {
                () = lost => lost_stop.cancel(),
                () = lost_stop.cancelled() => {}
            }
        });
        Some(leadership)
    } else {
        None
    };
    metrics.leader.set(1);

    let mut ctx = Context::new(client.clone(), settings, metrics.clone());
    ctx.resync = Duration::from_secs(args.resync_seconds);
    let ctx = Arc::new(ctx);
    let scopes: Vec<Option<String>> = match args.namespaces() {
        ns if ns.is_empty() => vec![None],
        ns => ns.into_iter().map(Some).collect(),
    };
    info!(namespaces = ?scopes, "starting controllers");
    futures::future::join_all(
        scopes
            .into_iter()
            .map(|scope| controller(client.clone(), scope, ctx.clone(), stopped())),
    )
    .await;

    let lost = match leadership {
        Some(leadership) => {
            let lost = !leadership.is_leader();
            if lost {
                warn!("leader lease lost");
            }
            leadership.release().await;
            lost
        }
        None => false,
    };
    metrics.leader.set(0);
    stop.cancel();
    let _ = admin_task.await;
    if lost {
        anyhow::bail!("lost the leader lease; exiting so a fresh process campaigns again");
    }
    info!("stopped");
    Ok(())
}

/// One controller over StripeConnections in `namespace` (all when `None`), until `shutdown`.
pub async fn controller(
    client: Client,
    namespace: Option<String>,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
    let ns = namespace.as_deref();
    let owned = watcher::Config::default().labels("app.kubernetes.io/managed-by=stripe-operator");
    let controller = Controller::new(
        api::<StripeConnection>(&client, ns),
        watcher::Config::default().any_semantic(),
    );
    let store = controller.store();
    let config_map_store = store.clone();
    controller
        .with_config(controller::Config::default().debounce(Duration::from_secs(1)))
        .owns(api::<Deployment>(&client, ns), owned.clone())
        .owns(api::<Service>(&client, ns), owned.clone())
        .owns(api::<ServiceAccount>(&client, ns), owned.clone())
        // Status-only writes of these two never matter (crate::triggers).
        .owns_stream(triggers::spec_changes(watcher(
            api::<HorizontalPodAutoscaler>(&client, ns),
            owned.clone(),
        )))
        .owns_stream(triggers::spec_changes(watcher(
            api::<PodDisruptionBudget>(&client, ns),
            owned.clone(),
        )))
        // The Secrets connections reference are the user's (not labelled), so all are watched;
        // a Secret appearing or changing reconciles the connections that use it.
        .watches(
            api::<Secret>(&client, ns),
            watcher::Config::default(),
            move |secret| connections_using(&store, &secret),
        )
        // Likewise every ConfigMap: a CA bundle is the user's; the settings ConfigMap is owned
        // (one watch for both, mapped by reference and by ownerReference).
        .watches(
            api::<ConfigMap>(&client, ns),
            watcher::Config::default(),
            move |config_map| connections_using_config_map(&config_map_store, &config_map),
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(err) = result {
                warn!(error = %err, "controller event");
            }
        })
        .await;
}

/// Connections in `secret`'s namespace that reference it or own it.
pub fn connections_using(
    store: &Store<StripeConnection>,
    secret: &Secret,
) -> Vec<ObjectRef<StripeConnection>> {
    connections_referencing(store, secret, |spec, name| {
        spec.auth.api_key_secret_ref.name == name
            || spec
                .proxy
                .as_ref()
                .and_then(|p| p.password_secret_ref.as_ref())
                .is_some_and(|r| r.name == name)
            || ca_bundle_is(spec, CaBundleKind::Secret, name)
    })
}

/// Connections in `config_map`'s namespace whose CA bundle it is, or that own it.
pub fn connections_using_config_map(
    store: &Store<StripeConnection>,
    config_map: &ConfigMap,
) -> Vec<ObjectRef<StripeConnection>> {
    connections_referencing(store, config_map, |spec, name| {
        ca_bundle_is(spec, CaBundleKind::ConfigMap, name)
    })
}

fn ca_bundle_is(spec: &StripeConnectionSpec, kind: CaBundleKind, name: &str) -> bool {
    spec.tls
        .as_ref()
        .and_then(|t| t.ca_bundle_ref.as_ref())
        .is_some_and(|r| r.kind == kind && r.name == name)
}

/// Connections in `object`'s namespace for which `references(spec, name)` holds or that own it.
fn connections_referencing<K: Resource>(
    store: &Store<StripeConnection>,
    object: &K,
    references: impl Fn(&StripeConnectionSpec, &str) -> bool,
) -> Vec<ObjectRef<StripeConnection>> {
    let namespace = object.namespace();
    let name = object.name_any();
    let owner_uids: Vec<&str> = object
        .owner_references()
        .iter()
        .filter(|o| o.kind == "StripeConnection")
        .map(|o| o.uid.as_str())
        .collect();
    store
        .state()
        .into_iter()
        .filter(|conn| conn.namespace() == namespace)
        .filter(|conn| {
            references(&conn.spec, &name)
                || conn
                    .uid()
                    .is_some_and(|uid| owner_uids.contains(&uid.as_str()))
        })
        .map(|conn| ObjectRef::from_obj(conn.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::RunArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: RunArgs,
    }

    fn parse(argv: &[&str]) -> RunArgs {
        Cli::try_parse_from(std::iter::once("stripe-operator").chain(argv.iter().copied()))
            .expect("flags parse")
            .args
    }

    #[test]
    fn flags_and_defaults() {
        let args = parse(&["--node-image", "img:1"]);
        assert!(args.leader_election);
        assert!(args.namespaces().is_empty(), "empty watches all namespaces");
        assert_eq!(args.admin_listen.to_string(), "0.0.0.0:9090");
        assert_eq!(args.resync_seconds, 300);

        let args = parse(&[
            "--node-image",
            "img:1",
            "--watch-namespaces",
            "shop, finance,",
            "--leader-election",
            "false",
            "--resync-seconds",
            "20",
        ]);
        assert_eq!(args.namespaces(), ["shop", "finance"]);
        assert!(!args.leader_election);
        assert_eq!(args.resync_seconds, 20);
    }

    #[test]
    fn redis_password_is_read_from_its_file() {
        let dir = std::env::temp_dir().join(format!("stripe-operator-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("password");
        std::fs::write(&file, "s3cret\n").expect("written");
        let file_arg = file.to_string_lossy().into_owned();
        let args = parse(&["--node-image", "img", "--redis-password-file", &file_arg]);
        assert_eq!(
            args.settings().expect("settings").redis_password.as_deref(),
            Some("s3cret")
        );

        let missing = dir.join("missing").to_string_lossy().into_owned();
        let args = parse(&["--node-image", "img", "--redis-password-file", &missing]);
        let error = args.settings().expect_err("missing file").to_string();
        assert!(error.contains("--redis-password-file"), "{error}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_password_in_the_redis_url_is_refused() {
        for url in ["redis://:pw@redis:6379", "rediss://user:pw@redis/0"] {
            let args = parse(&["--node-image", "img", "--redis-url", url]);
            let error = args.settings().expect_err("refused").to_string();
            assert!(
                error.contains("--redis-url") && !error.contains("pw"),
                "{error}"
            );
        }
        for url in ["redis://redis:6379", "redis://user@redis:6379/0"] {
            let args = parse(&["--node-image", "img", "--redis-url", url]);
            assert!(args.settings().is_ok(), "{url}");
        }
    }
}
