//! The whole stack, resolved: its settings and its resources of every kind, typed, and their
//! generic form for the planner and the state.

use super::kinds::for_each_kind;
use super::kinds::*;
use std::collections::BTreeMap;

use super::address::Address;
use super::resource::Resource;
use super::value::Value;
use crate::diag::Span;

/// Declares [`Stack`], with one vector for each kind, and [`Stack::with_kind`].
macro_rules! declare_stack {
    ($($variant:ident => $module:ident: $type:ident, $field:ident;)*) => {
        /// The whole stack, resolved.
        #[derive(Debug, Clone, Default)]
        pub struct Stack {
            pub name: String,
            /// The `stack` block, when there is one.
            pub span: Option<Span>,
            /// `None` when it comes from an environment variable that is not set (apply needs it).
            pub subscription: Option<String>,
            pub location: String,
            /// Where the state is kept, as the stack says (`state = ...`); `None` when it does not.
            pub state: Option<StateSetting>,
            /// The existing resources the stack uses (read, never written), with the values
            /// read: they are in the vectors below like the others.
            pub existing: BTreeMap<Address, BTreeMap<String, Value>>,
            /// The `import` blocks: resources that exist, to be brought under their blocks.
            pub imports: Vec<Import>,
            $(pub $field: Vec<$type>,)*
        }

        impl Stack {
            /// Applies `visit` to the resources of `kind`: the one place that maps a kind to
            /// its vector.
            fn with_kind<R>(&self, kind: Kind, visit: &mut dyn FnMut(&dyn KindVector) -> R) -> R {
                match kind {
                    $(Kind::$variant => visit(&self.$field)),*
                }
            }
        }
    };
}

for_each_kind!(declare_stack);

/// `import { to = ADDRESS  id = "ID" }`: the resource with that id exists, and the next
/// apply takes it under the block at the address instead of creating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub address: Address,
    /// Its provider id as written: an ARM resource id, or `NAMESPACE/NAME` (`NAME` for a
    /// namespace) or a `k8s://` id for a Kubernetes object.
    pub id: String,
    /// The `import` block.
    pub span: Span,
    /// The `id` value.
    pub id_span: Span,
}

/// The stack's `state` setting. Each part may also come from the command line or the
/// environment, which win (a CI job names the storage account; the stack names its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSetting {
    /// `state = local` or `local { path = "..." }`: a file, its path relative to the stack folder.
    Local,
    LocalPath(String),
    /// `state = azure_blob { account = "..." container = "..." key = "..." }`.
    AzureBlob {
        account: Option<String>,
        container: Option<String>,
        key: Option<String>,
    },
}

/// Flattens one kind's resources into `out`; a large kind (Services and Ingresses are nearly
/// all of a large stack) on every core.
fn flatten<T: Flatten + Sync>(resources: &[T], out: &mut Vec<Resource>) {
    const ON_ONE_THREAD: usize = 256;
    if resources.len() <= ON_ONE_THREAD {
        out.extend(resources.iter().map(Flatten::resource));
        return;
    }
    for part in crate::parallel::map_chunks(resources, |part| part.iter().map(Flatten::resource).collect()) {
        out.extend::<Vec<Resource>>(part);
    }
}

impl Stack {
    /// How many resources of `kind` the stack declares.
    pub fn count(&self, kind: Kind) -> usize {
        self.with_kind(kind, &mut |v| v.len())
    }

    /// Every resource in the generic form the planner and the state use, kind by kind.
    pub fn resources(&self) -> Vec<Resource> {
        // Sized once: growing a vector this large frees the old buffer each time.
        let mut out = Vec::with_capacity(Kind::ALL.into_iter().map(|k| self.count(k)).sum());
        for kind in Kind::ALL {
            self.with_kind(kind, &mut |v| v.flatten_into(&mut out));
        }
        if !self.existing.is_empty() {
            for resource in &mut out {
                let Some(read) = self.existing.get(&resource.address) else { continue };
                // What only the cloud knows (a public IP's address) is known for these.
                for name in resource.computed {
                    if let Some(value) = read.get(*name) {
                        resource.attributes.insert(name.to_string(), value.clone());
                    }
                }
                resource.existing = true;
            }
        }
        out
    }
}

/// The resources of one kind, whatever their type.
trait KindVector {
    fn len(&self) -> usize;
    fn flatten_into(&self, out: &mut Vec<Resource>);
}

impl<T: Flatten + Sync> KindVector for Vec<T> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn flatten_into(&self, out: &mut Vec<Resource>) {
        flatten(self, out);
    }
}
