//! The model: typed, resolved resources with addresses and defaults, built from the
//! syntax tree. Pure: the same files, variables and environment give the same model.

pub mod address;
pub mod existing;
pub mod generate;
pub mod kinds;
pub mod lower;
pub mod names;
pub mod resource;
pub mod stack;
pub mod value;

pub use address::{Address, Kind};
pub use kinds::*;
pub use lower::{Env, Input, lower};
pub use resource::Resource;
pub use stack::{Import, Stack};
pub use value::{AttributeRef, Value};
