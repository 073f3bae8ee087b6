//! Before `plan` and `apply` plan role assignments: may the caller create them? Reads the
//! caller's permissions at each scope (once a scope, a few at a time) and, where it may not,
//! the cluster identity's assignments there, then leaves out what cannot or need not be made
//! ([`crate::plan::grants`]).

use std::collections::HashMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::output::Output;
use super::providers::{ProviderArgs, Providers};
use crate::model::{Address, Resource, Value, actions_needed_on};
use crate::plan::grants::{Grant, Withheld, scope_of, to_create, withhold};
use crate::providers::ProviderError;
use crate::providers::arm::ArmProvider;
use crate::providers::arm::permissions::allowed;
use crate::refresh::Reach;
use crate::state::State;

const ROLE_ASSIGNMENT_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

/// Checks the role assignments `desired` would create against `state`, and leaves out those
/// the caller may not create. `live` is false for an offline plan, which only says that it
/// did not check. What cannot be read is a note, and the plan goes on as if the caller may.
pub fn check(
    args: &ProviderArgs,
    subscription: Option<String>,
    desired: &mut Vec<Resource>,
    state: &State,
    live: bool,
    out: &Output,
) -> Result<Withheld, u8> {
    let count = to_create(desired, state).len();
    if count == 0 || subscription.is_none() {
        return Ok(Withheld::default());
    }
    let not_checked = |why: &str| Withheld {
        notes: vec![format!(
            "{count} role assignments are planned without checking that this caller may create them ({why})"
        )],
        ..Withheld::default()
    };
    if !live {
        return Ok(not_checked("--refresh=false"));
    }
    let runtime = super::runtime(out)?;
    let grants = runtime.block_on(async {
        let providers = Providers::new(args, subscription, desired, Some(state));
        // A plan that reads nothing else needs no credentials: then this is not checked.
        match providers.sign_in().await {
            Ok(()) => {}
            Err(_) if providers.automatic_credentials() => return Ok(Err("no Azure credentials".to_string())),
            Err(reason) => return Ok(Err(format!("cannot sign in to read them: {reason}"))),
        }
        let arm = match providers.arm() {
            Ok(arm) => arm,
            Err(e) => return Ok(Err(format!("cannot read them: {e}"))),
        };
        Ok::<_, u8>(grants(&arm, desired, state).await.map_err(|e| format!("cannot read them: {}", e.message)))
    })?;
    match grants {
        Ok(grants) => Ok(withhold(desired, &grants)),
        Err(why) => Ok(not_checked(&why)),
    }
}

/// One question: a role assignment to create, on the scope of that id, for that identity.
struct Question {
    assignment: Address,
    scope: Address,
    scope_id: String,
    principal: Option<String>,
}

/// What was found for each role assignment `desired` would create.
async fn grants(
    arm: &ArmProvider,
    desired: &[Resource],
    state: &State,
) -> Result<Vec<(Address, Grant)>, ProviderError> {
    let mut questions = Vec::new();
    for assignment in to_create(desired, state) {
        let Some(scope) = scope_of(assignment) else { continue };
        let principal = assignment
            .address
            .parent_address()
            .and_then(|cluster| state.get(&cluster))
            .and_then(|cluster| cluster.attributes.get("principal_id"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let scope_id = arm.id_of(&scope)?;
        questions.push(Question { assignment: assignment.address.clone(), scope, scope_id, principal });
    }
    let mut scopes: Vec<String> = questions.iter().map(|q| q.scope_id.clone()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let may_assign: HashMap<String, bool> = stream::iter(scopes)
        .map(|scope| async move {
            let permissions = arm.caller_permissions(&scope).await?;
            Ok::<_, ProviderError>((scope, allowed(&permissions, ROLE_ASSIGNMENT_WRITE)))
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    let definitions = tokio::sync::Mutex::new(HashMap::new());
    let definitions = &definitions;
    stream::iter(questions)
        .map(|question| {
            let may = may_assign.get(question.scope_id.as_str()).copied().unwrap_or(true);
            async move {
                if may {
                    return Ok((question.assignment, Grant::CallerMayAssign));
                }
                let held = match &question.principal {
                    Some(principal) => {
                        let actions = actions_needed_on(question.scope.kind);
                        arm.assignment_granting(principal, &question.scope_id, actions, definitions).await?
                    }
                    None => None,
                };
                let grant = match held {
                    Some(id) => Grant::HeldThrough(id),
                    None => Grant::Missing { scope_id: question.scope_id, principal: question.principal },
                };
                Ok((question.assignment, grant))
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await
}
