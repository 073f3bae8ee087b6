//! Local stand-ins that aksform's tests run against: [`ControlPlane`], a real Kubernetes
//! control plane (etcd, kube-apiserver, kube-controller-manager) built from Kubernetes' own Go
//! modules by the program in `sandbox/kube`, and [`arm::Emulator`], an Azure Resource Manager
//! emulator whose managed clusters are such control planes.
//!
//! ```no_run
//! let plane = aksform_sandbox::ControlPlane::start()?;
//! plane.write_kubeconfig("/tmp/kubeconfig")?;
//! // ... run `kubectl --kubeconfig /tmp/kubeconfig ...` or a client against plane.server_url()
//! plane.stop()?;
//! # Ok::<(), aksform_sandbox::SandboxError>(())
//! ```

pub mod arm;
mod control_plane;
mod error;
mod kube_binary;
mod process;

pub use control_plane::ControlPlane;
pub use error::SandboxError;
