//! An account's community policy: which team's queue a case goes to
//! (routing rules), its priority level, its SLA, how long a resolved case can
//! be reopened and how long an agent may sit on a case. Stored as one JSON
//! document per account (`CommunitySettings`), so every process reads the
//! same, and compiled into an [`AccountPolicy`].

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use smo_classify::rules::{PostView, Rule};
use smo_classify::text::NormalizedText;
use smo_proto::{CasePriority, EnrichedPost};
use smo_runtime::FieldError;
use smo_store::DEFAULT_REOPEN_WINDOW;

use crate::CommunityError;
use crate::sla::{SlaPolicy, SlaPolicyConfig};

/// A routing rule as configured: posts matching `when` go to `team`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleConfig {
    /// A name for logs and errors.
    pub name: String,
    /// The condition, in the classify crate's rule language (the one topics
    /// and searches use), e.g. `lang:es AND (refund OR reembolso)` or
    /// `tag:billing AND intent:complaint`.
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
    pub condition: Rule,
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
    /// Compiles `settings`; errors name the key (and, for a rule, the
    /// position in it and what was expected there).
    pub fn compile(settings: &CommunitySettings) -> Result<Self, CommunityError> {
        let routing = settings
            .routing
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                if rule.team.trim().is_empty() {
                    return Err(CommunityError::Invalid(FieldError::new(
                        format!("routing[{i}].team"),
                        "empty",
                    )));
                }
                let condition = Rule::parse(&rule.when).map_err(|why| {
                    CommunityError::Invalid(FieldError::new(format!("routing[{i}].when"), why.to_string()))
                })?;
                Ok(RoutingRule { name: rule.name.clone(), condition, team: rule.team.clone() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sla = settings.sla.as_ref().map(SlaPolicy::from_config).transpose().map_err(|e| match e {
            CommunityError::Invalid(field) => CommunityError::Invalid(field.nested("sla")),
            other => other,
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

    /// The team whose queue `post`'s case goes to: the first rule that
    /// matches, else the default team.
    pub fn team_for(&self, post: &EnrichedPost) -> Option<String> {
        if self.routing.is_empty() {
            return self.default_team.clone();
        }
        let text = NormalizedText::new(&post.post.text);
        let view = PostView::from_post(&post.post, &text)
            .with_lang(&post.language.code)
            .with_labels(
                post.tags.iter().map(String::as_str),
                post.intent.as_str(),
                post.sentiment.label.as_str(),
            )
            .with_urgency(post.urgency.iter().map(|kind| kind.as_str()));
        self.routing
            .iter()
            .find(|rule| rule.condition.matches(&view))
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
