//! SLA policies: per account and priority, how soon the first response and
//! each next response are due in business time, and which escalation rules
//! act before and at a breach. The store keeps each case's clock (due time,
//! or business seconds left while paused); this module computes those values
//! and sweeps the cases whose rules are due.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smo_proto::{AccountId, CasePriority, CaseStatus};
use smo_runtime::FieldError;
use smo_store::{CaseRow, Escalation, EscalationAction, SlaClock, Store};

use crate::CommunityError;
use crate::calendar::{BusinessCalendar, HoursConfig};

/// The name of the built-in rule that records a breach when a target is missed.
pub const BREACH_RULE: &str = "sla_breached";

/// Response targets of one priority level, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The level these targets apply to: `low`, `normal`, `high`, `urgent`.
    pub priority: String,
    /// Business minutes to the first response; none: no first-response SLA.
    #[serde(default)]
    pub first_response_minutes: Option<u32>,
    /// Business minutes to answer each follow-up after a response.
    #[serde(default)]
    pub next_response_minutes: Option<u32>,
}

/// One escalation rule, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRuleConfig {
    /// A unique name, recorded on the case when the rule fires.
    pub name: String,
    /// Levels it applies to; empty: all.
    #[serde(default)]
    pub priorities: Vec<String>,
    /// Fire this many business minutes before the breach; absent: at the breach.
    #[serde(default)]
    pub before_breach_minutes: Option<u32>,
    /// What to do.
    pub actions: Vec<EscalationAction>,
}

/// An account's SLA policy, as configured (TOML or the stored settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyConfig {
    /// IANA time zone of the business hours, e.g. `Europe/Madrid`.
    #[serde(default = "utc")]
    pub time_zone: String,
    /// Working hours; none: around the clock.
    #[serde(default)]
    pub business_hours: Vec<HoursConfig>,
    /// Days without business hours.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Targets per priority level; levels without one have no SLA.
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    /// Escalation rules.
    #[serde(default)]
    pub escalations: Vec<EscalationRuleConfig>,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// A validated escalation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationRule {
    /// Its name.
    pub name: String,
    /// Levels it applies to; empty: all.
    pub priorities: Vec<CasePriority>,
    /// Business seconds before the breach; `None`: at the breach.
    pub before_breach_secs: Option<i64>,
    /// What to do.
    pub actions: Vec<EscalationAction>,
}

impl EscalationRule {
    fn applies_to(&self, level: CasePriority) -> bool {
        self.priorities.is_empty() || self.priorities.contains(&level)
    }
}

/// Response targets in business seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// To the first response.
    pub first_response_secs: Option<i64>,
    /// To each next response.
    pub next_response_secs: Option<i64>,
}

/// A validated SLA policy: computes due times and which escalations are due.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicy {
    calendar: BusinessCalendar,
    targets: HashMap<CasePriority, Targets>,
    rules: Vec<EscalationRule>,
}

fn level(value: &str, key: &str) -> Result<CasePriority, CommunityError> {
    CasePriority::parse(value.trim()).ok_or_else(|| {
        CommunityError::Invalid(FieldError::new(
            key.to_string(),
            format!("{value:?} is not low, normal, high or urgent"),
        ))
    })
}

fn minutes(value: Option<u32>) -> Option<i64> {
    value.map(|m| i64::from(m) * 60)
}

impl SlaPolicy {
    /// Validates `config`; errors name the offending key.
    pub fn from_config(config: &SlaPolicyConfig) -> Result<Self, CommunityError> {
        let calendar = BusinessCalendar::new(&config.time_zone, &config.business_hours, &config.holidays)?;
        let mut targets = HashMap::new();
        for (i, target) in config.targets.iter().enumerate() {
            let level = level(&target.priority, &format!("targets[{i}].priority"))?;
            let values = Targets {
                first_response_secs: minutes(target.first_response_minutes),
                next_response_secs: minutes(target.next_response_minutes),
            };
            if targets.insert(level, values).is_some() {
                return Err(CommunityError::Invalid(FieldError::new(
                    format!("targets[{i}]"),
                    format!("{} is listed twice", level.as_str()),
                )));
            }
        }
        let mut rules: Vec<EscalationRule> = Vec::new();
        for (i, rule) in config.escalations.iter().enumerate() {
            let key = format!("escalations[{i}]");
            if rule.name.trim().is_empty() || rule.name == BREACH_RULE {
                return Err(CommunityError::Invalid(FieldError::new(
                    format!("{key}.name"),
                    "empty or reserved",
                )));
            }
            if rules.iter().any(|r| r.name == rule.name) {
                return Err(CommunityError::Invalid(FieldError::new(
                    format!("{key}.name"),
                    format!("{:?} is used twice", rule.name),
                )));
            }
            if rule.actions.is_empty() {
                return Err(CommunityError::Invalid(FieldError::new(format!("{key}.actions"), "no action")));
            }
            let priorities = rule
                .priorities
                .iter()
                .enumerate()
                .map(|(j, p)| level(p, &format!("{key}.priorities[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            rules.push(EscalationRule {
                name: rule.name.clone(),
                priorities,
                before_breach_secs: minutes(rule.before_breach_minutes),
                actions: rule.actions.clone(),
            });
        }
        // Every breach is recorded, whatever the configured rules.
        rules.push(EscalationRule {
            name: BREACH_RULE.to_owned(),
            priorities: Vec::new(),
            before_breach_secs: None,
            actions: vec![EscalationAction::MarkBreached],
        });
        Ok(Self { calendar, targets, rules })
    }

    /// A policy over `calendar` with these targets and rules (plus the
    /// built-in breach rule); for callers that build policies in code.
    pub fn new(
        calendar: BusinessCalendar,
        targets: HashMap<CasePriority, Targets>,
        mut rules: Vec<EscalationRule>,
    ) -> Self {
        rules.push(EscalationRule {
            name: BREACH_RULE.to_owned(),
            priorities: Vec::new(),
            before_breach_secs: None,
            actions: vec![EscalationAction::MarkBreached],
        });
        Self { calendar, targets, rules }
    }

    /// Its business calendar.
    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }

    fn targets(&self, level: CasePriority) -> Targets {
        self.targets.get(&level).copied().unwrap_or_default()
    }

    /// When the first response to a case of `level` opened at `opened_at` is due.
    pub fn first_response_due(&self, level: CasePriority, opened_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.targets(level).first_response_secs.map(|secs| self.calendar.add(opened_at, secs))
    }

    /// When the answer to a follow-up written at `at` is due.
    pub fn next_response_due(&self, level: CasePriority, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.targets(level).next_response_secs.map(|secs| self.calendar.add(at, secs))
    }

    /// What a status change does to `case`'s clock on business time:
    /// waiting on the customer pauses it with the business seconds left,
    /// coming back resumes it that many business seconds from `now`.
    pub fn clock_for(&self, case: &CaseRow, to: CaseStatus, now: DateTime<Utc>) -> SlaClock {
        match (to, case.sla_due_at, case.sla_paused_secs) {
            (CaseStatus::WaitingOnCustomer, Some(due), _) => {
                SlaClock::Pause { remaining_secs: self.calendar.between(now, due) }
            }
            (CaseStatus::Assigned | CaseStatus::Queued, None, Some(remaining)) => {
                let due_at = if remaining > 0 {
                    self.calendar.add(now, remaining)
                } else {
                    now - Duration::seconds(remaining.saturating_neg())
                };
                SlaClock::Resume { due_at }
            }
            _ => SlaClock::Auto,
        }
    }

    /// The longest lead of any rule, in business seconds.
    fn max_lead_secs(&self) -> i64 {
        self.rules.iter().filter_map(|r| r.before_breach_secs).max().unwrap_or(0)
    }

    /// The escalations due on `case` at `now`: rules for its level whose
    /// time came (that many business seconds or fewer before its due time,
    /// or past it). The store fires each once per case and SLA round.
    pub fn escalations_due(&self, case: &CaseRow, now: DateTime<Utc>) -> Vec<Escalation> {
        let Some(due) = case.sla_due_at else { return Vec::new() };
        let target = case.sla_target.map_or("SLA", |t| t.as_str());
        let remaining = self.calendar.between(now, due);
        self.rules
            .iter()
            .filter(|rule| rule.applies_to(case.level))
            .filter(|rule| match rule.before_breach_secs {
                Some(lead) => remaining <= lead,
                None => now >= due,
            })
            .map(|rule| Escalation {
                rule: rule.name.clone(),
                sla_round: case.sla_round,
                actions: rule.actions.clone(),
                reason: match rule.before_breach_secs {
                    Some(lead) if now < due => format!(
                        "{target} due at {due} is {} business minutes away (rule fires {} before)",
                        remaining / 60,
                        lead / 60
                    ),
                    _ => format!("{target} was due at {due}"),
                },
            })
            .collect()
    }

    /// Fires the escalations due on the account's cases at `now`; returns
    /// (case id, rule) for each rule that fired now. Safe to run from
    /// several processes: each rule fires once per case and SLA round.
    pub async fn sweep(
        &self,
        store: &Store,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, String)>, CommunityError> {
        let horizon = self.calendar.add(now, self.max_lead_secs()) + Duration::seconds(1);
        let cases = store.sla_watchlist(account, horizon, 1000).await?;
        let mut fired = Vec::new();
        for case in cases {
            for escalation in self.escalations_due(&case, now) {
                if store.escalate(account, case.id, &escalation, now).await? {
                    tracing::info!(account = %account, case = case.id, rule = %escalation.rule, "escalated");
                    fired.push((case.id, escalation.rule));
                }
            }
        }
        Ok(fired)
    }
}
