//! aksform: declarative provisioning of Azure Kubernetes Service networking.
//!
//! The pipeline runs one way: [`syntax`] → [`model`] → [`check`] → [`plan`], with [`state`]
//! feeding the plan. [`diag`] is the one diagnostic type every stage returns.

pub mod diag;
pub mod model;
pub mod state;
pub mod syntax;
