//! Naming rules of Kubernetes (DNS-1123, DNS-1035, label keys) and Azure (per resource
//! type). Each returns `Err(reason)` with what is wrong, for the diagnostic.

pub type NameCheck = Result<(), String>;

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// DNS-1123 label: namespaces, Service port names.
pub fn dns1123_label(name: &str) -> NameCheck {
    if name.is_empty() || name.len() > 63 {
        return Err(format!("must be 1 to 63 characters (it has {})", name.len()));
    }
    if !name.chars().all(|c| is_lower_alnum(c) || c == '-') {
        return Err("may contain only lowercase letters, digits and '-'".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must start and end with a lowercase letter or digit".into());
    }
    Ok(())
}

/// DNS-1035 label: Service names (must start with a letter).
pub fn dns1035_label(name: &str) -> NameCheck {
    dns1123_label(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    Ok(())
}

/// DNS-1123 subdomain: Ingress names, label-key prefixes.
pub fn dns1123_subdomain(name: &str) -> NameCheck {
    if name.is_empty() || name.len() > 253 {
        return Err(format!("must be 1 to 253 characters (it has {})", name.len()));
    }
    for part in name.split('.') {
        dns1123_label(part).map_err(|e| format!("each dot-separated part {e}"))?;
    }
    Ok(())
}

fn qualified_name_part(name: &str) -> NameCheck {
    if name.is_empty() || name.len() > 63 {
        return Err(format!("the name part must be 1 to 63 characters (it has {})", name.len()));
    }
    let ok_inner = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    if !name.chars().all(ok_inner) {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A label or annotation key: `[prefix/]name`.
pub fn label_key(key: &str) -> NameCheck {
    match key.split_once('/') {
        Some((prefix, name)) => {
            dns1123_subdomain(prefix).map_err(|e| format!("the prefix {e}"))?;
            qualified_name_part(name)
        }
        None => qualified_name_part(key),
    }
}

/// A label value: empty, or a qualified name part.
pub fn label_value(value: &str) -> NameCheck {
    if value.is_empty() { Ok(()) } else { qualified_name_part(value) }
}

/// A DNS name such as an ExternalName target or an Ingress host (no wildcard).
pub fn dns_name(name: &str) -> NameCheck {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    for part in name.split('.') {
        if part.is_empty() || part.len() > 63 {
            return Err("each dot-separated part must be 1 to 63 characters".into());
        }
        if !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || part.starts_with('-') || part.ends_with('-')
        {
            return Err(format!("`{part}` may contain only letters, digits and inner '-'"));
        }
    }
    Ok(())
}

/// Azure names that allow letters, digits, '_', '.', '-': start with a letter or digit,
/// end with a letter, digit or '_' (virtual networks, subnets, public IPs, peerings).
pub fn azure_network_name(name: &str, min: usize, max: usize) -> NameCheck {
    let len = name.chars().count();
    if len < min || len > max {
        return Err(format!("must be {min} to {max} characters (it has {len})"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err("may contain only letters, digits, '_', '.' and '-'".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or digit".into());
    }
    if !name.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err("must end with a letter, digit or '_'".into());
    }
    Ok(())
}

/// Resource group: 1-90 of letters, digits, '_', '.', '-', '(', ')', not ending in '.'.
pub fn resource_group(name: &str) -> NameCheck {
    let len = name.chars().count();
    if len == 0 || len > 90 {
        return Err(format!("must be 1 to 90 characters (it has {len})"));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '(' | ')')) {
        return Err("may contain only letters, digits, '_', '.', '-', '(' and ')'".into());
    }
    if name.ends_with('.') {
        return Err("must not end with '.'".into());
    }
    Ok(())
}

/// Managed cluster: 1-63, letters, digits, '-', '_', starting and ending with a letter or digit.
pub fn cluster(name: &str) -> NameCheck {
    if name.is_empty() || name.len() > 63 {
        return Err(format!("must be 1 to 63 characters (it has {})", name.len()));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("may contain only letters, digits, '-' and '_'".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Agent pool: `^[a-z][a-z0-9]{0,11}$`, at most 6 characters for Windows pools.
pub fn node_pool(name: &str, windows: bool) -> NameCheck {
    let max = if windows { 6 } else { 12 };
    if name.is_empty() || name.len() > max {
        return Err(format!("must be 1 to {max} characters (it has {})", name.len()));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || !name.chars().all(is_lower_alnum) {
        return Err("must be a lowercase letter followed by lowercase letters and digits".into());
    }
    Ok(())
}

/// Cluster DNS prefix: 1-54 letters, digits and '-', starting and ending with a letter or digit.
pub fn dns_prefix(name: &str) -> NameCheck {
    if name.is_empty() || name.len() > 54 {
        return Err(format!("must be 1 to 54 characters (it has {})", name.len()));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("may contain only letters, digits and '-'".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Public IP DNS label: 3-63 lowercase letters, digits and '-', starting with a letter.
pub fn public_ip_dns_label(label: &str) -> NameCheck {
    if label.len() < 3 || label.len() > 63 {
        return Err(format!("must be 3 to 63 characters (it has {})", label.len()));
    }
    if !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    if !label.chars().all(|c| is_lower_alnum(c) || c == '-') || label.ends_with('-') {
        return Err("may contain only lowercase letters, digits and inner '-'".into());
    }
    Ok(())
}

/// A record set name relative to its zone: `@`, or DNS labels, the first may be `*`.
pub fn dns_record_name(name: &str) -> NameCheck {
    if name == "@" {
        return Ok(());
    }
    let rest = name.strip_prefix("*.").unwrap_or(if name == "*" { "" } else { name });
    if rest.is_empty() {
        return Ok(());
    }
    dns_name(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names() {
        assert!(dns1123_label("web-1").is_ok());
        assert!(dns1123_label("1web").is_ok());
        assert!(dns1035_label("1web").is_err());
        assert!(dns1123_label("Web").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_subdomain("shop.example.com").is_ok());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("bad key").is_err());
        assert!(label_value("").is_ok());
    }

    #[test]
    fn azure_names() {
        assert!(node_pool("system", false).is_ok());
        assert!(node_pool("System", false).is_err());
        assert!(node_pool("toolongpoolname", false).is_err());
        assert!(node_pool("wpool12", true).is_err());
        assert!(cluster("shop-prod").is_ok());
        assert!(cluster("-shop").is_err());
        assert!(resource_group("rg.").is_err());
        assert!(azure_network_name("vnet_", 2, 64).is_ok());
        assert!(azure_network_name("v", 2, 64).is_err());
        assert!(public_ip_dns_label("shop-web").is_ok());
        assert!(dns_record_name("@").is_ok());
        assert!(dns_record_name("*.apps").is_ok());
    }
}
