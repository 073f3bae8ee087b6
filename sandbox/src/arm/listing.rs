//! ARM's list operations, and the paging every list shares: `{"value": [...], "nextLink": "..."}`,
//! at most the emulator's page size per page; `nextLink` is the request's own URL with a
//! `$skipToken` that continues after the page, absent on the last page.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::address::{Listing, Scope};
use super::errors::ArmError;
use super::resources;
use super::state::Shared;
use super::store::Store;

/// The query parameter that carries where the next page starts.
const SKIP_TOKEN: &str = "$skipToken";

/// The resources of a list operation, rendered as a GET shows each, in creation order.
pub fn list(shared: &Shared, uri: &Uri, listing: &Listing) -> Result<Response, ArmError> {
    let store = shared.store();
    check_scope(&store, &listing.scope)?;
    let mut found: Vec<_> =
        listing.kinds.iter().flat_map(|kind| store.all_of(*kind)).filter(|r| listing.scope.holds(&r.address)).collect();
    found.sort_by_key(|resource| resource.sequence);
    let items = found.into_iter().map(|resource| (resource.sequence, resources::render(&store, resource))).collect();
    drop(store);
    page(shared, uri, items)
}

/// A group's list needs the group (ARM answers for it), a parent's list the parent.
fn check_scope(store: &Store, scope: &Scope) -> Result<(), ArmError> {
    match scope {
        Scope::Subscription(_) => Ok(()),
        Scope::ResourceGroup(group) => match store.get(group) {
            Some(_) => Ok(()),
            None => Err(ArmError::resource_group_not_found(&group.resource_group)),
        },
        Scope::Parent(parent) => {
            super::handlers::check_ancestors(store, parent)?;
            match store.get(parent) {
                Some(_) => Ok(()),
                None => Err(super::handlers::not_found(parent)),
            }
        }
    }
}

/// One page of `items` (each with its place in the list, increasing), from the request's
/// `$skipToken` on.
pub fn page(shared: &Shared, uri: &Uri, items: Vec<(u64, Value)>) -> Result<Response, ArmError> {
    let start = match query_value(uri, SKIP_TOKEN) {
        Some(token) => decode_token(&token)?,
        None => 0,
    };
    let mut rest = items.into_iter().filter(|(place, _)| *place >= start).peekable();
    let value: Vec<Value> = rest.by_ref().take(shared.page_size).map(|(_, item)| item).collect();
    let mut body = json!({ "value": value });
    if let Some((next, _)) = rest.peek() {
        body["nextLink"] = json!(next_link(&shared.base_url, uri, *next));
    }
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// A query parameter's value (names compare case-insensitively; `%24` is `$`).
fn query_value(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = key.replace("%24", "$");
        key.eq_ignore_ascii_case(name).then(|| value.to_string())
    })
}

/// The request's URL on the emulator, its `$skipToken` replaced by one for `next`.
fn next_link(base_url: &str, uri: &Uri, next: u64) -> String {
    let mut query: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(key, _)| key).replace("%24", "$");
            !pair.is_empty() && !key.eq_ignore_ascii_case(SKIP_TOKEN)
        })
        .collect();
    let token = format!("{SKIP_TOKEN}={}", encode_token(next));
    query.push(&token);
    format!("{base_url}{}?{}", uri.path(), query.join("&"))
}

/// Skip tokens are opaque to clients, as ARM's are.
fn encode_token(next: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("next:{next}"))
}

fn decode_token(token: &str) -> Result<u64, ArmError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("next:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            ArmError::bad_request("InvalidSkipToken", format!("The skip token '{token}' is not valid."))
                .with_target(SKIP_TOKEN)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_token(&encode_token(42)).unwrap(), 42);
        assert_eq!(decode_token("bm9wZQ").unwrap_err().code, "InvalidSkipToken");
    }

    #[test]
    fn the_next_link_keeps_the_query_and_replaces_the_token() {
        let uri: Uri = "/subscriptions/s/resourcegroups?api-version=2024-03-01&%24skipToken=abc".parse().unwrap();
        let link = next_link("http://127.0.0.1:1", &uri, 7);
        assert_eq!(
            link,
            format!(
                "http://127.0.0.1:1/subscriptions/s/resourcegroups?api-version=2024-03-01&$skipToken={}",
                encode_token(7)
            )
        );
        let parsed: Uri = link.parse().unwrap();
        assert_eq!(query_value(&parsed, SKIP_TOKEN), Some(encode_token(7)));
    }
}
