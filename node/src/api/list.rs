//! Paging through Stripe lists with a filter applied partly by Stripe and partly on the node.
//!
//! A page token is base64url JSON `{"c": cursor, "o": offset, "h": hash}`: the Stripe cursor
//! (`starting_after`, the last object of the previous Stripe page), how many objects of the Stripe
//! page after that cursor were already consumed, and a hash of the entity and conditions so a
//! token cannot be replayed against another query. Resuming refetches the Stripe page after the
//! cursor and skips `o` objects, so no object is skipped or returned twice.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::conditions::Conditions;
use crate::catalog::Entity;
use crate::error::{ApiError, ApiResult};
use crate::stripe::{StripeApi, StripeRequest};

/// Stripe's largest list page.
const STRIPE_PAGE: usize = 100;
/// Stripe pages one API call may scan while filtering on the node; then it returns what it has
/// with a token to go on, so one request stays bounded.
pub const MAX_STRIPE_PAGES: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageToken {
    #[serde(rename = "c", skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(rename = "o")]
    pub offset: usize,
    #[serde(rename = "h")]
    pub hash: String,
}

pub fn query_hash(entity: &Entity, conditions: &Conditions) -> String {
    let digest = Sha256::digest(format!("{}\n{}", entity.name, conditions.text()));
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl PageToken {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str, hash: &str) -> ApiResult<Self> {
        let bad = || ApiError::invalid("pageToken", "is not a page token this API issued");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let token: PageToken = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if token.hash != hash {
            return Err(ApiError::invalid(
                "pageToken",
                "belongs to another entity type or other conditions",
            ));
        }
        if token.offset >= STRIPE_PAGE {
            return Err(bad());
        }
        Ok(token)
    }
}

/// One page of matching Stripe objects and the token of the next page, if any.
pub struct Page {
    pub objects: Vec<Value>,
    pub next: Option<PageToken>,
}

pub async fn fetch_page(
    stripe: &dyn StripeApi,
    entity: &Entity,
    conditions: &Conditions,
    start: PageToken,
    page_size: usize,
) -> ApiResult<Page> {
    let mut pushdown = conditions.pushdown();
    for (param, value) in entity.list_defaults {
        if !pushdown.iter().any(|(k, _)| k == param) {
            pushdown.push((param.to_string(), value.to_string()));
        }
    }
    for required in entity.list_requires {
        if !pushdown.iter().any(|(k, _)| k == required) {
            return Err(ApiError::invalid(
                "conditions",
                format!(
                    "Stripe lists {} only by {required}: add {required} = '...' (as its PascalCase field) to the conditions",
                    entity.name
                ),
            ));
        }
    }
    let on_node = !conditions.fully_pushed_down();
    let mut cursor = start.cursor;
    let mut skip = start.offset;
    let mut objects = Vec::new();
    for _ in 0..MAX_STRIPE_PAGES {
        let wanted = page_size - objects.len();
        // Without node-side filtering ask for just enough; otherwise scan full pages.
        let limit = if on_node {
            STRIPE_PAGE
        } else {
            (skip + wanted).min(STRIPE_PAGE)
        };
        let mut request = StripeRequest::get(entity.path);
        request.params = pushdown.clone();
        request.params.push(("limit".into(), limit.to_string()));
        if let Some(c) = &cursor {
            request.params.push(("starting_after".into(), c.clone()));
        }
        let page = stripe.call(request).await?;
        let data = page["data"].as_array().cloned().unwrap_or_default();
        let has_more = page["has_more"].as_bool().unwrap_or(false);
        let last_id = data
            .last()
            .and_then(|o| o["id"].as_str())
            .map(str::to_string);
        for (i, object) in data.iter().enumerate().skip(skip) {
            if !conditions.matches(object) {
                continue;
            }
            objects.push(object.clone());
            if objects.len() == page_size {
                let next = if i + 1 < data.len() {
                    Some(PageToken {
                        cursor: cursor.clone(),
                        offset: i + 1,
                        hash: start.hash.clone(),
                    })
                } else if has_more {
                    Some(PageToken {
                        cursor: last_id,
                        offset: 0,
                        hash: start.hash.clone(),
                    })
                } else {
                    None
                };
                return Ok(Page { objects, next });
            }
        }
        skip = 0;
        if !has_more || last_id.is_none() {
            return Ok(Page {
                objects,
                next: None,
            });
        }
        cursor = last_id;
    }
    // Scanned as much as one call may: hand back what matched and where to go on.
    Ok(Page {
        objects,
        next: Some(PageToken {
            cursor,
            offset: 0,
            hash: start.hash,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use serde_json::json;
    use std::sync::Mutex;

    /// Stripe's list semantics over objects in memory (newest first, `limit`, `starting_after`),
    /// counting the calls.
    struct MemoryList {
        objects: Vec<Value>,
        calls: Mutex<Vec<Vec<(String, String)>>>,
    }

    impl MemoryList {
        fn new(n: usize) -> Self {
            Self {
                objects: (0..n)
                    .map(|i| json!({"id": format!("cus_{i:03}"), "email": format!("{i}@x")}))
                    .collect(),
                calls: Mutex::default(),
            }
        }
    }

    #[async_trait]
    impl StripeApi for MemoryList {
        async fn call(&self, request: StripeRequest) -> Result<Value, ApiError> {
            self.calls.lock().unwrap().push(request.params.clone());
            let param = |k: &str| {
                request
                    .params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
            };
            let limit: usize = param("limit").unwrap().parse().unwrap();
            let start = match param("starting_after") {
                Some(after) => self.objects.iter().position(|o| o["id"] == after).unwrap() + 1,
                None => 0,
            };
            let data: Vec<Value> = self
                .objects
                .iter()
                .skip(start)
                .take(limit)
                .cloned()
                .collect();
            let has_more = start + data.len() < self.objects.len();
            Ok(json!({"object": "list", "data": data, "has_more": has_more}))
        }
    }

    async fn walk(stripe: &MemoryList, conditions: &Conditions, page_size: usize) -> Vec<String> {
        let entity = crate::catalog::entity("Customer").unwrap();
        let hash = query_hash(entity, conditions);
        let mut token = PageToken {
            hash: hash.clone(),
            ..PageToken::default()
        };
        let mut ids = Vec::new();
        for _ in 0..100 {
            let page = fetch_page(stripe, entity, conditions, token, page_size)
                .await
                .unwrap();
            assert!(page.objects.len() <= page_size);
            ids.extend(
                page.objects
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_string()),
            );
            match page.next {
                // Through the wire format, as a caller would.
                Some(next) => token = PageToken::decode(&next.encode(), &hash).unwrap(),
                None => return ids,
            }
        }
        panic!("paging did not end");
    }

    #[tokio::test]
    async fn pages_resume_exactly_without_skips_or_repeats() {
        let entity = crate::catalog::entity("Customer").unwrap();
        let all = Conditions::parse(entity, None).unwrap();
        for (n, page_size) in [(0, 5), (10, 3), (10, 5), (250, 7), (250, 200)] {
            let stripe = MemoryList::new(n);
            let ids = walk(&stripe, &all, page_size).await;
            let want: Vec<String> = (0..n).map(|i| format!("cus_{i:03}")).collect();
            assert_eq!(ids, want, "n={n} page_size={page_size}");
        }
    }

    #[test]
    fn tokens_round_trip_and_are_tied_to_their_query() {
        let token = PageToken {
            cursor: Some("cus_9".into()),
            offset: 3,
            hash: "abc".into(),
        };
        let text = token.encode();
        assert!(!text.contains('='), "url-safe without padding: {text}");
        assert_eq!(PageToken::decode(&text, "abc").unwrap(), token);
        let other = PageToken::decode(&text, "def").unwrap_err();
        assert_eq!(other.field(), Some("pageToken"));
        assert!(PageToken::decode("not-a-token", "abc").is_err());
    }

    #[tokio::test]
    async fn node_filtered_pages_resume_exactly_and_push_down_what_stripe_filters() {
        let entity = crate::catalog::entity("Customer").unwrap();
        // Email LIKE is evaluated on the node: scan Stripe pages of 100, resume mid-page.
        let like = Conditions::parse(entity, Some("Email LIKE '1%'")).unwrap();
        assert!(!like.fully_pushed_down());
        let stripe = MemoryList::new(250);
        let ids = walk(&stripe, &like, 7).await;
        let want: Vec<String> = (0..250)
            .filter(|i| i.to_string().starts_with('1'))
            .map(|i| format!("cus_{i:03}"))
            .collect();
        assert_eq!(ids, want);
        assert!(
            stripe
                .calls
                .lock()
                .unwrap()
                .iter()
                .all(|p| p.contains(&("limit".to_string(), "100".to_string()))),
            "node-side filtering reads full Stripe pages"
        );

        // Email = '...' is pushed down as Stripe's email parameter.
        let eq = Conditions::parse(entity, Some("Email = '5@x'")).unwrap();
        assert!(eq.fully_pushed_down());
        assert_eq!(eq.pushdown(), [("email".to_string(), "5@x".to_string())]);
    }
}
