//! The declarative catalog of Stripe entities and actions: adding one is data, not code.

pub mod actions;
#[cfg(test)]
mod doc;
pub mod entities;
pub mod model;
#[cfg(test)]
mod spec_check;

pub use actions::{ACTIONS, Action, Output, Param, ParamTarget};
pub use entities::{ENTITIES, Entity, Operations};
pub use model::{DataType, Field, Pushdown, SearchKind};

/// The entity of that name (case-sensitive, as the seed spells it).
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// The action of that name.
pub fn action(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}
