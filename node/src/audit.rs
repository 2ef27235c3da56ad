//! The audit line of every write: each create, update and delete (also with conditions, one
//! line per object), action and raw POST or DELETE request, refused ones included. It names the
//! client, the API method, the entity type or action, the Stripe object id, the idempotency key
//! sent to Stripe and the result, and nothing secret. Its target is `audit`, logged at INFO
//! whatever the log level and the verbosity (telemetry.rs keeps the target on).

use crate::access::Caller;
use crate::error::ApiError;

/// The log target of audit lines.
pub const TARGET: &str = "audit";

/// Who makes a write, through which API method (`entities.create`, `actions.execute`,
/// `tools.execute`, ..., as connectors.v2.json names them).
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub caller: &'a Caller,
    pub method: &'static str,
}

impl<'a> Origin<'a> {
    pub fn new(caller: &'a Caller, method: &'static str) -> Self {
        Self { caller, method }
    }
}

/// One write, before its result is known.
#[derive(Clone, Copy, Default)]
pub struct Write<'a> {
    pub entity: Option<&'a str>,
    pub action: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    /// A raw request's HTTP method and Stripe path.
    pub http_method: Option<&'a str>,
    pub path: Option<&'a str>,
}

impl Write<'_> {
    /// Writes the audit line of this write with its result.
    pub fn record(&self, origin: Origin<'_>, result: Result<(), &ApiError>) {
        let (outcome, status) = match result {
            Ok(()) => ("OK".to_string(), 200),
            Err(e) => (
                serde_json::to_value(e.code())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                e.http_status().as_u16(),
            ),
        };
        tracing::info!(
            target: TARGET,
            client = origin.caller.name(),
            method = origin.method,
            entity = self.entity,
            action = self.action,
            object_id = self.object_id,
            idempotency_key = self.idempotency_key,
            http_method = self.http_method,
            path = self.path,
            result = outcome,
            status,
            "write"
        );
    }
}
