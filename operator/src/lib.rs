//! The operator: turns each StripeConnection into an autoscaled fleet of connector nodes.
//!
//! Reconcile is a pipeline: [`validate`] (pure) → [`children`] (pure builders) → [`apply`]
//! (server-side apply, only when something differs) → [`status`] (computed purely, written only
//! when it changed).

pub mod crd;

pub use crd::{crd, crd_yaml};
pub mod admin;
pub mod apply;
pub mod children;
pub mod controller;
pub mod leader;
pub mod metrics;
pub mod rbac;
pub mod reconcile;
pub mod render;
pub mod status;
pub mod triggers;
pub mod validate;
