//! The `smo.toml` shape and its validation. Parsed with
//! [`smo_runtime::load_config`] (TOML plus `SMO_…` overrides, e.g.
//! `SMO_BUS__URL`), then validated into [`Settings`], whose errors name the
//! offending key. Relative paths are relative to the working directory.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use smo_classify::{AccountProfile, TagRule};
use smo_ingest::SourceConfig;
use smo_proto::AccountId;
use smo_runtime::{ConfigError, EnvOverrides};

/// `SMO_…` variables override these top-level keys (and anything below
/// them); other `SMO_…` variables (`SMO_CONFIG`, `SMO_METRICS_ADDR`,
/// `SMO_TEST_…`) are not configuration keys.
pub const ENV_OVERRIDES: EnvOverrides<'static> =
    EnvOverrides { prefix: "SMO", keys: &["data_dir", "bus", "store", "index", "classify", "accounts"] };

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Where embedded files live (bus and store SQLite files, indexes, reports).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Message bus.
    #[serde(default)]
    pub bus: RawBus,
    /// SQL store.
    #[serde(default)]
    pub store: RawStore,
    /// Search indexes.
    #[serde(default)]
    pub index: RawIndex,
    /// Classification stage.
    #[serde(default)]
    pub classify: RawClassify,
    /// Client accounts.
    #[serde(default)]
    pub accounts: Vec<RawAccount>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from(".smo")
}

/// `[bus]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBus {
    /// `amqp://…` for RabbitMQ, `sqlite://FILE` for the embedded queue;
    /// default: `sqlite://{data_dir}/bus.sqlite`.
    pub url: Option<String>,
    /// Unacked deliveries per consumer.
    pub prefetch: Option<u16>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// `postgres://…` or `sqlite://FILE`; default `sqlite://{data_dir}/smo.sqlite`.
    pub url: Option<String>,
}

/// `[index]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIndex {
    /// Directory of the per-account indexes; default `{data_dir}/index`.
    pub dir: Option<PathBuf>,
    /// Posts per commit at most.
    pub batch_max_posts: Option<usize>,
    /// Longest wait before committing a partial batch, in milliseconds.
    pub batch_max_wait_ms: Option<u64>,
}

/// `[classify]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassify {
    /// Posts classified and published per round at most.
    pub batch_max_posts: Option<usize>,
    /// Directory of trained models (`sentiment.smo`, `complaint.smo`);
    /// default `config/models`. Missing: lexicons and rules, with a warning.
    pub models_dir: Option<PathBuf>,
}

/// `[[accounts]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    /// The account slug.
    pub id: String,
    /// Display name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Agents answering this account's cases, in round-robin order.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Candidate languages for detection (ISO 639-1); empty: all.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Topic tags.
    #[serde(default)]
    pub tags: Vec<RawTag>,
    /// Where this account's posts come from.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Agents with skills and capacity (`[[accounts.agent_profiles]]`:
    /// name, languages, topics, capacity); they join `agents`.
    #[serde(default)]
    pub agent_profiles: Vec<smo_store::AgentSpec>,
    /// Teams (`[[accounts.teams]]`: name, members).
    #[serde(default)]
    pub teams: Vec<smo_store::TeamSpec>,
    /// Routing rules, SLA policy, reopen window and inactivity limit
    /// (`[accounts.community]`); applied with `smo agents sync`.
    #[serde(default)]
    pub community: Option<smo_community::CommunitySettings>,
    /// Where agents' replies go (`[accounts.outbound]`: the client's signed
    /// webhook); none: replies are recorded only.
    #[serde(default)]
    pub outbound: Option<smo_outbound::OutboundConfig>,
}

/// `[[accounts.tags]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTag {
    /// The tag's name.
    pub name: String,
    /// Words or phrases; `deliver*` is a prefix, `#tag` a hashtag.
    pub keywords: Vec<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Embedded data directory.
    pub data_dir: PathBuf,
    /// Bus URL.
    pub bus_url: String,
    /// Consumer prefetch.
    pub prefetch: u16,
    /// Store URL.
    pub store_url: String,
    /// Index directory.
    pub index_dir: PathBuf,
    /// Batch sizes and waits set in the config; each stage's defaults sit
    /// next to its handler (see [`crate::stages::batch_policy`]).
    pub batches: BatchOverrides,
    /// Trained models directory.
    pub classify_models_dir: PathBuf,
    /// Accounts.
    pub accounts: Vec<AccountSettings>,
}

/// Batch settings given in the config (`classify.batch_max_posts`,
/// `index.batch_max_posts`, `index.batch_max_wait_ms`); `None` keeps the
/// stage's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOverrides {
    /// Posts classified and published per round at most.
    pub classify_max_posts: Option<NonZeroUsize>,
    /// Posts per index commit at most.
    pub index_max_posts: Option<NonZeroUsize>,
    /// Longest wait before committing a partial index batch.
    pub index_max_wait: Option<Duration>,
}

/// One validated account.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// Its id.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// Candidate languages.
    pub languages: Vec<String>,
    /// Topic tags.
    pub tags: Vec<RawTag>,
    /// Sources.
    pub sources: Vec<SourceConfig>,
    /// Agents (plain names as generalists, then profiles) and teams.
    pub roster: smo_store::Roster,
    /// Community settings (routing, SLA, windows).
    pub community: smo_community::CommunitySettings,
    /// The compiled tags and candidate languages the classifier uses.
    pub profile: Arc<AccountProfile>,
    /// The outbound connector for replies (values checked).
    pub outbound: Option<smo_outbound::OutboundConfig>,
    /// Its signing secret, resolved from the config or the environment by
    /// [`Settings::check_environment`].
    pub outbound_secret: Option<smo_runtime::Secret>,
}

impl Settings {
    /// Loads `path` with `SMO_…` environment overrides, validates it into
    /// types, then checks what it names outside itself.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = smo_runtime::load_config(path, ENV_OVERRIDES)?;
        let mut settings = Self::validate(raw)?;
        settings.check_environment()?;
        Ok(settings)
    }

    /// Validates the raw shape into types without touching the file system
    /// or the environment: URLs, non-zero sizes, unique names, compiled tag
    /// rules and routing policies. Errors name the key.
    pub fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let data_dir = raw.data_dir;
        let bus_url =
            raw.bus.url.unwrap_or_else(|| format!("sqlite://{}", data_dir.join("bus.sqlite").display()));
        if !(bus_url.starts_with("amqp://")
            || bus_url.starts_with("amqps://")
            || bus_url.starts_with("sqlite:"))
        {
            return Err(ConfigError::invalid(
                "bus.url",
                format!("{bus_url:?}: expected amqp://… or sqlite://…"),
            ));
        }
        let store_url =
            raw.store.url.unwrap_or_else(|| format!("sqlite://{}", data_dir.join("smo.sqlite").display()));
        if !(store_url.starts_with("postgres://")
            || store_url.starts_with("postgresql://")
            || store_url.starts_with("sqlite:"))
        {
            return Err(ConfigError::invalid(
                "store.url",
                format!("{store_url:?}: expected postgres://… or sqlite://…"),
            ));
        }
        let prefetch = raw.bus.prefetch.unwrap_or(500);
        if prefetch == 0 {
            return Err(ConfigError::invalid("bus.prefetch", "must be at least 1"));
        }
        let batches = BatchOverrides {
            classify_max_posts: positive(raw.classify.batch_max_posts, "classify.batch_max_posts")?,
            index_max_posts: positive(raw.index.batch_max_posts, "index.batch_max_posts")?,
            index_max_wait: raw.index.batch_max_wait_ms.map(Duration::from_millis),
        };

        let mut seen_accounts = HashSet::new();
        let mut accounts = Vec::with_capacity(raw.accounts.len());
        for (i, account) in raw.accounts.into_iter().enumerate() {
            let key = |field: &str| format!("accounts[{i}].{field}");
            let id =
                AccountId::new(account.id).map_err(|e| ConfigError::invalid(key("id"), e.to_string()))?;
            if !seen_accounts.insert(id.clone()) {
                return Err(ConfigError::invalid(key("id"), format!("account {id} is defined twice")));
            }
            let mut seen_agents = HashSet::new();
            for (j, agent) in account.agents.iter().enumerate() {
                if agent.trim().is_empty() {
                    return Err(ConfigError::invalid(key(&format!("agents[{j}]")), "empty agent name"));
                }
                if !seen_agents.insert(agent) {
                    return Err(ConfigError::invalid(
                        key(&format!("agents[{j}]")),
                        format!("agent {agent} listed twice"),
                    ));
                }
            }
            for (j, tag) in account.tags.iter().enumerate() {
                if tag.name.trim().is_empty() {
                    return Err(ConfigError::invalid(key(&format!("tags[{j}].name")), "empty tag name"));
                }
                if tag.keywords.iter().all(|k| k.trim().is_empty()) {
                    return Err(ConfigError::invalid(key(&format!("tags[{j}].keywords")), "no keywords"));
                }
            }
            let mut seen_sources = HashSet::new();
            for (j, source) in account.sources.iter().enumerate() {
                if source.name().trim().is_empty() {
                    return Err(ConfigError::invalid(
                        key(&format!("sources[{j}].name")),
                        "empty source name",
                    ));
                }
                if !seen_sources.insert(source.name().to_owned()) {
                    return Err(ConfigError::invalid(
                        key(&format!("sources[{j}].name")),
                        format!("source {} defined twice", source.name()),
                    ));
                }
                source.validate().map_err(|e| e.under(&key(&format!("sources[{j}]"))))?;
            }
            let mut roster_agents: Vec<smo_store::AgentSpec> =
                account.agents.iter().map(smo_store::AgentSpec::named).collect();
            for (j, profile) in account.agent_profiles.iter().enumerate() {
                if profile.name.trim().is_empty() || !seen_agents.insert(&profile.name) {
                    return Err(ConfigError::invalid(
                        key(&format!("agent_profiles[{j}].name")),
                        format!("agent {:?} is empty or listed twice", profile.name),
                    ));
                }
                roster_agents.push(profile.clone());
            }
            let roster = smo_store::Roster { agents: roster_agents, teams: account.teams };
            for (j, team) in roster.teams.iter().enumerate() {
                if let Some(member) =
                    team.members.iter().find(|m| !roster.agents.iter().any(|a| &a.name == *m))
                {
                    return Err(ConfigError::invalid(
                        key(&format!("teams[{j}].members")),
                        format!("{member} is not an agent of the account"),
                    ));
                }
            }
            let community = account.community.unwrap_or_default();
            smo_community::AccountPolicy::compile(&community).map_err(|e| match e {
                smo_community::CommunityError::Invalid(field) => field.under(&key("community")),
                other => ConfigError::invalid(key("community"), other.to_string()),
            })?;
            if let Some(outbound) = &account.outbound {
                outbound.check().map_err(|e| e.under(&key("outbound")))?;
            }
            let rules: Vec<TagRule> =
                account.tags.iter().map(|tag| TagRule::new(tag.name.clone(), tag.keywords.clone())).collect();
            let languages = (!account.languages.is_empty()).then(|| account.languages.clone());
            let profile = AccountProfile::new(&rules, languages).map_err(|e| {
                ConfigError::invalid(format!("accounts[{i}]"), format!("tags or languages: {e}"))
            })?;
            accounts.push(AccountSettings {
                profile: Arc::new(profile),
                outbound: account.outbound,
                outbound_secret: None,
                name: account.name.unwrap_or_else(|| id.to_string()),
                id,
                roster,
                community,
                languages: account.languages,
                tags: account.tags,
                sources: account.sources,
            });
        }
        Ok(Self {
            index_dir: raw.index.dir.unwrap_or_else(|| data_dir.join("index")),
            data_dir,
            bus_url,
            prefetch,
            store_url,
            batches,
            classify_models_dir: raw.classify.models_dir.unwrap_or_else(|| PathBuf::from("config/models")),
            accounts,
        })
    }

    /// Checks what the settings name outside themselves: file sources are
    /// readable files, and outbound signing secrets resolve (inline, or from
    /// the environment variable named), which are kept for the outbox.
    pub fn check_environment(&mut self) -> Result<(), ConfigError> {
        for (i, account) in self.accounts.iter_mut().enumerate() {
            for (j, source) in account.sources.iter().enumerate() {
                if let SourceConfig::File(file) = source
                    && !file.path.is_file()
                {
                    return Err(ConfigError::invalid(
                        format!("accounts[{i}].sources[{j}].path"),
                        format!("{} is not a readable file", file.path.display()),
                    ));
                }
            }
            if let Some(outbound) = &account.outbound {
                let secret =
                    outbound.resolve_secret().map_err(|e| e.under(&format!("accounts[{i}].outbound")))?;
                account.outbound_secret = Some(secret);
            }
        }
        Ok(())
    }

    /// The accounts named on a command line (`--accounts a,b`), or every
    /// configured account when none is named; an unknown name is an error.
    pub fn select_accounts(&self, names: &[String]) -> Result<Vec<AccountId>, ConfigError> {
        if names.is_empty() {
            return Ok(self.accounts.iter().map(|a| a.id.clone()).collect());
        }
        names.iter().map(|name| Ok(self.account(name.trim())?.id.clone())).collect()
    }

    /// The settings of `account`, or an error naming the known ones.
    pub fn account(&self, account: &str) -> Result<&AccountSettings, ConfigError> {
        self.accounts.iter().find(|a| a.id.as_str() == account).ok_or_else(|| {
            let known: Vec<&str> = self.accounts.iter().map(|a| a.id.as_str()).collect();
            ConfigError::invalid(
                "accounts",
                format!("no account {account:?} (configured: {})", known.join(", ")),
            )
        })
    }
}

fn positive(value: Option<usize>, key: &str) -> Result<Option<NonZeroUsize>, ConfigError> {
    match value {
        None => Ok(None),
        Some(value) => {
            NonZeroUsize::new(value).map(Some).ok_or_else(|| ConfigError::invalid(key, "must be at least 1"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        let raw: RawConfig = smo_runtime::parse_config(text, "t", ENV_OVERRIDES, Vec::new())?;
        let mut settings = Settings::validate(raw)?;
        settings.check_environment()?;
        Ok(settings)
    }

    #[test]
    fn defaults_point_into_the_data_dir() {
        let settings = parse("data_dir = \"/tmp/x\"\n").expect("valid");
        assert_eq!(settings.bus_url, "sqlite:///tmp/x/bus.sqlite");
        assert_eq!(settings.store_url, "sqlite:///tmp/x/smo.sqlite");
        assert_eq!(settings.index_dir, PathBuf::from("/tmp/x/index"));
    }

    #[test]
    fn environment_overrides_apply_and_foreign_variables_do_not_break_loading() {
        let vars = vec![
            ("SMO_BUS__URL".to_owned(), "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned()),
            ("SMO_DATA_DIR".to_owned(), "/srv/smo".to_owned()),
            ("SMO_CONFIG".to_owned(), "/etc/smo.toml".to_owned()),
            ("SMO_TEST_AMQP_URL".to_owned(), "amqp://elsewhere".to_owned()),
        ];
        let raw: RawConfig = smo_runtime::parse_config("", "t", ENV_OVERRIDES, vars).expect("valid");
        let settings = Settings::validate(raw).expect("valid");
        assert_eq!(settings.bus_url, "amqp://guest:guest@127.0.0.1:5672/%2f");
        assert_eq!(settings.store_url, "sqlite:///srv/smo/smo.sqlite");
    }

    #[test]
    fn community_keys_build_the_roster_and_policy() {
        let text = r#"
[[accounts]]
id = "a"
agents = ["ann"]
[[accounts.agent_profiles]]
name = "bea"
languages = ["es"]
topics = ["billing"]
capacity = 3
[[accounts.teams]]
name = "billing-es"
members = ["bea"]
[accounts.community]
default_team = "billing-es"
reopen_window_hours = 48
inactivity_timeout_minutes = 10
[[accounts.community.routing]]
name = "es billing"
when = "lang:es AND tag:billing"
team = "billing-es"
[accounts.community.sla]
time_zone = "Europe/Madrid"
holidays = ["2026-12-25"]
[[accounts.community.sla.business_hours]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "18:00"
[[accounts.community.sla.targets]]
priority = "high"
first_response_minutes = 60
next_response_minutes = 30
[[accounts.community.sla.escalations]]
name = "supervisors"
actions = [{ action = "move_to_team", team = "billing-es" }, { action = "notify", destination = "https://hooks.example/sla" }]
[accounts.outbound]
webhook_url = "https://crm.example/smo/replies"
secret = "whsec-1"
max_attempts = 5
"#;
        let settings = parse(text).expect("valid");
        let account = &settings.accounts[0];
        let names: Vec<&str> = account.roster.agents.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ann", "bea"]);
        assert_eq!(account.roster.agents[1].capacity, Some(3));
        assert_eq!(account.roster.teams[0].members, ["bea"]);
        assert_eq!(account.community.routing.len(), 1);
        assert!(account.community.sla.is_some());
        let (outbound, secret) =
            (account.outbound.as_ref().expect("outbound"), account.outbound_secret.as_ref().expect("secret"));
        assert_eq!(
            (outbound.webhook_url.as_str(), outbound.max_attempts),
            ("https://crm.example/smo/replies", 5)
        );
        assert_eq!(secret.expose(), "whsec-1");
    }

    /// The commented community example in the shipped `config/smo.toml`
    /// stays valid: uncommented, it parses and validates.
    #[test]
    fn the_shipped_community_example_is_valid() {
        let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/smo.toml"))
            .expect("read");
        let start = shipped.find("# [[accounts.agent_profiles]]").expect("example present");
        let block: String = shipped[start..]
            .lines()
            .take_while(|line| line.starts_with('#'))
            .map(|line| line.trim_start_matches('#').trim_start())
            .map(|line| line.replace("secret_env = \"SMO_ACME_AIR_OUTBOUND_SECRET\"", "secret = \"x\""))
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("[[accounts]]\nid = \"a\"\nagents = [\"ann\"]\n{block}\n");
        let settings = parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
        let account = &settings.accounts[0];
        assert_eq!(account.community.routing.len(), 1);
        assert!(account.community.sla.is_some() && account.outbound.is_some());
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[[accounts]]\nid = \"Bad.Id\"\n", "accounts[0].id"),
            ("[[accounts]]\nid = \"a\"\n[[accounts]]\nid = \"a\"\n", "accounts[1].id"),
            ("[[accounts]]\nid = \"a\"\nagents = [\"x\", \"x\"]\n", "accounts[0].agents[1]"),
            ("[bus]\nurl = \"redis://x\"\n", "bus.url"),
            ("[bus]\nprefetch = 0\n", "bus.prefetch"),
            ("[store]\nurl = \"mysql://x\"\n", "store.url"),
            (
                "[[accounts]]\nid = \"a\"\n[[accounts.sources]]\nkind = \"file\"\nname = \"s\"\npath = \"/nonexistent.ndjson\"\n",
                "accounts[0].sources[0].path",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[[accounts.sources]]\nkind = \"file\"\nname = \"s\"\npath = \"/x\"\npth = 1\n",
                "accounts[0].sources[0]",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[[accounts.tags]]\nname = \"t\"\nkeywords = []\n",
                "accounts[0].tags[0].keywords",
            ),
            ("[index]\nbatch_max_posts = 0\n", "index.batch_max_posts"),
            (
                "[[accounts]]\nid = \"a\"\nagents = [\"x\"]\n[[accounts.agent_profiles]]\nname = \"x\"\n",
                "accounts[0].agent_profiles[0].name",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[[accounts.teams]]\nname = \"t\"\nmembers = [\"zed\"]\n",
                "accounts[0].teams[0].members",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[accounts.community.sla]\ntime_zone = \"Nowhere/Land\"\n",
                "accounts[0].community",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[[accounts.community.routing]]\nname = \"r\"\nwhen = \"refund OR\"\nteam = \"t\"\n",
                "accounts[0].community",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[accounts.outbound]\nwebhook_url = \"https://x\"\nsecret_env = \"SMO_TEST_UNSET_OUTBOUND_2\"\n",
                "accounts[0].outbound.secret_env",
            ),
            (
                "[[accounts]]\nid = \"a\"\n[accounts.outbound]\nwebhook_url = \"ftp://x\"\nsecret = \"s\"\n",
                "accounts[0].outbound.webhook_url",
            ),
        ];
        for (text, key) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.to_string().contains(key), "{text:?}: {err}");
        }
    }
}
