//! The declarative catalog of Stripe entities and actions: adding one is data, not code.

pub mod actions;
#[cfg(test)]
mod doc;
pub mod entities;
pub mod model;
#[cfg(test)]
mod spec_check;

pub use actions::{ACTIONS, Action, Output, Param, ParamTarget};
pub use entities::{ENTITIES, Entity, Operation, Operations};
pub use model::{DataType, Field, Pushdown, SearchKind};

/// The entity of that name (case-sensitive, as Integration Connectors' Stripe connector spells it).
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// The action of that name.
pub fn action(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// The operation of that name as grants and the document spell it (`LIST`, `GET`, ...).
pub fn operation(name: &str) -> Option<Operation> {
    Operation::ALL.into_iter().find(|o| o.enum_name() == name)
}
