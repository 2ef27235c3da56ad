//! Stripe entities as data: PascalCase fields over Stripe's snake_case paths, the list filters
//! Stripe applies server-side (from shared/stripe/endpoints.json), and the operations Stripe allows.
//!
//! Nested objects are flattened into PascalCase columns the way CData's Stripe driver (which
//! Google's connector is built on) does it: `address.city` is `AddressCity`. `Metadata` stays one
//! object field; writes send `metadata[key]=value`. A path ending in `.id` (an expandable reference
//! such as `coupon.id`) is written as its parent (`coupon=...`).

use super::model::DataType::{self, Array, Boolean, Decimal, Integer, Object, String, Timestamp};
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
const READ_ONLY: Operations = Operations {
    list: true,
    get: true,
    create: false,
    update: false,
    delete: false,
};

/// One Stripe resource exposed as an entity type.
#[derive(Debug, Clone, Copy)]
pub struct Entity {
    pub name: &'static str,
    pub description: &'static str,
    /// Collection path, e.g. `/v1/customers`; one object is `{path}/{id}`.
    pub path: &'static str,
    pub operations: Operations,
    /// Shown when an operation Stripe lacks is asked for, naming what to use instead.
    pub instead: Option<&'static str>,
    /// Stripe list parameters Stripe requires (a List must push them down).
    pub list_requires: &'static [&'static str],
    /// List parameters sent unless the conditions push down their own value (Subscription:
    /// `status=all`, since Stripe otherwise leaves canceled ones out).
    pub list_defaults: &'static [(&'static str, &'static str)],
    pub fields: &'static [Field],
}

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
    }
}

const fn id(description: &'static str) -> Field {
    let mut x = f("Id", "id", String, description).ro();
    x.key = true;
    x.nullable = false;
    x
}
const CREATED: Field = f(
    "Created",
    "created",
    Timestamp,
    "Time of creation (Unix seconds).",
)
.ro();
const CREATED_FILTERED: Field = CREATED.range("created");
const LIVEMODE: Field = f(
    "Livemode",
    "livemode",
    Boolean,
    "Whether the object exists in live mode.",
)
.ro();
const METADATA: Field = f(
    "Metadata",
    "metadata",
    Object,
    "Key-value pairs you attach to the object.",
);
const CURRENCY: Field = f(
    "Currency",
    "currency",
    String,
    "Three-letter ISO currency code, lowercase.",
);
const DESCRIPTION: Field = f("Description", "description", String, "Arbitrary text.");

// One line per field: the table reads as a table.
#[rustfmt::skip]
pub static ENTITIES: &[Entity] = &[
    Entity {
        name: "Customer",
        description: "Customers of the business.",
        path: "/v1/customers",
        operations: ALL,
        instead: None,
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The customer's id (cus_...)."),
            f("Name", "name", String, "Full name or business name."),
            f("Email", "email", String, "Email address.").eq("email"),
            f("Phone", "phone", String, "Phone number."),
            DESCRIPTION,
            f("Balance", "balance", Integer, "Balance in the smallest currency unit, applied to the next invoice."),
            CURRENCY.ro(),
            CREATED_FILTERED,
            f("Delinquent", "delinquent", Boolean, "Whether the latest invoice is past due.").ro(),
            LIVEMODE,
            METADATA,
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
    },
    Entity {
        name: "PaymentIntent",
        description: "Payments from a customer, guided through their life cycle.",
        path: "/v1/payment_intents",
        operations: NO_DELETE,
        instead: Some("PaymentIntents cannot be deleted in Stripe; use the action CancelPaymentIntent"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The PaymentIntent's id (pi_...)."),
            f("Amount", "amount", Integer, "Amount to collect in the smallest currency unit."),
            f("AmountCapturable", "amount_capturable", Integer, "Amount that can be captured.").ro(),
            f("AmountReceived", "amount_received", Integer, "Amount received.").ro(),
            CURRENCY,
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            DESCRIPTION,
            f("PaymentMethod", "payment_method", String, "Id of the payment method."),
            f("PaymentMethodTypes", "payment_method_types", Array, "Payment method types it may use."),
            f("CaptureMethod", "capture_method", String, "automatic, automatic_async or manual."),
            f("ConfirmationMethod", "confirmation_method", String, "automatic or manual."),
            f("Status", "status", String, "requires_payment_method, requires_confirmation, requires_action, processing, requires_capture, canceled or succeeded.").ro(),
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
            f("OnBehalfOf", "on_behalf_of", String, "Connected account the payment is made for."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "PaymentMethod",
        description: "Payment instruments (cards, bank accounts, ...).",
        path: "/v1/payment_methods",
        operations: NO_DELETE,
        instead: Some("PaymentMethods cannot be deleted in Stripe; use the action DetachPaymentMethodFromCustomer"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The PaymentMethod's id (pm_...)."),
            f("Type", "type", String, "card, sepa_debit, us_bank_account, ...").eq("type"),
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
    },
    Entity {
        name: "SetupIntent",
        description: "Set-ups of payment methods for future payments.",
        path: "/v1/setup_intents",
        operations: NO_DELETE,
        instead: Some("SetupIntents cannot be deleted in Stripe; use the action CancelSetupIntent"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The SetupIntent's id (seti_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("PaymentMethod", "payment_method", String, "Id of the payment method.").eq("payment_method"),
            f("PaymentMethodTypes", "payment_method_types", Array, "Payment method types it may use."),
            f("Usage", "usage", String, "on_session or off_session."),
            DESCRIPTION,
            f("Status", "status", String, "Status of the SetupIntent.").ro(),
            f("ClientSecret", "client_secret", String, "Client secret for client-side confirmation.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Invoice",
        description: "Statements of amounts owed by a customer.",
        path: "/v1/invoices",
        operations: ALL,
        instead: Some("only draft invoices can be deleted; use the action VoidInvoice for finalized ones"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The invoice's id (in_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("Subscription", "subscription", String, "Id of the subscription.").eq("subscription"),
            f("Status", "status", String, "draft, open, paid, uncollectible or void.").ro().eq("status"),
            f("CollectionMethod", "collection_method", String, "charge_automatically or send_invoice.").eq("collection_method"),
            DESCRIPTION,
            f("AutoAdvance", "auto_advance", Boolean, "Whether Stripe finalizes and collects it automatically."),
            f("DaysUntilDue", "days_until_due", Integer, "Days until due (send_invoice)."),
            f("DueDate", "due_date", Timestamp, "Due date (send_invoice).").range("due_date"),
            CURRENCY,
            f("AmountDue", "amount_due", Integer, "Amount due.").ro(),
            f("AmountPaid", "amount_paid", Integer, "Amount paid.").ro(),
            f("AmountRemaining", "amount_remaining", Integer, "Amount remaining.").ro(),
            f("Subtotal", "subtotal", Integer, "Total before discounts and taxes.").ro(),
            f("Total", "total", Integer, "Total after discounts and taxes.").ro(),
            f("Number", "number", String, "Invoice number, set on finalization.").ro(),
            f("Paid", "paid", Boolean, "Whether it is paid.").ro(),
            f("HostedInvoiceUrl", "hosted_invoice_url", String, "URL of the hosted invoice page.").ro(),
            f("Footer", "footer", String, "Footer text."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "InvoiceItem",
        description: "Line items added to a customer's (next) invoice.",
        path: "/v1/invoiceitems",
        operations: ALL,
        instead: None,
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The invoice item's id (ii_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("Invoice", "invoice", String, "Id of the invoice it is on.").eq("invoice"),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit."),
            CURRENCY,
            DESCRIPTION,
            f("Price", "price.id", String, "Id of the price."),
            f("Quantity", "quantity", Integer, "Quantity."),
            f("Date", "date", Timestamp, "Time of creation (Unix seconds).").ro().range("created"),
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Quote",
        description: "Offers to a customer that become invoices or subscriptions when accepted.",
        path: "/v1/quotes",
        operations: NO_DELETE,
        instead: Some("Quotes cannot be deleted in Stripe; use the action CancelQuote"),
        list_requires: &[],
        list_defaults: &[],
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
            CREATED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Charge",
        description: "Attempts to move money (usually made by PaymentIntents).",
        path: "/v1/charges",
        operations: NO_DELETE,
        instead: Some("Charges cannot be deleted in Stripe; create a Refund instead"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The charge's id (ch_...)."),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit."),
            CURRENCY,
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            DESCRIPTION,
            f("Source", "source.id", String, "On create: id of the payment source or method to charge."),
            f("PaymentIntent", "payment_intent", String, "PaymentIntent that made it.").ro().eq("payment_intent"),
            f("PaymentMethod", "payment_method", String, "Payment method used.").ro(),
            f("Paid", "paid", Boolean, "Whether it succeeded.").ro(),
            f("Captured", "captured", Boolean, "Whether it was captured.").ro(),
            f("Refunded", "refunded", Boolean, "Whether it was fully refunded.").ro(),
            f("AmountRefunded", "amount_refunded", Integer, "Amount refunded.").ro(),
            f("Status", "status", String, "succeeded, pending or failed.").ro(),
            f("FailureCode", "failure_code", String, "Error code of a failure.").ro(),
            f("FailureMessage", "failure_message", String, "Message of a failure.").ro(),
            f("ReceiptEmail", "receipt_email", String, "Email the receipt is sent to."),
            f("TransferGroup", "transfer_group", String, "Transfer group.").eq("transfer_group"),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Refund",
        description: "Refunds of charges.",
        path: "/v1/refunds",
        operations: NO_DELETE,
        instead: Some("Refunds cannot be deleted in Stripe"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The refund's id (re_...)."),
            f("Amount", "amount", Integer, "Amount refunded; all of it when left out."),
            f("Charge", "charge", String, "Id of the charge refunded.").eq("charge"),
            f("PaymentIntent", "payment_intent", String, "Id of the PaymentIntent refunded.").eq("payment_intent"),
            CURRENCY.ro(),
            f("Reason", "reason", String, "duplicate, fraudulent or requested_by_customer."),
            f("Status", "status", String, "pending, requires_action, succeeded, failed or canceled.").ro(),
            CREATED_FILTERED,
            METADATA,
        ],
    },
    Entity {
        name: "Product",
        description: "Goods or services sold.",
        path: "/v1/products",
        operations: ALL,
        instead: None,
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The product's id (prod_...)."),
            f("Name", "name", String, "Name shown to customers."),
            DESCRIPTION,
            f("Active", "active", Boolean, "Whether it can be bought.").eq("active"),
            f("Shippable", "shippable", Boolean, "Whether it is shipped.").eq("shippable"),
            f("Url", "url", String, "Public web page.").eq("url"),
            f("DefaultPrice", "default_price", String, "Id of the default price."),
            f("Images", "images", Array, "Up to eight image URLs."),
            f("UnitLabel", "unit_label", String, "Label of one unit."),
            f("StatementDescriptor", "statement_descriptor", String, "Text on the customer's statement."),
            f("TaxCode", "tax_code", String, "Tax code id."),
            CREATED_FILTERED,
            f("Updated", "updated", Timestamp, "Time of the last update.").ro(),
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Price",
        description: "How much and how often to charge for products.",
        path: "/v1/prices",
        operations: NO_DELETE,
        instead: Some("Prices cannot be deleted in Stripe; update Active to false to archive it"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The price's id (price_...)."),
            f("Product", "product", String, "Id of the product.").eq("product"),
            CURRENCY.eq("currency"),
            f("UnitAmount", "unit_amount", Integer, "Amount per unit in the smallest currency unit."),
            f("Active", "active", Boolean, "Whether it can be used for new purchases.").eq("active"),
            f("Type", "type", String, "one_time or recurring.").ro().eq("type"),
            f("LookupKey", "lookup_key", String, "Lookup key."),
            f("Nickname", "nickname", String, "Name hidden from customers."),
            f("Recurring", "recurring", Object, "Recurring components, e.g. {\"interval\": \"month\"}."),
            f("BillingScheme", "billing_scheme", String, "per_unit or tiered."),
            f("TaxBehavior", "tax_behavior", String, "inclusive, exclusive or unspecified."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Subscription",
        description: "Recurring charges of a customer.",
        path: "/v1/subscriptions",
        operations: NO_DELETE,
        instead: Some("deleting a subscription cancels it; use the action CancelSubscription"),
        list_requires: &[],
        list_defaults: &[("status", "all")],
        fields: &[
            id("The subscription's id (sub_...)."),
            f("Customer", "customer", String, "Id of the customer.").eq("customer"),
            f("Status", "status", String, "incomplete, trialing, active, past_due, canceled, unpaid, paused, ...").ro().eq("status"),
            f("Items", "items", Array, "On create: [{\"price\": \"price_...\", \"quantity\": 1}]; read: Stripe's item list."),
            f("CollectionMethod", "collection_method", String, "charge_automatically or send_invoice.").eq("collection_method"),
            f("CancelAtPeriodEnd", "cancel_at_period_end", Boolean, "Whether it ends at the end of the period."),
            f("CurrentPeriodStart", "current_period_start", Timestamp, "Start of the current period.").ro().range("current_period_start"),
            f("CurrentPeriodEnd", "current_period_end", Timestamp, "End of the current period.").ro().range("current_period_end"),
            f("DefaultPaymentMethod", "default_payment_method", String, "Id of the default payment method."),
            DESCRIPTION,
            f("DaysUntilDue", "days_until_due", Integer, "Days until invoices are due (send_invoice)."),
            f("TrialEnd", "trial_end", Timestamp, "End of the trial."),
            f("CanceledAt", "canceled_at", Timestamp, "Time of cancellation.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "SubscriptionItem",
        description: "Prices a subscription bills for.",
        path: "/v1/subscription_items",
        operations: ALL,
        instead: None,
        list_requires: &["subscription"],
        list_defaults: &[],
        fields: &[
            id("The subscription item's id (si_...)."),
            f("Subscription", "subscription", String, "Id of the subscription (required in List conditions).").eq("subscription"),
            f("Price", "price.id", String, "Id of the price."),
            f("Quantity", "quantity", Integer, "Quantity."),
            CREATED,
            METADATA,
        ],
    },
    Entity {
        name: "Coupon",
        description: "Discounts for invoices, subscriptions and checkouts.",
        path: "/v1/coupons",
        operations: ALL,
        instead: None,
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The coupon's id."),
            f("Name", "name", String, "Name shown to customers."),
            f("PercentOff", "percent_off", Decimal, "Percentage taken off."),
            f("AmountOff", "amount_off", Integer, "Amount taken off, in the smallest currency unit."),
            CURRENCY,
            f("Duration", "duration", String, "forever, once or repeating."),
            f("DurationInMonths", "duration_in_months", Integer, "Months it applies for (repeating)."),
            f("MaxRedemptions", "max_redemptions", Integer, "How often it can be redeemed."),
            f("RedeemBy", "redeem_by", Timestamp, "Last time it can be redeemed."),
            f("TimesRedeemed", "times_redeemed", Integer, "How often it was redeemed.").ro(),
            f("Valid", "valid", Boolean, "Whether it can still be applied.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "PromotionCode",
        description: "Customer-facing codes for coupons.",
        path: "/v1/promotion_codes",
        operations: NO_DELETE,
        instead: Some("PromotionCodes cannot be deleted in Stripe; update Active to false"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The promotion code's id (promo_...)."),
            f("Code", "code", String, "The code customers enter.").eq("code"),
            f("Coupon", "coupon.id", String, "Id of the coupon.").eq("coupon"),
            f("Active", "active", Boolean, "Whether it can be redeemed.").eq("active"),
            f("Customer", "customer", String, "Only this customer may redeem it.").eq("customer"),
            f("MaxRedemptions", "max_redemptions", Integer, "How often it can be redeemed."),
            f("TimesRedeemed", "times_redeemed", Integer, "How often it was redeemed.").ro(),
            f("ExpiresAt", "expires_at", Timestamp, "When it expires."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "TaxRate",
        description: "Tax percentages applied to invoices and subscriptions.",
        path: "/v1/tax_rates",
        operations: NO_DELETE,
        instead: Some("TaxRates cannot be deleted in Stripe; update Active to false"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The tax rate's id (txr_...)."),
            f("DisplayName", "display_name", String, "Name shown on invoices."),
            f("Percentage", "percentage", Decimal, "Tax percentage."),
            f("Inclusive", "inclusive", Boolean, "Whether prices include it.").eq("inclusive"),
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
    },
    Entity {
        name: "CreditNote",
        description: "Reductions of finalized invoices.",
        path: "/v1/credit_notes",
        operations: NO_DELETE,
        instead: Some("CreditNotes cannot be deleted in Stripe; use the action VoidCreditNote"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The credit note's id (cn_...)."),
            f("Invoice", "invoice", String, "Id of the invoice it reduces.").eq("invoice"),
            f("Customer", "customer", String, "Id of the customer.").ro().eq("customer"),
            f("Amount", "amount", Integer, "Amount credited."),
            f("Reason", "reason", String, "duplicate, fraudulent, order_change or product_unsatisfactory."),
            f("Memo", "memo", String, "Memo shown on the credit note."),
            f("Status", "status", String, "issued or void.").ro(),
            f("Number", "number", String, "Credit note number.").ro(),
            f("Total", "total", Integer, "Total.").ro(),
            CREATED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "Dispute",
        description: "Customers' challenges of charges with their card issuer.",
        path: "/v1/disputes",
        operations: Operations { create: false, delete: false, ..ALL },
        instead: Some("Disputes are opened by card issuers and cannot be created or deleted; use the action CloseDispute to accept one"),
        list_requires: &[],
        list_defaults: &[],
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
    },
    Entity {
        name: "Payout",
        description: "Transfers from the Stripe balance to a bank account or card.",
        path: "/v1/payouts",
        operations: NO_DELETE,
        instead: Some("Payouts cannot be deleted in Stripe; use the action CancelPayout"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The payout's id (po_...)."),
            f("Amount", "amount", Integer, "Amount in the smallest currency unit."),
            CURRENCY,
            f("Status", "status", String, "paid, pending, in_transit, canceled or failed.").ro().eq("status"),
            f("ArrivalDate", "arrival_date", Timestamp, "Expected arrival.").ro().range("arrival_date"),
            f("Destination", "destination", String, "Bank account or card id.").eq("destination"),
            DESCRIPTION,
            f("Method", "method", String, "standard or instant."),
            f("StatementDescriptor", "statement_descriptor", String, "Text on the bank statement."),
            CREATED_FILTERED,
            LIVEMODE,
            METADATA,
        ],
    },
    Entity {
        name: "BalanceTransaction",
        description: "Movements of the Stripe balance (read-only).",
        path: "/v1/balance_transactions",
        operations: READ_ONLY,
        instead: Some("BalanceTransactions are written by Stripe and are read-only"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The balance transaction's id (txn_...)."),
            f("Amount", "amount", Integer, "Gross amount.").ro(),
            CURRENCY.ro().eq("currency"),
            f("Fee", "fee", Integer, "Fees paid.").ro(),
            f("Net", "net", Integer, "Net amount.").ro(),
            f("Status", "status", String, "available or pending.").ro(),
            f("Type", "type", String, "charge, refund, payout, ...").ro().eq("type"),
            f("Source", "source", String, "Id of the object that caused it.").ro().eq("source"),
            DESCRIPTION.ro(),
            f("AvailableOn", "available_on", Timestamp, "When the funds become available.").ro(),
            f("ReportingCategory", "reporting_category", String, "Reporting category.").ro(),
            CREATED_FILTERED,
        ],
    },
    Entity {
        name: "Event",
        description: "Things that happened in the account (read-only).",
        path: "/v1/events",
        operations: READ_ONLY,
        instead: Some("Events are written by Stripe and are read-only"),
        list_requires: &[],
        list_defaults: &[],
        fields: &[
            id("The event's id (evt_...)."),
            f("Type", "type", String, "Event type, e.g. customer.created.").ro().eq("type"),
            f("ApiVersion", "api_version", String, "API version the data is rendered in.").ro(),
            f("Data", "data", Object, "The object concerned (data.object).").ro(),
            f("PendingWebhooks", "pending_webhooks", Integer, "Webhooks not yet delivered.").ro(),
            f("Request", "request", Object, "The API request that caused it.").ro(),
            CREATED_FILTERED,
            LIVEMODE,
        ],
    },
    Entity {
        name: "CheckoutSession",
        description: "Stripe-hosted payment pages.",
        path: "/v1/checkout/sessions",
        operations: Operations { update: false, delete: false, ..ALL },
        instead: Some("Checkout Sessions cannot be changed or deleted; use the action ExpireCheckoutSession"),
        list_requires: &[],
        list_defaults: &[],
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
            CREATED,
            LIVEMODE,
            METADATA,
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_entity_has_one_key_unique_fields_and_a_reason_for_each_missing_operation() {
        for e in ENTITIES {
            assert_eq!(e.fields.iter().filter(|f| f.key).count(), 1, "{}", e.name);
            let names: HashSet<_> = e.fields.iter().map(|f| f.name).collect();
            assert_eq!(
                names.len(),
                e.fields.len(),
                "{} has duplicate fields",
                e.name
            );
            let o = e.operations;
            if !(o.create && o.update && o.delete) {
                assert!(e.instead.is_some(), "{} lacks an explanation", e.name);
            }
            for required in e.list_requires {
                assert!(
                    e.fields
                        .iter()
                        .any(|f| f.pushdown == Pushdown::Equals(required)),
                    "{}: {required} cannot be pushed down",
                    e.name
                );
            }
        }
    }

    #[test]
    fn the_issue_s_entities_are_all_there() {
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
        ] {
            assert!(crate::catalog::entity(name).is_some(), "{name}");
        }
    }
}
