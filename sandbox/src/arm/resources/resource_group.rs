//! Microsoft.Resources/resourceGroups: synchronous PUT; a DELETE removes everything inside.

use serde_json::Value;

use super::{Prepared, ResourceType};
use super::{PutContext, base, keep_location, require_location};
use crate::arm::errors::ArmError;
use crate::arm::schema::Schema;

/// Resource groups.
pub struct ResourceGroup;

impl ResourceType for ResourceGroup {
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
