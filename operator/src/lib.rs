//! The operator: turns each StripeConnection into an autoscaled fleet of connector nodes.
//!
//! Reconcile ([`reconcile`]) is a pipeline, one module per step: [`validate`] (pure, returns the
//! [`validate::ValidConnection`] the builders take) → [`dereference`] (reads the referenced
//! Secrets and ConfigMaps) → [`children`] (pure builders) → [`apply`] (server-side apply, only
//! when something differs) → [`status`] (computed purely, written only when it changed).

pub mod crd;

pub use crd::{crd, crd_yaml};
pub mod admin;
pub mod apply;
pub mod children;
pub mod controller;
pub mod dereference;
pub mod leader;
pub mod metrics;
pub mod rbac;
pub mod reconcile;
pub mod render;
pub mod status;
pub mod triggers;
pub mod validate;
