//! `pageSize`/`pageToken` for the lists answered from the catalog (entity types, actions,
//! tools). Entities page through Stripe instead (`list.rs`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// The document's default page size for every list.
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// Largest page of any list (the document's maximum for entities).
pub const MAX_PAGE_SIZE: usize = 200;

/// `pageSize`: absent or 0 is the default, otherwise 1 to [`MAX_PAGE_SIZE`].
pub fn page_size(text: Option<&str>) -> ApiResult<usize> {
    let Some(text) = text else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match text.trim().parse::<usize>() {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(n) if n <= MAX_PAGE_SIZE => Ok(n),
        _ => Err(ApiError::invalid(
            "pageSize",
            format!(
                "must be a whole number from 0 (the default, {DEFAULT_PAGE_SIZE}) to {MAX_PAGE_SIZE}, got {text:?}"
            ),
        )),
    }
}

/// One page of a catalog list and the token of the next one. Tokens name their list, so a
/// token of one list is refused by another.
pub fn page<'a, T>(
    items: &'a [T],
    list: &str,
    size: usize,
    token: Option<&str>,
) -> ApiResult<(&'a [T], Option<String>)> {
    let start = match token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(text) => decode(text, list)
            .filter(|&at| at < items.len())
            .ok_or_else(|| {
                ApiError::invalid(
                    "pageToken",
                    format!("is not a page token of the {list} list"),
                )
            })?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| URL_SAFE_NO_PAD.encode(format!("{list}:{end}")));
    Ok((&items[start..end], next))
}

/// A list response with its `nextPageToken`, when there is a next page.
pub fn with_next_page_token(mut body: Value, next: Option<String>) -> Value {
    if let Some(next) = next {
        body["nextPageToken"] = next.into();
    }
    body
}

fn decode(text: &str, list: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (name, at) = text.split_once(':')?;
    (name == list).then_some(())?;
    at.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once_and_tokens_belong_to_their_list() {
        let items: Vec<u32> = (0..7).collect();
        let (first, next) = page(&items, "actions", 3, None).unwrap();
        assert_eq!(first, [0, 1, 2]);
        let (second, next) = page(&items, "actions", 3, next.as_deref()).unwrap();
        assert_eq!(second, [3, 4, 5]);
        let token = next.unwrap();
        let (last, next) = page(&items, "actions", 3, Some(&token)).unwrap();
        assert_eq!((last, next), (&[6][..], None));
        assert!(page(&items, "tools", 3, Some(&token)).is_err());
        assert!(page(&items, "actions", 3, Some("garbage")).is_err());
        assert_eq!(page_size(Some("0")).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some("200")).unwrap(), 200);
        for bad in ["201", "-1", "x"] {
            assert_eq!(page_size(Some(bad)).unwrap_err().field(), Some("pageSize"));
        }
    }
}
