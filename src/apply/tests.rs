//! The executor's order and its writes of the state, on a plan of a namespace and many
//! Services, with a provider that answers at once and a backend that remembers each write.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aksform_testkit::large::generate_services_stack;

use super::*;
use crate::diag::SourceMap;
use crate::model::Kind;
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

    fn force_unlock(&self, _id: &str) -> Result<LockInfo, StateError> {
        unreachable!("the executor never unlocks")
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// Applies and deletes after a short wait, noting every step that started before what it
/// depends on was written: a Service before its namespace, the namespace's delete before
/// the deletes of its Services.
struct Answering {
    writes: Arc<Writes>,
    started_too_early: Mutex<Vec<Address>>,
}

impl Answering {
    fn last_write(&self) -> BTreeSet<String> {
        self.writes.all().pop().unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Provider for Answering {
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        if request.address.kind == Kind::Service && !self.last_write().contains("namespace.apps") {
            self.started_too_early.lock().unwrap().push(request.address.clone());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(Applied { provider_id: request.address.to_string(), computed: Attributes::new() })
    }

    async fn read(&self, _existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        unreachable!("the executor does not read")
    }

    async fn delete(&self, existing: Existing<'_>) -> Result<(), ProviderError> {
        if existing.address.kind == Kind::Namespace && self.last_write().iter().any(|a| a.starts_with("service.")) {
            self.started_too_early.lock().unwrap().push(existing.address.clone());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<crate::providers::Owned>, ProviderError> {
        Ok(Vec::new())
    }
}

/// Every step to the one provider.
struct One<P>(Arc<P>);

impl<P: Provider + 'static> Router for One<P> {
    fn provider(&self, _address: &Address, _attributes: &Attributes) -> Result<Arc<dyn Provider>, ProviderError> {
        Ok(self.0.clone())
    }
}

struct Quiet;

impl Observer for Quiet {
    fn started(&self, _address: &Address, _operation: Operation) {}
    fn finished(&self, _: &Address, _: Operation, _: Result<&Attributes, &ProviderError>, _: Duration) {}
}

fn run<'a>(plan: &'a Plan, desired: &'a [Resource], writes: &'a Writes, router: &'a One<Answering>) -> Run<'a> {
    Run {
        plan,
        desired,
        backend: writes,
        router,
        observer: &Quiet,
        options: Options { parallelism: 10, kubernetes_parallelism: 10 },
    }
}

#[tokio::test]
async fn dependents_start_once_written_and_steps_finishing_together_share_a_write() {
    const SERVICES: usize = 300;
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", generate_services_stack("s", "apps", SERVICES));
    let loaded = crate::loading::from_sources(sources, Vec::new(), None, &[], &|_| None);
    let desired = loaded.stack.resources();
    let kubernetes = |a: &Address| a.kind.is_kubernetes();
    let writes = Arc::new(Writes::default());
    let provider = Arc::new(Answering { writes: Arc::clone(&writes), started_too_early: Mutex::new(Vec::new()) });
    let router = One(Arc::clone(&provider));

    // The Kubernetes part alone, as `--target namespace --target service` gives it.
    let plan = crate::plan::plan(&desired, &State::new("s")).unwrap().plan.only(kubernetes);
    let (state, report) =
        execute(run(&plan, &desired, &writes, &router), State::new("s"), std::future::pending()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(state.resources.len(), SERVICES + 1);
    let applied = writes.all();
    assert_eq!(applied.last().map(BTreeSet::len), Some(SERVICES + 1), "the last write holds everything");
    // The namespace alone first, since everything waits on it; then the Services in groups.
    assert_eq!(applied[0], BTreeSet::from(["namespace.apps".to_string()]));
    assert!(applied.len() < SERVICES / 2, "{} writes for {} steps", applied.len(), SERVICES + 1);
    assert!(applied.windows(2).all(|w| w[0].is_subset(&w[1])), "a write lost a resource");

    // Destroyed in reverse: the namespace once every Service's delete is written, and the
    // Services, which nothing waits on one by one, in groups too.
    let plan = crate::plan::plan(&[], &state).unwrap().plan.only(kubernetes);
    let (state, report) = execute(run(&plan, &[], &writes, &router), state, std::future::pending()).await;
    assert!(report.succeeded(), "{report:?}");
    assert!(state.resources.is_empty());
    let destroyed = writes.all().len() - applied.len();
    assert!(destroyed < SERVICES / 2, "{destroyed} writes for {} steps", SERVICES + 1);
    assert_eq!(provider.started_too_early.lock().unwrap().clone(), Vec::<Address>::new());
}

/// Counts the steps in flight of each provider, Azure's and Kubernetes', and the most seen.
#[derive(Default)]
struct Counting {
    now: Mutex<[usize; 2]>,
    most: Mutex<[usize; 2]>,
}

impl Counting {
    async fn step(&self, address: &Address) {
        let class = usize::from(address.kind.is_kubernetes());
        {
            let mut now = self.now.lock().unwrap();
            now[class] += 1;
            let mut most = self.most.lock().unwrap();
            most[class] = most[class].max(now[class]);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.now.lock().unwrap()[class] -= 1;
    }
}

#[async_trait::async_trait]
impl Provider for Counting {
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        self.step(request.address).await;
        Ok(Applied { provider_id: request.address.to_string(), computed: Attributes::new() })
    }

    async fn read(&self, _existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        unreachable!("the executor does not read")
    }

    async fn delete(&self, existing: Existing<'_>) -> Result<(), ProviderError> {
        self.step(existing.address).await;
        Ok(())
    }

    async fn list_owned(&self) -> Result<Vec<crate::providers::Owned>, ProviderError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn azure_and_kubernetes_steps_each_run_as_many_at_once_as_their_own_limit() {
    let mut sources = SourceMap::new();
    let stack =
        generate_services_stack("s", "apps", 60) + &aksform_testkit::large::generate_azure_resources(1, 30, 0, 0);
    sources.add("main.aks", "main.aks", stack);
    let loaded = crate::loading::from_sources(sources, Vec::new(), None, &[], &|_| None);
    assert!(!loaded.diagnostics.has_errors());
    let desired = loaded.stack.resources();
    // The public IPs and the Services, as `--target public_ip --target service` gives them:
    // nothing waits on anything.
    let independent = |a: &Address| matches!(a.kind, Kind::PublicIp | Kind::Service);
    let state = State::new("s");
    let plan = crate::plan::plan(&desired, &state).unwrap().plan.only(independent);
    assert_eq!(plan.actions().len(), 90);
    let counting = Arc::new(Counting::default());
    let router = One(Arc::clone(&counting));
    let writes = Writes::default();
    let options = Options { parallelism: 2, kubernetes_parallelism: 8 };
    let run = Run { plan: &plan, desired: &desired, backend: &writes, router: &router, observer: &Quiet, options };
    let (_, report) = execute(run, state, std::future::pending()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(*counting.most.lock().unwrap(), [2, 8], "Azure's and Kubernetes' steps in flight at most");
}

/// A local state that counts whole writes and records.
struct Counted {
    inner: crate::state::LocalBackend,
    writes: std::sync::atomic::AtomicUsize,
    journaled: std::sync::atomic::AtomicUsize,
}

impl Backend for Counted {
    fn lock(&self, info: LockInfo) -> Result<Box<dyn LockGuard>, StateError> {
        self.inner.lock(info)
    }

    fn read(&self) -> Result<Option<State>, StateError> {
        self.inner.read()
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.write(state)
    }

    fn record(&self, state: &State, delta: &crate::state::journal::Delta) -> Result<bool, StateError> {
        let journaled = self.inner.record(state, delta)?;
        let counter = if journaled { &self.journaled } else { &self.writes };
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(journaled)
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        self.inner.force_unlock(id)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[tokio::test]
async fn a_local_state_gets_the_steps_in_its_journal_and_the_whole_document_at_the_start_and_end() {
    const SERVICES: usize = 200;
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", generate_services_stack("s", "apps", SERVICES));
    let loaded = crate::loading::from_sources(sources, Vec::new(), None, &[], &|_| None);
    let desired = loaded.stack.resources();
    let dir = tempfile::tempdir().unwrap();
    let inner = crate::state::LocalBackend::new(dir.path().join("s.json"));
    let backend = Counted { inner, writes: Default::default(), journaled: Default::default() };
    let _lock = backend.lock(LockInfo::new("aksform apply")).unwrap();
    let counting = Arc::new(Counting::default());
    let router = One(Arc::clone(&counting));
    let plan = crate::plan::plan(&desired, &State::new("s")).unwrap().plan.only(|a| a.kind.is_kubernetes());
    let options = Options { parallelism: 10, kubernetes_parallelism: 10 };
    let run = Run { plan: &plan, desired: &desired, backend: &backend, router: &router, observer: &Quiet, options };
    let (state, report) = execute(run, State::new("s"), std::future::pending()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(state.resources.len(), SERVICES + 1);
    // The namespace, which everything waited on, made the document; the Services went to the
    // journal; the end folded it in.
    assert_eq!(backend.writes.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert!(backend.journaled.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    assert!(!backend.inner.journal_path().exists(), "folded into the document");
    assert_eq!(crate::state::LocalBackend::new(backend.inner.path()).read().unwrap(), Some(state.clone()));
    // The version before the last write is the one the journal made, not the first document.
    let backup = std::fs::read(backend.inner.backup_path()).unwrap();
    let backup = crate::state::document::decode(&backup, "backup").unwrap();
    assert_eq!(backup.resources.len(), SERVICES + 1);
}
