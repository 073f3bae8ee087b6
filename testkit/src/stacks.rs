//! Stack texts that several suites share: the fragments of a small stack, each valid with
//! those before it, and the shop stack (`stacks/shop.aks`) as its author might write it.

/// The stack block and a resource group.
pub const HEADER: &str = r#"stack "test" {
  location = westeurope
}

resource_group "rg" {}
"#;

/// A network with a node subnet (/22, 1,019 usable) and a subnet for internal load balancers.
pub const NETWORK: &str = r#"
vnet "net" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/16]

  subnet "nodes" {
    prefix = 10.1.0.0/22
  }

  subnet "ilb" {
    prefix = 10.1.8.0/24
  }
}
"#;

/// An Azure CNI cluster on `vnet.net.subnet.nodes`: 3 system nodes, 30 pods each.
pub const CLUSTER: &str = r#"
cluster "aks" {
  resource_group = resource_group.rg

  network azure_cni {
    subnet         = vnet.net.subnet.nodes
    service_cidr   = 10.0.0.0/16
    dns_service_ip = 10.0.0.10
  }

  node_pool "system" {
    vm_size = "Standard_D4s_v5"
    count   = 3
  }
}
"#;

/// A namespace `apps` in `cluster.aks`.
pub const NAMESPACE: &str = r#"
namespace "apps" {
  cluster = cluster.aks
}
"#;

/// The header followed by the given parts, as one file.
pub fn stack(parts: &[&str]) -> String {
    let mut text = HEADER.to_string();
    for part in parts {
        text.push_str(part);
    }
    text
}

/// A shop stack as an author might write it before formatting: one-line blocks, aligned
/// values, comments at the ends of lines.
pub const SHOP: &str = include_str!("../stacks/shop.aks");
