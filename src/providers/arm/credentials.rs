//! Credentials for Resource Manager: aksform's own chain over azure_identity's credentials,
//! chosen with `--auth` or found automatically, plus a bearer token given as it is. Tokens
//! are held only in memory and never printed, logged or stored.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::http::ClientOptions;
use azure_core::time::{Duration, OffsetDateTime};
use azure_identity::{
    AzureCliCredential, ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use tokio::sync::Mutex;

use super::cloud::Cloud;

/// Why the credentials asked for cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// The variables a way of signing in needs, and those of them not set.
    #[error("--auth {method} needs {}; not set: {}", .needs.join(", "), .missing.join(", "))]
    NotSet { method: String, needs: Vec<&'static str>, missing: Vec<&'static str> },
}

/// `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    /// The first that works of: client secret, workload identity (from the AZURE_* variables),
    /// Azure CLI, managed identity.
    Auto,
    ClientSecret,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
    /// A bearer token from AKSFORM_ACCESS_TOKEN.
    AccessToken,
}

/// One credential of the chain, with what it needs that is not secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    ClientSecret {
        tenant_id: String,
        client_id: String,
    },
    WorkloadIdentity {
        tenant_id: String,
        client_id: String,
        token_file: String,
    },
    /// A user-assigned identity when a client id is given.
    ManagedIdentity {
        client_id: Option<String>,
    },
    AzureCli,
    AccessToken,
}

impl Source {
    fn name(&self) -> &'static str {
        match self {
            Source::ClientSecret { .. } => "client secret",
            Source::WorkloadIdentity { .. } => "workload identity",
            Source::ManagedIdentity { .. } => "managed identity",
            Source::AzureCli => "Azure CLI",
            Source::AccessToken => "access token",
        }
    }
}

pub const TENANT: &str = "AZURE_TENANT_ID";
pub const CLIENT: &str = "AZURE_CLIENT_ID";
pub const SECRET: &str = "AZURE_CLIENT_SECRET";
pub const TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const ACCESS_TOKEN: &str = "AKSFORM_ACCESS_TOKEN";

/// What to set for each way of signing in, for messages.
pub const HELP: &str = "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), \
     or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (workload identity, GitHub Actions OIDC), \
     or sign in with `az login`, or run on Azure with a managed identity, \
     or pass --auth access-token with AKSFORM_ACCESS_TOKEN set";

/// Azure's chassis asset tag, which every Azure virtual machine reports through DMI.
const AZURE_ASSET_TAG: &str = "7783-7084-3265-9085-8269-3286-77";

/// Whether a managed identity may be here: an Azure VM (its DMI asset tag), or a host that names
/// its identity endpoint (App Service, Functions, Container Apps, Arc, Cloud Shell). Elsewhere
/// `auto` does not probe the instance metadata address at all.
pub fn managed_identity_possible(env: &dyn Fn(&str) -> Option<String>) -> bool {
    ["IDENTITY_ENDPOINT", "MSI_ENDPOINT"].iter().any(|name| env(name).is_some_and(|v| !v.trim().is_empty()))
        || std::fs::read_to_string("/sys/class/dmi/id/chassis_asset_tag").is_ok_and(|tag| tag.trim() == AZURE_ASSET_TAG)
}

/// The credentials to try, in order, for `method`, from the environment as `env` gives it;
/// `auto` tries a managed identity only where `managed_possible`.
pub fn sources(
    method: AuthMethod,
    env: &dyn Fn(&str) -> Option<String>,
    managed_possible: bool,
) -> Result<Vec<Source>, CredentialsError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let need = |what: &str, names: &[&'static str]| -> Result<Vec<String>, CredentialsError> {
        let missing: Vec<&'static str> = names.iter().copied().filter(|n| get(n).is_none()).collect();
        if missing.is_empty() {
            Ok(names.iter().filter_map(|n| get(n)).collect())
        } else {
            Err(CredentialsError::NotSet { method: what.to_string(), needs: names.to_vec(), missing })
        }
    };
    let client_secret = || {
        need("client-secret", &[TENANT, CLIENT, SECRET])
            .map(|v| Source::ClientSecret { tenant_id: v[0].clone(), client_id: v[1].clone() })
    };
    let workload = || {
        need("workload-identity", &[TENANT, CLIENT, TOKEN_FILE]).map(|v| Source::WorkloadIdentity {
            tenant_id: v[0].clone(),
            client_id: v[1].clone(),
            token_file: v[2].clone(),
        })
    };
    let managed = || Source::ManagedIdentity { client_id: get(CLIENT) };
    Ok(match method {
        AuthMethod::ClientSecret => vec![client_secret()?],
        AuthMethod::WorkloadIdentity => vec![workload()?],
        AuthMethod::ManagedIdentity => vec![managed()],
        AuthMethod::AzureCli => vec![Source::AzureCli],
        AuthMethod::AccessToken => {
            need("access-token", &[ACCESS_TOKEN])?;
            vec![Source::AccessToken]
        }
        AuthMethod::Auto => {
            let mut chain = Vec::new();
            if get(SECRET).is_some() {
                chain.push(client_secret()?);
            } else if get(TOKEN_FILE).is_some() {
                chain.push(workload()?);
            } else if get(ACCESS_TOKEN).is_some() {
                chain.push(Source::AccessToken);
            }
            // The CLI before managed identity: on a workstation the CLI answers at once, while
            // probing for a managed identity waits on a network timeout.
            chain.push(Source::AzureCli);
            if managed_possible {
                chain.push(managed());
            }
            chain
        }
    })
}

/// A bearer token given as it is: used until the server refuses it.
#[derive(Clone)]
struct GivenToken(Secret);

impl std::fmt::Debug for GivenToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GivenToken(..)")
    }
}

#[async_trait::async_trait]
impl TokenCredential for GivenToken {
    async fn get_token(&self, _: &[&str], _: Option<TokenRequestOptions<'_>>) -> azure_core::Result<AccessToken> {
        // Its lifetime is not known; the server says when it has expired.
        Ok(AccessToken::new(self.0.clone(), OffsetDateTime::now_utc() + Duration::hours(1)))
    }
}

fn build(
    source: &Source,
    cloud: &Cloud,
    env: &dyn Fn(&str) -> Option<String>,
) -> azure_core::Result<Arc<dyn TokenCredential>> {
    let client_options =
        || ClientOptions { cloud: Some(Arc::new(cloud.configuration.clone())), ..ClientOptions::default() };
    Ok(match source {
        Source::ClientSecret { tenant_id, client_id } => {
            let secret = env(SECRET).unwrap_or_default();
            ClientSecretCredential::new(
                tenant_id,
                client_id.clone(),
                Secret::new(secret),
                Some(ClientSecretCredentialOptions { client_options: client_options() }),
            )?
        }
        Source::WorkloadIdentity { tenant_id, client_id, token_file } => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options: client_options() },
                client_id: Some(client_id.clone()),
                tenant_id: Some(tenant_id.clone()),
                token_file_path: Some(token_file.into()),
            }))?
        }
        Source::ManagedIdentity { client_id } => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                ..ManagedIdentityCredentialOptions::default()
            }))?
        }
        Source::AzureCli => AzureCliCredential::new(None)?,
        Source::AccessToken => {
            Arc::new(GivenToken(Secret::new(env(ACCESS_TOKEN).unwrap_or_default().trim().to_string())))
        }
    })
}

/// The chain: tries each credential in order until one gives a token, then keeps to that one
/// and reuses its token until shortly before it expires.
pub struct Chain {
    credentials: Vec<Candidate>,
    state: Mutex<ChainState>,
}

#[derive(Default)]
struct ChainState {
    chosen: Option<usize>,
    token: Option<AccessToken>,
    /// Why no credential worked: asked once, not again for every request of the run.
    failure: Option<String>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.credentials.iter().map(|c| c.name).collect();
        f.debug_struct("Chain").field("credentials", &names).finish_non_exhaustive()
    }
}

struct Candidate {
    name: &'static str,
    credential: azure_core::Result<Arc<dyn TokenCredential>>,
    /// In an automatic chain, how long to wait for a managed identity: off Azure, the
    /// instance metadata endpoint never answers and its client retries for minutes.
    patience: Option<std::time::Duration>,
}

/// How long an automatic chain waits for a managed identity.
const MANAGED_IDENTITY_PROBE: std::time::Duration = std::time::Duration::from_secs(5);

/// A token this close to its expiry is asked for anew.
const REFRESH_BEFORE: Duration = Duration::minutes(5);

impl Chain {
    pub fn new(
        method: AuthMethod,
        cloud: &Cloud,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Chain, CredentialsError> {
        let credentials = sources(method, env, managed_identity_possible(env))?
            .iter()
            .map(|source| Candidate {
                name: source.name(),
                credential: build(source, cloud, env),
                patience: (method == AuthMethod::Auto && matches!(source, Source::ManagedIdentity { .. }))
                    .then_some(MANAGED_IDENTITY_PROBE),
            })
            .collect();
        Ok(Chain { credentials, state: Mutex::new(ChainState::default()) })
    }

    /// A chain of one fixed token (tests, and `--auth access-token`).
    pub fn from_token(token: &str) -> Chain {
        let credential: Arc<dyn TokenCredential> = Arc::new(GivenToken(Secret::new(token.to_string())));
        let candidate = Candidate { name: "access token", credential: Ok(credential), patience: None };
        Chain { credentials: vec![candidate], state: Mutex::new(ChainState::default()) }
    }
}

#[async_trait::async_trait]
impl TokenCredential for Chain {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut state = self.state.lock().await;
        if let Some(token) = &state.token
            && token.expires_on - OffsetDateTime::now_utc() > REFRESH_BEFORE
        {
            return Ok(token.clone());
        }
        if let Some(failure) = &state.failure {
            return Err(Error::with_message(ErrorKind::Credential, failure.clone()));
        }
        let order: Vec<usize> = match state.chosen {
            Some(i) => vec![i],
            None => (0..self.credentials.len()).collect(),
        };
        let mut failures = Vec::new();
        for i in order {
            let Candidate { name, credential, patience } = &self.credentials[i];
            let result = match (credential, patience) {
                (Err(e), _) => Err(Error::with_message(ErrorKind::Credential, e.to_string())),
                (Ok(credential), None) => credential.get_token(scopes, options.clone()).await,
                (Ok(credential), Some(patience)) => {
                    match tokio::time::timeout(*patience, credential.get_token(scopes, options.clone())).await {
                        Ok(result) => result,
                        Err(_) => Err(Error::with_message(
                            ErrorKind::Credential,
                            format!("no answer within {} s (not on Azure?)", patience.as_secs()),
                        )),
                    }
                }
            };
            match result {
                Ok(token) => {
                    state.chosen = Some(i);
                    state.token = Some(token.clone());
                    return Ok(token);
                }
                Err(e) => failures.push(format!("{name}: {}", first_line(&e.to_string()))),
            }
        }
        let failure = format!("no Azure credentials could get a token ({}); {HELP}", failures.join("; "));
        // A credential chosen earlier that now fails (an expired CLI login) may be retried later.
        if state.chosen.is_none() {
            state.failure = Some(failure.clone());
        }
        Err(Error::with_message(ErrorKind::Credential, failure))
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn auto_prefers_a_service_principal_then_workload_identity() {
        let secret = env(&[(TENANT, "t"), (CLIENT, "c"), (SECRET, "s")]);
        assert_eq!(
            sources(AuthMethod::Auto, &secret, true).unwrap(),
            vec![
                Source::ClientSecret { tenant_id: "t".into(), client_id: "c".into() },
                Source::AzureCli,
                Source::ManagedIdentity { client_id: Some("c".into()) },
            ]
        );
        let oidc = env(&[(TENANT, "t"), (CLIENT, "c"), (TOKEN_FILE, "/var/run/token")]);
        assert_eq!(
            sources(AuthMethod::Auto, &oidc, true).unwrap()[0],
            Source::WorkloadIdentity {
                tenant_id: "t".into(),
                client_id: "c".into(),
                token_file: "/var/run/token".into()
            }
        );
        let nothing = env(&[]);
        assert_eq!(
            sources(AuthMethod::Auto, &nothing, true).unwrap(),
            vec![Source::AzureCli, Source::ManagedIdentity { client_id: None }]
        );
        let token = env(&[(ACCESS_TOKEN, "x")]);
        assert_eq!(sources(AuthMethod::Auto, &token, true).unwrap()[0], Source::AccessToken);
    }

    #[test]
    fn auto_probes_for_a_managed_identity_only_where_one_may_be() {
        let nothing = env(&[]);
        assert_eq!(sources(AuthMethod::Auto, &nothing, false).unwrap(), vec![Source::AzureCli]);
        let app_service = env(&[("IDENTITY_ENDPOINT", "http://localhost:4141/msi/token")]);
        assert!(managed_identity_possible(&app_service));
        assert_eq!(
            sources(AuthMethod::ManagedIdentity, &nothing, false).unwrap(),
            vec![Source::ManagedIdentity { client_id: None }],
            "asked for by name, it is always tried"
        );
    }

    #[test]
    fn auto_with_half_a_service_principal_says_what_is_missing() {
        let half = env(&[(CLIENT, "c"), (SECRET, "s")]);
        let error = sources(AuthMethod::Auto, &half, true).unwrap_err().to_string();
        assert_eq!(
            error,
            "--auth client-secret needs AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET; not set: AZURE_TENANT_ID"
        );
    }

    #[test]
    fn explicit_methods_name_their_variables() {
        let nothing = env(&[]);
        assert!(
            sources(AuthMethod::ClientSecret, &nothing, true)
                .unwrap_err()
                .to_string()
                .contains("not set: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET")
        );
        assert!(
            sources(AuthMethod::WorkloadIdentity, &nothing, true)
                .unwrap_err()
                .to_string()
                .contains("AZURE_FEDERATED_TOKEN_FILE")
        );
        assert_eq!(
            sources(AuthMethod::AccessToken, &env(&[(ACCESS_TOKEN, " ")]), true).unwrap_err().to_string(),
            "--auth access-token needs AKSFORM_ACCESS_TOKEN; not set: AKSFORM_ACCESS_TOKEN"
        );
        assert_eq!(sources(AuthMethod::AzureCli, &nothing, true).unwrap(), vec![Source::AzureCli]);
        assert_eq!(
            sources(AuthMethod::ManagedIdentity, &nothing, true).unwrap(),
            vec![Source::ManagedIdentity { client_id: None }]
        );
    }

    #[tokio::test]
    async fn the_chain_gives_the_given_token_and_never_shows_it() {
        let cloud = Cloud::custom("http://127.0.0.1:1", None, None).unwrap();
        let chain = Chain::new(AuthMethod::AccessToken, &cloud, &env(&[(ACCESS_TOKEN, "sekrit-token\n")])).unwrap();
        let token = chain.get_token(&["https://management.azure.com/.default"], None).await.unwrap();
        assert_eq!(token.token.secret(), "sekrit-token");
        assert!(!format!("{chain:?}").contains("sekrit"));
        assert!(!format!("{token:?}").contains("sekrit"));
    }

    #[tokio::test]
    async fn a_chain_where_nothing_works_says_what_to_set() {
        let cloud = Cloud::custom("http://127.0.0.1:1", None, None).unwrap();
        // A workload identity whose token file does not exist fails without any network.
        let chain = Chain::new(
            AuthMethod::WorkloadIdentity,
            &cloud,
            &env(&[
                (TENANT, "00000000-0000-0000-0000-000000000000"),
                (CLIENT, "c"),
                (TOKEN_FILE, "/nonexistent/token"),
            ]),
        )
        .unwrap();
        let error = chain.get_token(&[super::super::cloud::PUBLIC_SCOPE], None).await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("workload identity:"), "{text}");
        assert!(text.contains("AZURE_CLIENT_SECRET"), "{text}");
    }
}
