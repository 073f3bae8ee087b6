//! Microsoft.Resources/resourceGroups: synchronous PUT; a DELETE removes everything inside.

use serde_json::Value;

use super::{Prepared, ResourceType};
use super::{PutContext, base, keep_location, require_location};
use crate::arm::errors::ArmError;
use crate::arm::identity::{NameRule, RESOURCES_API_VERSIONS, RESOURCES_NAMESPACE, TypeIdentity};
use crate::arm::schema::Schema;

/// Resource groups.
pub struct ResourceGroup;

/// Resource group names: ARM's own rule, looser than the providers'.
const NAME_RULE: NameRule = NameRule {
    allows: |name| {
        (1..=90).contains(&name.len())
            && name.chars().all(|c| c.is_alphanumeric() || "-_.()".contains(c))
            && !name.ends_with('.')
    },
    description: "1 to 90 letters, digits, '-', '_', '.', '(' and ')', not ending in '.'",
};

static IDENTITY: TypeIdentity = TypeIdentity {
    namespace: RESOURCES_NAMESPACE,
    type_segments: &["resourceGroups"],
    response_type: None,
    api_versions: RESOURCES_API_VERSIONS,
    put_is_long_running: false,
    delete_is_long_running: true,
    parent: None,
    name_rule: NAME_RULE,
};

impl ResourceType for ResourceGroup {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body).map(Prepared::alone)
    }
}

pub fn schema() -> Schema {
    Schema::new(
        "ResourceGroup",
        &["location", "tags.*", "managedBy", "id!", "name!", "type!", "properties.provisioningState!"],
    )
}

pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let location = require_location(&body)?;
    keep_location(context, &location)?;
    let requested_manager = body.get("managedBy").and_then(Value::as_str).map(str::to_string);
    // A node resource group belongs to its cluster: nobody else may claim it.
    if let Some(existing) = context.existing.and_then(|group| group.str_property("/managedBy"))
        && requested_manager.as_deref().is_some_and(|manager| !manager.eq_ignore_ascii_case(existing))
    {
        return Err(ArmError::new(
            axum::http::StatusCode::CONFLICT,
            "ResourceGroupManagedByMismatch",
            format!(
                "The resource group '{}' is managed by '{existing}' and cannot be managed by another resource.",
                context.address.name()
            ),
        ));
    }
    let mut out = base(context.address, body);
    if let Some(existing) = context.existing.and_then(|group| group.property("/managedBy")) {
        out.insert("managedBy".into(), existing.clone());
    }
    Ok(Value::Object(out))
}
