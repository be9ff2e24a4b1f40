//! Ingest role: runs each configured source of an account through the
//! [`smo_ingest::Ingestor`], with cursors and health (last error, posts
//! fetched, last run) checkpointed in the SQL store. File sources run once to
//! the end (resuming from their cursor); polled sources (HTTP JSON,
//! Mastodon, Reddit, Hacker News, Bluesky, feeds, YouTube) run on their own
//! interval until shutdown, a failing one marked unhealthy while the others
//! go on; under [`run_sources`] both run at the same time, each source in its
//! own task. Webhooks are served on their listen address, shared by every
//! account of the process that names it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use smo_bus::SharedBus;
use smo_ingest::http::HttpClient;
use smo_ingest::webhook::{WebhookRegistry, serve_registry};
use smo_ingest::{Checkpoints, IngestError, IngestStats, Ingestor, SourceConfig, WebhookEndpoint, scheduler};
use smo_proto::AccountId;
use smo_store::Store;
use tokio::sync::{Mutex, watch};

/// The SQL store as the ingest checkpoint store.
pub struct StoreCheckpoints(pub Store);

#[async_trait]
impl Checkpoints for StoreCheckpoints {
    async fn load(&self, account: &AccountId, source: &str) -> Result<Option<String>, IngestError> {
        let cursor =
            self.0.get_cursor(account, source).await.map_err(|e| IngestError::Checkpoint(e.to_string()))?;
        Ok(cursor.and_then(|c| c.cursor))
    }

    async fn save(
        &self,
        account: &AccountId,
        source: &str,
        cursor: &str,
        fetched: u64,
    ) -> Result<(), IngestError> {
        self.0
            .save_cursor(account, source, cursor, fetched)
            .await
            .map_err(|e| IngestError::Checkpoint(e.to_string()))
    }

    async fn record_error(&self, account: &AccountId, source: &str, error: &str) -> Result<(), IngestError> {
        self.0
            .record_source_error(account, source, error)
            .await
            .map_err(|e| IngestError::Checkpoint(e.to_string()))
    }
}

/// The ingestor of `account` checkpointing in `store`.
pub fn ingestor(account: &AccountId, bus: SharedBus, store: Store) -> Ingestor {
    Ingestor::new(account.clone(), bus, Arc::new(StoreCheckpoints(store)))
}

/// One pass of one source of any polled or file kind (until drained).
pub async fn poll_config(
    ingestor: &Ingestor,
    config: &SourceConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<IngestStats, IngestError> {
    scheduler::poll_once(ingestor, config, HttpClient::shared()?, stop).await
}

/// Runs every file source of `account` once to its end; returns the totals.
pub async fn run_file_sources(
    account: &AccountId,
    sources: &[SourceConfig],
    bus: SharedBus,
    store: Store,
    shutdown: watch::Receiver<bool>,
) -> Result<IngestStats, IngestError> {
    let ingestor = ingestor(account, bus, store);
    let mut total = IngestStats::default();
    for config in sources.iter().filter(|s| matches!(s, SourceConfig::File(_))) {
        let mut source = config.build(account)?;
        let stop = || *shutdown.borrow();
        let stats = ingestor.run_until_exhausted(source.as_mut(), &stop).await?;
        total.published += stats.published;
        total.rejected += stats.rejected;
        total.batches += stats.batches;
    }
    Ok(total)
}

/// Runs every source of `account` until shutdown: file backfills (resuming
/// from their checkpoints) and polled sources at the same time, so a long
/// backfill does not hold up polling, and its webhooks served. A failing
/// source is recorded on its health and retried with backoff (a failed
/// backfill resumes from its checkpoint at the next start) while the others
/// go on.
pub async fn run_sources(
    account: AccountId,
    sources: Vec<SourceConfig>,
    bus: SharedBus,
    store: Store,
    shutdown: watch::Receiver<bool>,
) {
    let ingestor = Arc::new(ingestor(&account, bus, store));
    let http = match HttpClient::shared() {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%account, %error, "no HTTP client; sources not started");
            return;
        }
    };
    for config in sources.iter().filter(|s| matches!(s, SourceConfig::Webhook(_))) {
        if let Err(error) = serve_webhook(&ingestor, config, &shutdown).await {
            let error = ingestor.record_failure(&config.source_name(), error).await;
            tracing::error!(%account, source = %config.source_name(), %error, "webhook not served");
        }
    }
    scheduler::run_sources(ingestor, sources, http, shutdown).await;
}

/// Listeners of this process by address, each serving a registry that any
/// account can add its webhooks to.
fn listeners() -> &'static Mutex<HashMap<SocketAddr, WebhookRegistry>> {
    static LISTENERS: OnceLock<Mutex<HashMap<SocketAddr, WebhookRegistry>>> = OnceLock::new();
    LISTENERS.get_or_init(Default::default)
}

/// Adds the webhook of `config` to the listener of its address, binding the
/// address on first use.
async fn serve_webhook(
    ingestor: &Arc<Ingestor>,
    config: &SourceConfig,
    shutdown: &watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let SourceConfig::Webhook(webhook) = config else { return Ok(()) };
    let invalid = |key: &str, reason: String| IngestError::Config {
        source_name: config.source_name(),
        key: key.to_owned(),
        reason,
    };
    let endpoint = Arc::new(WebhookEndpoint::new(ingestor.account().clone(), webhook, Arc::clone(ingestor))?);
    let addr = webhook.listen_addr().map_err(|reason| invalid("listen", reason))?;
    let mut listeners = listeners().lock().await;
    let registry = match listeners.get(&addr) {
        Some(registry) => registry.clone(),
        None => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| invalid("listen", format!("cannot listen on {addr}: {e}")))?;
            let registry = WebhookRegistry::default();
            let serving = registry.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                if let Err(error) = serve_registry(listener, serving, stop).await {
                    tracing::error!(%addr, %error, "webhook listener failed");
                }
            });
            tracing::info!(%addr, "serving webhooks");
            listeners.insert(addr, registry.clone());
            registry
        }
    };
    let path = endpoint.path().to_owned();
    if !registry.insert(endpoint) {
        return Err(invalid("path", format!("{path} is already served on {addr}")));
    }
    tracing::info!(account = %ingestor.account(), %addr, %path, "webhook ready");
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::settings::{ENV_OVERRIDES, RawConfig, Settings};

    fn parse(text: &str) -> Result<Settings, smo_runtime::ConfigError> {
        let raw: RawConfig = smo_runtime::parse_config(text, "t", ENV_OVERRIDES, Vec::new())?;
        Settings::validate(raw)
    }

    const ACCOUNT: &str = "[[accounts]]\nid = \"a\"\n[[accounts.sources]]\n";

    #[test]
    fn every_source_kind_parses_with_its_defaults() {
        let text = format!(
            "{ACCOUNT}kind = \"mastodon\"\nname = \"tag\"\ninstance = \"https://mastodon.social\"\nhashtag = \"skyways\"\n\
             [[accounts.sources]]\nkind = \"reddit\"\nname = \"sub\"\nsubreddit = \"skyways\"\n\
             [[accounts.sources]]\nkind = \"hackernews\"\nname = \"hn\"\nquery = \"skyways\"\n\
             [[accounts.sources]]\nkind = \"bluesky\"\nname = \"bsky\"\nsearch = \"skyways\"\n\
             [[accounts.sources]]\nkind = \"rss\"\nname = \"forum\"\nurl = \"https://forum.example/latest.rss\"\n\
             [[accounts.sources]]\nkind = \"youtube\"\nname = \"yt\"\nchannel_id = \"UC123\"\nkey_env = \"SMO_YT_KEY\"\n\
             [[accounts.sources]]\nkind = \"webhook\"\nname = \"zap\"\nlisten = \"127.0.0.1:8088\"\nsecret_env = \"SMO_WEBHOOK_SECRET\"\n"
        );
        let settings = parse(&text).expect("valid");
        let names: Vec<String> = settings.accounts[0].sources.iter().map(|s| s.source_name()).collect();
        assert_eq!(
            names,
            [
                "mastodon:tag",
                "reddit:sub",
                "hackernews:hn",
                "bluesky:bsky",
                "feed:forum",
                "youtube:yt",
                "webhook:zap"
            ]
        );
        let intervals: Vec<Option<u64>> =
            settings.accounts[0].sources.iter().map(|s| s.interval().map(|i| i.as_secs())).collect();
        assert_eq!(intervals, [Some(120), Some(300), Some(300), Some(120), Some(600), Some(600), None]);
    }

    #[test]
    fn source_errors_name_the_key() {
        let cases = [
            (
                "kind = \"mastodon\"\nname = \"m\"\ninstance = \"mastodon.social\"\nhashtag = \"x\"\n",
                "sources[0].instance",
            ),
            ("kind = \"mastodon\"\nname = \"m\"\ninstance = \"https://m.example\"\n", "sources[0].hashtag"),
            ("kind = \"reddit\"\nname = \"r\"\nsubreddit = \"x\"\nlimit = 500\n", "sources[0].limit"),
            ("kind = \"youtube\"\nname = \"y\"\nchannel_id = \"UC1\"\n", "sources[0].key_env"),
            (
                "kind = \"webhook\"\nname = \"w\"\nlisten = \"nowhere\"\nsecret_env = \"S\"\n",
                "sources[0].listen",
            ),
            ("kind = \"bluesky\"\nname = \"b\"\nsearch = \"x\"\nauthor = \"y\"\n", "sources[0].search"),
            ("kind = \"hackernews\"\nname = \"h\"\nquery = \"x\"\nqeury = \"typo\"\n", "sources[0]"),
            (
                "kind = \"reddit\"\nname = \"t\"\nsubreddit = \"x\"\nthread = \"1h0003\"\nsearch = \"y\"\n",
                "sources[0].thread",
            ),
            ("kind = \"reddit\"\nname = \"t\"\nthread = \"1h0003\"\n", "sources[0].subreddit"),
            (
                "kind = \"mastodon\"\nname = \"l\"\ninstance = \"https://m.example\"\nlist_id = \"7\"\n",
                "sources[0].token_env",
            ),
            ("kind = \"gopher\"\nname = \"g\"\n", "sources[0]"),
        ];
        for (source, key) in cases {
            let text = format!("{ACCOUNT}{source}");
            let err = parse(&text).expect_err(source);
            assert!(err.to_string().contains(&format!("accounts[0].{key}")), "{source:?}: {err}");
        }
    }

    #[test]
    fn a_reddit_thread_parses_and_inline_tokens_never_print() {
        let text = format!(
            "{ACCOUNT}kind = \"reddit\"\nname = \"launch\"\nsubreddit = \"skyways\"\nthread = \"t3_1h0003\"\nlimit = 500\n\
             token = \"reddit-inline-s3cret\"\n\
             [[accounts.sources]]\nkind = \"mastodon\"\nname = \"team\"\ninstance = \"https://m.example\"\nlist_id = \"7\"\n\
             token = \"mastodon-inline-s3cret\"\n"
        );
        let settings = parse(&text).expect("valid");
        let sources = &settings.accounts[0].sources;
        assert_eq!(sources[0].source_name(), "reddit:launch");
        assert_eq!(sources[0].interval().map(|i| i.as_secs()), Some(300));
        let printed = format!("{sources:?}");
        assert!(printed.contains("1h0003") && !printed.contains("s3cret"), "{printed}");
    }
}
