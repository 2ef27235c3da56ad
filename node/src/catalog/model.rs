//! The shapes the catalog is declared in, shared by the API, the filter clause and the mapper.

use serde::Serialize;

/// A field's type as the API reports it (`dataType` in the entity type metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataType {
    String,
    Integer,
    Decimal,
    Boolean,
    /// Unix seconds at Stripe; filter literals may also be RFC 3339 strings.
    Timestamp,
    /// A nested JSON object (Address, Metadata, ...).
    Object,
    /// A JSON array.
    Array,
}

/// What Stripe's list endpoint can filter server-side for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushdown {
    /// Evaluated on the node only.
    None,
    /// `field = 'v'` becomes the list parameter `param=v`.
    Equals(&'static str),
    /// Comparisons become `param[gt|gte|lt|lte]=v`; `=` becomes `gte` and `lte`.
    Range(&'static str),
}

/// One field of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// PascalCase name the API uses, e.g. `Email`, `PaymentMethod`.
    pub name: &'static str,
    /// Dotted snake_case path into the Stripe object, e.g. `email`, `address.city`.
    pub path: &'static str,
    pub data_type: DataType,
    /// The entity's identifier (`Id`).
    pub key: bool,
    pub nullable: bool,
    pub read_only: bool,
    pub description: &'static str,
    pub pushdown: Pushdown,
}

// Const modifiers, so the catalog's tables stay `static` data written one field per line.
impl Field {
    /// Stripe sets it; writes refuse it.
    pub const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Stripe's list endpoint filters it by equality with `param`.
    pub const fn eq(mut self, param: &'static str) -> Self {
        self.pushdown = Pushdown::Equals(param);
        self
    }

    /// Stripe's list endpoint filters it by range with `param[gt]` and the like.
    pub const fn range(mut self, param: &'static str) -> Self {
        self.pushdown = Pushdown::Range(param);
        self
    }
}
