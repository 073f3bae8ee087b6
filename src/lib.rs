//! aksform: declarative provisioning of Azure Kubernetes Service networking.
//!
//! The pipeline runs one way: [`syntax`] → [`model`] → [`check`] → [`state`] → [`refresh`] →
//! [`plan`] → [`apply`] → [`providers`]: the recorded state, refreshed with what is live, feeds
//! the plan, which the executor carries out through the providers. [`diag`] is the one
//! diagnostic type every stage returns; [`stack`] loads a stack folder through the first three
//! stages.

// The code pest_derive generates without its `std` feature names `::alloc` (see Cargo.toml).
extern crate alloc;

pub mod apply;
pub mod check;
pub mod cli;
pub mod diag;
pub mod loading;
pub mod model;
pub mod parallel;
pub mod plan;
pub mod providers;
pub mod refresh;
pub mod state;
pub mod syntax;
