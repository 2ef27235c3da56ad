//! The shapes the catalog is declared in, shared by the API, the filter clause and the mapper.

/// A field's type; the API reports it as Google's `dataType` (api/metadata.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// `field = 'v'` becomes the list parameter `param=v`; `field IN ('a', 'b')` lists once per
    /// value, since the parameter takes one. A `{param}` in the entity's path is filled this way.
    Equals(&'static str),
    /// `field = 'v'` and `field IN ('a', 'b')` become one array parameter `param[0]=a&param[1]=b`
    /// of at most this many values (Product `ids`, Event `types`, Price `lookup_keys`).
    AnyOf(&'static str, usize),
    /// Comparisons become `param[gt|gte|lt|lte]=v`; `=` becomes `gte` and `lte`.
    Range(&'static str),
}

/// How Stripe's Search API matches a field (the query fields of
/// <https://docs.stripe.com/search#query-fields>); the search key is the field's Stripe path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// Exact match only, `key:"v"` (Stripe's token fields; booleans as "true"/"false"; keys
    /// under metadata as `metadata["key"]:"v"`).
    Exact,
    /// Exact match and substring, `key~"v"` (Stripe's string fields).
    Text,
    /// Exact match and `>`, `<`, `>=`, `<=` (amounts and timestamps).
    Numeric,
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
    /// Stripe's Search API can match it (the entity has a search endpoint).
    pub search: Option<SearchKind>,
    /// Stripe does not return it: it is a list filter whose value the node copies from the
    /// request into each object Stripe returned for it (a child's parent, Payout of a balance
    /// transaction). A clause must push it down.
    pub request_only: bool,
    /// A parameter of Stripe's writes that the object does not carry back (Invoice
    /// `days_until_due`): reads show null.
    pub write_only: bool,
    /// Stripe's create takes it and its update does not (a balance transaction's `amount`).
    pub create_only: bool,
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

    /// Stripe's list endpoint filters it with the array parameter `param` of up to `max` values.
    pub const fn any_of(mut self, param: &'static str, max: usize) -> Self {
        self.pushdown = Pushdown::AnyOf(param, max);
        self
    }

    /// Stripe's list endpoint filters it by range with `param[gt]` and the like.
    pub const fn range(mut self, param: &'static str) -> Self {
        self.pushdown = Pushdown::Range(param);
        self
    }

    /// Stripe's Search API matches it.
    pub const fn search(mut self, kind: SearchKind) -> Self {
        self.search = Some(kind);
        self
    }

    /// A list filter Stripe does not return on the object (see `request_only`).
    pub const fn from_request(mut self) -> Self {
        self.request_only = true;
        self.read_only = true;
        self
    }

    /// Set on create only (see `create_only`).
    pub const fn on_create(mut self) -> Self {
        self.create_only = true;
        self
    }

    /// A write parameter Stripe does not return (see `write_only`).
    pub const fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Whether a filter on it can become part of a Stripe search query.
    pub fn searchable(&self) -> bool {
        self.search.is_some()
    }
}
