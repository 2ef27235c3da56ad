//! Actions as data: the nine actions of Integration Connectors' Stripe connector with its
//! parameter names, plus the ones billing users of such connectors also need. Each action is one
//! Stripe call, on one object or (PreviewUpcomingInvoice) a preview.

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

/// What the action returns (the shapes of Integration Connectors' Stripe connector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// `POST`, `DELETE`, or `GET` for a preview that changes nothing.
    pub method: &'static str,
    /// Stripe path with `{}` where the `Path` parameter goes, if the action has one.
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
const SCHEDULE: Param = id("SubscriptionScheduleId", "The subscription schedule id.");

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
    Action {
        name: "PreviewUpcomingInvoice",
        description: "The invoice Stripe would create next for a customer or subscription, without creating it (Stripe's upcoming invoice).",
        method: "GET",
        path: "/v1/invoices/upcoming",
        params: &[
            opt("CustomerId", "customer", String, "The customer; needed unless SubscriptionId is given."),
            opt("SubscriptionId", "subscription", String, "The subscription to preview the next invoice of."),
            opt("ScheduleId", "schedule", String, "The subscription schedule to preview the next invoice of."),
            opt("Coupon", "coupon", String, "A coupon to preview the invoice with."),
        ],
        output: Output::Object,
    },
    Action {
        name: "CancelSubscriptionSchedule",
        description: "Cancels a subscription schedule and its subscription.",
        method: "POST",
        path: "/v1/subscription_schedules/{}/cancel",
        params: &[
            SCHEDULE,
            opt("InvoiceNow", "invoice_now", Boolean, "Invoice pending usage and prorations now."),
            opt("Prorate", "prorate", Boolean, "Credit the unused time."),
        ],
        output: Output::Object,
    },
    Action {
        name: "ReleaseSubscriptionSchedule",
        description: "Releases a subscription schedule: its subscription goes on without it.",
        method: "POST",
        path: "/v1/subscription_schedules/{}/release",
        params: &[
            SCHEDULE,
            opt("PreserveCancelDate", "preserve_cancel_date", Boolean, "Keep the subscription's cancel_at."),
        ],
        output: Output::Object,
    },
    Action {
        name: "CancelRefund",
        description: "Cancels a refund that requires action (only those can be canceled).",
        method: "POST",
        path: "/v1/refunds/{}/cancel",
        params: &[id("RefundId", "The refund id.")],
        output: Output::Object,
    },
    Action {
        name: "ReversePayout",
        description: "Reverses a paid payout to a bank account: the funds return to the balance.",
        method: "POST",
        path: "/v1/payouts/{}/reverse",
        params: &[id("PayoutId", "The payout id.")],
        output: Output::Object,
    },
    Action {
        name: "IncrementPaymentIntentAuthorization",
        description: "Raises the authorized amount of an uncaptured card PaymentIntent.",
        method: "POST",
        path: "/v1/payment_intents/{}/increment_authorization",
        params: &[
            PI,
            req("Amount", "amount", Integer, "The new, higher amount to authorize."),
            opt("Description", "description", String, "New description."),
        ],
        output: Output::Object,
    },
    Action {
        name: "ApplyCustomerBalanceToPaymentIntent",
        description: "Pays a customer_balance PaymentIntent from the customer's cash balance.",
        method: "POST",
        path: "/v1/payment_intents/{}/apply_customer_balance",
        params: &[
            PI,
            opt("Amount", "amount", Integer, "Amount to apply; what is owed when left out."),
            opt("Currency", "currency", String, "Currency of Amount."),
        ],
        output: Output::Object,
    },
    Action {
        name: "AdvanceTestClock",
        description: "Moves a test clock forward; its objects advance with it.",
        method: "POST",
        path: "/v1/test_helpers/test_clocks/{}/advance",
        params: &[
            id("TestClockId", "The test clock id."),
            req("FrozenTime", "frozen_time", Integer, "The clock's new time (Unix seconds), after its current one."),
        ],
        output: Output::Object,
    },
    Action {
        name: "CancelTopUp",
        description: "Cancels a pending top-up.",
        method: "POST",
        path: "/v1/topups/{}/cancel",
        params: &[id("TopUpId", "The top-up id.")],
        output: Output::Object,
    },
    Action {
        name: "ApproveReview",
        description: "Approves a payment Radar held for review, closing the review.",
        method: "POST",
        path: "/v1/reviews/{}/approve",
        params: &[id("ReviewId", "The review id.")],
        output: Output::Object,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_path_parameter_per_placeholder() {
        for a in ACTIONS {
            let ids = a
                .params
                .iter()
                .filter(|p| p.target == ParamTarget::Path)
                .count();
            assert!(ids <= 1, "{}", a.name);
            assert_eq!(a.path.matches("{}").count(), ids, "{}", a.name);
            assert!(["POST", "DELETE", "GET"].contains(&a.method), "{}", a.name);
        }
    }

    #[test]
    fn the_parameter_names_of_integration_connectors_stripe_connector() {
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
