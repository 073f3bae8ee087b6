//! Saved plans: the plan with what it was made from (state serial and
//! lineage, a hash of the configuration), so `apply` can refuse a plan that is out of date.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Plan;
use super::render::picture::Picture;
use crate::refresh::Drift;
use crate::state::State;

/// The plan JSON format this build writes and reads (see `docs/plan-json.md`).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    pub aksform_version: String,
    pub stack: String,
    /// The serial of the state the plan was made against (0 when there was none).
    pub state_serial: u64,
    /// The lineage of that state; `None` when there was no state yet.
    #[serde(default)]
    pub state_lineage: Option<String>,
    /// A hash of the configuration, computed by the caller (e.g. `sha256:` of the sources).
    pub config_hash: String,
    /// The variables the plan was made with (from vars files and `--var`), each as the text
    /// of its value: `apply --plan` loads the stack with them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    /// What the refresh before planning found changed outside aksform, shown again by
    /// `aksform show`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// The network the plan lands in, for the diagram `aksform show` draws without the stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<Picture>,
    #[serde(flatten)]
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("the file is not an aksform plan: it has no `format_version`")]
    NotAPlan,
    #[error(
        "the plan has format version {found} (written by aksform {written_by}) but this aksform reads version {FORMAT_VERSION}; run `aksform plan` again with this version"
    )]
    UnsupportedVersion { found: u32, written_by: String },
    #[error("the plan file is damaged: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Why a saved plan no longer applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StalePlan {
    #[error("the plan is for stack `{planned}`, not `{current}`")]
    OtherStack { planned: String, current: String },
    #[error(
        "the state changed since the plan was made (serial {planned} then, {current} now); run `aksform plan` again"
    )]
    StateChanged { planned: u64, current: u64 },
    #[error(
        "the state was replaced by another one since the plan was made (lineage differs); run `aksform plan` again"
    )]
    OtherLineage,
    #[error("the configuration changed since the plan was made; run `aksform plan` again")]
    ConfigChanged,
}

impl SavedPlan {
    /// Wraps a plan with what it was made from. `state` is `None` when the stack has no state yet.
    pub fn new(plan: Plan, stack: impl Into<String>, state: Option<&State>, config_hash: impl Into<String>) -> Self {
        SavedPlan {
            format_version: FORMAT_VERSION,
            aksform_version: env!("CARGO_PKG_VERSION").to_string(),
            stack: stack.into(),
            state_serial: state.map_or(0, |s| s.serial),
            state_lineage: state.map(|s| s.lineage.clone()),
            config_hash: config_hash.into(),
            variables: BTreeMap::new(),
            drift: Vec::new(),
            picture: None,
            plan,
        }
    }

    /// The plan file's text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut text| {
            text.push('\n');
            text
        })
    }

    /// Reads a plan file, refusing one written in another format version.
    pub fn from_json(text: &str) -> Result<SavedPlan, PlanFileError> {
        #[derive(Deserialize)]
        struct Header {
            format_version: Option<u32>,
            #[serde(default)]
            aksform_version: Option<String>,
        }
        let header: Header = serde_json::from_str(text)?;
        match header.format_version {
            None => Err(PlanFileError::NotAPlan),
            Some(FORMAT_VERSION) => Ok(serde_json::from_str(text)?),
            Some(found) => Err(PlanFileError::UnsupportedVersion {
                found,
                written_by: header.aksform_version.unwrap_or_else(|| "unknown".to_string()),
            }),
        }
    }

    /// Checks that the plan was made from this stack's current state and configuration.
    pub fn check_current(&self, stack: &str, state: Option<&State>, config_hash: &str) -> Result<(), StalePlan> {
        if self.stack != stack {
            return Err(StalePlan::OtherStack { planned: self.stack.clone(), current: stack.to_string() });
        }
        let serial = state.map_or(0, |s| s.serial);
        if self.state_lineage.as_deref() != state.map(|s| s.lineage.as_str()) && self.state_lineage.is_some() {
            return Err(StalePlan::OtherLineage);
        }
        if self.state_serial != serial {
            return Err(StalePlan::StateChanged { planned: self.state_serial, current: serial });
        }
        if self.config_hash != config_hash {
            return Err(StalePlan::ConfigChanged);
        }
        Ok(())
    }
}
