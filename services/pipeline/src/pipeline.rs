//! The assembled pipeline of one process: bus, store, indexes and classifier
//! opened from [`Settings`], topology declared, agents synced, and stage
//! workers spawned for the roles and accounts asked for. [`Pipeline::launch`]
//! is the only code that spawns stage workers, ingest included; a caller that
//! needs to observe a stage (the replay benchmark times community batches)
//! wraps its handler through a [`HandlerHook`] instead of copying the loop.

use std::collections::HashMap;
use std::sync::Arc;

use smo_bus::SharedBus;
use smo_bus::worker::BatchHandler;
use smo_classify::{AccountProfile, Classifier};
use smo_community::CaseOpener;
use smo_index::IndexRoot;
use smo_ingest::IngestStats;
use smo_proto::AccountId;
use smo_proto::topology::Stage;
use smo_runtime::redact::redact_url;
use smo_store::Store;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::PipelineError;
use crate::settings::{AccountSettings, Settings};
use crate::stages;

/// Everything a process needs to run stages.
pub struct Pipeline {
    /// Validated settings.
    pub settings: Settings,
    /// The bus.
    pub bus: SharedBus,
    /// The SQL store.
    pub store: Store,
    /// The per-account indexes.
    pub index_root: IndexRoot,
    classifier: Arc<Classifier>,
    profiles: HashMap<AccountId, Arc<AccountProfile>>,
}

/// Wraps a stage's handler before its worker starts, so a caller can observe
/// batches (time them, count them) while the stage itself runs unchanged.
pub trait HandlerHook: Send + Sync {
    /// The handler to run for `stage` of `account`; `handler` is the stage's own.
    fn wrap(
        &self,
        stage: Stage,
        account: &AccountId,
        handler: Box<dyn BatchHandler>,
    ) -> Box<dyn BatchHandler>;
}

/// What [`Pipeline::launch`] starts.
pub struct Launch<'a> {
    /// The roles to run.
    pub roles: &'a [Stage],
    /// The accounts to run them for.
    pub accounts: &'a [AccountId],
    /// With the ingest role: read the file sources to their end and stop
    /// (the demo and the benchmarks), instead of running every source until
    /// shutdown (`smo run`).
    pub files_only: bool,
    /// Wraps each consuming stage's handler, if set.
    pub hook: Option<&'a dyn HandlerHook>,
}

impl<'a> Launch<'a> {
    /// `roles` for `accounts`, every source until shutdown, no hook.
    pub fn new(roles: &'a [Stage], accounts: &'a [AccountId]) -> Self {
        Self { roles, accounts, files_only: false, hook: None }
    }
}

/// The tasks a launch started.
pub struct Running {
    /// Workers that run until shutdown.
    workers: JoinSet<()>,
    /// File ingest of each account when launched with `files_only`.
    files: JoinSet<(AccountId, Result<IngestStats, smo_ingest::IngestError>)>,
}

impl Running {
    /// Adds a task that runs beside the workers (e.g. a metrics endpoint).
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.workers.spawn(task);
    }

    /// Waits until each account's file sources are read to their end (only
    /// with `files_only`); the totals in the order of the launch's accounts.
    pub async fn files_done(&mut self, accounts: &[AccountId]) -> Result<Vec<IngestStats>, PipelineError> {
        let mut done = HashMap::new();
        while let Some(joined) = self.files.join_next().await {
            let (account, result) = joined.map_err(|e| PipelineError::Panicked(e.to_string()))?;
            let stats =
                result.map_err(|source| PipelineError::Ingest { account: account.clone(), source })?;
            done.insert(account, stats);
        }
        Ok(accounts.iter().map(|a| done.remove(a).unwrap_or_default()).collect())
    }

    /// Waits for every worker to return (after shutdown).
    pub async fn join(mut self) -> Result<(), PipelineError> {
        self.files.abort_all();
        while let Some(joined) = self.workers.join_next().await {
            joined.map_err(|e| PipelineError::Panicked(e.to_string()))?;
        }
        Ok(())
    }
}

impl Pipeline {
    /// Connects to the bus and the store, runs migrations, declares the
    /// topology and syncs agents of every configured account, and compiles
    /// their tag rules.
    pub async fn open(settings: Settings) -> Result<Self, PipelineError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| PipelineError::DataDir { path: settings.data_dir.clone(), source })?;
        let bus =
            smo_bus::connect(&settings.bus_url, &smo_bus::BusOptions::default()).await.map_err(|source| {
                PipelineError::Bus {
                    what: format!("connecting to bus {}", redact_url(&settings.bus_url)),
                    source,
                }
            })?;
        let store_error = |what: String| move |source| PipelineError::Store { what, source };
        let store = smo_store::connect(&settings.store_url)
            .await
            .map_err(store_error(format!("connecting to store {}", redact_url(&settings.store_url))))?;
        store.migrate().await.map_err(store_error("running store migrations".into()))?;
        smo_bus::topology::declare_shared(bus.as_ref())
            .await
            .map_err(|source| PipelineError::Bus { what: "declaring bus topology".into(), source })?;
        let mut profiles = HashMap::new();
        for account in &settings.accounts {
            smo_bus::topology::declare_account(bus.as_ref(), &account.id).await.map_err(|source| {
                PipelineError::Bus { what: format!("declaring queues of account {}", account.id), source }
            })?;
            // Agents (skills, capacity), teams and routing/SLA settings come
            // from the config at every start, like `smo agents sync`.
            let now = chrono::Utc::now();
            store
                .sync_roster(&account.id, &account.roster, now)
                .await
                .map_err(store_error(format!("syncing agents of {}", account.id)))?;
            CaseOpener::new(store.clone())
                .save_settings(&account.id, &account.community, now)
                .await
                .map_err(|source| PipelineError::Community { account: account.id.clone(), source })?;
            profiles.insert(account.id.clone(), Arc::clone(&account.profile));
        }
        let index_root = IndexRoot::new(&settings.index_dir);
        let classifier = Arc::new(load_classifier(&settings.classify_models_dir)?);
        Ok(Self { settings, bus, store, index_root, classifier, profiles })
    }

    /// Starts `launch.roles` for `launch.accounts` until `shutdown`: one
    /// worker per consuming (stage, account), queue upkeep and the outbox
    /// with the community role, and each account's sources with ingest.
    pub fn launch(
        &self,
        launch: Launch<'_>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Running, PipelineError> {
        let mut running = Running { workers: JoinSet::new(), files: JoinSet::new() };
        for account in launch.accounts {
            let profile = self
                .profiles
                .get(account)
                .cloned()
                .ok_or_else(|| PipelineError::UnknownAccount(account.clone()))?;
            for &stage in launch.roles {
                let handler: Box<dyn BatchHandler> = match stage {
                    Stage::Ingest => {
                        self.spawn_ingest(account, launch.files_only, shutdown, &mut running)?;
                        continue;
                    }
                    Stage::Classify => Box::new(stages::classify::ClassifyHandler::new(
                        account.clone(),
                        Arc::clone(&self.classifier),
                        Arc::clone(&profile),
                        Arc::clone(&self.bus),
                    )),
                    Stage::Index => {
                        Box::new(stages::index::IndexHandler::new(account.clone(), self.index_root.clone()))
                    }
                    Stage::Community => Box::new(stages::community::CommunityHandler::new(
                        account.clone(),
                        CaseOpener::new(self.store.clone()),
                    )),
                };
                let handler = match launch.hook {
                    Some(hook) => hook.wrap(stage, account, handler),
                    None => handler,
                };
                let policy = stages::batch_policy(stage, &self.settings.batches);
                let prefetch = self.settings.prefetch.max(policy.max_messages.min(u16::MAX as usize) as u16);
                running.workers.spawn(stages::supervisor::supervise(
                    Arc::clone(&self.bus),
                    stage,
                    account.clone(),
                    prefetch,
                    policy,
                    handler,
                    shutdown.clone(),
                ));
            }
        }
        if launch.roles.contains(&Stage::Community) {
            let opener = CaseOpener::new(self.store.clone());
            let every = stages::upkeep::UPKEEP_EVERY;
            running.workers.spawn(stages::upkeep::run_upkeep(
                opener,
                launch.accounts.to_vec(),
                every,
                shutdown.clone(),
            ));
            let outbox = stages::upkeep::outbox_worker(&self.settings, self.store.clone())?;
            running.workers.spawn(outbox.run(shutdown.clone()));
        }
        Ok(running)
    }

    /// The ingest role of one account: its file sources read to their end
    /// (`files_only`), or every source run until shutdown.
    fn spawn_ingest(
        &self,
        account: &AccountId,
        files_only: bool,
        shutdown: &watch::Receiver<bool>,
        running: &mut Running,
    ) -> Result<(), PipelineError> {
        let sources = self.account(account)?.sources.clone();
        let (bus, store, account, stop) =
            (self.bus.clone(), self.store.clone(), account.clone(), shutdown.clone());
        if files_only {
            running.files.spawn(async move {
                let stats = stages::ingest::run_file_sources(&account, &sources, bus, store, stop).await;
                (account, stats)
            });
        } else {
            running.workers.spawn(async move {
                // File backfills run alongside the polled sources, so a long
                // backfill does not hold up polling.
                stages::ingest::run_sources(account, sources, bus, store, stop.clone()).await;
                // A worker process stays up until told to stop, also when its
                // sources are done: supervisors treat an exit as a failure.
                let mut stop = stop;
                smo_runtime::shutdown::fired(&mut stop).await;
            });
        }
        Ok(())
    }

    /// The settings of a configured account.
    pub fn account(&self, account: &AccountId) -> Result<&AccountSettings, PipelineError> {
        Ok(self.settings.account(account.as_str())?)
    }
}

/// The classifier with the trained models of `dir` (`classify.models_dir`).
/// A missing directory or model file falls back to the built-in lexicons
/// and rules with a warning, so a checkout without models still runs; a
/// damaged or incompatible model file is an error.
pub fn load_classifier(dir: &std::path::Path) -> Result<Classifier, PipelineError> {
    if !dir.is_dir() {
        tracing::warn!(dir = %dir.display(), "models directory not found: sentiment and complaints use the built-in lexicons and rules");
        return Ok(Classifier::new());
    }
    let classifier = Classifier::with_models(dir)
        .map_err(|source| PipelineError::Models { dir: dir.to_path_buf(), source })?;
    if classifier.sentiment_model().is_none() {
        tracing::warn!(dir = %dir.display(), "no sentiment.smo: sentiment uses the built-in lexicon");
    }
    if classifier.complaint_model().is_none() {
        tracing::warn!(dir = %dir.display(), "no complaint.smo: complaints use the built-in rules");
    }
    tracing::debug!(version = classifier.version(), "classifier loaded");
    Ok(classifier)
}
