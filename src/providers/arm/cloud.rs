//! Azure clouds: where Azure Resource Manager and the sign-in authority are, and the token
//! scope for ARM. A custom endpoint (an ARM-compatible emulator) may use plain http on the
//! loopback interface only, so a token is never sent in clear over a network.

use std::net::IpAddr;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::Url;

/// The token scope of the public cloud's Resource Manager (also the default for a custom one).
pub const PUBLIC_SCOPE: &str = "https://management.azure.com/.default";

/// Why an endpoint, a path or a polling URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    #[error("--arm-endpoint `{endpoint}` is not a URL: {source}")]
    NotAUrl { endpoint: String, source: url::ParseError },
    #[error(
        "--arm-endpoint `{endpoint}`: plain http is allowed only on the loopback interface \
         (127.0.0.1, ::1 or localhost), so that tokens never cross a network in clear; use https"
    )]
    PlainHttpOffLoopback { endpoint: String },
    #[error("--arm-endpoint `{endpoint}`: the scheme must be https, not {scheme}")]
    Scheme { endpoint: String, scheme: String },
    #[error("--arm-endpoint `{endpoint}` must not carry a query or fragment")]
    QueryOrFragment { endpoint: String },
    #[error("`{path}` is not a valid ARM path: {source}")]
    InvalidPath { path: String, source: url::ParseError },
    #[error(
        "the server asked to poll {scheme}://{host}, which is not the Resource Manager endpoint {endpoint}; refusing to send the token there"
    )]
    OtherOrigin { scheme: String, host: String, endpoint: String },
}

/// `--cloud`: one of Azure's sovereign clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloudName {
    Public,
    China,
    #[value(name = "usgovernment")]
    UsGovernment,
}

/// Where requests go and how tokens for them are asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// Resource Manager's base URL, without a trailing slash.
    pub endpoint: Url,
    /// The scope asked for in token requests.
    pub scope: String,
    /// For credentials that sign in to Microsoft Entra ID.
    pub configuration: CloudConfiguration,
    /// A custom endpoint (not one of Azure's clouds).
    pub custom: bool,
}

impl Cloud {
    pub fn named(name: CloudName) -> Cloud {
        let (endpoint, scope, configuration) = match name {
            CloudName::Public => ("https://management.azure.com", PUBLIC_SCOPE, CloudConfiguration::AzurePublic),
            CloudName::China => (
                "https://management.chinacloudapi.cn",
                "https://management.chinacloudapi.cn/.default",
                CloudConfiguration::AzureChina,
            ),
            CloudName::UsGovernment => (
                "https://management.usgovcloudapi.net",
                "https://management.usgovcloudapi.net/.default",
                CloudConfiguration::AzureGovernment,
            ),
        };
        Cloud {
            // The literals above are valid URLs.
            endpoint: Url::parse(endpoint).unwrap_or_else(|_| unreachable!("a fixed cloud endpoint")),
            scope: scope.to_string(),
            configuration,
            custom: false,
        }
    }

    /// A custom Resource Manager endpoint (`--arm-endpoint`), its token scope (the audience
    /// with `/.default`, or the public cloud's), and the sign-in authority (public cloud's
    /// unless `authority_host` is given).
    pub fn custom(endpoint: &str, audience: Option<&str>, authority_host: Option<&str>) -> Result<Cloud, CloudError> {
        let url = Url::parse(endpoint.trim_end_matches('/'))
            .map_err(|source| CloudError::NotAUrl { endpoint: endpoint.to_string(), source })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(CloudError::PlainHttpOffLoopback { endpoint: endpoint.to_string() });
            }
            other => return Err(CloudError::Scheme { endpoint: endpoint.to_string(), scheme: other.to_string() }),
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(CloudError::QueryOrFragment { endpoint: endpoint.to_string() });
        }
        let scope = match audience {
            Some(a) if a.ends_with("/.default") => a.to_string(),
            Some(a) => format!("{}/.default", a.trim_end_matches('/')),
            None => PUBLIC_SCOPE.to_string(),
        };
        let configuration = match authority_host {
            Some(host) => {
                let mut custom = CustomConfiguration::default();
                custom.authority_host = host.to_string();
                CloudConfiguration::Custom(custom)
            }
            None => CloudConfiguration::AzurePublic,
        };
        Ok(Cloud { endpoint: url, scope, configuration, custom: true })
    }

    /// True when requests go over plain http (a loopback emulator).
    pub fn is_plain_http(&self) -> bool {
        self.endpoint.scheme() == "http"
    }

    /// The URL of an ARM path (`/subscriptions/...`) with its api-version.
    pub fn url(&self, path: &str, api_version: &str) -> Result<Url, CloudError> {
        let base = self.endpoint.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}{path}"))
            .map_err(|source| CloudError::InvalidPath { path: path.to_string(), source })?;
        url.query_pairs_mut().append_pair("api-version", api_version);
        Ok(url)
    }

    /// A URL the server handed back (a polling URL) may only point at the same scheme and host
    /// as the endpoint: the token goes with it.
    pub fn check_same_origin(&self, url: &Url) -> Result<(), CloudError> {
        let same = url.scheme() == self.endpoint.scheme()
            && url.host_str().map(str::to_ascii_lowercase) == self.endpoint.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == self.endpoint.port_or_known_default();
        if same {
            Ok(())
        } else {
            Err(CloudError::OtherOrigin {
                scheme: url.scheme().to_string(),
                host: url.host_str().unwrap_or("").to_string(),
                endpoint: self.endpoint.as_str().trim_end_matches('/').to_string(),
            })
        }
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_clouds_have_their_endpoints_and_scopes() {
        let public = Cloud::named(CloudName::Public);
        assert_eq!(public.endpoint.as_str(), "https://management.azure.com/");
        assert_eq!(public.scope, "https://management.azure.com/.default");
        let china = Cloud::named(CloudName::China);
        assert_eq!(china.endpoint.host_str(), Some("management.chinacloudapi.cn"));
        assert_eq!(china.scope, "https://management.chinacloudapi.cn/.default");
        assert_eq!(china.configuration, CloudConfiguration::AzureChina);
        let gov = Cloud::named(CloudName::UsGovernment);
        assert_eq!(gov.endpoint.host_str(), Some("management.usgovcloudapi.net"));
        assert_eq!(gov.configuration, CloudConfiguration::AzureGovernment);
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(Cloud::custom("http://127.0.0.1:8080", None, None).is_ok());
        assert!(Cloud::custom("http://[::1]:8080/", None, None).is_ok());
        assert!(Cloud::custom("http://localhost:1234", None, None).is_ok());
        let refused = Cloud::custom("http://10.0.0.5:8080", None, None).unwrap_err();
        assert!(refused.to_string().contains("loopback"), "{refused}");
        assert!(Cloud::custom("http://arm.example.com", None, None).is_err());
        assert!(Cloud::custom("ftp://127.0.0.1", None, None).is_err());
        assert!(Cloud::custom("https://arm.example.com", None, None).is_ok());
        assert!(Cloud::custom("not a url", None, None).is_err());
    }

    #[test]
    fn custom_scope_comes_from_the_audience() {
        let default = Cloud::custom("http://127.0.0.1:1", None, None).unwrap();
        assert_eq!(default.scope, PUBLIC_SCOPE);
        let given = Cloud::custom("https://arm.example.com", Some("https://arm.example.com/"), None).unwrap();
        assert_eq!(given.scope, "https://arm.example.com/.default");
        let full = Cloud::custom("https://arm.example.com", Some("api://x/.default"), None).unwrap();
        assert_eq!(full.scope, "api://x/.default");
    }

    #[test]
    fn urls_carry_the_api_version_and_keep_a_path_prefix() {
        let cloud = Cloud::custom("http://127.0.0.1:9000/", None, None).unwrap();
        let url = cloud.url("/subscriptions/s/resourcegroups/rg", "2024-03-01").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9000/subscriptions/s/resourcegroups/rg?api-version=2024-03-01");
    }

    #[test]
    fn polling_urls_must_stay_on_the_endpoint() {
        let cloud = Cloud::custom("http://127.0.0.1:9000", None, None).unwrap();
        assert!(cloud.check_same_origin(&Url::parse("http://127.0.0.1:9000/ops/1?api-version=x").unwrap()).is_ok());
        assert!(cloud.check_same_origin(&Url::parse("http://127.0.0.1:9001/ops/1").unwrap()).is_err());
        assert!(cloud.check_same_origin(&Url::parse("https://evil.example.com/ops/1").unwrap()).is_err());
    }
}
