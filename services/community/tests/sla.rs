//! SLA clocks on business hours (time zone, weekend, holiday, pause while
//! waiting on the customer) and escalations before and at the breach, with
//! explicit times; the escalation sweeps run on both backends.

// The store crate's harness: a migrated store on SQLite and on PostgreSQL.
#[macro_use]
#[path = "../../store/tests/common/mod.rs"]
mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Madrid;
use common::TestStore;
use smo_community::{
    BREACH_RULE, BusinessCalendar, EscalationRuleConfig, HoursConfig, SlaPolicy, SlaPolicyConfig,
    TargetConfig,
};
use smo_proto::{AccountId, CaseEventKind, CasePriority, CaseStatus, Intent, PostId, SlaTarget};
use smo_store::{
    AgentSpec, CaseAction, CaseCommand, EscalationAction, NewCase, OpenOptions, Roster, TeamSpec,
};

on_both_backends!(escalations_fire_before_and_at_the_breach_once, waiting_on_the_customer_pauses_the_clock);

/// Madrid local time on a day of May 2024 (Wed 1 is a holiday here, 4–5 a weekend).
fn madrid(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Madrid.with_ymd_and_hms(2024, 5, day, hour, minute, 0).single().expect("local time").with_timezone(&Utc)
}

fn hours(days: &[&str], start: &str, end: &str) -> HoursConfig {
    HoursConfig { days: days.iter().map(|d| (*d).to_owned()).collect(), start: start.into(), end: end.into() }
}

fn weekdays() -> Vec<HoursConfig> {
    vec![
        hours(&["mon", "tue", "wed", "thu", "fri"], "09:00", "13:00"),
        hours(&["mon", "tue", "wed", "thu", "fri"], "14:00", "18:00"),
    ]
}

fn policy_config() -> SlaPolicyConfig {
    SlaPolicyConfig {
        time_zone: "Europe/Madrid".to_owned(),
        business_hours: weekdays(),
        holidays: vec![NaiveDate::from_ymd_opt(2024, 5, 1).expect("date")],
        targets: vec![
            TargetConfig {
                priority: "normal".into(),
                first_response_minutes: Some(240),
                next_response_minutes: Some(120),
            },
            TargetConfig {
                priority: "urgent".into(),
                first_response_minutes: Some(60),
                next_response_minutes: Some(30),
            },
        ],
        escalations: vec![
            EscalationRuleConfig {
                name: "warn".into(),
                priorities: vec![],
                before_breach_minutes: Some(30),
                actions: vec![
                    EscalationAction::RaisePriority,
                    EscalationAction::Notify { destination: "https://hooks.example/sla".into() },
                ],
            },
            EscalationRuleConfig {
                name: "to-supervisors".into(),
                priorities: vec!["normal".into(), "high".into(), "urgent".into()],
                before_breach_minutes: None,
                actions: vec![EscalationAction::MoveToTeam { team: "supervisors".into() }],
            },
        ],
    }
}

#[test]
fn the_clock_runs_on_business_hours_across_lunch_a_weekend_and_a_holiday() {
    let policy = SlaPolicy::from_config(&policy_config()).expect("policy");
    let calendar = policy.calendar();
    // Thursday 2 May, 11:00: 2 h before lunch, 2 h after → 16:00.
    assert_eq!(policy.first_response_due(CasePriority::Normal, madrid(2, 11, 0)), Some(madrid(2, 16, 0)));
    // Friday 3 May, 16:30: 1.5 h on Friday, the weekend is skipped, 2.5 h on
    // Monday 6 May → 11:30.
    assert_eq!(policy.first_response_due(CasePriority::Normal, madrid(3, 16, 30)), Some(madrid(6, 11, 30)));
    // Opened on Saturday: the clock starts Monday at 9:00.
    assert_eq!(policy.first_response_due(CasePriority::Urgent, madrid(4, 10, 0)), Some(madrid(6, 10, 0)));
    // Tuesday 30 April, 17:00: 1 h on Tuesday, Wednesday 1 May is a holiday,
    // 3 h on Thursday → 12:00.
    let tuesday = Madrid.with_ymd_and_hms(2024, 4, 30, 17, 0, 0).single().expect("time").with_timezone(&Utc);
    assert_eq!(policy.first_response_due(CasePriority::Normal, tuesday), Some(madrid(2, 12, 0)));
    // Opened at night: the clock starts at 9:00.
    assert_eq!(policy.next_response_due(CasePriority::Normal, madrid(2, 22, 0)), Some(madrid(3, 11, 0)));
    // Levels without a target have no clock.
    assert_eq!(policy.first_response_due(CasePriority::Low, madrid(2, 11, 0)), None);
    // Business time between two instants, the other way round.
    assert_eq!(calendar.between(madrid(3, 17, 0), madrid(6, 10, 0)), 2 * 3600);
    assert_eq!(calendar.between(madrid(6, 10, 0), madrid(3, 17, 0)), -2 * 3600);
    assert_eq!(calendar.between(madrid(4, 0, 0), madrid(5, 23, 0)), 0, "weekend");
    assert_eq!(calendar.between(madrid(1, 0, 0), madrid(1, 23, 0)), 0, "holiday");
}

#[test]
fn daylight_saving_changes_keep_local_hours() {
    let calendar = BusinessCalendar::new("Europe/Madrid", &weekdays(), &[]).expect("calendar");
    // Friday 29 March 2024, 17:00 CET; clocks go forward on Sunday 31 March.
    let friday = Madrid.with_ymd_and_hms(2024, 3, 29, 17, 0, 0).single().expect("time").with_timezone(&Utc);
    let monday = Madrid.with_ymd_and_hms(2024, 4, 1, 10, 0, 0).single().expect("time").with_timezone(&Utc);
    assert_eq!(calendar.add(friday, 2 * 3600), monday, "Monday 10:00 CEST");
}

#[test]
fn policies_are_validated_with_the_key_named() {
    let mut bad = policy_config();
    bad.targets[1].priority = "critical".into();
    let error = SlaPolicy::from_config(&bad).expect_err("refused");
    assert!(error.to_string().contains("targets[1].priority"), "{error}");
    let mut bad = policy_config();
    bad.escalations[0].name = BREACH_RULE.into();
    assert!(SlaPolicy::from_config(&bad).is_err());
    let mut bad = policy_config();
    bad.time_zone = "Nowhere/Land".into();
    assert!(SlaPolicy::from_config(&bad).expect_err("refused").to_string().contains("time_zone"));
    let toml_like: SlaPolicyConfig = serde_json::from_value(serde_json::json!({
        "time_zone": "UTC",
        "targets": [{"priority": "high", "first_response_minutes": 30}],
        "escalations": [{"name": "boss", "actions": [{"action": "move_to_team", "team": "sup"}]}]
    }))
    .expect("parses");
    assert!(SlaPolicy::from_config(&toml_like).is_ok());
}

fn account(name: &str) -> AccountId {
    AccountId::new(name).expect("account")
}

fn post(native: &str, level: CasePriority, at: DateTime<Utc>, policy: &SlaPolicy) -> NewCase {
    NewCase {
        post_id: PostId::derive("test", native),
        thread_id: PostId::derive("test", native),
        intent: Intent::Complaint,
        priority: 0.5,
        level,
        team: None,
        author_handle: format!("user-{native}"),
        lang: "es".to_owned(),
        tags: vec![],
        text_excerpt: format!("post {native}"),
        opened_at: at,
        first_response_due_at: policy.first_response_due(level, at),
        next_response_due_at: policy.next_response_due(level, at),
    }
}

async fn escalations_fire_before_and_at_the_breach_once(db: &TestStore) {
    let acme = account("acme");
    let roster = Roster {
        agents: vec![AgentSpec::named("ana"), AgentSpec::named("sara")],
        teams: vec![TeamSpec { name: "supervisors".into(), members: vec!["sara".into()] }],
    };
    db.store.sync_roster(&acme, &roster, madrid(2, 8, 0)).await.expect("roster");
    db.store
        .set_presence(&acme, "sara", smo_store::Presence::Offline, madrid(2, 8, 0))
        .await
        .expect("offline");
    let policy = SlaPolicy::from_config(&policy_config()).expect("policy");
    // Friday 16:30, normal: due Monday 11:30 (see above).
    let opened = db
        .store
        .open_cases_with(
            &acme,
            &[post("1", CasePriority::Normal, madrid(3, 16, 30), &policy)],
            &OpenOptions::at(madrid(3, 16, 30)),
        )
        .await
        .expect("open");
    let case_id = opened[0].case_id();
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.sla_due_at, Some(madrid(6, 11, 30)));
    assert_eq!(case.assigned_agent.as_deref(), Some("ana"));

    // Friday 17:55: 3 business hours left, nothing fires.
    assert!(policy.sweep(&db.store, &acme, madrid(3, 17, 55)).await.expect("sweep").is_empty());
    // Monday 11:00 is 30 business minutes before the breach: the warning
    // fires (priority up, webhook queued), though 65 wall-clock hours passed.
    let fired = policy.sweep(&db.store, &acme, madrid(6, 11, 0)).await.expect("sweep");
    assert_eq!(fired, [(case_id, "warn".to_owned())]);
    assert!(
        policy.sweep(&db.store, &acme, madrid(6, 11, 10)).await.expect("sweep").is_empty(),
        "once per round"
    );
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.level, CasePriority::High);
    assert_eq!(case.sla_breached_at, None);
    let outbox = db.store.pending_outbox(&acme, 10).await.expect("outbox");
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].destination, "https://hooks.example/sla");
    assert_eq!(outbox[0].case_id, Some(case_id));
    assert_eq!(outbox[0].payload["rule"], "warn");
    assert_eq!(outbox[0].kind, "escalation");

    // At the breach: recorded, and moved to the supervisors, where sara is
    // offline, so the case waits in their queue.
    let fired = policy.sweep(&db.store, &acme, madrid(6, 11, 30)).await.expect("sweep");
    let rules: Vec<&str> = fired.iter().map(|(_, rule)| rule.as_str()).collect();
    assert_eq!(rules, ["to-supervisors", BREACH_RULE]);
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    assert_eq!(case.sla_breached_at, Some(madrid(6, 11, 30)));
    assert_eq!(case.team.as_deref(), Some("supervisors"));
    assert_eq!((case.status, case.assigned_agent.as_deref()), (CaseStatus::Queued, None));
    let change = db
        .store
        .set_presence(&acme, "sara", smo_store::Presence::Online, madrid(6, 11, 40))
        .await
        .expect("online");
    assert_eq!(change.routed.len(), 1);
    let events = db.store.case_events(&acme, case_id).await.expect("events");
    let kinds: Vec<&CaseEventKind> = events.iter().map(|e| &e.event).collect();
    for expected in [
        CaseEventKind::Escalated { rule: "warn".into() },
        CaseEventKind::PriorityChanged { from: CasePriority::Normal, to: CasePriority::High },
        CaseEventKind::Escalated { rule: "to-supervisors".into() },
        CaseEventKind::TeamChanged { from: None, to: Some("supervisors".into()) },
        CaseEventKind::Unassigned { agent: "ana".into() },
        CaseEventKind::SlaBreached { target: SlaTarget::FirstResponse },
        CaseEventKind::Assigned { agent: "sara".into() },
    ] {
        assert!(kinds.contains(&&expected), "missing {expected:?} in {kinds:?}");
    }
    // Answering stops the clock: nothing more fires.
    let answer = CaseCommand {
        actor: "sara".into(),
        reason: "answered".into(),
        expected_version: None,
        action: CaseAction::Respond { agent: "sara".into(), wait_on_customer: true },
    };
    db.store.update_case(&acme, case_id, answer, madrid(6, 12, 0)).await.expect("respond");
    assert!(policy.sweep(&db.store, &acme, madrid(8, 12, 0)).await.expect("sweep").is_empty());
}

async fn waiting_on_the_customer_pauses_the_clock(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &["ana".to_owned()]).await.expect("agents");
    let policy = SlaPolicy::from_config(&policy_config()).expect("policy");
    // Thursday 11:00, normal: due 16:00.
    let opened = db
        .store
        .open_cases_with(
            &acme,
            &[post("1", CasePriority::Normal, madrid(2, 11, 0), &policy)],
            &OpenOptions::at(madrid(2, 11, 0)),
        )
        .await
        .expect("open");
    let case_id = opened[0].case_id();
    let case = db.store.get_case(&acme, case_id).await.expect("get").expect("case");
    // 12:00: ana asks the customer for an order number elsewhere; 3
    // business hours are left and the clock stops.
    let clock = policy.clock_for(&case, CaseStatus::WaitingOnCustomer, madrid(2, 12, 0));
    let wait = CaseCommand {
        actor: "ana".into(),
        reason: "asked for the order number".into(),
        expected_version: Some(case.version),
        action: CaseAction::SetStatus { to: CaseStatus::WaitingOnCustomer, sla: clock },
    };
    let waiting = db.store.update_case(&acme, case_id, wait, madrid(2, 12, 0)).await.expect("wait");
    assert_eq!((waiting.sla_due_at, waiting.sla_paused_secs), (None, Some(3 * 3600)));
    // Nothing escalates while paused, however long it waits.
    assert!(policy.sweep(&db.store, &acme, madrid(6, 17, 0)).await.expect("sweep").is_empty());
    // Friday 17:00 the case comes back: 1 h on Friday, 2 h on Monday → 11:00.
    let clock = policy.clock_for(&waiting, CaseStatus::Assigned, madrid(3, 17, 0));
    let back = CaseCommand {
        actor: "ana".into(),
        reason: "got the number by phone".into(),
        expected_version: Some(waiting.version),
        action: CaseAction::SetStatus { to: CaseStatus::Assigned, sla: clock },
    };
    let resumed = db.store.update_case(&acme, case_id, back, madrid(3, 17, 0)).await.expect("resume");
    assert_eq!((resumed.sla_due_at, resumed.sla_paused_secs), (Some(madrid(6, 11, 0)), None));
    assert_eq!(resumed.sla_target, Some(SlaTarget::FirstResponse));
}
