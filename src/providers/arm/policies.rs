//! aksform's own pipeline policies: the User-Agent and correlation id on every try, and a
//! bearer-token policy for a loopback emulator, where azure_core's policy refuses plain http.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{AUTHORIZATION, HeaderName, USER_AGENT};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};

pub const CORRELATION_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-correlation-request-id");

/// `aksform/<version>`.
pub fn user_agent() -> String {
    format!("aksform/{}", env!("CARGO_PKG_VERSION"))
}

/// Sets the User-Agent (over the SDK's own) and one correlation id for every request of a run,
/// so Azure's logs tie the run's requests together.
#[derive(Debug)]
pub struct RunHeaders {
    pub correlation_id: String,
}

#[async_trait::async_trait]
impl Policy for RunHeaders {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        request.insert_header(USER_AGENT, user_agent());
        request.insert_header(CORRELATION_REQUEST_ID, self.correlation_id.clone());
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// `Authorization: Bearer` from a credential, for a plain-http endpoint on the loopback
/// interface (checked when the cloud is made). The credential chain caches the token.
pub struct LoopbackBearer {
    pub credential: Arc<dyn TokenCredential>,
    pub scope: String,
}

impl std::fmt::Debug for LoopbackBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackBearer").field("scope", &self.scope).finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Policy for LoopbackBearer {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let token = self.credential.get_token(&[self.scope.as_str()], None).await?;
        request.insert_header(AUTHORIZATION, format!("Bearer {}", token.token.secret()));
        next[0].send(ctx, request, &next[1..]).await
    }
}
