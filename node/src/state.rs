//! What every handler shares.

use std::sync::Arc;

use crate::access::Clients;
use crate::config::Config;
use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::stripe::StripeApi;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub stripe: Arc<dyn StripeApi>,
    pub limiter: Arc<dyn Limiter>,
    pub metrics: Arc<Metrics>,
    /// The clients that may call, by token; `None` only for local runs without tokens.
    pub clients: Option<Arc<Clients>>,
}
