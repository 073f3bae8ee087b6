//! The provider boundary: the planner and the executor see resource addresses, field values
//! and four verbs (read, create-or-update, delete, list-what-I-own), never resource details.

pub mod arm;
pub(crate) mod attributes;
pub mod kube;

use std::fmt;
use std::future::Future;

use futures::stream::{self, StreamExt};

use crate::model::Address;

/// Field values in aksform's normalized form: the model's attributes.
pub use crate::model::Attributes;

/// What to create or update: the desired values, every reference already filled in.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    pub address: &'a Address,
    pub attributes: &'a Attributes,
    /// The provider id of the existing object, for an update.
    pub provider_id: Option<&'a str>,
}

/// The outcome of a create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub provider_id: String,
    /// The fields the cloud filled in (an allocated address, an FQDN), by the names the
    /// resource lists as computed.
    pub computed: Attributes,
}

/// An object aksform recorded.
#[derive(Debug, Clone, Copy)]
pub struct Existing<'a> {
    pub address: &'a Address,
    pub provider_id: &'a str,
    pub attributes: &'a Attributes,
}

/// How many of its reads one provider has in flight while it reads many objects.
pub const READS_AT_ONCE: usize = 32;
/// How many lists one provider has in flight while it reads many objects by listing.
pub const LISTS_AT_ONCE: usize = 4;
/// Fewer recorded objects than this in one list's reach are read one by one: a list returns
/// all that is there, others' too.
pub const LISTED_FROM: usize = 2;

/// One object's read: what is live, `None` when it is gone.
pub type LiveRead = Result<Option<Attributes>, ProviderError>;

/// [`Provider::read_many`] by listing: `list` reads each of `groups` with one list (the
/// objects it found, by their place in `existing`), [`LISTS_AT_ONCE`] at a time; every object
/// no list found is then read on its own, so that each reads as [`Provider::read`] reads it.
pub async fn read_by_lists<P, G, F, Fut>(
    provider: &P,
    existing: &[Existing<'_>],
    groups: impl IntoIterator<Item = G>,
    list: F,
) -> Vec<LiveRead>
where
    P: Provider + ?Sized,
    F: Fn(G) -> Fut,
    Fut: Future<Output = Vec<(usize, LiveRead)>>,
{
    let listed = stream::iter(groups).map(list).buffer_unordered(LISTS_AT_ONCE).collect::<Vec<_>>().await;
    let mut found: Vec<Option<LiveRead>> = (0..existing.len()).map(|_| None).collect();
    for (index, read) in listed.into_iter().flatten() {
        found[index] = Some(read);
    }
    stream::iter(found.into_iter().enumerate())
        .map(|(index, found)| async move {
            match found {
                Some(read) => read,
                None => provider.read(existing[index]).await,
            }
        })
        .buffered(READS_AT_ONCE)
        .collect()
        .await
}

/// An object found by `list_owned`: created by aksform, maybe not (or no longer) in the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub address: Address,
    pub provider_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server refused the request as it stands (validation, conflict that will not clear).
    Rejected,
    /// The server answered that it cannot do it now (overloaded, failing, or waiting on
    /// something); the same call may succeed later.
    Unavailable,
    /// The server could not be reached at all (refused, reset, timed out): every call to it
    /// fails alike until it is back, so an apply stops starting new changes.
    Unreachable,
    /// The credentials were refused.
    Unauthorized,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// The server's own reason, e.g. `Service "web" is invalid: spec.ports[0].nodePort: ...`.
    pub message: String,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProviderError {}

/// Why an object's marks (the address and the state lineage it is marked with) do not say it
/// is `address` of the stack whose state has `lineage`; `None` when they do.
pub(crate) fn not_ours(
    marked_address: Option<&str>,
    marked_lineage: Option<&str>,
    address: &Address,
    lineage: Option<&str>,
) -> Option<String> {
    match marked_address {
        None => Some("it was not made by aksform".to_string()),
        Some(marked) if marked != address.to_string() => Some(format!("aksform made it as `{marked}`")),
        Some(_) => match (marked_lineage, lineage) {
            (Some(theirs), Some(ours)) if theirs != ours => {
                Some(format!("another stack made it (state lineage {theirs})"))
            }
            (None, Some(_)) => {
                Some("it carries no stack's lineage, so it cannot be told to be this stack's".to_string())
            }
            _ => None,
        },
    }
}

/// The refusal of a create that would take over `id`, made outside this stack (`why`).
pub(crate) fn taken(address: &Address, id: &str, why: &str) -> ProviderError {
    ProviderError {
        kind: ErrorKind::Rejected,
        message: format!(
            "{address}: `{id}` already exists and is not this stack's ({why}): aksform does not take it over. \
             Import it with `aksform import {address} '{id}'` to manage it, or give the resource another name"
        ),
    }
}

/// The error and its sources, `outer: inner: innermost`, without repeats.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// One provider: Kubernetes for one cluster, or Azure Resource Manager for a subscription.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// Creates the object or brings it to the desired values; returns its id and computed fields.
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError>;

    /// The live values of the fields aksform manages (computed ones included), in the form the
    /// model produces, or `None` when the object is gone. Fields the server defaults and
    /// aksform does not manage never appear, so they never show as drift.
    async fn read(&self, existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError>;

    /// What [`Provider::read`] gives for each of `existing`, one result each, in their order:
    /// how a refresh reads. A provider that can read many objects in a few requests (a list per
    /// namespace and kind, per resource group) does; by default each is read on its own,
    /// [`READS_AT_ONCE`] at a time.
    async fn read_many(&self, existing: &[Existing<'_>]) -> Vec<Result<Option<Attributes>, ProviderError>> {
        stream::iter(0..existing.len()).map(|i| self.read(existing[i])).buffered(READS_AT_ONCE).collect().await
    }

    /// Whether the object a create would make may be made: nothing is there, or what is there
    /// carries this stack's marks (a create cut off before the state recorded it). Anything
    /// else is refused, named, with the import that would bring it in: a create never takes
    /// over what it did not make. `apply` checks it on every create; an apply checks every
    /// create of its plan with it first, so that it stops before any write.
    async fn check_create(&self, _request: ApplyRequest<'_>) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Deletes the object and returns once it is gone (absent already is success).
    async fn delete(&self, existing: Existing<'_>) -> Result<(), ProviderError>;

    /// The objects this provider finds marked as created by aksform.
    async fn list_owned(&self) -> Result<Vec<Owned>, ProviderError>;
}
