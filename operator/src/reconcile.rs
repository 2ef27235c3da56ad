//! One reconcile of a StripeConnection: validate → dereference → build children → apply →
//! status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tracing::{info, warn};

use crate::apply::{self, Outcome};
use crate::children::{self, Children, Settings};
use crate::crd::StripeConnection;
use crate::dereference::{self, dereference};
use crate::metrics::Metrics;
use crate::status::{self, Observation};
use crate::validate::validate;

/// How long a healthy connection waits before it is looked at again without any watch event
/// (the default of `--resync-seconds`).
pub const RESYNC: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[source] kube::Error),
    #[error("the StripeConnection has no namespace")]
    MissingNamespace,
}

impl Error {
    /// Short label for the failures metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(_) => "kube",
            Self::MissingNamespace => "missing_namespace",
        }
    }
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        Self::Kube(err)
    }
}

/// Shared state of every reconcile.
pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub backoff: Backoff,
    /// Requeue delay after a successful reconcile ([`RESYNC`] unless set otherwise).
    pub resync: Duration,
}

impl Context {
    pub fn new(client: Client, settings: Settings, metrics: Metrics) -> Self {
        let reporter = Reporter {
            controller: children::FIELD_MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            settings,
            metrics,
            backoff: Backoff::default(),
            resync: RESYNC,
        }
    }
}

/// Per-connection exponential backoff (by default 5 s doubling to 5 min) for retries, so a
/// missing Secret or a failing API server does not make a hot loop. Reset by a successful
/// reconcile.
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempts: Mutex<HashMap<String, u32>>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(5), Duration::from_secs(300))
    }
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempts: Mutex::default(),
        }
    }

    pub fn next(&self, key: &str) -> Duration {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let n = attempts.entry(key.to_string()).or_insert(0);
        let delay = self
            .base
            .saturating_mul(2u32.saturating_pow(*n))
            .min(self.max);
        *n = n.saturating_add(1);
        delay
    }

    pub fn reset(&self, key: &str) {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

fn key(conn: &StripeConnection) -> String {
    format!(
        "{}/{}",
        conn.namespace().unwrap_or_default(),
        conn.name_any()
    )
}

/// The controller's reconcile function.
pub async fn reconcile(conn: Arc<StripeConnection>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    ctx.metrics.reconciles.inc();
    let result = reconcile_inner(&conn, &ctx).await;
    ctx.metrics
        .duration
        .observe(started.elapsed().as_secs_f64());
    result
}

/// Counts the failure and retries with backoff (controller-rs style).
pub fn error_policy(conn: Arc<StripeConnection>, error: &Error, ctx: Arc<Context>) -> Action {
    warn!(connection = %key(&conn), error = %error, "reconcile failed");
    ctx.metrics.failed(error.metric_label());
    Action::requeue(ctx.backoff.next(&key(&conn)))
}

async fn reconcile_inner(conn: &StripeConnection, ctx: &Context) -> Result<Action, Error> {
    // Children carry ownerReferences, so the garbage collector removes them; nothing to do.
    if conn.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = conn.namespace().ok_or(Error::MissingNamespace)?;

    let valid = match validate(conn) {
        Ok(valid) => valid,
        Err(problems) => {
            update_status(conn, ctx, &Observation::InvalidSpec(&problems)).await?;
            ctx.backoff.reset(&key(conn));
            // Only a spec change can fix it, and that triggers a reconcile.
            return Ok(Action::await_change());
        }
    };

    let found = match dereference(&ctx.client, &valid).await {
        Ok(found) => found,
        Err(error) => {
            let observation = match error {
                dereference::Error::SecretNotFound(message) => Observation::SecretNotFound(message),
                dereference::Error::CaBundleNotFound(message) => {
                    Observation::CaBundleNotFound(message)
                }
                dereference::Error::Kube(err) => return Err(err.into()),
            };
            update_status(conn, ctx, &observation).await?;
            // The Secret and ConfigMap watches reconcile as soon as it appears; this is only a
            // safety net.
            return Ok(Action::requeue(ctx.backoff.next(&key(conn))));
        }
    };

    let children = children::build(&valid, &ctx.settings, &found);
    let (deployment, written) = match apply_children(ctx, &namespace, children).await {
        Ok(applied) => applied,
        Err(Error::Kube(kube::Error::Api(status))) => {
            // The API server refused a child (e.g. an admission policy): say so in the status,
            // then let error_policy retry with backoff.
            let message = format!("a child object was refused: {}", status.message);
            update_status(conn, ctx, &Observation::ApplyFailed(message)).await?;
            return Err(Error::Kube(kube::Error::Api(status)));
        }
        Err(other) => return Err(other),
    };
    if !written.is_empty() {
        info!(connection = %key(conn), children = ?written, "applied children");
        publish(
            conn,
            ctx,
            EventType::Normal,
            "ChildrenApplied",
            format!("applied {}", written.join(", ")),
        )
        .await;
    }
    update_status(conn, ctx, &Observation::Nodes(&deployment)).await?;
    ctx.backoff.reset(&key(conn));
    Ok(Action::requeue(ctx.resync))
}

/// Brings every child to its desired state; returns the live Deployment and the kinds written.
async fn apply_children(
    ctx: &Context,
    namespace: &str,
    children: Children,
) -> Result<(Deployment, Vec<&'static str>), Error> {
    // No `..`: a new child must be handled here.
    let Children {
        service_account,
        config_map,
        redis_password,
        client_token,
        named_client_tokens,
        deployment,
        service,
        hpa,
        pdb,
    } = children;
    let mut writer = ChildWriter {
        ctx,
        namespace,
        written: Vec::new(),
    };
    writer.ensure(&service_account).await?;
    writer.ensure(&config_map).await?;
    if let Some(redis) = &redis_password {
        writer.ensure(redis).await?;
    }
    writer.create_token(&client_token).await?;
    for named in &named_client_tokens {
        writer.create_token(named).await?;
    }
    let deployment = writer.ensure(&deployment).await?;
    writer.ensure(&service).await?;
    writer.ensure(&hpa).await?;
    writer.ensure(&pdb).await?;
    Ok((deployment, writer.written))
}

/// Writes children into one namespace, counting each write by kind.
struct ChildWriter<'a> {
    ctx: &'a Context,
    namespace: &'a str,
    written: Vec<&'static str>,
}

impl ChildWriter<'_> {
    fn note(&mut self, kind: &'static str, outcome: Outcome) {
        if outcome != Outcome::Unchanged {
            self.ctx.metrics.wrote(kind);
            self.written.push(kind);
        }
    }

    /// Applies `desired` unless the live object already matches it; returns the live object.
    async fn ensure<K>(&mut self, desired: &K) -> Result<K, Error>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + k8s_openapi::Resource
            + Clone
            + std::fmt::Debug
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        let api = Api::namespaced(self.ctx.client.clone(), self.namespace);
        let (live, outcome) = apply::ensure(&api, desired).await?;
        self.note(<K as k8s_openapi::Resource>::KIND, outcome);
        Ok(live)
    }

    /// Creates the client token Secret with a new token unless it exists: a token is never
    /// replaced.
    async fn create_token(&mut self, secret: &children::ClientTokenSecret) -> Result<(), Error> {
        let outcome = apply::create_if_absent(
            &Api::namespaced(self.ctx.client.clone(), self.namespace),
            || secret.with_token(&children::generate_client_token()),
            &secret.name(),
        )
        .await?;
        self.note("Secret", outcome);
        Ok(())
    }
}

/// Writes the status computed from `observation` if it differs from the stored one, and
/// records an Event when the Ready condition changed.
async fn update_status(
    conn: &StripeConnection,
    ctx: &Context,
    observation: &Observation<'_>,
) -> Result<(), kube::Error> {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let new = status::desired_status(conn, observation, &now);
    if conn.status.as_ref() == Some(&new) {
        return Ok(());
    }
    let api: Api<StripeConnection> =
        Api::namespaced(ctx.client.clone(), &conn.namespace().unwrap_or_default());
    let patch = json!({
        "apiVersion": StripeConnection::api_version(&()),
        "kind": StripeConnection::kind(&()),
        "status": new,
    });
    api.patch_status(
        &conn.name_any(),
        &apply::apply_params(),
        &Patch::Apply(&patch),
    )
    .await?;
    ctx.metrics.wrote("StripeConnectionStatus");
    if let Some(t) = status::transition(conn.status.as_ref(), &new) {
        let type_ = if t.warning {
            EventType::Warning
        } else {
            EventType::Normal
        };
        publish(conn, ctx, type_, &t.reason, t.note).await;
    }
    Ok(())
}

/// Records a Kubernetes Event on the connection; a failure to record is logged, not fatal.
async fn publish(
    conn: &StripeConnection,
    ctx: &Context,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(err) = ctx.recorder.publish(&event, &conn.object_ref(&())).await {
        warn!(connection = %key(conn), error = %err, "cannot record event");
    }
}
