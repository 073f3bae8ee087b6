//! `--target`: which resources a plan, apply or destroy is narrowed to. A target names a
//! resource of the stack or the state (with its children) or a kind; a target that names
//! nothing is an error, with the closest address.

use super::output::Output;
use crate::model::{Address, Kind, Resource};
use crate::plan::Plan;
use crate::state::State;

/// True when `address` is selected by the `--target` values (all when there are none).
pub fn targeted(targets: &[String], address: &Address) -> bool {
    targets.is_empty()
        || targets.iter().any(|t| {
            Kind::from_keyword(t) == Some(address.kind)
                || address.to_string() == *t
                || address.parent_address().is_some_and(|p| p.to_string() == *t)
        })
}

/// An error for every target that selects none of `known` (the stack's and the state's
/// addresses), each with the closest address or kind.
pub fn unknown_targets(targets: &[String], known: &[&Address]) -> Vec<String> {
    targets
        .iter()
        // A kind is never a slip, even where the stack has none of it.
        .filter(|target| Kind::from_keyword(target).is_none())
        .filter(|target| !known.iter().any(|address| targeted(std::slice::from_ref(*target), address)))
        .map(|target| {
            let mut candidates: Vec<String> = known.iter().map(ToString::to_string).collect();
            candidates.extend(Kind::ALL.iter().map(|kind| kind.keyword().to_string()));
            candidates.sort_unstable();
            candidates.dedup();
            let hint = match closest_by_edits(target, &candidates) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "`aksform state list` shows the recorded addresses".to_string(),
            };
            format!("--target `{target}` names nothing in the stack or the state; {hint}")
        })
        .collect()
}

/// Of `candidates`, the one fewest edits from `name` (the first of equally close ones), if
/// it is close enough to be a slip: at most a third of the name's length, and at least 2.
fn closest_by_edits<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c.as_str())
}

/// The plan narrowed to `targets` (none when there are none), after checking that each names
/// a resource of the stack (`desired`) or the state; on an unknown target the errors are
/// printed and the exit code comes back.
pub fn narrowed(
    plan: &Plan,
    targets: &[String],
    desired: &[Resource],
    recorded: Option<&State>,
    out: &Output,
) -> Result<Option<Plan>, u8> {
    if targets.is_empty() {
        return Ok(None);
    }
    let recorded_addresses = recorded.into_iter().flat_map(|state| state.addresses());
    let known: Vec<&Address> = desired.iter().map(|r| &r.address).chain(recorded_addresses).collect();
    let unknown = unknown_targets(targets, &known);
    if !unknown.is_empty() {
        unknown.iter().for_each(|message| out.error(message));
        return Err(1);
    }
    Ok(Some(narrow(plan, targets)))
}

/// The plan narrowed to the targets and what they wait for, with a note on stderr for each
/// target that brought others in.
///
/// Targets that are all kinds select exactly those kinds: that is how the Kubernetes objects
/// of a stack are applied to a cluster reached with `--kubeconfig`, without its Azure side.
fn narrow(plan: &Plan, targets: &[String]) -> Plan {
    if targets.iter().all(|t| Kind::from_keyword(t).is_some()) {
        return plan.only(|address| targeted(targets, address));
    }
    let (narrowed, added) = plan.only_with_dependencies(|address| targeted(targets, address));
    for (address, dependencies) in added {
        let names: Vec<String> = dependencies.iter().map(|a| format!("`{a}`")).collect();
        eprintln!("note: also planned because `{address}` depends on them: {}", names.join(", "));
    }
    narrowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(texts: &[&str]) -> Vec<Address> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn a_target_selects_an_address_its_children_or_a_kind() {
        let pool: Address = "cluster.shop.node_pool.apps".parse().unwrap();
        assert!(targeted(&["cluster.shop".into()], &pool));
        assert!(targeted(&["node_pool".into()], &pool));
        assert!(!targeted(&["cluster.other".into()], &pool));
    }

    #[test]
    fn a_target_that_names_nothing_gets_the_closest_address() {
        let known = addresses(&["service.web", "service.orders", "cluster.shop"]);
        let targets = vec!["service.wbe".to_string(), "cluster.shop".to_string(), "servic".to_string()];
        let errors = unknown_targets(&targets, &known.iter().collect::<Vec<_>>());
        assert_eq!(
            errors,
            [
                "--target `service.wbe` names nothing in the stack or the state; did you mean `service.web`?",
                "--target `servic` names nothing in the stack or the state; did you mean `service`?",
            ]
        );
        let errors = unknown_targets(&["zzz.qqq".to_string()], &known.iter().collect::<Vec<_>>());
        assert!(errors[0].ends_with("`aksform state list` shows the recorded addresses"), "{errors:?}");
    }
}
