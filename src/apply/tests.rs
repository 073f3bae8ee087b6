//! The executor's order and its writes of the state, on a plan of a namespace and many
//! Services, with a provider that answers at once and a backend that remembers each write.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::check::bench_support::generate_services_stack;
use crate::diag::SourceMap;
use crate::state::{LockGuard, LockInfo};

/// What each write held: the addresses recorded.
#[derive(Default)]
struct Writes(Mutex<Vec<BTreeSet<String>>>);

impl Writes {
    fn all(&self) -> Vec<BTreeSet<String>> {
        self.0.lock().unwrap().clone()
    }
}

impl Backend for Writes {
    fn lock(&self, _info: LockInfo) -> Result<Box<dyn LockGuard>, StateError> {
        unreachable!("the executor runs under its caller's lock")
    }

    fn read(&self) -> Result<Option<State>, StateError> {
        Ok(None)
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        self.0.lock().unwrap().push(state.resources.iter().map(|r| r.address.to_string()).collect());
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// Applies after a short wait, noting for every Service whether its namespace had been
/// written when it started.
struct Answering {
    writes: Arc<Writes>,
    namespace_unwritten_at_start: Mutex<Vec<Address>>,
}

#[async_trait::async_trait]
impl Provider for Answering {
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        let namespace_written = self.writes.all().iter().any(|w| w.contains("namespace.apps"));
        if request.address.kind == crate::model::Kind::Service && !namespace_written {
            self.namespace_unwritten_at_start.lock().unwrap().push(request.address.clone());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(Applied { provider_id: request.address.to_string(), computed: Attributes::new() })
    }

    async fn read(&self, _existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        unreachable!("the executor does not read")
    }

    async fn delete(&self, _existing: Existing<'_>) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<crate::providers::Owned>, ProviderError> {
        Ok(Vec::new())
    }
}

struct One(Arc<Answering>);

impl Router for One {
    fn provider(&self, _address: &Address, _attributes: &Attributes) -> Result<Arc<dyn Provider>, ProviderError> {
        Ok(self.0.clone())
    }
}

struct Quiet;

impl Observer for Quiet {
    fn started(&self, _address: &Address, _operation: Operation) {}
    fn finished(&self, _: &Address, _: Operation, _: Result<&Attributes, &ProviderError>, _: Duration) {}
}

#[tokio::test]
async fn dependents_start_once_written_and_steps_finishing_together_share_a_write() {
    const SERVICES: usize = 300;
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", generate_services_stack("s", "apps", SERVICES));
    let loaded = crate::stack::from_sources(sources, Vec::new(), None, &[], &|_| None);
    let desired = loaded.stack.resources();
    // The Kubernetes part alone, as `--target namespace --target service` gives it.
    let plan = crate::plan::plan(&desired, &State::new("s")).unwrap().plan.only(|a| a.kind.is_kubernetes());
    let writes = Arc::new(Writes::default());
    let provider =
        Arc::new(Answering { writes: Arc::clone(&writes), namespace_unwritten_at_start: Mutex::new(Vec::new()) });
    let run = Run {
        plan: &plan,
        desired: &desired,
        backend: writes.as_ref(),
        router: &One(Arc::clone(&provider)),
        observer: &Quiet,
        options: Options { parallelism: 10 },
    };
    let (state, report) = execute(run, State::new("s"), std::future::pending()).await;

    assert!(report.succeeded(), "{report:?}");
    assert_eq!(state.resources.len(), SERVICES + 1);
    assert!(
        provider.namespace_unwritten_at_start.lock().unwrap().is_empty(),
        "Services started before their namespace was written"
    );
    let writes = writes.all();
    assert_eq!(writes.last().map(BTreeSet::len), Some(SERVICES + 1), "the last write holds everything");
    // The namespace alone first, since everything waits on it; then the Services in groups.
    assert_eq!(writes[0], BTreeSet::from(["namespace.apps".to_string()]));
    assert!(writes.len() < SERVICES / 2, "{} writes for {} steps", writes.len(), SERVICES + 1);
    assert!(writes.windows(2).all(|w| w[0].is_subset(&w[1])), "a write lost a resource");
}
