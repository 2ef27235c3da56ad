//! The connector node: an HTTP API shaped after Integration Connectors' v2 runtime API,
//! serving Stripe entity operations and actions, held to a rate by the limiter.

pub mod admin;
pub mod api;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod error;
pub mod filter;
pub mod limiter;
pub mod limits;
pub mod metrics;
pub mod redact;
pub mod secret;
pub mod server;
pub mod state;
pub mod stripe;
pub mod telemetry;
