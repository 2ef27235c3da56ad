//! Paging through Stripe lists with a filter applied partly by Stripe and partly on the node.
//!
//! Stripe narrows the objects in one of two ways: its list endpoint with the list parameters the
//! clause pushes down (once per value of a split `IN`, and with a child collection's parent in
//! the path), or its Search API with a query, when that leaves fewer conjuncts to the node and
//! the caller did not ask for a consistent read. The node re-checks every object.
//!
//! A page token is base64url JSON `{"s": search, "b": branch, "c": cursor, "o": offset, "h":
//! hash}`: whether its pages come from the Search API, which of the split's lists it is in, the
//! Stripe cursor of the Stripe page it is on (`starting_after`, the last object of the previous
//! list page, or the search `page` token), how many objects of that page were already consumed,
//! and a hash of the entity and conditions so a token cannot be replayed against another query.
//! Resuming refetches that Stripe page and skips `o` objects, so no object is skipped or
//! returned twice.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::conditions::Conditions;
use super::payload::id_segment;
use crate::catalog::{Entity, Pushdown};
use crate::error::{ApiError, ApiResult};
use crate::filter::ListPlan;
use crate::stripe::{StripeApi, StripeRequest};

/// Stripe's largest list page.
const STRIPE_PAGE: usize = 100;
/// Stripe pages one API call may scan while filtering on the node; then it returns what it has
/// with a token to go on, so one request stays bounded.
pub const MAX_STRIPE_PAGES: usize = 10;
/// Stripe cannot page a list filtered by `ids` (`starting_after` is refused with it): all of at
/// most one page's worth are asked for at once.
const UNPAGED_PARAM: &str = "ids[";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageToken {
    /// The pages come from the Search API.
    #[serde(rename = "s", default, skip_serializing_if = "std::ops::Not::not")]
    pub search: bool,
    #[serde(rename = "b", default, skip_serializing_if = "is_zero")]
    pub branch: usize,
    #[serde(rename = "c", skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(rename = "o")]
    pub offset: usize,
    #[serde(rename = "h")]
    pub hash: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub fn query_hash(entity: &Entity, conditions: &Conditions) -> String {
    let digest = Sha256::digest(format!(
        "{}\n{}\n{}",
        entity.name,
        conditions.text(),
        conditions.consistent_read()
    ));
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

/// One Stripe listing the objects come from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A list endpoint; `echo` are (object path, value) pairs Stripe filtered on but does not
    /// return (a child's parent, Payout of a balance transaction), copied into each object.
    List {
        path: String,
        params: Vec<(String, String)>,
        echo: Vec<(&'static str, String)>,
    },
    /// The Search API.
    Search { path: String, query: String },
}

/// What one Stripe page gave: its objects, and the cursor of the next page if there is one.
struct StripePage {
    data: Vec<Value>,
    next: Option<String>,
}

impl Source {
    /// One Stripe page: the first, or the one at the cursor.
    async fn fetch(
        &self,
        stripe: &dyn StripeApi,
        cursor: Option<&str>,
        limit: usize,
    ) -> ApiResult<StripePage> {
        let (path, mut params) = match self {
            Source::List { path, params, .. } => (path, params.clone()),
            Source::Search { path, query } => (path, vec![("query".to_string(), query.clone())]),
        };
        let unpaged = params.iter().any(|(k, _)| k.starts_with(UNPAGED_PARAM));
        let limit = if unpaged { STRIPE_PAGE } else { limit };
        params.push(("limit".into(), limit.to_string()));
        if let Some(c) = cursor {
            let name = match self {
                Source::List { .. } => "starting_after",
                Source::Search { .. } => "page",
            };
            params.push((name.into(), c.to_string()));
        }
        let mut request = StripeRequest::get(path.as_str());
        request.params = params;
        let page = stripe.call(request).await?;
        let mut data = page["data"].as_array().cloned().unwrap_or_default();
        if let Source::List { echo, .. } = self {
            for object in &mut data {
                for (field_path, value) in echo {
                    if object[*field_path].is_null() {
                        object[*field_path] = Value::String(value.clone());
                    }
                }
            }
        }
        let has_more = page["has_more"].as_bool().unwrap_or(false) && !unpaged;
        let next = match self {
            _ if !has_more => None,
            Source::List { .. } => data
                .last()
                .and_then(|o| o["id"].as_str())
                .map(str::to_string),
            Source::Search { .. } => page["next_page"].as_str().map(str::to_string),
        };
        Ok(StripePage { data, next })
    }
}

static EMPTY_PLAN: ListPlan = ListPlan {
    params: Vec::new(),
    split: None,
    pushed: Vec::new(),
};

/// The Search API query, when it leaves fewer conjuncts to the node than the list parameters
/// and the caller did not ask for a consistent read; and whether Stripe applies the whole
/// clause with it.
fn search_source(entity: &Entity, conditions: &Conditions) -> Option<(Source, bool)> {
    let filter = conditions.filter()?;
    let search = filter
        .search_plan()
        .filter(|_| !filter.uses_request_only())?;
    let path = entity.search_path()?;
    let better = search.used_count() > filter.list_plan().pushed_count();
    (better && !conditions.consistent_read()).then(|| {
        let query = search.query();
        (Source::Search { path, query }, search.complete())
    })
}

/// A Stripe peer or account without the Search API (localstripe; Stripe in India answers "The
/// search feature is temporarily unavailable in your region"): the List reads the list
/// endpoints instead.
fn search_unavailable(e: &ApiError) -> bool {
    let Some(stripe) = e.stripe() else {
        return false;
    };
    let message = stripe
        .message
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    stripe.http_status == 404
        || (stripe.http_status == 400
            && message.contains("search")
            && (message.contains("unavailable") || message.contains("not available")))
}

/// The Stripe list calls a List reads, in order, and whether Stripe applies the whole clause.
fn list_sources(entity: &Entity, conditions: &Conditions) -> ApiResult<(Vec<Source>, bool)> {
    let plan = conditions.filter().map_or(&EMPTY_PLAN, |f| f.list_plan());
    let mut params = plan.params.clone();
    for (param, value) in entity.list_defaults {
        if !plan.sends(param) {
            params.push((param.to_string(), value.to_string()));
        }
    }
    for required in entity
        .list_requires
        .iter()
        .copied()
        .chain(entity.path_params())
    {
        if !plan.sends(required) {
            let field = field_of(entity, required);
            return Err(ApiError::invalid(
                "conditions",
                format!(
                    "Stripe lists {} only by {required}: add {field} = '...' to the conditions",
                    entity.name
                ),
            ));
        }
    }
    let branches: Vec<Vec<(String, String)>> = match &plan.split {
        None => vec![params],
        Some((param, values)) => values
            .iter()
            .map(|v| {
                let mut branch = params.clone();
                branch.push((param.clone(), v.clone()));
                branch
            })
            .collect(),
    };
    let sources = branches
        .into_iter()
        .map(|params| list_source(entity, params))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((sources, plan.complete()))
}

/// The field whose value a list parameter carries (`Invoice` for `invoice`).
fn field_of<'e>(entity: &'e Entity, param: &'e str) -> &'e str {
    entity
        .fields
        .iter()
        .find(|f| matches!(f.pushdown, Pushdown::Equals(p) if p == param))
        .map_or(param, |f| f.name)
}

/// A list call: the path's parameters moved into the path, the values of fields Stripe does
/// not return kept to copy into the objects.
fn list_source(entity: &Entity, mut params: Vec<(String, String)>) -> ApiResult<Source> {
    let mut path = entity.path.to_string();
    for placeholder in entity.path_params() {
        let Some((_, value)) = params.iter_mut().find(|(k, _)| k == placeholder) else {
            continue;
        };
        let field = field_of(entity, placeholder);
        *value = id_segment(&format!("conditions.{field}"), value)?;
        path = path.replace(&format!("{{{placeholder}}}"), value);
    }
    let echo = entity
        .fields
        .iter()
        .filter_map(|f| match f.pushdown {
            Pushdown::Equals(param)
                if f.request_only || entity.path_params().any(|p| p == param) =>
            {
                let value = params.iter().find(|(k, _)| k == param)?.1.clone();
                Some((f.path, value))
            }
            _ => None,
        })
        .collect();
    params.retain(|(k, _)| entity.path_params().all(|p| p != k));
    Ok(Source::List { path, params, echo })
}

pub async fn fetch_page(
    stripe: &dyn StripeApi,
    entity: &Entity,
    conditions: &Conditions,
    start: PageToken,
    page_size: usize,
) -> ApiResult<Page> {
    if entity.singleton {
        let object = stripe.call(StripeRequest::get(entity.path)).await?;
        let objects = [object]
            .into_iter()
            .filter(|o| conditions.matches(o))
            .collect();
        return Ok(Page {
            objects,
            next: None,
        });
    }
    // A first page chooses between the Search API and the list endpoints; the rest follow it.
    let first = start.cursor.is_none() && start.offset == 0 && start.branch == 0;
    let search = (first || start.search)
        .then(|| search_source(entity, conditions))
        .flatten();
    let mut searching = search.is_some();
    let (mut sources, mut complete) = match search {
        Some((source, complete)) => (vec![source], complete),
        None => list_sources(entity, conditions)?,
    };
    let hash = start.hash;
    let token = |searching, branch, cursor, offset| PageToken {
        search: searching,
        branch,
        cursor,
        offset,
        hash: hash.clone(),
    };
    let mut branch = start.branch;
    let mut cursor = start.cursor;
    let mut skip = start.offset;
    let mut objects = Vec::new();
    for _ in 0..MAX_STRIPE_PAGES {
        let Some(source) = sources.get(branch) else {
            return Ok(Page {
                objects,
                next: None,
            });
        };
        let wanted = page_size - objects.len();
        // Without node-side filtering ask for just enough; otherwise scan full pages.
        let limit = if complete {
            (skip + wanted).min(STRIPE_PAGE)
        } else {
            STRIPE_PAGE
        };
        let page = match source.fetch(stripe, cursor.as_deref(), limit).await {
            Err(e) if searching && first && objects.is_empty() && search_unavailable(&e) => {
                tracing::warn!(
                    entity = entity.name,
                    "Stripe's Search API is unavailable; listing instead"
                );
                (sources, complete) = list_sources(entity, conditions)?;
                searching = false;
                continue;
            }
            page => page?,
        };
        // Where the page after this one starts: the same listing's next page, else the next one.
        let after = match &page.next {
            Some(next) => Some((branch, Some(next.clone()))),
            None => (branch + 1 < sources.len()).then_some((branch + 1, None)),
        };
        for (i, object) in page.data.iter().enumerate().skip(skip) {
            if !conditions.matches(object) {
                continue;
            }
            objects.push(object.clone());
            if objects.len() == page_size {
                let next = if i + 1 < page.data.len() {
                    Some(token(searching, branch, cursor.clone(), i + 1))
                } else {
                    after.map(|(b, c)| token(searching, b, c, 0))
                };
                return Ok(Page { objects, next });
            }
        }
        skip = 0;
        match after {
            Some((b, c)) => (branch, cursor) = (b, c),
            None => {
                return Ok(Page {
                    objects,
                    next: None,
                });
            }
        }
    }
    // Scanned as much as one call may: hand back what matched and where to go on.
    Ok(Page {
        objects,
        next: Some(token(searching, branch, cursor, 0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use serde_json::json;
    use std::sync::Mutex;

    /// Stripe's list and search semantics over objects in memory (newest first, `limit`,
    /// `starting_after`, `page`, an `email` filter, a `customer` filter and search by email),
    /// counting the calls.
    struct MemoryStripe {
        objects: Vec<Value>,
        calls: Mutex<Vec<StripeRequest>>,
        /// Answer searches with Stripe's error for an account without the Search API.
        no_search: bool,
    }

    impl MemoryStripe {
        fn new(n: usize) -> Self {
            Self {
                objects: (0..n)
                    .map(|i| {
                        json!({"id": format!("cus_{i:03}"), "email": format!("{i}@x"),
                               "customer": format!("cus_{}", i % 3), "metadata": {"n": (i % 2).to_string()}})
                    })
                    .collect(),
                calls: Mutex::default(),
                no_search: false,
            }
        }

        fn calls(&self) -> Vec<StripeRequest> {
            self.calls.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl StripeApi for MemoryStripe {
        async fn call(&self, request: StripeRequest) -> Result<Value, ApiError> {
            self.calls.lock().unwrap().push(request.clone());
            if self.no_search && request.path.ends_with("/search") {
                let body = json!({"error": {"type": "invalid_request_error",
                    "message": "The search feature is temporarily unavailable in your region."}});
                return Err(ApiError::from_stripe(400, &body, None));
            }
            let param = |k: &str| {
                request
                    .params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
            };
            let limit: usize = param("limit").unwrap().parse().unwrap();
            let matching: Vec<&Value> = self
                .objects
                .iter()
                .filter(|o| param("email").is_none_or(|e| o["email"] == e))
                .filter(|o| param("customer").is_none_or(|c| o["customer"] == c))
                .filter(|o| match param("query") {
                    // The only query the tests send: metadata["n"]:"1".
                    Some(q) => q == r#"metadata["n"]:"1""# && o["metadata"]["n"] == "1",
                    None => true,
                })
                .collect();
            let start = match (param("starting_after"), param("page")) {
                (Some(after), _) => matching.iter().position(|o| o["id"] == after).unwrap() + 1,
                (_, Some(page)) => page.parse().unwrap(),
                _ => 0,
            };
            let data: Vec<&Value> = matching.iter().skip(start).take(limit).copied().collect();
            let has_more = start + data.len() < matching.len();
            let mut page = json!({"object": "list", "data": data, "has_more": has_more});
            if request.path.ends_with("/search") && has_more {
                page["next_page"] = json!((start + data.len()).to_string());
            }
            Ok(page)
        }
    }

    fn customer() -> &'static Entity {
        crate::catalog::entity("Customer").unwrap()
    }

    async fn walk(stripe: &MemoryStripe, conditions: &Conditions, page_size: usize) -> Vec<String> {
        walk_entity(stripe, customer(), conditions, page_size).await
    }

    /// The ids of the customers matching `clause`, page by page.
    async fn walk_where(stripe: &MemoryStripe, clause: &str, page_size: usize) -> Vec<String> {
        let conditions = Conditions::parse(customer(), Some(clause)).unwrap();
        walk(stripe, &conditions, page_size).await
    }

    async fn walk_entity(
        stripe: &MemoryStripe,
        entity: &Entity,
        conditions: &Conditions,
        page_size: usize,
    ) -> Vec<String> {
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

    fn ids_where(n: usize, keep: impl Fn(usize) -> bool) -> Vec<String> {
        (0..n)
            .filter(|i| keep(*i))
            .map(|i| format!("cus_{i:03}"))
            .collect()
    }

    #[tokio::test]
    async fn pages_resume_exactly_without_skips_or_repeats() {
        let all = Conditions::parse(customer(), None).unwrap();
        for (n, page_size) in [(0, 5), (10, 3), (10, 5), (250, 7), (250, 200)] {
            let stripe = MemoryStripe::new(n);
            let ids = walk(&stripe, &all, page_size).await;
            assert_eq!(ids, ids_where(n, |_| true), "n={n} page_size={page_size}");
        }
    }

    #[test]
    fn tokens_round_trip_and_are_tied_to_their_query() {
        let token = PageToken {
            search: true,
            branch: 1,
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
        // A consistent read is another query.
        let entity = customer();
        let fast = Conditions::parse(entity, Some("Metadata.n = '1'")).unwrap();
        let hash = query_hash(entity, &fast);
        assert_ne!(hash, query_hash(entity, &fast.with_consistent_read(true)));
    }

    #[tokio::test]
    async fn node_filtered_pages_resume_exactly_and_push_down_what_stripe_filters() {
        // A LIKE without three literal characters is evaluated on the node: scan Stripe pages of
        // 100, resume mid-page.
        let stripe = MemoryStripe::new(250);
        let ids = walk_where(&stripe, "Email LIKE '1%'", 7).await;
        assert_eq!(ids, ids_where(250, |i| i.to_string().starts_with('1')));
        assert!(
            stripe
                .calls()
                .iter()
                .all(|r| r.path == "/v1/customers"
                    && r.params.contains(&("limit".into(), "100".into()))),
            "node-side filtering reads full Stripe list pages"
        );

        // Email = '...' is pushed down as Stripe's email parameter: one call, just big enough.
        let stripe = MemoryStripe::new(250);
        assert_eq!(walk_where(&stripe, "Email = '5@x'", 10).await, ["cus_005"]);
        let calls = stripe.calls();
        assert_eq!(calls.len(), 1);
        assert!(
            calls[0].params.contains(&("email".into(), "5@x".into())),
            "{calls:?}"
        );
        assert!(
            calls[0].params.contains(&("limit".into(), "10".into())),
            "{calls:?}"
        );
    }

    #[tokio::test]
    async fn a_searchable_clause_pages_through_the_search_api_one_call_per_page() {
        let by_metadata = "Metadata.n = '1'";
        let stripe = MemoryStripe::new(250);
        let ids = walk_where(&stripe, by_metadata, 25).await;
        assert_eq!(ids, ids_where(250, |i| i % 2 == 1));
        let calls = stripe.calls();
        assert_eq!(
            calls.len(),
            5,
            "125 matches in pages of 25: one search call each"
        );
        for call in &calls {
            assert_eq!(call.path, "/v1/customers/search");
            assert!(
                call.params
                    .contains(&("query".into(), r#"metadata["n"]:"1""#.into()))
            );
        }
        assert!(
            calls[1].params.contains(&("page".into(), "25".into())),
            "{calls:?}"
        );

        // A consistent read lists and checks on the node instead.
        let consistent = Conditions::parse(customer(), Some(by_metadata))
            .unwrap()
            .with_consistent_read(true);
        let stripe = MemoryStripe::new(250);
        assert_eq!(
            walk(&stripe, &consistent, 25).await,
            ids_where(250, |i| i % 2 == 1)
        );
        assert!(stripe.calls().iter().all(|c| c.path == "/v1/customers"));

        // Without the Search API (Stripe in India, localstripe) the List reads the list endpoint.
        let stripe = MemoryStripe {
            no_search: true,
            ..MemoryStripe::new(250)
        };
        assert_eq!(
            walk_where(&stripe, by_metadata, 25).await,
            ids_where(250, |i| i % 2 == 1)
        );
        let paths: Vec<String> = stripe.calls().iter().map(|c| c.path.clone()).collect();
        assert_eq!(paths[0], "/v1/customers/search");
        assert!(paths[1..].iter().all(|p| p == "/v1/customers"), "{paths:?}");
    }

    #[tokio::test]
    async fn an_in_list_reads_one_stripe_list_per_value_in_turn() {
        let entity = crate::catalog::entity("PaymentIntent").unwrap();
        let two = Conditions::parse(entity, Some("Customer IN ('cus_2', 'cus_0')")).unwrap();
        for page_size in [1, 4, 200] {
            let stripe = MemoryStripe::new(30);
            let ids = walk_entity(&stripe, entity, &two, page_size).await;
            let mut want = ids_where(30, |i| i % 3 == 2);
            want.extend(ids_where(30, |i| i % 3 == 0));
            assert_eq!(ids, want, "page_size={page_size}");
            let customers: Vec<String> = stripe
                .calls()
                .iter()
                .filter_map(|c| {
                    c.params
                        .iter()
                        .find(|(k, _)| k == "customer")
                        .map(|(_, v)| v.clone())
                })
                .collect();
            assert!(
                customers.starts_with(&["cus_2".to_string()]),
                "{customers:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_child_collection_is_listed_under_its_parent() {
        let entity = crate::catalog::entity("InvoiceLineItem").unwrap();
        let stripe = MemoryStripe::new(3);
        let lines = Conditions::parse(entity, Some("Invoice = 'in_1'")).unwrap();
        let page = fetch_page(&stripe, entity, &lines, PageToken::default(), 10)
            .await
            .unwrap();
        assert_eq!(stripe.calls()[0].path, "/v1/invoices/in_1/lines");
        assert!(!stripe.calls()[0].params.iter().any(|(k, _)| k == "invoice"));
        // Stripe's line items do not name their invoice: the node fills it in.
        assert!(page.objects.iter().all(|o| o["invoice"] == "in_1"));

        for (clause, field) in [
            ("Amount > 1", "conditions"),
            ("Invoice = 'in_1/../x'", "conditions.Invoice"),
            // A dot segment would leave the parent's path (`/v1/invoices/../lines`).
            ("Invoice = '..'", "conditions.Invoice"),
        ] {
            let c = Conditions::parse(entity, Some(clause)).unwrap();
            let e = fetch_page(&stripe, entity, &c, PageToken::default(), 10)
                .await
                .err()
                .unwrap();
            assert_eq!(e.field(), Some(field), "{clause}: {e:?}");
        }
        assert_eq!(
            stripe.calls().len(),
            1,
            "bad conditions reach no Stripe endpoint"
        );
    }
}
