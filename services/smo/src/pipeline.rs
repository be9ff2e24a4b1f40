//! The assembled pipeline of one process: bus, store, indexes and classifier
//! opened from [`Settings`], topology declared, agents synced, and stage
//! workers spawned for the roles and accounts asked for.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use smo_bus::SharedBus;
use smo_bus::worker::BatchPolicy;
use smo_classify::{AccountProfile, Classifier, TagRule};
use smo_community::CaseOpener;
use smo_index::IndexRoot;
use smo_proto::AccountId;
use smo_proto::topology::Stage;
use smo_store::Store;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{AccountSettings, Settings};
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

impl Pipeline {
    /// Connects to the bus and the store, runs migrations, declares the
    /// topology and syncs agents of every configured account, and compiles
    /// their tag rules.
    pub async fn open(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
        let bus = smo_bus::connect(&settings.bus_url, &smo_bus::BusOptions::default())
            .await
            .with_context(|| format!("connecting to bus {}", redact(&settings.bus_url)))?;
        let store = smo_store::connect(&settings.store_url)
            .await
            .with_context(|| format!("connecting to store {}", redact(&settings.store_url)))?;
        store.migrate().await.context("running store migrations")?;
        smo_bus::topology::declare_shared(bus.as_ref()).await.context("declaring bus topology")?;
        let mut profiles = HashMap::new();
        for (i, account) in settings.accounts.iter().enumerate() {
            smo_bus::topology::declare_account(bus.as_ref(), &account.id)
                .await
                .with_context(|| format!("declaring queues of account {}", account.id))?;
            // Agents (skills, capacity), teams and routing/SLA settings come
            // from the config at every start, like `smo agents sync`.
            let now = chrono::Utc::now();
            store
                .sync_roster(&account.id, &account.roster, now)
                .await
                .with_context(|| format!("syncing agents of {}", account.id))?;
            CaseOpener::new(store.clone())
                .save_settings(&account.id, &account.community, now)
                .await
                .with_context(|| format!("saving community settings of {}", account.id))?;
            let profile = profile_of(account)
                .with_context(|| format!("config key `accounts[{i}]` (tags or languages)"))?;
            profiles.insert(account.id.clone(), Arc::new(profile));
        }
        let index_root = IndexRoot::new(&settings.index_dir);
        let classifier = Arc::new(load_classifier(&settings.classify_models_dir)?);
        Ok(Self { settings, bus, store, index_root, classifier, profiles })
    }

    /// Spawns one worker per (stage, account) for the consuming roles in
    /// `roles`; ingest is started separately (see [`stages::ingest`]).
    pub fn spawn_workers(
        &self,
        roles: &[Stage],
        accounts: &[AccountId],
        shutdown: &watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) -> anyhow::Result<()> {
        for account in accounts {
            let profile = self
                .profiles
                .get(account)
                .cloned()
                .with_context(|| format!("account {account} is not configured"))?;
            for &stage in roles {
                let (handler, policy): (Box<dyn smo_bus::worker::BatchHandler>, BatchPolicy) = match stage {
                    Stage::Ingest => continue,
                    Stage::Classify => (
                        Box::new(stages::classify::ClassifyHandler::new(
                            account.clone(),
                            Arc::clone(&self.classifier),
                            Arc::clone(&profile),
                            Arc::clone(&self.bus),
                        )),
                        BatchPolicy {
                            max_messages: self.settings.classify_batch_posts,
                            max_wait: std::time::Duration::from_millis(50),
                        },
                    ),
                    Stage::Index => (
                        Box::new(stages::index::IndexHandler::new(account.clone(), self.index_root.clone())),
                        BatchPolicy {
                            max_messages: self.settings.index_batch_posts,
                            max_wait: self.settings.index_batch_wait,
                        },
                    ),
                    Stage::Community => (
                        Box::new(stages::community::CommunityHandler::new(
                            account.clone(),
                            CaseOpener::new(self.store.clone()),
                        )),
                        stages::community::COMMUNITY_BATCH,
                    ),
                };
                let prefetch = self.settings.prefetch.max(policy.max_messages.min(u16::MAX as usize) as u16);
                tasks.spawn(stages::supervisor::supervise(
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
        if roles.contains(&Stage::Community) {
            let opener = CaseOpener::new(self.store.clone());
            let every = stages::upkeep::UPKEEP_EVERY;
            tasks.spawn(stages::upkeep::run_upkeep(opener, accounts.to_vec(), every, shutdown.clone()));
            let outbox = stages::upkeep::outbox_worker(&self.settings, self.store.clone())?;
            tasks.spawn(outbox.run(shutdown.clone()));
        }
        Ok(())
    }

    /// The settings of a configured account.
    pub fn account(&self, account: &AccountId) -> anyhow::Result<&AccountSettings> {
        Ok(self.settings.account(account.as_str())?)
    }
}

/// The classifier profile of an account: compiled tags and candidate languages.
pub fn profile_of(account: &AccountSettings) -> anyhow::Result<AccountProfile> {
    let rules: Vec<TagRule> =
        account.tags.iter().map(|tag| TagRule::new(tag.name.clone(), tag.keywords.clone())).collect();
    let languages = if account.languages.is_empty() { None } else { Some(account.languages.clone()) };
    Ok(AccountProfile::new(&rules, languages)?)
}

/// The classifier with the trained models of `dir` (`classify.models_dir`).
/// A missing directory or model file falls back to the built-in lexicons
/// and rules with a warning, so a checkout without models still runs; a
/// damaged or incompatible model file is an error.
pub fn load_classifier(dir: &std::path::Path) -> anyhow::Result<Classifier> {
    if !dir.is_dir() {
        tracing::warn!(dir = %dir.display(), "models directory not found: sentiment and complaints use the built-in lexicons and rules");
        return Ok(Classifier::new());
    }
    let classifier = Classifier::with_models(dir).with_context(|| {
        format!("loading models from {} (config key `classify.models_dir`)", dir.display())
    })?;
    if classifier.sentiment_model().is_none() {
        tracing::warn!(dir = %dir.display(), "no sentiment.smo: sentiment uses the built-in lexicon");
    }
    if classifier.complaint_model().is_none() {
        tracing::warn!(dir = %dir.display(), "no complaint.smo: complaints use the built-in rules");
    }
    tracing::debug!(version = classifier.version(), "classifier loaded");
    Ok(classifier)
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => {
                    format!("{}{}:***{}", &url[..scheme_end + 3], &credentials[..colon], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
