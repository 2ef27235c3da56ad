//! The connector node: Google's Integration Connectors v2 runtime API over Stripe (entity
//! operations, actions, SQL, raw requests, tools), held to a rate by the limiter.

pub mod access;
pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod auto_answers;
pub mod catalog;
pub mod config;
pub mod error;
pub mod filter;
#[cfg(test)]
mod fuzz_config;
pub mod input_limits;
pub mod keep_alive;
pub mod limiter;
pub mod listener;
pub mod metrics;
pub mod redact;
pub mod secret;
pub mod server;
pub mod server_tls;
pub mod state;
pub mod stripe;
pub mod telemetry;
