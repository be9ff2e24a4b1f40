//! An account's community policy: which team's queue a case goes to
//! (routing rules), its priority level, its SLA, how long a resolved case can
//! be reopened and how long an agent may sit on a case. Stored as one JSON
//! document per account (`CommunitySettings`), so every process reads the
//! same, and compiled into an [`AccountPolicy`].

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use smo_proto::{CasePriority, EnrichedPost};
use smo_store::DEFAULT_REOPEN_WINDOW;

use crate::CommunityError;
use crate::sla::{SlaPolicy, SlaPolicyConfig};

/// A condition on an enriched post, as a routing rule uses it. The classify
/// crate's rule language plugs in here through a [`ConditionCompiler`]; the
/// built-in [`SimpleConditions`] covers field matches meanwhile.
pub trait CaseCondition: Send + Sync + std::fmt::Debug {
    /// Whether `post` satisfies the condition.
    fn matches(&self, post: &EnrichedPost) -> bool;
}

/// Turns a rule's expression into a condition.
pub trait ConditionCompiler: Send + Sync {
    /// Compiles `expression`; the error says why it is invalid.
    fn compile(&self, expression: &str) -> Result<Box<dyn CaseCondition>, String>;
}

/// The interim rule syntax: terms joined by `AND`, each `lang:xx`, `tag:x`,
/// `intent:x`, `author:x` or a bare word the text must contain
/// (case-insensitive).
#[derive(Debug, Clone, Copy, Default)]
pub struct SimpleConditions;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Lang(String),
    Tag(String),
    Intent(String),
    Author(String),
    Word(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllOf(Vec<Term>);

impl CaseCondition for AllOf {
    fn matches(&self, post: &EnrichedPost) -> bool {
        self.0.iter().all(|term| match term {
            Term::Lang(lang) => post.language.code.eq_ignore_ascii_case(lang),
            Term::Tag(tag) => post.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)),
            Term::Intent(intent) => post.intent.as_str() == intent,
            Term::Author(author) => post.post.author.handle.eq_ignore_ascii_case(author),
            Term::Word(word) => post.post.text.to_lowercase().contains(word),
        })
    }
}

impl ConditionCompiler for SimpleConditions {
    fn compile(&self, expression: &str) -> Result<Box<dyn CaseCondition>, String> {
        let mut terms = Vec::new();
        for raw in expression.split(" AND ") {
            let raw = raw.trim();
            if raw.is_empty() {
                return Err(format!("empty term in {expression:?}"));
            }
            let term = match raw.split_once(':') {
                Some(("lang", v)) => Term::Lang(v.to_lowercase()),
                Some(("tag", v)) => Term::Tag(v.to_lowercase()),
                Some(("intent", v)) => Term::Intent(v.to_lowercase()),
                Some(("author", v)) => Term::Author(v.trim_start_matches('@').to_lowercase()),
                Some((field, _)) => return Err(format!("unknown field {field:?}")),
                None => Term::Word(raw.to_lowercase()),
            };
            terms.push(term);
        }
        Ok(Box::new(AllOf(terms)))
    }
}

/// A routing rule as configured: posts matching `when` go to `team`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleConfig {
    /// A name for logs and errors.
    pub name: String,
    /// The condition.
    pub when: String,
    /// The team whose queue gets the case.
    pub team: String,
}

/// The community settings of an account, as stored (JSON) and configured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunitySettings {
    /// Routing rules, first match wins.
    #[serde(default)]
    pub routing: Vec<RoutingRuleConfig>,
    /// The team of cases no rule matches; none: the general queue.
    #[serde(default)]
    pub default_team: Option<String>,
    /// The SLA policy; none: no SLA clocks.
    #[serde(default)]
    pub sla: Option<SlaPolicyConfig>,
    /// Hours after resolving during which a follow-up reopens the case (default 168).
    #[serde(default)]
    pub reopen_window_hours: Option<u32>,
    /// Minutes an agent may hold an assigned case without acting on it
    /// before it returns to the queue; none: no limit.
    #[serde(default)]
    pub inactivity_timeout_minutes: Option<u32>,
}

/// A compiled routing rule.
#[derive(Debug)]
pub struct RoutingRule {
    /// Its name.
    pub name: String,
    /// Its condition.
    pub condition: Box<dyn CaseCondition>,
    /// Its team.
    pub team: String,
}

/// The compiled policy of an account.
#[derive(Debug)]
pub struct AccountPolicy {
    /// Routing rules, first match wins.
    pub routing: Vec<RoutingRule>,
    /// The team when no rule matches.
    pub default_team: Option<String>,
    /// The SLA, if any.
    pub sla: Option<SlaPolicy>,
    /// The reopen window.
    pub reopen_window: TimeDelta,
    /// The inactivity limit, if any.
    pub inactivity_timeout: Option<TimeDelta>,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            routing: Vec::new(),
            default_team: None,
            sla: None,
            reopen_window: DEFAULT_REOPEN_WINDOW,
            inactivity_timeout: None,
        }
    }
}

impl AccountPolicy {
    /// Compiles `settings`, rule conditions with `compiler`; errors name the key.
    pub fn compile(
        settings: &CommunitySettings,
        compiler: &dyn ConditionCompiler,
    ) -> Result<Self, CommunityError> {
        let routing = settings
            .routing
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                if rule.team.trim().is_empty() {
                    return Err(CommunityError::Config(format!("routing[{i}].team: empty")));
                }
                let condition = compiler
                    .compile(&rule.when)
                    .map_err(|why| CommunityError::Config(format!("routing[{i}].when: {why}")))?;
                Ok(RoutingRule { name: rule.name.clone(), condition, team: rule.team.clone() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sla = settings.sla.as_ref().map(SlaPolicy::from_config).transpose().map_err(|e| {
            CommunityError::Config(format!("sla.{}", e.to_string().trim_start_matches("configuration: ")))
        })?;
        Ok(Self {
            routing,
            default_team: settings.default_team.clone(),
            sla,
            reopen_window: settings
                .reopen_window_hours
                .map_or(DEFAULT_REOPEN_WINDOW, |h| TimeDelta::hours(i64::from(h))),
            inactivity_timeout: settings.inactivity_timeout_minutes.map(|m| TimeDelta::minutes(i64::from(m))),
        })
    }

    /// The team whose queue `post`'s case goes to.
    pub fn team_for(&self, post: &EnrichedPost) -> Option<String> {
        self.routing
            .iter()
            .find(|rule| rule.condition.matches(post))
            .map(|rule| rule.team.clone())
            .or_else(|| self.default_team.clone())
    }
}

/// The priority level of a classifier urgency score in `[0, 1]`.
pub fn level_of(priority: f32) -> CasePriority {
    match priority {
        p if p >= 0.85 => CasePriority::Urgent,
        p if p >= 0.6 => CasePriority::High,
        p if p >= 0.3 => CasePriority::Normal,
        _ => CasePriority::Low,
    }
}
