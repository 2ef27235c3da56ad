//! The declarative catalog of Stripe entities and actions: adding one is data, not code.

pub mod model;

pub use model::{DataType, Field, Pushdown};
