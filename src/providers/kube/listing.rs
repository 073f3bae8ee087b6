//! Lists, paged: what `list_owned` finds, what the creates' checks look at, and how a refresh
//! reads many recorded objects at once — one list per kind and namespace, filtered by
//! aksform's label, and a read of its own for each recorded object the list does not return
//! (its label was taken off, or it is gone), so that every object reads as
//! [`crate::providers::Provider::read`] reads it.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;

use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams, ObjectList};
use serde::de::DeserializeOwned;

use super::{KubeProvider, LIST_PAGE, ListingKey, MANAGED_BY, MANAGED_BY_LABEL, ObjectId, ObjectKind};
use super::{ingress, namespace, service};
use crate::model::Address;
use crate::providers::{Attributes, Existing, LISTED_FROM, LiveRead, ProviderError, read_by_lists};

/// The recorded objects of one kind and namespace: their place among those asked for, and id.
type Group = Vec<(usize, ObjectId)>;
/// What the server has for an object with aksform's mark, from its live values and the recorded ones.
type Observed<K> = fn(&K, &Attributes, &Address) -> Attributes;

/// The label selector of the objects aksform made.
pub(super) fn marked() -> ListParams {
    ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"))
}

impl KubeProvider {
    /// Every item `list` returns for `params`, [`LIST_PAGE`] a page.
    pub(super) async fn list_paged<T, F, Fut>(
        &self,
        params: ListParams,
        doing: &str,
        list: F,
    ) -> Result<Vec<T>, ProviderError>
    where
        T: Clone,
        F: Fn(ListParams) -> Fut,
        Fut: Future<Output = Result<ObjectList<T>, kube::Error>>,
    {
        let mut params = params.limit(LIST_PAGE);
        let mut out = Vec::new();
        loop {
            let page = list(params.clone()).await.map_err(|e| self.error(e, doing))?;
            out.extend(page.items);
            match page.metadata.continue_.as_deref() {
                Some(token) if !token.is_empty() => params = params.continue_token(token),
                _ => return Ok(out),
            }
        }
    }

    /// Every object of `api` with aksform's label.
    pub(super) async fn list_marked_objects<K>(&self, api: &Api<K>, doing: &str) -> Result<Vec<K>, ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        self.list_paged(marked(), doing, |params| async move { api.list(&params).await }).await
    }

    /// [`crate::providers::Provider::read_many`]: a list for each kind and namespace with
    /// several of `existing` in it, then a read for every object no list returned.
    pub(super) async fn read_listed(&self, existing: &[Existing<'_>]) -> Vec<LiveRead> {
        let mut groups: HashMap<ListingKey, Group> = HashMap::new();
        for (index, e) in existing.iter().enumerate() {
            // An id that does not parse is refused by `read` below, as on its own.
            if let Ok(id) = self.object_id(e.address, e.provider_id) {
                groups.entry((id.kind, id.namespace.clone())).or_default().push((index, id));
            }
        }
        let groups = groups.into_values().filter(|group| group.len() >= LISTED_FROM);
        read_by_lists(self, existing, groups, |group| async move { self.read_group(&group, existing).await }).await
    }

    /// The reads of the objects of `group` that one list returns, by their place in `existing`.
    async fn read_group(&self, group: &Group, existing: &[Existing<'_>]) -> Vec<(usize, LiveRead)> {
        let Some((_, first)) = group.first() else { return Vec::new() };
        match first.kind {
            ObjectKind::Namespace => {
                let api = Api::<Namespace>::all(self.client.clone());
                self.read_listing(api, first, group, existing, namespace::observed).await
            }
            ObjectKind::Service => match self.namespaced::<Service>(first) {
                Ok(api) => self.read_listing(api, first, group, existing, service::observed).await,
                Err(_) => Vec::new(),
            },
            ObjectKind::Ingress => match self.namespaced::<Ingress>(first) {
                Ok(api) => self.read_listing(api, first, group, existing, ingress::observed).await,
                Err(_) => Vec::new(),
            },
        }
    }

    async fn read_listing<K>(
        &self,
        api: Api<K>,
        first: &ObjectId,
        group: &Group,
        existing: &[Existing<'_>],
        observed: Observed<K>,
    ) -> Vec<(usize, LiveRead)>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        let doing = match &first.namespace {
            Some(namespace) => format!("listing the {}s of {namespace}", first.kind.name()),
            None => format!("listing {}s", first.kind.name()),
        };
        // A list refused or cut off leaves each object to its own read, which tells its error
        // (or succeeds, where a role may read objects but not list them).
        let Ok(listed) = self.list_marked_objects(&api, &doing).await else { return Vec::new() };
        let by_name: HashMap<&str, &K> =
            listed.iter().filter_map(|object| Some((object.meta().name.as_deref()?, object))).collect();
        group
            .iter()
            .filter_map(|(index, id)| {
                let live = by_name.get(id.name.as_str())?;
                // On its way out is gone, as `read` has it.
                let read = live
                    .meta()
                    .deletion_timestamp
                    .is_none()
                    .then(|| observed(live, existing[*index].attributes, &self.cluster));
                Some((*index, Ok(read)))
            })
            .collect()
    }
}
