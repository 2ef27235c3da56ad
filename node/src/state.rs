//! What every handler shares.

use std::sync::Arc;

use crate::auth::ClientToken;
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
    /// The client token callers must present; `None` only for local runs without one.
    pub client_token: Option<Arc<ClientToken>>,
}
