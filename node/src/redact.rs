//! Redaction of secrets, used by all logging: the exchange log redacts structurally (headers by
//! name, `client_secret` fields), and every log line passes through [`redact_text`] on its way to
//! stderr (see telemetry.rs), which removes registered secrets and anything shaped like a key.

use std::sync::{LazyLock, RwLock};

use regex::Regex;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

/// Headers whose values are never logged.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Secret values known at run time (API key, proxy password, client token), removed from every
/// log line wherever they appear.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Key-shaped text: Stripe secret and restricted keys, webhook secrets, client secrets of
/// PaymentIntents and SetupIntents (`pi_..._secret_...`), bearer and digest credentials.
static PATTERNS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        \b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]+
      | \bwhsec_[0-9A-Za-z]+
      | \b[a-z]{2,5}_[0-9A-Za-z]+_secret_[0-9A-Za-z]+
      | (?i:\b(?:bearer|basic)\s+)[0-9A-Za-z._~+/=-]+
      | \bresponse=\\?"?[0-9a-fA-F]{16,}
      | (?i:client_secret)(?:=|"\s*:\s*"|\\"\s*:\s*\\")[^&"\\\s]+
        "#,
    )
    .expect("valid redaction pattern")
});

/// Registers a secret value so no log line ever shows it (also in its JSON-escaped form).
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    // Very short values would redact ordinary words; secrets this short are refused elsewhere.
    if secret.len() < 4 {
        return;
    }
    // Called per Stripe call with the current API key: the usual case is a cheap read.
    if SECRETS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|s| s == secret)
    {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    for form in [secret.to_string(), escaped.trim_matches('"').to_string()] {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret that contains another is removed whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Removes registered secrets and key-shaped text from any text.
pub fn redact_text(text: &str) -> String {
    let mut out = text.to_string();
    for secret in SECRETS.read().unwrap_or_else(|p| p.into_inner()).iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    PATTERNS
        .replace_all(&out, |c: &regex::Captures| redact_match(&c[0]))
        .into_owned()
}

/// Keeps the label of a match (`Bearer `, `client_secret=`) and drops the value.
fn redact_match(found: &str) -> String {
    let lower = found.to_ascii_lowercase();
    for label in ["bearer ", "basic ", "digest "] {
        if lower.starts_with(label) {
            return format!("{}{REDACTED}", &found[..label.len()]);
        }
    }
    if lower.starts_with("response=") {
        return format!("response={REDACTED}");
    }
    if lower.starts_with("client_secret") {
        let value_at = found.len()
            - found
                .chars()
                .rev()
                .take_while(|c| !matches!(c, '=' | '"' | ':' | ' '))
                .map(char::len_utf8)
                .sum::<usize>();
        return format!("{}{REDACTED}", &found[..value_at]);
    }
    REDACTED.to_string()
}

/// A header value as it may be logged.
pub fn header_value(name: &str, value: &str) -> String {
    if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        REDACTED.to_string()
    } else {
        redact_text(value)
    }
}

/// A JSON body as it may be logged: every `client_secret`/`secret` field emptied, text redacted.
pub fn json_body(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_field(k) && !v.is_null() {
                        Value::String(REDACTED.to_string())
                    } else {
                        json_body(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(json_body).collect()),
        Value::String(s) => Value::String(redact_text(s)),
        other => other.clone(),
    }
}

/// Form fields (`a[b]=c`) as they may be logged.
pub fn form_params(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| {
            let leaf = k.rsplit('[').next().unwrap_or(k).trim_end_matches(']');
            let v = if is_secret_field(leaf) {
                REDACTED.to_string()
            } else {
                redact_text(v)
            };
            (k.clone(), v)
        })
        .collect()
}

fn is_secret_field(name: &str) -> bool {
    matches!(
        name,
        "client_secret" | "secret" | "password" | "api_key" | "ephemeral_key"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_shaped_text_is_redacted() {
        let line = "key sk_test_abc123 rk_live_Zz9 whsec_q1 pi_3Nabc_secret_XyZ \
                    Authorization: Bearer tok.en-1 Proxy-Authorization: Basic YWxpY2U6cHc= \
                    client_secret=seti_1_secret_2&x=1 {\"client_secret\":\"cs_abc\"}";
        let out = redact_text(line);
        for secret in [
            "sk_test_abc123",
            "rk_live_Zz9",
            "whsec_q1",
            "pi_3Nabc_secret_XyZ",
            "tok.en-1",
            "YWxpY2U6cHc=",
            "seti_1_secret_2",
            "cs_abc",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        assert!(out.contains("Bearer [REDACTED]"), "{out}");
        assert!(out.contains("&x=1"), "{out}");
        // Ordinary ids stay readable.
        assert_eq!(redact_text("cus_123 pi_3Nabc"), "cus_123 pi_3Nabc");
    }

    #[test]
    fn digest_credentials_are_redacted() {
        let h = r#"Digest username="alice", realm="r", response="0123456789abcdef0123", nc=1"#;
        let out = redact_text(&format!("Proxy-Authorization: {h}"));
        assert!(!out.contains("0123456789abcdef"), "{out}");
        assert!(out.contains("response=[REDACTED]"), "{out}");
    }

    #[test]
    fn registered_secrets_are_redacted_anywhere() {
        register_secret("hunter2-proxy-pw");
        register_secret("x");
        assert_eq!(
            redact_text("pw=hunter2-proxy-pw;"),
            "pw=[REDACTED];".to_string()
        );
        assert_eq!(redact_text("x marks"), "x marks");
    }

    #[test]
    fn json_and_form_bodies_lose_secret_fields() {
        let body = json!({"id": "pi_1", "client_secret": "anything",
            "nested": [{"secret": "s", "amount": 5}], "next": null});
        let out = json_body(&body);
        assert_eq!(out["client_secret"], REDACTED);
        assert_eq!(out["nested"][0]["secret"], REDACTED);
        assert_eq!(out["nested"][0]["amount"], 5);
        assert_eq!(out["id"], "pi_1");
        let form = form_params(&[
            ("client_secret".into(), "abc".into()),
            ("metadata[secret]".into(), "m".into()),
            ("amount".into(), "5".into()),
        ]);
        assert_eq!(form[0].1, REDACTED);
        assert_eq!(form[1].1, REDACTED);
        assert_eq!(form[2].1, "5");
        assert_eq!(header_value("Authorization", "Bearer sk"), REDACTED);
        assert_eq!(header_value("Stripe-Version", "2023-08-16"), "2023-08-16");
    }
}
