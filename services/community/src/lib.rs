//! Community management: complaints and questions become cases routed to
//! agents. This crate holds the domain rules (which enriched posts need a
//! human answer, what a case shows, which team's queue it goes to, its
//! priority level and SLA on the account's business hours, which escalations
//! are due, which account may write what) and drives `smo-store`, which keeps
//! cases per conversation, routes them to agents and records every change;
//! the `smo` binary wires it to the bus and acks a batch only after
//! [`CaseOpener::open_batch`] returns `Ok`.

mod calendar;
mod canned;
mod error;
mod new_case;
mod opener;
mod policy;
mod sla;

pub use calendar::{BusinessCalendar, HoursConfig};
pub use canned::{TemplateError, case_variables, choose, render, template_variables};
pub use error::{CommunityError, PostRejected};
pub use new_case::{EXCERPT_MAX_CHARS, new_case_from, new_case_with, text_excerpt};
pub use opener::{CaseOpener, OpenBatchReport, POLICY_REFRESH, PostOutcome, Upkeep};
pub use policy::{AccountPolicy, CommunitySettings, RoutingRule, RoutingRuleConfig, level_of};
pub use sla::{
    BREACH_RULE, EscalationRule, EscalationRuleConfig, SlaPolicy, SlaPolicyConfig, TargetConfig, Targets,
};
