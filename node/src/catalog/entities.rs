//! Stripe entities as data: PascalCase fields over Stripe's snake_case paths, the list filters
//! Stripe applies server-side (from shared/stripe/endpoints.json), and the operations Stripe allows.
//!
//! Nested objects are flattened into PascalCase columns the way CData's Stripe driver (which
//! Google's connector is built on) does it: `address.city` is `AddressCity`. `Metadata` stays one
//! object field; writes send `metadata[key]=value`. A path ending in `.id` (an expandable reference
//! such as `coupon.id`) is written as its parent (`coupon=...`).

use super::model::DataType::{self, Array, Boolean, Decimal, Integer, Object, String, Timestamp};
use super::model::SearchKind::{Exact, Numeric, Text};
use super::model::{Field, Pushdown};

/// Which entity operations Stripe allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operations {
    pub list: bool,
    pub get: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
}

/// The entity operations, as the document's Operation enum names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    List,
    Get,
    Create,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::List,
        Operation::Get,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
    ];

    pub fn enum_name(self) -> &'static str {
        match self {
            Operation::List => "LIST",
            Operation::Get => "GET",
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Operation::List => "List",
            Operation::Get => "Get",
            Operation::Create => "Create",
            Operation::Update => "Update",
            Operation::Delete => "Delete",
        }
    }

    pub fn supported(self, entity: &Entity) -> bool {
        let o = entity.operations;
        match self {
            Operation::List => o.list,
            Operation::Get => o.get,
            Operation::Create => o.create,
            Operation::Update => o.update,
            Operation::Delete => o.delete,
        }
    }
}

const ALL: Operations = Operations {
    list: true,
    get: true,
    create: true,
    update: true,
    delete: true,
};
const NO_DELETE: Operations = Operations {
    delete: false,
    ..ALL
};
const NONE: Operations = Operations {
    list: false,
    get: false,
    create: false,
    update: false,
    delete: false,
};
const READ_ONLY: Operations = Operations {
    list: true,
    get: true,
    ..NONE
};

/// One Stripe resource exposed as an entity type.
#[derive(Debug, Clone, Copy)]
pub struct Entity {
    pub name: &'static str,
    pub description: &'static str,
    /// Collection path, e.g. `/v1/customers`; one object is `{path}/{id}`. A child collection
    /// names its parent's list parameter in braces (`/v1/invoices/{invoice}/lines`): a List
    /// fills it from the field that pushes that parameter down.
    pub path: &'static str,
    pub operations: Operations,
    /// Shown when an operation Stripe lacks is asked for, naming what to use instead.
    pub instead: Option<&'static str>,
    /// Stripe list parameters Stripe requires (a List must push them down).
    pub list_requires: &'static [&'static str],
    /// List parameters sent unless the conditions push down their own value (Subscription:
    /// `status=all`, since Stripe otherwise leaves canceled ones out).
    pub list_defaults: &'static [(&'static str, &'static str)],
    /// Stripe has `{path}/search` (its Search API) for this resource.
    pub searchable: bool,
    /// The path answers one object, not a list (Balance): List returns it as the only row.
    pub singleton: bool,
    pub fields: &'static [Field],
}

/// What most entities share; each entity below names what differs.
const TOP: Entity = Entity {
    name: "",
    description: "",
    path: "",
    operations: ALL,
    instead: None,
    list_requires: &[],
    list_defaults: &[],
    searchable: false,
    singleton: false,
    fields: &[],
};

impl Entity {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn key(&self) -> &'static Field {
        self.fields
            .iter()
            .find(|f| f.key)
            .unwrap_or(&self.fields[0])
    }

    /// Stripe's search endpoint for the resource, if it has one.
    pub fn search_path(&self) -> Option<std::string::String> {
        self.searchable.then(|| format!("{}/search", self.path))
    }

    /// The list parameters the path is filled from (`invoice` of `/v1/invoices/{invoice}/lines`).
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    }

    /// A child collection: its List needs the parent (see `path`).
    pub fn is_child(&self) -> bool {
        self.path_params().next().is_some()
    }

    /// How a child's entity id is written (`<Customer id>,<TaxId id>`); see api/entity_ids.rs.
    pub fn child_id_form(&self) -> Option<std::string::String> {
        let parent = self.parent_field()?;
        Some(format!("<{} id>,<{} id>", parent.name, self.name))
    }

    /// A child's parent: the field that fills the path's `{param}` (`Customer` of TaxId).
    pub fn parent_field(&self) -> Option<&'static Field> {
        let param = self.path_params().next()?;
        self.fields
            .iter()
            .find(|f| f.pushdown == Pushdown::Equals(param))
    }
}

/// A plain, nullable, writable field.
pub(crate) const fn f(
    name: &'static str,
    path: &'static str,
    data_type: DataType,
    description: &'static str,
) -> Field {
    Field {
        name,
        path,
        data_type,
        key: false,
        nullable: true,
        read_only: false,
        description,
        pushdown: Pushdown::None,
        search: None,
        request_only: false,
        write_only: false,
        create_only: false,
    }
}

const fn id(description: &'static str) -> Field {
    let mut x = f("Id", "id", String, description).ro();
    x.key = true;
    x.nullable = false;
    x
}
#[rustfmt::skip]
const CREATED: Field = f("Created", "created", Timestamp, "Time of creation (Unix seconds).").ro();
const CREATED_FILTERED: Field = CREATED.range("created");
#[rustfmt::skip]
const LIVEMODE: Field = f("Livemode", "livemode", Boolean, "Whether the object exists in live mode.").ro();
#[rustfmt::skip]
const METADATA: Field = f("Metadata", "metadata", Object, "Key-value pairs you attach to the object.");
#[rustfmt::skip]
const CURRENCY: Field = f("Currency", "currency", String, "Three-letter ISO currency code, lowercase.");
const DESCRIPTION: Field = f("Description", "description", String, "Arbitrary text.");
// The line items of quotes, Checkout Sessions and payment links (Stripe's `item`).
#[rustfmt::skip]
const ITEM_DESCRIPTION: Field = f("Description", "description", String, "Description of the line.").ro();
#[rustfmt::skip]
const ITEM_PRICE: Field = f("Price", "price.id", String, "Id of the price.").ro();
#[rustfmt::skip]
const ITEM_QUANTITY: Field = f("Quantity", "quantity", Integer, "Quantity.").ro();
#[rustfmt::skip]
const ITEM_SUBTOTAL: Field = f("AmountSubtotal", "amount_subtotal", Integer, "Total before discounts and taxes.").ro();
#[rustfmt::skip]
const ITEM_TOTAL: Field = f("AmountTotal", "amount_total", Integer, "Total after discounts and taxes.").ro();
#[rustfmt::skip]
const ITEM_DISCOUNT: Field = f("AmountDiscount", "amount_discount", Integer, "Discounts.").ro();
#[rustfmt::skip]
const ITEM_TAX: Field = f("AmountTax", "amount_tax", Integer, "Taxes.").ro();
/// Why a child collection offers only List: Stripe has no endpoint for one of its objects.
const CHILD_LIST_ONLY: &str = "Stripe lists it only through its parent: List it with the parent's id in the conditions (add Id = '...' for one)";

// One line per field: the table reads as a table.
#[rustfmt::skip]
pub static ENTITIES: &[Entity] = &[
    Entity {
        name: "Customer",
        description: "Customers of the business.",
        path: "/v1/customers",
        searchable: true,
        fields: &[
            id("The customer's id (cus_...)."),
            f("Name", "name", String, "Full name or business name.").search(Text),
            f("Email", "email", String, "Email address.").eq("email").search(Text),
            f("Phone", "phone", String, "Phone number.").search(Text),
            DESCRIPTION,
            f("Balance", "balance", Integer, "Balance in the smallest currency unit, applied to the next invoice."),
            CURRENCY.ro(),
            CREATED_FILTERED.search(Numeric),
            f("Delinquent", "delinquent", Boolean, "Whether the latest invoice is past due.").ro(),
            LIVEMODE,
            METADATA.search(Exact),
            f("AddressLine1", "address.line1", String, "Address line 1."),
            f("AddressLine2", "address.line2", String, "Address line 2."),
            f("AddressCity", "address.city", String, "City."),
            f("AddressState", "address.state", String, "State, county, province or region."),
            f("AddressPostalCode", "address.postal_code", String, "ZIP or postal code."),
            f("AddressCountry", "address.country", String, "Two-letter country code."),
            f("InvoicePrefix", "invoice_prefix", String, "Prefix of the customer's invoice numbers."),
            f("PreferredLocales", "preferred_locales", Array, "Preferred languages, by preference."),
            f("TaxExempt", "tax_exempt", String, "none, exempt or reverse."),
            f("DefaultSource", "default_source", String, "Id of the default payment source."),
            f("InvoiceSettingsDefaultPaymentMethod", "invoice_settings.default_payment_method", String, "Default payment method of invoices and subscriptions."),
            f("TestClock", "test_clock", String, "Test clock the customer belongs to.").ro().eq("test_clock"),
        ],
        ..TOP
    },
    Entity {
        name: "PaymentIntent",
        description: "Payments from a customer, guided through their life cycle.",
        path: "/v1/payment_intents",
        searchable: true,
        operations: NO_DELETE,
        instead: Some("PaymentIntents cannot be deleted in Stripe; use the action CancelPaymentIntent"),
        fields: &[
            id("The PaymentIntent's id (pi_...)."),
            f("Amount", "amount", Integer, "Amount to collect in the smallest currency unit.").search(Numeric),
            f("AmountCapturable", "amount_capturable", Integer, "Amount that can be captured.").ro(),
            f("AmountReceived", "amount_received", Integer, "Amount received.").ro(),
            CURRENCY.search(Exact),
            f("Customer", "customer", String, "Id of the customer.").eq("customer").search(Exact),
            DESCRIPTION,
            f("PaymentMethod", "payment_method", String, "Id of the payment method."),
            f("PaymentMethodTypes", "payment_method_types", Array, "Payment method types it may use."),
            f("CaptureMethod", "capture_method", String, "automatic, automatic_async or manual."),
            f("ConfirmationMethod", "confirmation_method", String, "automatic or manual.").on_create(),
            f("Status", "status", String, "requires_payment_method, requires_confirmation, requires_action, processing, requires_capture, canceled or succeeded.").ro().search(Exact),
            f("ClientSecret", "client_secret", String, "Client secret for client-side confirmation.").ro(),
            f("CanceledAt", "canceled_at", Timestamp, "Time of cancellation.").ro(),
            f("CancellationReason", "cancellation_reason", String, "Reason for cancellation.").ro(),
            f("LatestCharge", "latest_charge", String, "Id of the latest charge.").ro(),
            f("Invoice", "invoice", String, "Id of the invoice that created it.").ro(),
            f("ReceiptEmail", "receipt_email", String, "Email the receipt is sent to."),
            f("SetupFutureUsage", "setup_future_usage", String, "on_session or off_session."),
            f("StatementDescriptor", "statement_descriptor", String, "Text on the customer's statement."),
            f("StatementDescriptorSuffix", "statement_descriptor_suffix", String, "Suffix of the statement text."),
            f("TransferGroup", "transfer_group", String, "Transfer group."),
            f("OnBehalfOf", "on_behalf_of", String, "Connected account the payment is made for.").on_create(),
            CREATED_FILTERED.search(Numeric),
            LIVEMODE,
            METADATA.search(Exact),
        ],
        ..TOP
    },
    Entity {
        name: "PaymentMethod",
        description: "Payment instruments (cards, bank accounts, ...).",
        path: "/v1/payment_methods",
        operations: NO_DELETE,
        instead: Some("PaymentMethods cannot be deleted in Stripe; use the action DetachPaymentMethodFromCustomer"),
        fields: &[
            id("The PaymentMethod's id (pm_...)."),
            f("Type", "type", String, "card, sepa_debit, us_bank_account, ...").eq("type").on_create(),
            f("Customer", "customer", String, "Customer it is attached to; use AttachPaymentMethodToCustomer.").ro().eq("customer"),
            f("Card", "card", Object, "Card details; on create: number, exp_month, exp_year, cvc."),
            f("CardBrand", "card.brand", String, "Card brand.").ro(),
            f("CardLast4", "card.last4", String, "Last four digits of the card.").ro(),
            f("CardExpMonth", "card.exp_month", Integer, "Expiry month.").ro(),
            f("CardExpYear", "card.exp_year", Integer, "Expiry year.").ro(),
            f("BillingDetailsName", "billing_details.name", String, "Billing name."),
            f("BillingDetailsEmail", "billing_details.email", String, "Billing email."),
            f("BillingDetailsPhone", "billing_details.phone", String, "Billing phone."),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "SetupIntent",
        description: "Set-ups of payment methods for future payments.",
        path: "/v1/setup_intents",
        operations: NO_DELETE,
        instead: Some("SetupIntents cannot be deleted in Stripe; use the action CancelSetupIntent"),
        fields: &[
            id("The SetupIntent's id (seti_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("PaymentMethod", "payment_method", String, "Id of the payment method.").eq("payment_method"),
            f("PaymentMethodTypes", "payment_method_types", Array, "Payment method types it may use."),
            f("Usage", "usage", String, "on_session or off_session.").on_create(),
            DESCRIPTION,
            f("Status", "status", String, "Status of the SetupIntent.").ro(),
            f("ClientSecret", "client_secret", String, "Client secret for client-side confirmation.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Invoice",
        description: "Statements of amounts owed by a customer.",
        path: "/v1/invoices",
        searchable: true,
        instead: Some("only draft invoices can be deleted; use the action VoidInvoice for finalized ones"),
        fields: &[
            id("The invoice's id (in_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer").search(Exact).on_create(),
            f("Subscription", "subscription", String, "Id of the subscription.").eq("subscription").search(Text).on_create(),
            f("Status", "status", String, "draft, open, paid, uncollectible or void.").ro().eq("status").search(Text),
            f("CollectionMethod", "collection_method", String, "charge_automatically or send_invoice.").eq("collection_method"),
            DESCRIPTION,
            f("AutoAdvance", "auto_advance", Boolean, "Whether Stripe finalizes and collects it automatically."),
            f("DaysUntilDue", "days_until_due", Integer, "On writes: days until due (send_invoice); Stripe returns DueDate.").write_only(),
            f("DueDate", "due_date", Timestamp, "Due date (send_invoice).").range("due_date"),
            CURRENCY.search(Exact).on_create(),
            f("AmountDue", "amount_due", Integer, "Amount due.").ro(),
            f("AmountPaid", "amount_paid", Integer, "Amount paid.").ro(),
            f("AmountRemaining", "amount_remaining", Integer, "Amount remaining.").ro(),
            f("Subtotal", "subtotal", Integer, "Total before discounts and taxes.").ro(),
            f("Total", "total", Integer, "Total after discounts and taxes.").ro().search(Numeric),
            f("Number", "number", String, "Invoice number, set on finalization.").ro().search(Text),
            f("ReceiptNumber", "receipt_number", String, "Number of the receipt sent for it.").ro().search(Text),
            f("Paid", "paid", Boolean, "Whether it is paid.").ro(),
            f("HostedInvoiceUrl", "hosted_invoice_url", String, "URL of the hosted invoice page.").ro(),
            f("Footer", "footer", String, "Footer text."),
            CREATED_FILTERED.search(Numeric),
            LIVEMODE,
            METADATA.search(Exact),
        ],
        ..TOP
    },
    Entity {
        name: "InvoiceItem",
        description: "Line items added to a customer's (next) invoice.",
        path: "/v1/invoiceitems",
        fields: &[
            id("The invoice item's id (ii_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer").on_create(),
            f("Invoice", "invoice", String, "Id of the invoice it is on.").eq("invoice").on_create(),
            f("Pending", "pending", Boolean, "List filter: TRUE for items not yet on an invoice, FALSE for the others.").from_request().eq("pending"),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit."),
            CURRENCY.on_create(),
            DESCRIPTION,
            f("Price", "price.id", String, "Id of the price."),
            f("Quantity", "quantity", Integer, "Quantity."),
            f("Date", "date", Timestamp, "Time of creation (Unix seconds).").ro().range("created"),
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Quote",
        description: "Offers to a customer that become invoices or subscriptions when accepted.",
        path: "/v1/quotes",
        operations: NO_DELETE,
        instead: Some("Quotes cannot be deleted in Stripe; use the action CancelQuote"),
        fields: &[
            id("The quote's id (qt_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("Status", "status", String, "draft, open, accepted or canceled.").ro().eq("status"),
            DESCRIPTION,
            f("Header", "header", String, "Header text."),
            f("Footer", "footer", String, "Footer text."),
            f("LineItems", "line_items", Array, "Line items, e.g. [{\"price\": \"price_...\", \"quantity\": 1}]."),
            f("CollectionMethod", "collection_method", String, "charge_automatically or send_invoice."),
            f("ExpiresAt", "expires_at", Timestamp, "When it expires."),
            f("AmountSubtotal", "amount_subtotal", Integer, "Total before discounts and taxes.").ro(),
            f("AmountTotal", "amount_total", Integer, "Total after discounts and taxes.").ro(),
            CURRENCY.ro(),
            f("Invoice", "invoice", String, "Invoice created when it was accepted.").ro(),
            f("Number", "number", String, "Quote number, set on finalization.").ro(),
            f("TestClock", "test_clock", String, "Test clock the quote belongs to.").ro().eq("test_clock"),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Charge",
        description: "Attempts to move money (usually made by PaymentIntents).",
        path: "/v1/charges",
        searchable: true,
        operations: NO_DELETE,
        instead: Some("Charges cannot be deleted in Stripe; create a Refund instead"),
        fields: &[
            id("The charge's id (ch_...)."),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit.").search(Numeric).on_create(),
            CURRENCY.search(Exact).on_create(),
            f("Customer", "customer", String, "Id of the customer.").eq("customer").search(Exact),
            DESCRIPTION,
            f("Source", "source", String, "On create: id of the payment source or method to charge.").write_only().on_create(),
            f("PaymentIntent", "payment_intent", String, "PaymentIntent that made it.").ro().eq("payment_intent"),
            f("PaymentMethod", "payment_method", String, "Payment method used.").ro(),
            f("Paid", "paid", Boolean, "Whether it succeeded.").ro(),
            f("Captured", "captured", Boolean, "Whether it was captured.").ro(),
            f("Refunded", "refunded", Boolean, "Whether it was fully refunded.").ro(),
            f("AmountRefunded", "amount_refunded", Integer, "Amount refunded.").ro(),
            f("Status", "status", String, "succeeded, pending or failed.").ro().search(Exact),
            f("Disputed", "disputed", Boolean, "Whether it was disputed.").ro().search(Exact),
            f("BillingDetailsAddressPostalCode", "billing_details.address.postal_code", String, "Postal code of the billing address.").ro().search(Exact),
            f("PaymentMethodDetailsCardLast4", "payment_method_details.card.last4", String, "Last four digits of the card charged.").ro().search(Exact),
            f("FailureCode", "failure_code", String, "Error code of a failure.").ro(),
            f("FailureMessage", "failure_message", String, "Message of a failure.").ro(),
            f("ReceiptEmail", "receipt_email", String, "Email the receipt is sent to."),
            f("TransferGroup", "transfer_group", String, "Transfer group.").eq("transfer_group"),
            CREATED_FILTERED.search(Numeric),
            LIVEMODE,
            METADATA.search(Exact),
        ],
        ..TOP
    },
    Entity {
        name: "Refund",
        description: "Refunds of charges.",
        path: "/v1/refunds",
        operations: NO_DELETE,
        instead: Some("Refunds cannot be deleted in Stripe"),
        fields: &[
            id("The refund's id (re_...)."),
            f("Amount", "amount", Integer, "Amount refunded; all of it when left out.").on_create(),
            f("Charge", "charge", String, "Id of the charge refunded.").eq("charge").on_create(),
            f("PaymentIntent", "payment_intent", String, "Id of the PaymentIntent refunded.").eq("payment_intent").on_create(),
            CURRENCY.ro(),
            f("Reason", "reason", String, "duplicate, fraudulent or requested_by_customer.").on_create(),
            f("Status", "status", String, "pending, requires_action, succeeded, failed or canceled.").ro(),
            CREATED_FILTERED,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Product",
        description: "Goods or services sold.",
        path: "/v1/products",
        searchable: true,
        fields: &[
            id("The product's id (prod_...).").any_of("ids", 100),
            f("Name", "name", String, "Name shown to customers.").search(Text),
            DESCRIPTION.search(Text),
            f("Active", "active", Boolean, "Whether it can be bought.").eq("active").search(Exact),
            f("Shippable", "shippable", Boolean, "Whether it is shipped.").eq("shippable").search(Exact),
            f("Url", "url", String, "Public web page.").eq("url").search(Text),
            f("DefaultPrice", "default_price", String, "Id of the default price."),
            f("Images", "images", Array, "Up to eight image URLs."),
            f("UnitLabel", "unit_label", String, "Label of one unit."),
            f("StatementDescriptor", "statement_descriptor", String, "Text on the customer's statement."),
            f("TaxCode", "tax_code", String, "Tax code id."),
            CREATED_FILTERED,
            f("Updated", "updated", Timestamp, "Time of the last update.").ro(),
            LIVEMODE,
            METADATA.search(Exact),
        ],
        ..TOP
    },
    Entity {
        name: "Price",
        description: "How much and how often to charge for products.",
        path: "/v1/prices",
        searchable: true,
        operations: NO_DELETE,
        instead: Some("Prices cannot be deleted in Stripe; update Active to false to archive it"),
        fields: &[
            id("The price's id (price_...)."),
            f("Product", "product", String, "Id of the product.").eq("product").search(Text).on_create(),
            CURRENCY.eq("currency").search(Exact).on_create(),
            f("UnitAmount", "unit_amount", Integer, "Amount per unit in the smallest currency unit.").on_create(),
            f("Active", "active", Boolean, "Whether it can be used for new purchases.").eq("active").search(Exact),
            f("Type", "type", String, "one_time or recurring.").ro().eq("type").search(Exact),
            f("LookupKey", "lookup_key", String, "Lookup key.").any_of("lookup_keys", 10).search(Text),
            f("Nickname", "nickname", String, "Name hidden from customers."),
            f("Recurring", "recurring", Object, "Recurring components, e.g. {\"interval\": \"month\"}.").on_create(),
            f("RecurringInterval", "recurring.interval", String, "day, week, month or year.").ro().eq("recurring[interval]"),
            f("RecurringUsageType", "recurring.usage_type", String, "licensed or metered.").ro().eq("recurring[usage_type]"),
            f("BillingScheme", "billing_scheme", String, "per_unit or tiered.").on_create(),
            f("TaxBehavior", "tax_behavior", String, "inclusive, exclusive or unspecified."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA.search(Exact),
        ],
        ..TOP
    },
    Entity {
        name: "Subscription",
        description: "Recurring charges of a customer.",
        path: "/v1/subscriptions",
        searchable: true,
        operations: NO_DELETE,
        instead: Some("deleting a subscription cancels it; use the action CancelSubscription"),
        list_defaults: &[("status", "all")],
        fields: &[
            id("The subscription's id (sub_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer").on_create(),
            f("Status", "status", String, "incomplete, trialing, active, past_due, canceled, unpaid, paused, ...").ro().eq("status").search(Exact),
            f("Price", "price", String, "List filter: subscriptions with an item of this recurring price.").from_request().eq("price"),
            f("TestClock", "test_clock", String, "Test clock the subscription belongs to.").ro().eq("test_clock"),
            f("Items", "items", Array, "On create: [{\"price\": \"price_...\", \"quantity\": 1}]; read: Stripe's item list."),
            f("CollectionMethod", "collection_method", String, "charge_automatically or send_invoice.").eq("collection_method"),
            f("CancelAtPeriodEnd", "cancel_at_period_end", Boolean, "Whether it ends at the end of the period."),
            f("CurrentPeriodStart", "current_period_start", Timestamp, "Start of the current period.").ro().range("current_period_start"),
            f("CurrentPeriodEnd", "current_period_end", Timestamp, "End of the current period.").ro().range("current_period_end"),
            f("DefaultPaymentMethod", "default_payment_method", String, "Id of the default payment method."),
            DESCRIPTION,
            f("DaysUntilDue", "days_until_due", Integer, "Days until invoices are due (send_invoice)."),
            f("TrialEnd", "trial_end", Timestamp, "End of the trial."),
            f("CanceledAt", "canceled_at", Timestamp, "Time of cancellation.").ro().search(Numeric),
            CREATED_FILTERED.search(Numeric),
            LIVEMODE,
            METADATA.search(Exact),
        ],
        ..TOP
    },
    Entity {
        name: "SubscriptionItem",
        description: "Prices a subscription bills for.",
        path: "/v1/subscription_items",
        list_requires: &["subscription"],
        fields: &[
            id("The subscription item's id (si_...)."),
            f("Subscription", "subscription", String, "Id of the subscription (required in List conditions).").eq("subscription").on_create(),
            f("Price", "price.id", String, "Id of the price."),
            f("Quantity", "quantity", Integer, "Quantity."),
            CREATED,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Coupon",
        description: "Discounts for invoices, subscriptions and checkouts.",
        path: "/v1/coupons",
        fields: &[
            id("The coupon's id."),
            f("Name", "name", String, "Name shown to customers."),
            f("PercentOff", "percent_off", Decimal, "Percentage taken off.").on_create(),
            f("AmountOff", "amount_off", Integer, "Amount taken off, in the smallest currency unit.").on_create(),
            CURRENCY.on_create(),
            f("Duration", "duration", String, "forever, once or repeating.").on_create(),
            f("DurationInMonths", "duration_in_months", Integer, "Months it applies for (repeating).").on_create(),
            f("MaxRedemptions", "max_redemptions", Integer, "How often it can be redeemed.").on_create(),
            f("RedeemBy", "redeem_by", Timestamp, "Last time it can be redeemed.").on_create(),
            f("TimesRedeemed", "times_redeemed", Integer, "How often it was redeemed.").ro(),
            f("Valid", "valid", Boolean, "Whether it can still be applied.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "PromotionCode",
        description: "Customer-facing codes for coupons.",
        path: "/v1/promotion_codes",
        operations: NO_DELETE,
        instead: Some("PromotionCodes cannot be deleted in Stripe; update Active to false"),
        fields: &[
            id("The promotion code's id (promo_...)."),
            f("Code", "code", String, "The code customers enter.").eq("code").on_create(),
            f("Coupon", "coupon.id", String, "Id of the coupon.").eq("coupon").on_create(),
            f("Active", "active", Boolean, "Whether it can be redeemed.").eq("active"),
            f("Customer", "customer", String, "Only this customer may redeem it.").eq("customer").on_create(),
            f("MaxRedemptions", "max_redemptions", Integer, "How often it can be redeemed.").on_create(),
            f("TimesRedeemed", "times_redeemed", Integer, "How often it was redeemed.").ro(),
            f("ExpiresAt", "expires_at", Timestamp, "When it expires.").on_create(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "TaxRate",
        description: "Tax percentages applied to invoices and subscriptions.",
        path: "/v1/tax_rates",
        operations: NO_DELETE,
        instead: Some("TaxRates cannot be deleted in Stripe; update Active to false"),
        fields: &[
            id("The tax rate's id (txr_...)."),
            f("DisplayName", "display_name", String, "Name shown on invoices."),
            f("Percentage", "percentage", Decimal, "Tax percentage.").on_create(),
            f("Inclusive", "inclusive", Boolean, "Whether prices include it.").eq("inclusive").on_create(),
            f("Active", "active", Boolean, "Whether it can be applied.").eq("active"),
            f("Country", "country", String, "Two-letter country code."),
            f("State", "state", String, "State or region."),
            f("Jurisdiction", "jurisdiction", String, "Jurisdiction shown on invoices."),
            DESCRIPTION,
            f("TaxType", "tax_type", String, "vat, sales_tax, gst, ..."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "CreditNote",
        description: "Reductions of finalized invoices.",
        path: "/v1/credit_notes",
        operations: NO_DELETE,
        instead: Some("CreditNotes cannot be deleted in Stripe; use the action VoidCreditNote"),
        fields: &[
            id("The credit note's id (cn_...)."),
            f("Invoice", "invoice", String, "Id of the invoice it reduces.").eq("invoice").on_create(),
            f("Customer", "customer", String, "Id of the customer.").ro().eq("customer"),
            f("Amount", "amount", Integer, "Amount credited.").on_create(),
            f("Reason", "reason", String, "duplicate, fraudulent, order_change or product_unsatisfactory.").on_create(),
            f("Memo", "memo", String, "Memo shown on the credit note."),
            f("Status", "status", String, "issued or void.").ro(),
            f("Number", "number", String, "Credit note number.").ro(),
            f("Total", "total", Integer, "Total.").ro(),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Dispute",
        description: "Customers' challenges of charges with their card issuer.",
        path: "/v1/disputes",
        operations: Operations { create: false, delete: false, ..ALL },
        instead: Some("Disputes are opened by card issuers and cannot be created or deleted; use the action CloseDispute to accept one"),
        fields: &[
            id("The dispute's id (dp_...)."),
            f("Charge", "charge", String, "Id of the disputed charge.").ro().eq("charge"),
            f("PaymentIntent", "payment_intent", String, "Id of the disputed PaymentIntent.").ro().eq("payment_intent"),
            f("Amount", "amount", Integer, "Disputed amount.").ro(),
            CURRENCY.ro(),
            f("Reason", "reason", String, "Reason given by the issuer.").ro(),
            f("Status", "status", String, "warning_needs_response, needs_response, under_review, won, lost, ...").ro(),
            f("Evidence", "evidence", Object, "Evidence for the dispute."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Payout",
        description: "Transfers from the Stripe balance to a bank account or card.",
        path: "/v1/payouts",
        operations: NO_DELETE,
        instead: Some("Payouts cannot be deleted in Stripe; use the action CancelPayout"),
        fields: &[
            id("The payout's id (po_...)."),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit.").on_create(),
            CURRENCY.on_create(),
            f("Status", "status", String, "paid, pending, in_transit, canceled or failed.").ro().eq("status"),
            f("ArrivalDate", "arrival_date", Timestamp, "Expected arrival.").ro().range("arrival_date"),
            f("Destination", "destination", String, "Bank account or card id.").eq("destination").on_create(),
            DESCRIPTION.on_create(),
            f("Method", "method", String, "standard or instant.").on_create(),
            f("StatementDescriptor", "statement_descriptor", String, "Text on the bank statement.").on_create(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "BalanceTransaction",
        description: "Movements of the Stripe balance (read-only).",
        path: "/v1/balance_transactions",
        operations: READ_ONLY,
        instead: Some("BalanceTransactions are written by Stripe and are read-only"),
        fields: &[
            id("The balance transaction's id (txn_...)."),
            f("Amount", "amount", Integer, "Gross amount.").ro(),
            CURRENCY.ro().eq("currency"),
            f("Fee", "fee", Integer, "Fees paid.").ro(),
            f("Net", "net", Integer, "Net amount.").ro(),
            f("Status", "status", String, "available or pending.").ro(),
            f("Type", "type", String, "charge, refund, payout, ...").ro().eq("type"),
            f("Source", "source", String, "Id of the object that caused it.").ro().eq("source"),
            f("Payout", "payout", String, "List filter: transactions paid out by this automatic payout.").from_request().eq("payout"),
            DESCRIPTION.ro(),
            f("AvailableOn", "available_on", Timestamp, "When the funds become available.").ro(),
            f("ReportingCategory", "reporting_category", String, "Reporting category.").ro(),
            CREATED_FILTERED,
        ],
        ..TOP
    },
    Entity {
        name: "Event",
        description: "Things that happened in the account, with the object concerned: the change feed (Stripe keeps 30 days).",
        path: "/v1/events",
        operations: READ_ONLY,
        instead: Some("Events are written by Stripe and are read-only"),
        fields: &[
            id("The event's id (evt_...)."),
            f("Type", "type", String, "Event type, e.g. customer.created.").ro().any_of("types", 20),
            f("ApiVersion", "api_version", String, "API version the data is rendered in.").ro(),
            f("ObjectId", "data.object.id", String, "Id of the object concerned.").ro(),
            f("ObjectType", "data.object.object", String, "Type of the object concerned, e.g. customer.").ro(),
            f("Object", "data.object", Object, "The object concerned, as it was after the change (before it, for deletions).").ro(),
            f("PreviousAttributes", "data.previous_attributes", Object, "For *.updated events: the changed attributes' earlier values.").ro(),
            f("Data", "data", Object, "The object concerned (data.object).").ro(),
            f("PendingWebhooks", "pending_webhooks", Integer, "Webhooks not yet delivered.").ro(),
            f("Request", "request", Object, "The API request that caused it.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "CheckoutSession",
        description: "Stripe-hosted payment pages.",
        path: "/v1/checkout/sessions",
        operations: Operations { update: false, delete: false, ..ALL },
        instead: Some("Checkout Sessions cannot be changed or deleted; use the action ExpireCheckoutSession"),
        fields: &[
            id("The session's id (cs_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("Mode", "mode", String, "payment, setup or subscription."),
            f("SuccessUrl", "success_url", String, "Where customers go after paying."),
            f("CancelUrl", "cancel_url", String, "Where customers go when they cancel."),
            f("LineItems", "line_items", Array, "On create: [{\"price\": \"price_...\", \"quantity\": 1}]."),
            f("PaymentIntent", "payment_intent", String, "PaymentIntent of the session.").ro().eq("payment_intent"),
            f("Subscription", "subscription", String, "Subscription of the session.").ro().eq("subscription"),
            f("Status", "status", String, "open, complete or expired.").ro(),
            f("Url", "url", String, "URL of the hosted page.").ro(),
            f("AmountTotal", "amount_total", Integer, "Total amount.").ro(),
            CURRENCY.ro(),
            f("PaymentLink", "payment_link", String, "Payment link that created it.").ro().eq("payment_link"),
            f("CustomerDetailsEmail", "customer_details.email", String, "Email the customer entered.").ro().eq("customer_details[email]"),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Plan",
        description: "Recurring prices of the older Plans API (Prices supersede them).",
        path: "/v1/plans",
        fields: &[
            id("The plan's id (plan_... or your own)."),
            f("Active", "active", Boolean, "Whether new subscriptions can use it.").eq("active"),
            f("Amount", "amount", Integer, "Amount per interval in the smallest currency unit.").on_create(),
            CURRENCY.on_create(),
            f("Interval", "interval", String, "day, week, month or year.").on_create(),
            f("IntervalCount", "interval_count", Integer, "Intervals between billings.").on_create(),
            f("Nickname", "nickname", String, "Name hidden from customers."),
            f("Product", "product", String, "Id of the product.").eq("product"),
            f("UsageType", "usage_type", String, "licensed or metered.").on_create(),
            f("BillingScheme", "billing_scheme", String, "per_unit or tiered.").on_create(),
            f("AggregateUsage", "aggregate_usage", String, "How metered usage is summed: sum, last_during_period, last_ever or max.").on_create(),
            f("TrialPeriodDays", "trial_period_days", Integer, "Trial days of new subscriptions."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "SubscriptionSchedule",
        description: "Plans of a subscription's future phases.",
        path: "/v1/subscription_schedules",
        operations: NO_DELETE,
        instead: Some("SubscriptionSchedules cannot be deleted in Stripe; use the actions CancelSubscriptionSchedule or ReleaseSubscriptionSchedule"),
        fields: &[
            id("The schedule's id (sub_sched_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer").on_create(),
            f("Status", "status", String, "not_started, active, completed, released or canceled.").ro(),
            f("Subscription", "subscription", String, "Subscription it manages.").ro(),
            f("EndBehavior", "end_behavior", String, "release or cancel: what happens after the last phase."),
            f("Phases", "phases", Array, "Phases, e.g. [{\"items\": [{\"price\": \"price_...\"}], \"iterations\": 12}]."),
            f("DefaultSettings", "default_settings", Object, "Settings of phases that set none."),
            f("CurrentPhaseStartDate", "current_phase.start_date", Timestamp, "Start of the current phase.").ro(),
            f("CurrentPhaseEndDate", "current_phase.end_date", Timestamp, "End of the current phase.").ro(),
            f("CanceledAt", "canceled_at", Timestamp, "Time of cancellation.").ro().range("canceled_at"),
            f("CompletedAt", "completed_at", Timestamp, "Time of completion.").ro().range("completed_at"),
            f("ReleasedAt", "released_at", Timestamp, "Time of release.").ro().range("released_at"),
            f("ReleasedSubscription", "released_subscription", String, "Subscription it released.").ro(),
            f("TestClock", "test_clock", String, "Test clock it belongs to.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Transfer",
        description: "Moves of funds to connected accounts.",
        path: "/v1/transfers",
        operations: NO_DELETE,
        instead: Some("Transfers cannot be deleted in Stripe; they are reversed (TransferReversal lists a transfer's reversals)"),
        fields: &[
            id("The transfer's id (tr_...)."),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit.").on_create(),
            CURRENCY.on_create(),
            f("Destination", "destination", String, "Id of the connected account.").eq("destination").on_create(),
            DESCRIPTION,
            f("TransferGroup", "transfer_group", String, "Transfer group.").eq("transfer_group").on_create(),
            f("SourceTransaction", "source_transaction", String, "Charge the funds come from.").on_create(),
            f("SourceType", "source_type", String, "card, fpx or bank_account: the balance the funds come from.").on_create(),
            f("AmountReversed", "amount_reversed", Integer, "Amount reversed so far.").ro(),
            f("Reversed", "reversed", Boolean, "Whether it was fully reversed.").ro(),
            f("BalanceTransaction", "balance_transaction", String, "Its balance transaction.").ro(),
            f("DestinationPayment", "destination_payment", String, "The payment it made on the connected account.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Account",
        description: "Connected accounts of a Connect platform.",
        path: "/v1/accounts",
        fields: &[
            id("The account's id (acct_...)."),
            f("Type", "type", String, "standard, express or custom; set on create.").on_create(),
            f("Email", "email", String, "Email address of the account."),
            f("Country", "country", String, "Two-letter country code; set on create.").on_create(),
            f("BusinessType", "business_type", String, "individual, company, non_profit or government_entity."),
            f("DefaultCurrency", "default_currency", String, "Currency of payouts by default."),
            f("BusinessProfileName", "business_profile.name", String, "Customer-facing business name."),
            f("BusinessProfileUrl", "business_profile.url", String, "Business web site."),
            f("Capabilities", "capabilities", Object, "Capabilities and their status, e.g. {\"card_payments\": \"active\"}; on create: {\"card_payments\": {\"requested\": true}}."),
            f("ChargesEnabled", "charges_enabled", Boolean, "Whether it can create charges.").ro(),
            f("PayoutsEnabled", "payouts_enabled", Boolean, "Whether Stripe can send it payouts.").ro(),
            f("DetailsSubmitted", "details_submitted", Boolean, "Whether it finished onboarding.").ro(),
            CREATED_FILTERED,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "ApplicationFee",
        description: "Fees a Connect platform took from its connected accounts' charges (read-only).",
        path: "/v1/application_fees",
        operations: READ_ONLY,
        instead: Some("ApplicationFees are written by Stripe and are read-only"),
        fields: &[
            id("The fee's id (fee_...)."),
            f("Account", "account", String, "Connected account charged the fee.").ro(),
            f("Amount", "amount", Integer, "Fee amount.").ro(),
            f("AmountRefunded", "amount_refunded", Integer, "Amount refunded.").ro(),
            f("Application", "application", String, "Application that took it.").ro(),
            f("Charge", "charge", String, "Charge it was taken from.").ro().eq("charge"),
            CURRENCY.ro(),
            f("Refunded", "refunded", Boolean, "Whether it was fully refunded.").ro(),
            f("BalanceTransaction", "balance_transaction", String, "Its balance transaction.").ro(),
            f("OriginatingTransaction", "originating_transaction", String, "Transaction that caused it (usually a charge).").ro(),
            CREATED_FILTERED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "TopUp",
        description: "Additions of funds to the Stripe balance from a bank account.",
        path: "/v1/topups",
        operations: NO_DELETE,
        instead: Some("TopUps cannot be deleted in Stripe; use the action CancelTopUp while it is pending"),
        fields: &[
            id("The top-up's id (tu_...)."),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit.").range("amount").on_create(),
            CURRENCY.on_create(),
            DESCRIPTION,
            f("Source", "source.id", String, "On create: id of the source to take the funds from.").on_create(),
            f("StatementDescriptor", "statement_descriptor", String, "Text on the bank statement.").on_create(),
            f("TransferGroup", "transfer_group", String, "Transfer group.").on_create(),
            f("Status", "status", String, "canceled, failed, pending, reversed or succeeded.").ro().eq("status"),
            f("ExpectedAvailabilityDate", "expected_availability_date", Timestamp, "When the funds are expected to be available.").ro(),
            f("FailureCode", "failure_code", String, "Error code of a failure.").ro(),
            f("FailureMessage", "failure_message", String, "Message of a failure.").ro(),
            f("BalanceTransaction", "balance_transaction", String, "Its balance transaction.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "ShippingRate",
        description: "Shipping costs offered in Checkout.",
        path: "/v1/shipping_rates",
        operations: NO_DELETE,
        instead: Some("ShippingRates cannot be deleted in Stripe; update Active to false to archive one"),
        fields: &[
            id("The shipping rate's id (shr_...)."),
            f("DisplayName", "display_name", String, "Name shown to customers.").on_create(),
            f("Type", "type", String, "fixed_amount.").on_create(),
            f("FixedAmountAmount", "fixed_amount.amount", Integer, "Shipping cost in the smallest currency unit; on create set FixedAmount."),
            f("FixedAmountCurrency", "fixed_amount.currency", String, "Currency of the cost.").ro().eq("currency"),
            f("FixedAmount", "fixed_amount", Object, "The cost, e.g. {\"amount\": 500, \"currency\": \"usd\"}."),
            f("DeliveryEstimate", "delivery_estimate", Object, "Estimated delivery window.").on_create(),
            f("TaxBehavior", "tax_behavior", String, "inclusive, exclusive or unspecified."),
            f("TaxCode", "tax_code", String, "Tax code id.").on_create(),
            f("Active", "active", Boolean, "Whether Checkout can offer it.").eq("active"),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "File",
        description: "Files uploaded to Stripe (dispute evidence, identity documents, reports).",
        path: "/v1/files",
        operations: READ_ONLY,
        instead: Some("Files are uploaded to files.stripe.com as multipart/form-data, which this connector does not send; it reads them"),
        fields: &[
            id("The file's id (file_...)."),
            f("Filename", "filename", String, "Name of the uploaded file.").ro(),
            f("Purpose", "purpose", String, "dispute_evidence, identity_document, business_logo, ...").ro().eq("purpose"),
            f("Size", "size", Integer, "Size in bytes.").ro(),
            f("Title", "title", String, "Title.").ro(),
            f("Type", "type", String, "pdf, jpg, png, csv, ...").ro(),
            f("Url", "url", String, "Where to download it with the secret key.").ro(),
            f("ExpiresAt", "expires_at", Timestamp, "When it can no longer be downloaded.").ro(),
            CREATED_FILTERED,
        ],
        ..TOP
    },
    Entity {
        name: "FileLink",
        description: "Shareable URLs of files.",
        path: "/v1/file_links",
        operations: NO_DELETE,
        instead: Some("FileLinks cannot be deleted in Stripe; update ExpiresAt to expire one"),
        fields: &[
            id("The link's id (link_...)."),
            f("File", "file", String, "Id of the file.").eq("file").on_create(),
            f("ExpiresAt", "expires_at", Timestamp, "When the link stops working."),
            f("Expired", "expired", Boolean, "Whether it stopped working.").ro().eq("expired"),
            f("Url", "url", String, "The public URL.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Review",
        description: "Payments Radar held for a manual review (read-only).",
        path: "/v1/reviews",
        operations: READ_ONLY,
        instead: Some("Reviews are opened by Radar; use the action ApproveReview to close one"),
        fields: &[
            id("The review's id (prv_...)."),
            f("Charge", "charge", String, "Charge under review.").ro(),
            f("PaymentIntent", "payment_intent", String, "PaymentIntent under review.").ro(),
            f("Open", "open", Boolean, "Whether it is still open.").ro(),
            f("Reason", "reason", String, "rule, manual, approved, refunded, refunded_as_fraud, disputed or redacted.").ro(),
            f("OpenedReason", "opened_reason", String, "rule or manual.").ro(),
            f("ClosedReason", "closed_reason", String, "approved, refunded, refunded_as_fraud, disputed or redacted.").ro(),
            f("BillingZip", "billing_zip", String, "Postal code of the card's billing address.").ro(),
            f("IpAddress", "ip_address", String, "IP address of the payer.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "EarlyFraudWarning",
        description: "Card issuers' warnings that a charge may be fraudulent (read-only).",
        path: "/v1/radar/early_fraud_warnings",
        operations: READ_ONLY,
        instead: Some("EarlyFraudWarnings are sent by card issuers and are read-only"),
        fields: &[
            id("The warning's id (issfr_...)."),
            f("Actionable", "actionable", Boolean, "Whether refunding the charge can still prevent a dispute.").ro(),
            f("Charge", "charge", String, "The charge.").ro().eq("charge"),
            f("PaymentIntent", "payment_intent", String, "The PaymentIntent.").ro().eq("payment_intent"),
            f("FraudType", "fraud_type", String, "card_never_received, fraudulent_card_application, made_with_stolen_card, ...").ro(),
            CREATED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "SetupAttempt",
        description: "Attempts of a SetupIntent to set up a payment method (read-only).",
        path: "/v1/setup_attempts",
        operations: Operations { list: true, ..NONE },
        instead: Some("SetupAttempts are written by Stripe and are only listed, by their SetupIntent"),
        list_requires: &["setup_intent"],
        fields: &[
            id("The attempt's id (setatt_...)."),
            f("SetupIntent", "setup_intent", String, "The SetupIntent (required in List conditions).").ro().eq("setup_intent"),
            f("Customer", "customer", String, "Id of the customer.").ro(),
            f("PaymentMethod", "payment_method", String, "Payment method being set up.").ro(),
            f("Status", "status", String, "requires_confirmation, requires_action, processing, succeeded, failed or abandoned.").ro(),
            f("Usage", "usage", String, "on_session or off_session.").ro(),
            f("FlowDirections", "flow_directions", Array, "inbound and/or outbound.").ro(),
            f("OnBehalfOf", "on_behalf_of", String, "Connected account it is for.").ro(),
            f("SetupErrorCode", "setup_error.code", String, "Error code of a failure.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "PaymentLink",
        description: "Shareable links to a Stripe-hosted payment page.",
        path: "/v1/payment_links",
        operations: NO_DELETE,
        instead: Some("PaymentLinks cannot be deleted in Stripe; update Active to false to deactivate one"),
        fields: &[
            id("The payment link's id (plink_...)."),
            f("Active", "active", Boolean, "Whether it can be paid.").eq("active"),
            f("LineItems", "line_items", Array, "On create: [{\"price\": \"price_...\", \"quantity\": 1}]; read them as PaymentLinkLineItem."),
            f("Url", "url", String, "The public URL.").ro(),
            CURRENCY.ro(),
            f("AllowPromotionCodes", "allow_promotion_codes", Boolean, "Whether promotion codes can be entered."),
            f("AfterCompletion", "after_completion", Object, "What follows a payment, e.g. {\"type\": \"redirect\", \"redirect\": {\"url\": \"...\"}}."),
            f("BillingAddressCollection", "billing_address_collection", String, "auto or required."),
            f("CustomerCreation", "customer_creation", String, "always or if_required."),
            f("SubmitType", "submit_type", String, "auto, book, donate or pay.").on_create(),
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "TestClock",
        description: "Simulated time for test-mode billing objects.",
        path: "/v1/test_helpers/test_clocks",
        operations: Operations { update: false, ..ALL },
        instead: Some("TestClocks cannot be changed; use the action AdvanceTestClock to move one forward"),
        fields: &[
            id("The test clock's id (clock_...)."),
            f("Name", "name", String, "Name of the clock."),
            f("FrozenTime", "frozen_time", Timestamp, "The clock's current time; set on create."),
            f("Status", "status", String, "ready, advancing or internal_failure.").ro(),
            f("DeletesAfter", "deletes_after", Timestamp, "When Stripe deletes it.").ro(),
            CREATED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "Mandate",
        description: "A customer's permission to debit a payment method (read by id).",
        path: "/v1/mandates",
        operations: Operations { get: true, ..NONE },
        instead: Some("Stripe has no list of mandates; Get one by the id its PaymentIntent, SetupIntent or charge names"),
        fields: &[
            id("The mandate's id (mandate_...)."),
            f("Status", "status", String, "active, inactive or pending.").ro(),
            f("Type", "type", String, "multi_use or single_use.").ro(),
            f("PaymentMethod", "payment_method", String, "The payment method.").ro(),
            f("CustomerAcceptanceType", "customer_acceptance.type", String, "online or offline.").ro(),
            f("CustomerAcceptanceAcceptedAt", "customer_acceptance.accepted_at", Timestamp, "When the customer accepted.").ro(),
            f("MultiUse", "multi_use", Object, "Details of a multi-use mandate.").ro(),
            f("SingleUse", "single_use", Object, "Amount and currency of a single-use mandate.").ro(),
            f("PaymentMethodDetails", "payment_method_details", Object, "Details by payment method type.").ro(),
            f("OnBehalfOf", "on_behalf_of", String, "Connected account it is for.").ro(),
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "WebhookEndpoint",
        description: "URLs Stripe sends events to.",
        path: "/v1/webhook_endpoints",
        fields: &[
            id("The endpoint's id (we_...)."),
            f("Url", "url", String, "Where events are sent."),
            f("EnabledEvents", "enabled_events", Array, "Event types sent, e.g. [\"invoice.paid\"] or [\"*\"]."),
            DESCRIPTION,
            f("ApiVersion", "api_version", String, "API version events are rendered in; set on create.").on_create(),
            f("Status", "status", String, "enabled or disabled.").ro(),
            f("Application", "application", String, "Connect application it belongs to.").ro(),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Balance",
        description: "The account's balance now: one row.",
        path: "/v1/balance",
        operations: Operations { list: true, ..NONE },
        instead: Some("The balance is one object: List returns it as the only row; it is written by Stripe"),
        singleton: true,
        fields: &[
            f("Available", "available", Array, "Funds available for payouts, by currency: [{\"amount\", \"currency\", \"source_types\"}].").ro(),
            f("Pending", "pending", Array, "Funds not yet available, by currency.").ro(),
            f("ConnectReserved", "connect_reserved", Array, "Funds held back for connected accounts' negative balances.").ro(),
            f("InstantAvailable", "instant_available", Array, "Funds available for instant payouts.").ro(),
            f("Issuing", "issuing", Object, "Funds for Issuing.").ro(),
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "InvoiceLineItem",
        description: "Lines of an invoice (List with Invoice = 'in_...').",
        path: "/v1/invoices/{invoice}/lines",
        operations: Operations { list: true, ..NONE },
        instead: Some(CHILD_LIST_ONLY),
        fields: &[
            id("The line's id (il_...)."),
            f("Invoice", "invoice", String, "The invoice (required in List conditions).").from_request().eq("invoice"),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit.").ro(),
            CURRENCY.ro(),
            DESCRIPTION.ro(),
            f("Type", "type", String, "invoiceitem or subscription.").ro(),
            f("Price", "price.id", String, "Id of the price.").ro(),
            f("Quantity", "quantity", Integer, "Quantity.").ro(),
            f("Proration", "proration", Boolean, "Whether it is a proration.").ro(),
            f("PeriodStart", "period.start", Timestamp, "Start of the period billed.").ro(),
            f("PeriodEnd", "period.end", Timestamp, "End of the period billed.").ro(),
            f("Subscription", "subscription", String, "Subscription it bills.").ro(),
            f("SubscriptionItem", "subscription_item", String, "Subscription item it bills.").ro(),
            f("InvoiceItem", "invoice_item", String, "Invoice item it comes from.").ro(),
            f("Discountable", "discountable", Boolean, "Whether discounts apply.").ro(),
            LIVEMODE,
            METADATA.ro(),
        ],
        ..TOP
    },
    Entity {
        name: "QuoteLineItem",
        description: "Lines of a quote (List with Quote = 'qt_...').",
        path: "/v1/quotes/{quote}/line_items",
        operations: Operations { list: true, ..NONE },
        instead: Some(CHILD_LIST_ONLY),
        fields: &[
            id("The line's id (li_...)."),
            f("Quote", "quote", String, "The quote (required in List conditions).").from_request().eq("quote"),
            ITEM_DESCRIPTION,
            ITEM_PRICE,
            ITEM_QUANTITY,
            ITEM_SUBTOTAL,
            ITEM_TOTAL,
            ITEM_DISCOUNT,
            ITEM_TAX,
            CURRENCY.ro(),
        ],
        ..TOP
    },
    Entity {
        name: "CheckoutSessionLineItem",
        description: "Lines of a Checkout Session (List with CheckoutSession = 'cs_...').",
        path: "/v1/checkout/sessions/{session}/line_items",
        operations: Operations { list: true, ..NONE },
        instead: Some(CHILD_LIST_ONLY),
        fields: &[
            id("The line's id (li_...)."),
            f("CheckoutSession", "session", String, "The Checkout Session (required in List conditions).").from_request().eq("session"),
            ITEM_DESCRIPTION,
            ITEM_PRICE,
            ITEM_QUANTITY,
            ITEM_SUBTOTAL,
            ITEM_TOTAL,
            ITEM_DISCOUNT,
            ITEM_TAX,
            CURRENCY.ro(),
        ],
        ..TOP
    },
    Entity {
        name: "CreditNoteLineItem",
        description: "Lines of a credit note (List with CreditNote = 'cn_...').",
        path: "/v1/credit_notes/{credit_note}/lines",
        operations: Operations { list: true, ..NONE },
        instead: Some(CHILD_LIST_ONLY),
        fields: &[
            id("The line's id (cnli_...)."),
            f("CreditNote", "credit_note", String, "The credit note (required in List conditions).").from_request().eq("credit_note"),
            f("Amount", "amount", Integer, "Amount credited.").ro(),
            DESCRIPTION.ro(),
            f("Quantity", "quantity", Integer, "Quantity.").ro(),
            f("Type", "type", String, "invoice_line_item or custom_line_item.").ro(),
            f("UnitAmount", "unit_amount", Integer, "Amount per unit.").ro(),
            f("InvoiceLineItem", "invoice_line_item", String, "Invoice line it credits.").ro(),
            f("DiscountAmount", "discount_amount", Integer, "Discount credited.").ro(),
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "PaymentLinkLineItem",
        description: "Lines of a payment link (List with PaymentLink = 'plink_...').",
        path: "/v1/payment_links/{payment_link}/line_items",
        operations: Operations { list: true, ..NONE },
        instead: Some(CHILD_LIST_ONLY),
        fields: &[
            id("The line's id (li_...)."),
            f("PaymentLink", "payment_link", String, "The payment link (required in List conditions).").from_request().eq("payment_link"),
            ITEM_DESCRIPTION,
            ITEM_PRICE,
            ITEM_QUANTITY,
            ITEM_SUBTOTAL,
            ITEM_TOTAL,
            ITEM_DISCOUNT,
            ITEM_TAX,
            CURRENCY.ro(),
        ],
        ..TOP
    },
    Entity {
        name: "CustomerBalanceTransaction",
        description: "Changes of a customer's credit balance (List with Customer = 'cus_...'; entity ids are 'cus_...,cbtxn_...').",
        path: "/v1/customers/{customer}/balance_transactions",
        operations: NO_DELETE,
        instead: Some("Stripe keeps every balance transaction: create an opposite one to undo it"),
        fields: &[
            id("The transaction's id (cbtxn_...)."),
            f("Customer", "customer", String, "The customer (required in List conditions and on create).").ro().eq("customer"),
            f("Amount", "amount", Integer, "Amount; negative amounts credit the customer; set on create.").on_create(),
            CURRENCY.on_create(),
            DESCRIPTION,
            f("EndingBalance", "ending_balance", Integer, "Balance after it.").ro(),
            f("Type", "type", String, "adjustment, applied_to_invoice, credit_note, invoice_overpaid, ...").ro(),
            f("Invoice", "invoice", String, "Invoice it relates to.").ro(),
            f("CreditNote", "credit_note", String, "Credit note it relates to.").ro(),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "CustomerCashBalanceTransaction",
        description: "Changes of a customer's cash balance (List with Customer = 'cus_...'; entity ids are 'cus_...,ccsbtxn_...').",
        path: "/v1/customers/{customer}/cash_balance_transactions",
        operations: READ_ONLY,
        instead: Some("Stripe writes them as the customer's cash balance moves (funding, payments, refunds)"),
        fields: &[
            id("The transaction's id (ccsbtxn_...)."),
            f("Customer", "customer", String, "The customer (required in List conditions).").ro().eq("customer"),
            CURRENCY.ro(),
            f("EndingBalance", "ending_balance", Integer, "Cash balance after it.").ro(),
            f("NetAmount", "net_amount", Integer, "Amount of the change.").ro(),
            f("Type", "type", String, "funded, applied_to_payment, refunded_from_payment, ...").ro(),
            CREATED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "TaxId",
        description: "Tax ids of a customer (List with Customer = 'cus_...'; entity ids are 'cus_...,txi_...').",
        path: "/v1/customers/{customer}/tax_ids",
        operations: Operations { update: false, ..ALL },
        instead: Some("Stripe cannot change a tax id: delete it and create another"),
        fields: &[
            id("The tax id's id (txi_...)."),
            f("Customer", "customer", String, "The customer (required in List conditions and on create).").ro().eq("customer"),
            f("Type", "type", String, "eu_vat, us_ein, gb_vat, ...; set on create."),
            f("Value", "value", String, "The tax id; set on create."),
            f("Country", "country", String, "Two-letter country code.").ro(),
            f("VerificationStatus", "verification.status", String, "pending, verified, unverified or unavailable.").ro(),
            CREATED,
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "TransferReversal",
        description: "Reversals of a transfer (List with Transfer = 'tr_...'; entity ids are 'tr_...,trr_...').",
        path: "/v1/transfers/{transfer}/reversals",
        operations: NO_DELETE,
        instead: Some("A reversal cannot be undone or deleted in Stripe"),
        fields: &[
            id("The reversal's id (trr_...)."),
            f("Transfer", "transfer", String, "The transfer (required in List conditions and on create).").ro().eq("transfer"),
            f("Amount", "amount", Integer, "Amount reversed; on create, the whole remaining amount when left out.").on_create(),
            CURRENCY.ro(),
            f("BalanceTransaction", "balance_transaction", String, "Its balance transaction.").ro(),
            f("DestinationPaymentRefund", "destination_payment_refund", String, "Refund of the payment on the connected account.").ro(),
            f("SourceRefund", "source_refund", String, "Refund that caused it.").ro(),
            CREATED,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "ApplicationFeeRefund",
        description: "Refunds of an application fee (List with Fee = 'fee_...'; entity ids are 'fee_...,fr_...').",
        path: "/v1/application_fees/{fee}/refunds",
        operations: NO_DELETE,
        instead: Some("A refund of an application fee cannot be undone or deleted in Stripe"),
        fields: &[
            id("The refund's id (fr_...)."),
            f("Fee", "fee", String, "The application fee (required in List conditions and on create).").ro().eq("fee"),
            f("Amount", "amount", Integer, "Amount refunded; on create, the whole remaining fee when left out.").on_create(),
            CURRENCY.ro(),
            f("BalanceTransaction", "balance_transaction", String, "Its balance transaction.").ro(),
            CREATED,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Person",
        description: "People of a connected account (List with Account = 'acct_...'; entity ids are 'acct_...,person_...').",
        path: "/v1/accounts/{account}/persons",
        fields: &[
            id("The person's id (person_...)."),
            f("Account", "account", String, "The account (required in List conditions and on create).").ro().eq("account"),
            f("FirstName", "first_name", String, "First name."),
            f("LastName", "last_name", String, "Last name."),
            f("Email", "email", String, "Email address."),
            f("Phone", "phone", String, "Phone number."),
            f("RelationshipTitle", "relationship.title", String, "Job title."),
            f("RelationshipOwner", "relationship.owner", Boolean, "Whether they own part of the company.").eq("relationship[owner]"),
            f("RelationshipDirector", "relationship.director", Boolean, "Whether they are a director.").eq("relationship[director]"),
            f("RelationshipExecutive", "relationship.executive", Boolean, "Whether they are an executive.").eq("relationship[executive]"),
            f("RelationshipRepresentative", "relationship.representative", Boolean, "Whether they represent the account.").eq("relationship[representative]"),
            CREATED,
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "ExternalAccount",
        description: "Bank accounts and cards payouts of a connected account go to (List with Account = 'acct_...'; entity ids are 'acct_...,ba_...').",
        path: "/v1/accounts/{account}/external_accounts",
        fields: &[
            id("The external account's id (ba_... or card_...)."),
            f("Account", "account", String, "The account (required in List conditions and on create).").ro().eq("account"),
            f("ExternalAccount", "external_account", String, "On create: the token of the bank account (btok_...) or card (tok_...).").write_only().on_create(),
            f("Object", "object", String, "bank_account or card.").ro(),
            CURRENCY.ro(),
            f("Country", "country", String, "Two-letter country code.").ro(),
            f("Last4", "last4", String, "Last four digits.").ro(),
            f("Status", "status", String, "Status (bank accounts: new, validated, verified, errored, ...).").ro(),
            f("DefaultForCurrency", "default_for_currency", Boolean, "Whether payouts in its currency go to it."),
            f("BankName", "bank_name", String, "Bank name (bank accounts).").ro(),
            f("RoutingNumber", "routing_number", String, "Routing number (bank accounts).").ro(),
            f("AccountHolderName", "account_holder_name", String, "Account holder (bank accounts)."),
            f("Brand", "brand", String, "Card brand (cards).").ro(),
            f("ExpMonth", "exp_month", Integer, "Expiry month (cards)."),
            f("ExpYear", "exp_year", Integer, "Expiry year (cards)."),
            METADATA,
        ],
        ..TOP
    },
    Entity {
        name: "Capability",
        description: "Capabilities of a connected account (List with Account = 'acct_...'; entity ids are 'acct_...,card_payments').",
        path: "/v1/accounts/{account}/capabilities",
        operations: Operations { update: true, ..READ_ONLY },
        instead: Some("An account's capabilities are Stripe's: request one or give it up with Update Requested = true or false"),
        fields: &[
            id("The capability, e.g. card_payments."),
            f("Account", "account", String, "The account (required in List conditions).").ro().eq("account"),
            f("Requested", "requested", Boolean, "Whether it was requested; Update requests it or gives it up."),
            f("RequestedAt", "requested_at", Timestamp, "When it was requested.").ro(),
            f("Status", "status", String, "active, inactive, pending, unrequested or disabled.").ro(),
        ],
        ..TOP
    },
    Entity {
        name: "UsageRecordSummary",
        description: "Metered usage of a subscription item per period (List with SubscriptionItem = 'si_...').",
        path: "/v1/subscription_items/{subscription_item}/usage_record_summaries",
        operations: Operations { list: true, ..NONE },
        instead: Some(CHILD_LIST_ONLY),
        fields: &[
            id("The summary's id (sis_...)."),
            f("SubscriptionItem", "subscription_item", String, "The subscription item (required in List conditions).").ro().eq("subscription_item"),
            f("Invoice", "invoice", String, "Invoice that billed it.").ro(),
            f("TotalUsage", "total_usage", Integer, "Usage in the period.").ro(),
            f("PeriodStart", "period.start", Timestamp, "Start of the period.").ro(),
            f("PeriodEnd", "period.end", Timestamp, "End of the period.").ro(),
            LIVEMODE,
        ],
        ..TOP
    },
    Entity {
        name: "TaxCode",
        description: "Stripe's product tax codes (read-only).",
        path: "/v1/tax_codes",
        operations: READ_ONLY,
        instead: Some("Tax codes are Stripe's own and are read-only"),
        fields: &[
            id("The tax code, e.g. txcd_10000000."),
            f("Name", "name", String, "Short name.").ro(),
            DESCRIPTION.ro(),
        ],
        ..TOP
    },
    Entity {
        name: "BillingPortalConfiguration",
        description: "What the customer portal lets customers do.",
        path: "/v1/billing_portal/configurations",
        operations: NO_DELETE,
        instead: Some("Portal configurations cannot be deleted in Stripe; update Active to false"),
        fields: &[
            id("The configuration's id (bpc_...)."),
            f("Active", "active", Boolean, "Whether portal sessions can use it.").eq("active"),
            f("IsDefault", "is_default", Boolean, "Whether it is the default.").ro().eq("is_default"),
            f("DefaultReturnUrl", "default_return_url", String, "Where customers return to."),
            f("BusinessProfileHeadline", "business_profile.headline", String, "Headline of the portal."),
            f("BusinessProfile", "business_profile", Object, "On create: {\"privacy_policy_url\", \"terms_of_service_url\", \"headline\"}."),
            f("Features", "features", Object, "Features and their settings, e.g. {\"invoice_history\": {\"enabled\": true}}."),
            f("Application", "application", String, "Connect application it belongs to.").ro(),
            CREATED,
            f("Updated", "updated", Timestamp, "Time of the last update.").ro(),
            LIVEMODE,
            METADATA,
        ],
        ..TOP
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_entity_has_one_key_unique_fields_and_a_reason_for_each_missing_operation() {
        for e in ENTITIES {
            let keys = e.fields.iter().filter(|f| f.key).count();
            assert_eq!(keys, usize::from(!e.singleton), "{}", e.name);
            let names: HashSet<_> = e.fields.iter().map(|f| f.name).collect();
            assert_eq!(
                names.len(),
                e.fields.len(),
                "{} has duplicate fields",
                e.name
            );
            let o = e.operations;
            if !(o.list && o.get && o.create && o.update && o.delete) {
                assert!(e.instead.is_some(), "{} lacks an explanation", e.name);
            }
            for required in e.list_requires.iter().copied().chain(e.path_params()) {
                assert!(
                    e.fields
                        .iter()
                        .any(|f| f.pushdown == Pushdown::Equals(required)),
                    "{}: {required} cannot be pushed down",
                    e.name
                );
            }
            for f in e.fields {
                assert!(!f.request_only || f.read_only, "{}.{}", e.name, f.name);
                assert!(!f.write_only || !f.read_only, "{}.{}", e.name, f.name);
                assert!(
                    f.search.is_none() || e.searchable,
                    "{}.{} searchable",
                    e.name,
                    f.name
                );
            }
        }
    }

    #[test]
    fn at_least_fifty_entities_among_them_those_a_billing_integration_reads() {
        assert!(ENTITIES.len() >= 50, "{} entities", ENTITIES.len());
        for name in [
            "Customer",
            "PaymentIntent",
            "PaymentMethod",
            "SetupIntent",
            "Invoice",
            "InvoiceItem",
            "Quote",
            "Charge",
            "Refund",
            "Product",
            "Price",
            "Subscription",
            "SubscriptionItem",
            "Coupon",
            "PromotionCode",
            "TaxRate",
            "CreditNote",
            "Dispute",
            "Payout",
            "BalanceTransaction",
            "Event",
            "CheckoutSession",
            // Child collections, reached through their parent.
            "InvoiceLineItem",
            "QuoteLineItem",
            "CheckoutSessionLineItem",
            "CreditNoteLineItem",
            "PaymentLinkLineItem",
            "CustomerBalanceTransaction",
            "CustomerCashBalanceTransaction",
            "TaxId",
            "TransferReversal",
            "ApplicationFeeRefund",
            "Person",
            "ExternalAccount",
            // Top-level.
            "Plan",
            "SubscriptionSchedule",
            "Transfer",
            "Account",
            "ApplicationFee",
            "TopUp",
            "ShippingRate",
            "File",
            "FileLink",
            "Review",
            "EarlyFraudWarning",
            "SetupAttempt",
            "PaymentLink",
            "TestClock",
            "Mandate",
            "WebhookEndpoint",
            "Balance",
        ] {
            assert!(crate::catalog::entity(name).is_some(), "{name}");
        }
        let names: HashSet<_> = ENTITIES.iter().map(|e| e.name).collect();
        assert_eq!(names.len(), ENTITIES.len(), "entity names repeat");
    }
}
