//! Refresh by listing: the resources of one type in one resource group (top-level ones), or
//! under one parent (a vnet's subnets, a cluster's pools, a zone's record sets of one type),
//! come back from one list operation, every page, instead of a GET each. A resource no list
//! returns, and every role assignment (whose read looks further, see
//! [`ArmProvider::read`]), is read on its own.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::{ArmProvider, arm_type_of, lro};
use crate::model::Kind;
use crate::providers::{Existing, LISTED_FROM, LiveRead, ProviderError, read_by_lists};

/// The list operation that returns the resource of `id`: its id without its name
/// (`…/providers/Microsoft.Network/publicIPAddresses`, `…/virtualNetworks/v/subnets`,
/// `/subscriptions/s/resourceGroups`), lowercased as the key that groups them.
fn collection_of(id: &str) -> Option<&str> {
    let (collection, name) = id.trim_end_matches('/').rsplit_once('/')?;
    (!name.is_empty() && collection.starts_with("/subscriptions/") && collection.matches('/').count() >= 2)
        .then_some(collection)
}

impl ArmProvider {
    /// [`crate::providers::Provider::read_many`]: a list for each collection with
    /// [`LISTED_FROM`] or more of `existing` in it, then a read for every resource no list
    /// returned.
    pub(super) async fn read_listed(&self, existing: &[Existing<'_>]) -> Vec<LiveRead> {
        let mut groups: HashMap<String, (String, Vec<usize>)> = HashMap::new();
        for (index, e) in existing.iter().enumerate() {
            if e.address.kind == Kind::RoleAssignment {
                continue;
            }
            if let Some(collection) = collection_of(e.provider_id) {
                groups
                    .entry(collection.to_ascii_lowercase())
                    .or_insert_with(|| (collection.to_string(), Vec::new()))
                    .1
                    .push(index);
            }
        }
        let groups = groups.into_values().filter(|(_, members)| members.len() >= LISTED_FROM);
        read_by_lists(self, existing, groups, |(collection, members)| async move {
            self.read_collection(&collection, &members, existing).await
        })
        .await
    }

    /// The reads of `members` (places in `existing`) that the list of `collection` returns.
    /// A list refused or cut off leaves each to its own read, which tells its error (or
    /// succeeds, where a role may read a resource but not list its kind).
    async fn read_collection(
        &self,
        collection: &str,
        members: &[usize],
        existing: &[Existing<'_>],
    ) -> Vec<(usize, LiveRead)> {
        let Some(&first) = members.first() else { return Vec::new() };
        let Ok(arm_type) = arm_type_of(existing[first].address) else { return Vec::new() };
        let doing = format!("listing {collection}");
        let Ok(Some(listed)) = self.list_all(collection, arm_type.api_version(), &doing).await else {
            return Vec::new();
        };
        let by_id: HashMap<String, &Json> =
            listed.iter().filter_map(|live| Some((live.get("id")?.as_str()?.to_ascii_lowercase(), live))).collect();
        members
            .iter()
            .filter_map(|&index| {
                let e = &existing[index];
                let live = by_id.get(&e.provider_id.to_ascii_lowercase())?;
                // Being deleted is as good as gone, as `read` has it.
                let deleting = lro::provisioning_state(live).is_some_and(|s| s.eq_ignore_ascii_case("Deleting"));
                let read = (!deleting).then(|| arm_type.observed(live, e.attributes, &self.resolver));
                Some((index, Ok(read)))
            })
            .collect()
    }

    /// Every resource of a list operation, following `nextLink` on this run's endpoint; none
    /// when its scope is not there.
    pub(super) async fn list_all(
        &self,
        collection: &str,
        api_version: &str,
        doing: &str,
    ) -> Result<Option<Vec<Json>>, ProviderError> {
        let mut next = Some(collection.to_string());
        let mut out = Vec::new();
        while let Some(path) = next.take() {
            let page = self.client.get(&path, api_version).await.map_err(|e| e.into_provider_error(&doing))?;
            let Some(mut page) = page else { return Ok(None) };
            if let Some(Json::Array(items)) = page.get_mut("value").map(Json::take) {
                out.extend(items);
            }
            next = page.get("nextLink").and_then(Json::as_str).and_then(|link| self.same_origin_path(link));
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_listed_with_the_others_of_its_type_in_its_group_or_under_its_parent() {
        let group = "/subscriptions/s/resourceGroups/rg";
        assert_eq!(
            collection_of(&format!("{group}/providers/Microsoft.Network/publicIPAddresses/pip")),
            Some(format!("{group}/providers/Microsoft.Network/publicIPAddresses").as_str())
        );
        assert_eq!(
            collection_of(&format!("{group}/providers/Microsoft.Network/virtualNetworks/v/subnets/a")),
            Some(format!("{group}/providers/Microsoft.Network/virtualNetworks/v/subnets").as_str())
        );
        assert_eq!(collection_of(group), Some("/subscriptions/s/resourceGroups"));
        assert_eq!(collection_of("/subscriptions/s"), None);
        assert_eq!(collection_of("pip"), None);
    }
}
