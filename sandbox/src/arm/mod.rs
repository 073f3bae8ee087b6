//! An ARM emulator: Azure Resource Manager's REST API for the resource types aksform manages
//! (resource groups, virtual networks, subnets, peerings, public IPs, DNS zones and record sets,
//! managed clusters and agent pools, role assignments), with ARM's list operations and provider reads, long-running
//! operations, errors, validations, throttling and injected faults. Each managed cluster is a real
//! Kubernetes control plane.
//!
//! ```no_run
//! use aksform_sandbox::arm::{Emulator, EmulatorOptions};
//! let emulator = Emulator::start(EmulatorOptions::default())?;
//! println!("export AKSFORM_ARM_ENDPOINT={}", emulator.url());
//! # Ok::<(), aksform_sandbox::SandboxError>(())
//! ```

mod address;
mod app_routing;
mod authorization;
mod caller;
mod cidr;
mod cloud_controller;
mod clusters;
mod control;
mod emulator;
mod errors;
mod faults;
mod handlers;
mod identity;
mod listing;
mod lro;
mod providers;
mod resources;
mod schema;
mod server;
mod state;
mod store;
mod throttle;

pub use authorization::{
    AUTHORIZATION_API_VERSION, CONTRIBUTOR, NETWORK_CONTRIBUTOR, OWNER, PUBLIC_IP_JOIN, READER,
    ROLE_ASSIGNMENT_API_VERSIONS, ROLE_DEFINITION_API_VERSIONS, SUBNET_JOIN,
};
pub use caller::{CALLER, CallerRole, CallerRoles};
pub use emulator::{DEFAULT_PAGE_SIZE, Emulator, EmulatorOptions};
pub use errors::ArmError;
pub use faults::{DropPoint, Fault, OperationFilter, RequestMatch};
pub use identity::{
    CONTAINER_SERVICE_API_VERSION, CONTAINER_SERVICE_API_VERSIONS, DNS_API_VERSION, DNS_API_VERSIONS,
    NETWORK_API_VERSION, NETWORK_API_VERSIONS, RESOURCES_API_VERSION, RESOURCES_API_VERSIONS,
};
pub use state::LatencySettings;
pub use store::{ReadRecord, ResourceSummary, WriteRecord};
pub use throttle::ThrottleSettings;
