//! Actions as data: the seed's nine actions with its parameter names, plus the ones users of
//! such connectors also need. Each action is one Stripe call on one object.

use serde::Serialize;

use super::model::DataType::{self, Boolean, Integer, String};

/// Where a parameter goes in the Stripe call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamTarget {
    /// The id of the object in the path.
    Path,
    /// A form field of that Stripe name.
    Form(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub data_type: DataType,
    pub required: bool,
    pub description: &'static str,
    pub target: ParamTarget,
}

/// What the action returns (the seed's shapes). Serialize: the metadata routes still name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Output {
    /// `[{"Success": "true", ...the Stripe object flattened with dotted keys}]`.
    Object,
    /// `[{"Success": "true"}]`.
    SuccessOnly,
    /// `[{"InvoiceId": quote.invoice, "Success": "true"}]` (AcceptQuote).
    InvoiceId,
}

#[derive(Debug, Clone, Copy)]
pub struct Action {
    pub name: &'static str,
    pub description: &'static str,
    /// `POST` or `DELETE`.
    pub method: &'static str,
    /// Stripe path with `{}` where the `Path` parameter goes.
    pub path: &'static str,
    pub params: &'static [Param],
    pub output: Output,
}

impl Action {
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

const fn id(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        data_type: String,
        required: true,
        description,
        target: ParamTarget::Path,
    }
}
const fn opt(
    name: &'static str,
    stripe: &'static str,
    data_type: DataType,
    description: &'static str,
) -> Param {
    Param {
        name,
        data_type,
        required: false,
        description,
        target: ParamTarget::Form(stripe),
    }
}
const fn req(
    name: &'static str,
    stripe: &'static str,
    data_type: DataType,
    description: &'static str,
) -> Param {
    Param {
        required: true,
        ..opt(name, stripe, data_type, description)
    }
}

const PI: Param = id("PaymentIntentId", "The PaymentIntent id.");
const PM: Param = id("PaymentMethodId", "The PaymentMethod id.");
const INVOICE: Param = id("InvoiceId", "The invoice id.");
const QUOTE: Param = id("QuoteId", "The quote id.");
const SUBSCRIPTION: Param = id("SubscriptionId", "The subscription id.");

#[rustfmt::skip]
pub static ACTIONS: &[Action] = &[
    Action {
        name: "ConfirmPaymentIntent",
        description: "Confirms a PaymentIntent: the customer intends to pay with the payment method.",
        method: "POST",
        path: "/v1/payment_intents/{}/confirm",
        params: &[
            PI,
            opt("ReturnUrl", "return_url", String, "Where the customer returns after a redirect (3-D Secure)."),
            opt("PaymentMethod", "payment_method", String, "Payment method to confirm with."),
            opt("ReceiptEmail", "receipt_email", String, "Email the receipt is sent to."),
        ],
        output: Output::Object,
    },
    Action {
        name: "CapturePaymentIntent",
        description: "Captures the funds of a PaymentIntent in status requires_capture.",
        method: "POST",
        path: "/v1/payment_intents/{}/capture",
        params: &[
            PI,
            opt("AmountToCapture", "amount_to_capture", Integer, "Amount to capture; all of it when left out."),
        ],
        output: Output::Object,
    },
    Action {
        name: "CancelPaymentIntent",
        description: "Cancels a PaymentIntent.",
        method: "POST",
        path: "/v1/payment_intents/{}/cancel",
        params: &[
            PI,
            opt("CancellationReason", "cancellation_reason", String, "duplicate, fraudulent, requested_by_customer or abandoned."),
        ],
        output: Output::Object,
    },
    Action {
        name: "AttachPaymentMethodToCustomer",
        description: "Attaches a PaymentMethod to a customer.",
        method: "POST",
        path: "/v1/payment_methods/{}/attach",
        params: &[
            PM,
            req("CustomerId", "customer", String, "The customer to attach the payment method to."),
        ],
        output: Output::SuccessOnly,
    },
    Action {
        name: "DetachPaymentMethodFromCustomer",
        description: "Detaches a PaymentMethod from its customer; it cannot be used or attached again.",
        method: "POST",
        path: "/v1/payment_methods/{}/detach",
        params: &[PM],
        output: Output::SuccessOnly,
    },
    Action {
        name: "FinalizeInvoice",
        description: "Finalizes a draft invoice.",
        method: "POST",
        path: "/v1/invoices/{}/finalize",
        params: &[
            INVOICE,
            opt("AutoAdvance", "auto_advance", Boolean, "Whether Stripe then collects it automatically."),
        ],
        output: Output::Object,
    },
    Action {
        name: "FinalizeQuote",
        description: "Finalizes a draft quote.",
        method: "POST",
        path: "/v1/quotes/{}/finalize",
        params: &[
            QUOTE,
            opt("ExpiresAt", "expires_at", Integer, "When the quote expires (Unix seconds)."),
        ],
        output: Output::SuccessOnly,
    },
    Action {
        name: "AcceptQuote",
        description: "Accepts a quote and creates the invoice for it.",
        method: "POST",
        path: "/v1/quotes/{}/accept",
        params: &[QUOTE],
        output: Output::InvoiceId,
    },
    Action {
        name: "CancelQuote",
        description: "Cancels a quote.",
        method: "POST",
        path: "/v1/quotes/{}/cancel",
        params: &[QUOTE],
        output: Output::SuccessOnly,
    },
    Action {
        name: "VoidInvoice",
        description: "Voids a finalized invoice (it stays on record but is owed no more).",
        method: "POST",
        path: "/v1/invoices/{}/void",
        params: &[INVOICE],
        output: Output::Object,
    },
    Action {
        name: "PayInvoice",
        description: "Pays an open invoice now.",
        method: "POST",
        path: "/v1/invoices/{}/pay",
        params: &[
            INVOICE,
            opt("PaymentMethod", "payment_method", String, "Payment method to pay with."),
            opt("PaidOutOfBand", "paid_out_of_band", Boolean, "Mark it paid outside Stripe."),
        ],
        output: Output::Object,
    },
    Action {
        name: "SendInvoice",
        description: "Emails an open invoice to the customer.",
        method: "POST",
        path: "/v1/invoices/{}/send",
        params: &[INVOICE],
        output: Output::Object,
    },
    Action {
        name: "MarkInvoiceUncollectible",
        description: "Marks an open invoice as uncollectible.",
        method: "POST",
        path: "/v1/invoices/{}/mark_uncollectible",
        params: &[INVOICE],
        output: Output::Object,
    },
    Action {
        name: "CancelSubscription",
        description: "Cancels a subscription at once.",
        method: "DELETE",
        path: "/v1/subscriptions/{}",
        params: &[
            SUBSCRIPTION,
            opt("InvoiceNow", "invoice_now", Boolean, "Invoice pending usage and prorations now."),
            opt("Prorate", "prorate", Boolean, "Credit the unused time."),
        ],
        output: Output::Object,
    },
    Action {
        name: "ResumeSubscription",
        description: "Resumes a paused subscription.",
        method: "POST",
        path: "/v1/subscriptions/{}/resume",
        params: &[
            SUBSCRIPTION,
            opt("BillingCycleAnchor", "billing_cycle_anchor", String, "now or unchanged."),
        ],
        output: Output::Object,
    },
    Action {
        name: "ExpireCheckoutSession",
        description: "Expires an open Checkout Session.",
        method: "POST",
        path: "/v1/checkout/sessions/{}/expire",
        params: &[id("SessionId", "The Checkout Session id.")],
        output: Output::Object,
    },
    Action {
        name: "CancelSetupIntent",
        description: "Cancels a SetupIntent.",
        method: "POST",
        path: "/v1/setup_intents/{}/cancel",
        params: &[id("SetupIntentId", "The SetupIntent id.")],
        output: Output::Object,
    },
    Action {
        name: "VoidCreditNote",
        description: "Voids a credit note.",
        method: "POST",
        path: "/v1/credit_notes/{}/void",
        params: &[id("CreditNoteId", "The credit note id.")],
        output: Output::Object,
    },
    Action {
        name: "CancelPayout",
        description: "Cancels a pending payout.",
        method: "POST",
        path: "/v1/payouts/{}/cancel",
        params: &[id("PayoutId", "The payout id.")],
        output: Output::Object,
    },
    Action {
        name: "CloseDispute",
        description: "Closes a dispute, accepting it as lost.",
        method: "POST",
        path: "/v1/disputes/{}/close",
        params: &[id("DisputeId", "The dispute id.")],
        output: Output::Object,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_path_parameter_and_a_placeholder() {
        for a in ACTIONS {
            let ids = a
                .params
                .iter()
                .filter(|p| p.target == ParamTarget::Path)
                .count();
            assert_eq!(ids, 1, "{}", a.name);
            assert_eq!(a.path.matches("{}").count(), 1, "{}", a.name);
            assert!(a.method == "POST" || a.method == "DELETE", "{}", a.name);
        }
    }

    #[test]
    fn the_seed_s_parameter_names() {
        let names = |a: &str| -> Vec<&str> {
            crate::catalog::action(a)
                .unwrap()
                .params
                .iter()
                .map(|p| p.name)
                .collect()
        };
        assert!(names("ConfirmPaymentIntent").starts_with(&["PaymentIntentId", "ReturnUrl"]));
        assert_eq!(
            names("AttachPaymentMethodToCustomer"),
            ["PaymentMethodId", "CustomerId"]
        );
        assert_eq!(
            names("DetachPaymentMethodFromCustomer"),
            ["PaymentMethodId"]
        );
        assert!(names("FinalizeInvoice").starts_with(&["InvoiceId"]));
        for q in ["FinalizeQuote", "AcceptQuote", "CancelQuote"] {
            assert_eq!(names(q)[0], "QuoteId");
        }
    }
}
