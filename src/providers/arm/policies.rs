//! aksform's own pipeline policies: the User-Agent and correlation id on every try, a
//! bearer-token policy for a loopback emulator, where azure_core's policy refuses plain http,
//! and the pace that keeps a run inside ARM's request buckets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{AUTHORIZATION, HeaderName, USER_AGENT};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Method, Request};

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

/// ARM's buckets per subscription and principal, as published
/// (<https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling>):
/// reads 250 at once then 25 a second, writes and deletes each 200 then 10 a second.
const READS: Rate = Rate { burst: 250.0, per_second: 25.0 };
const WRITES: Rate = Rate { burst: 200.0, per_second: 10.0 };
const DELETES: Rate = Rate { burst: 200.0, per_second: 10.0 };

/// Which of ARM's buckets a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Budget {
    Read,
    Write,
    Delete,
}

impl Budget {
    fn of(method: &Method) -> Budget {
        match method {
            Method::Get | Method::Head => Budget::Read,
            Method::Delete => Budget::Delete,
            _ => Budget::Write,
        }
    }

    fn rate(self) -> Rate {
        match self {
            Budget::Read => READS,
            Budget::Write => WRITES,
            Budget::Delete => DELETES,
        }
    }

    /// The headers in which ARM says how many are left: this principal's, and the whole
    /// subscription's (all principals together).
    fn remaining(self) -> [HeaderName; 2] {
        match self {
            Budget::Read => [
                HeaderName::from_static("x-ms-ratelimit-remaining-subscription-reads"),
                HeaderName::from_static("x-ms-ratelimit-remaining-subscription-global-reads"),
            ],
            Budget::Write => [
                HeaderName::from_static("x-ms-ratelimit-remaining-subscription-writes"),
                HeaderName::from_static("x-ms-ratelimit-remaining-subscription-global-writes"),
            ],
            Budget::Delete => [
                HeaderName::from_static("x-ms-ratelimit-remaining-subscription-deletes"),
                HeaderName::from_static("x-ms-ratelimit-remaining-subscription-global-deletes"),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Rate {
    burst: f64,
    per_second: f64,
}

/// What this run knows of one of ARM's buckets: ARM's own refill, tokens spent by the
/// requests sent, and what ARM says is left (`x-ms-ratelimit-remaining-subscription-reads`,
/// which counts others' requests too). Until ARM has said, one request goes at a time, so
/// that a burst larger than the bucket is never sent blind.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    /// The most the bucket has been seen to hold (at most ARM's burst; less where ARM keeps
    /// a smaller one, or another client drains it).
    seen: Option<f64>,
    tokens: f64,
    updated: Instant,
    /// Whether ARM has answered with what is left.
    told: bool,
    /// A request is out while `told` is false.
    probing: bool,
}

impl Bucket {
    fn new(rate: Rate) -> Bucket {
        Bucket { rate, seen: None, tokens: rate.burst, updated: Instant::now(), told: false, probing: false }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        let capacity = self.seen.unwrap_or(self.rate.burst);
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(capacity);
        self.updated = now;
    }

    /// Takes a token for a request, or says how long to wait before asking again.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if !self.told {
            if self.probing {
                return Err(Duration::from_millis(5));
            }
            self.probing = true;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate.per_second))
    }

    /// ARM's word on what is left after a request: never more than this run's own count
    /// (requests still in flight have taken theirs), and the most it has been seen to hold.
    fn told(&mut self, remaining: Option<f64>, now: Instant) {
        self.refill(now);
        if let Some(remaining) = remaining {
            self.tokens = self.tokens.min(remaining);
            let held = (remaining + 1.0).min(self.rate.burst);
            self.seen = Some(self.seen.map_or(held, |seen| seen.max(held)));
        }
        self.told = true;
        self.probing = false;
    }
}

/// Sends each request when ARM's bucket for it has a token, by [`Bucket`]'s reckoning, so
/// that a refresh of hundreds of resources is spread over time instead of refused with 429.
#[derive(Debug, Default)]
pub struct Pace {
    buckets: Mutex<HashMap<(String, Budget), Bucket>>,
}

/// A request taken from a bucket: ARM's answer goes back to the bucket when it comes, and a
/// request dropped before its answer (cancelled) frees the bucket's first request all the same.
struct Taken<'a> {
    pace: &'a Pace,
    key: (String, Budget),
    remaining: Option<f64>,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.pace.told(&self.key, self.remaining);
    }
}

impl Pace {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Budget), Bucket>> {
        self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn take(&self, key: &(String, Budget)) {
        loop {
            let wait = {
                let mut buckets = self.lock();
                match buckets.entry(key.clone()).or_insert_with(|| Bucket::new(key.1.rate())).take(Instant::now()) {
                    Ok(()) => return,
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn told(&self, key: &(String, Budget), remaining: Option<f64>) {
        if let Some(bucket) = self.lock().get_mut(key) {
            bucket.told(remaining, Instant::now());
        }
    }
}

/// The subscription a request's path is under; `None` for the tenant-level endpoints.
fn subscription_of(path: &str) -> Option<String> {
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next()) {
        (Some(first), Some(subscription)) if first.eq_ignore_ascii_case("subscriptions") => {
            Some(subscription.to_ascii_lowercase())
        }
        _ => None,
    }
}

#[async_trait::async_trait]
impl Policy for Pace {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let Some(subscription) = subscription_of(request.url().path()) else {
            return next[0].send(ctx, request, &next[1..]).await;
        };
        let budget = Budget::of(&request.method());
        let key = (subscription, budget);
        self.take(&key).await;
        let mut taken = Taken { pace: self, key, remaining: None };
        let answer = next[0].send(ctx, request, &next[1..]).await;
        // The fewer of the two, where ARM gives them.
        taken.remaining = answer.as_ref().ok().and_then(|response| {
            let told = budget.remaining().into_iter().filter_map(|header| {
                response.headers().get_optional_str(&header).and_then(|v| v.trim().parse::<f64>().ok())
            });
            told.reduce(f64::min)
        });
        drop(taken);
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_sends_one_request_until_arm_has_said_what_is_left_then_keeps_to_it() {
        let start = Instant::now();
        let mut bucket = Bucket::new(READS);
        assert!(bucket.take(start).is_ok());
        assert!(bucket.take(start).is_err(), "a second request waits for the first's answer");
        bucket.told(Some(2.0), start);
        assert!(bucket.take(start).is_ok());
        assert!(bucket.take(start).is_ok());
        let wait = bucket.take(start).unwrap_err();
        assert!(wait > Duration::from_millis(30) && wait <= Duration::from_millis(40), "{wait:?}");
        // Refilled at ARM's rate, up to no more than ARM was seen to hold.
        assert!(bucket.take(start + Duration::from_millis(40)).is_ok());
        bucket.refill(start + Duration::from_secs(60));
        assert_eq!(bucket.tokens, 3.0);
    }

    #[tokio::test]
    async fn a_first_request_dropped_before_its_answer_does_not_hold_up_the_others() {
        let pace = Pace::default();
        let key = ("s".to_string(), Budget::Read);
        pace.take(&key).await;
        drop(Taken { pace: &pace, key: key.clone(), remaining: None });
        let next = tokio::time::timeout(Duration::from_secs(1), pace.take(&key)).await;
        assert!(next.is_ok(), "the bucket still waits for the dropped request's answer");
    }

    #[test]
    fn what_arm_says_is_left_lowers_the_count_but_never_raises_it_past_the_requests_sent() {
        let start = Instant::now();
        let mut bucket = Bucket::new(WRITES);
        bucket.take(start).unwrap();
        bucket.told(Some(150.0), start);
        assert_eq!(bucket.tokens, 150.0);
        bucket.take(start).unwrap();
        bucket.told(Some(190.0), start);
        assert_eq!(bucket.tokens, 149.0, "another request's answer, older than this run's count");
        assert_eq!(bucket.seen, Some(191.0));
        bucket.told(None, start);
        assert_eq!(bucket.tokens, 149.0);
    }
}
