//! Routing, capacity, presence and pulling, on both backends: a routing
//! matrix, the hold queue, re-queueing, and agents pulling at once.

#[macro_use]
mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{TestStore, account};
use smo_proto::{AccountId, CaseEventKind, CasePriority, CaseStatus, Intent, PostId};
use smo_store::{
    AgentSpec, CaseAction, CaseCommand, NewCase, NextCase, OpenOptions, OpenedCase, Presence, Roster,
    SlaClock, StoreError, TeamSpec,
};

on_both_backends!(
    routing_matrix_skills_language_and_capacity,
    hold_queue_serves_priority_then_sla_when_capacity_frees,
    team_queues_wait_for_their_own_agents,
    an_agent_going_away_returns_cases_to_the_queue,
    an_agent_who_does_not_act_loses_the_case,
    next_case_respects_capacity_skills_and_queue_order,
    twenty_agents_pulling_at_once_never_share_a_case,
    rosters_are_validated_and_listed,
);

fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, hour, minute, 0).single().expect("valid time")
}

fn case(native: &str, lang: &str, tags: &[&str]) -> NewCase {
    NewCase {
        post_id: PostId::derive("test", native),
        thread_id: PostId::derive("test", native),
        intent: Intent::Complaint,
        priority: 0.5,
        level: CasePriority::Normal,
        team: None,
        author_handle: format!("user-{native}"),
        lang: lang.to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        text_excerpt: format!("post {native}"),
        opened_at: at(9, 0),
        first_response_due_at: None,
        next_response_due_at: None,
    }
}

fn agent(name: &str, languages: &[&str], topics: &[&str], capacity: Option<u32>) -> AgentSpec {
    AgentSpec {
        name: name.to_owned(),
        languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        capacity,
    }
}

fn command(actor: &str, action: CaseAction) -> CaseCommand {
    CaseCommand {
        actor: actor.to_owned(),
        reason: format!("{actor} decided"),
        expected_version: None,
        action,
    }
}

fn agent_of(outcome: &OpenedCase) -> Option<&str> {
    match outcome {
        OpenedCase::Created { agent, .. } | OpenedCase::Reopened { agent, .. } => agent.as_deref(),
        OpenedCase::Duplicate { .. } | OpenedCase::Joined { .. } => None,
    }
}

async fn open(db: &TestStore, account: &AccountId, cases: &[NewCase], now: DateTime<Utc>) -> Vec<OpenedCase> {
    db.store.open_cases_with(account, cases, &OpenOptions::at(now)).await.expect("open")
}

async fn routing_matrix_skills_language_and_capacity(db: &TestStore) {
    // Each row: a roster, the case (language, tags), and who must get it.
    let en_any = agent("en-any", &["en"], &[], Some(2));
    let es_any = agent("es-any", &["es"], &[], Some(2));
    let en_billing = agent("en-billing", &["en"], &["billing"], Some(2));
    let polyglot = agent("polyglot", &[], &[], Some(5));
    let full = agent("full", &["en"], &[], Some(0));
    type Row<'a> = (&'a str, Vec<AgentSpec>, &'a str, &'a [&'a str], Option<&'a str>);
    let matrix: Vec<Row> = vec![
        ("language match", vec![en_any.clone(), es_any.clone()], "es", &[], Some("es-any")),
        ("language mismatch queues", vec![en_any.clone(), es_any.clone()], "fr", &[], None),
        ("any-language agent takes it", vec![en_any.clone(), polyglot.clone()], "fr", &[], Some("polyglot")),
        (
            "topic specialist takes its topic",
            vec![en_billing.clone()],
            "en",
            &["billing"],
            Some("en-billing"),
        ),
        ("specialist skips other topics", vec![en_billing.clone()], "en", &["outage"], None),
        ("specialist skips untagged cases", vec![en_billing.clone()], "en", &[], None),
        (
            "language and topic both needed",
            vec![en_billing.clone(), es_any.clone()],
            "es",
            &["billing"],
            Some("es-any"),
        ),
        ("no capacity, no case", vec![full.clone()], "en", &[], None),
        ("capacity decides", vec![full.clone(), en_any.clone()], "en", &[], Some("en-any")),
        ("most free capacity wins", vec![en_any.clone(), polyglot.clone()], "en", &[], Some("polyglot")),
        ("unknown language goes to anyone", vec![es_any.clone()], "und", &[], Some("es-any")),
    ];
    for (i, (label, agents, lang, tags, expected)) in matrix.into_iter().enumerate() {
        let acct = account(&format!("matrix{i}"));
        let roster = Roster { agents, teams: vec![] };
        db.store.sync_roster(&acct, &roster, at(8, 0)).await.expect("roster");
        let opened = open(db, &acct, &[case(&format!("m{i}"), lang, tags)], at(9, 0)).await;
        assert_eq!(agent_of(&opened[0]), expected, "{label}");
        let stored = db.store.get_case(&acct, opened[0].case_id()).await.expect("get").expect("case");
        let status = if expected.is_some() { CaseStatus::Assigned } else { CaseStatus::Queued };
        assert_eq!(stored.status, status, "{label}");
    }

    // Capacity fills up: two agents of capacity 2 take four cases, the fifth waits.
    let acct = account("capacity");
    let roster =
        Roster { agents: vec![en_any.clone(), agent("en-two", &["en"], &[], Some(2))], teams: vec![] };
    db.store.sync_roster(&acct, &roster, at(8, 0)).await.expect("roster");
    let batch: Vec<NewCase> = (0..5).map(|i| case(&format!("c{i}"), "en", &[])).collect();
    let opened = open(db, &acct, &batch, at(9, 0)).await;
    let agents: Vec<Option<&str>> = opened.iter().map(agent_of).collect();
    assert_eq!(agents, [Some("en-any"), Some("en-two"), Some("en-any"), Some("en-two"), None]);
    let loads: HashMap<String, u64> =
        db.store.agents(&acct).await.expect("agents").into_iter().map(|a| (a.name, a.open_cases)).collect();
    assert_eq!(loads, HashMap::from([("en-any".to_owned(), 2), ("en-two".to_owned(), 2)]));
}

async fn hold_queue_serves_priority_then_sla_when_capacity_frees(db: &TestStore) {
    let acme = account("acme");
    let roster = Roster { agents: vec![agent("solo", &[], &[], Some(1))], teams: vec![] };
    db.store.sync_roster(&acme, &roster, at(8, 0)).await.expect("roster");
    let first = open(db, &acme, &[case("first", "en", &[])], at(9, 0)).await;
    assert_eq!(agent_of(&first[0]), Some("solo"));
    let mut low = case("low", "en", &[]);
    low.level = CasePriority::Low;
    low.priority = 1.0;
    let mut high_late = case("high-late", "en", &[]);
    high_late.level = CasePriority::High;
    high_late.first_response_due_at = Some(at(12, 0));
    let mut high_soon = case("high-soon", "en", &[]);
    high_soon.level = CasePriority::High;
    high_soon.first_response_due_at = Some(at(10, 0));
    let mut normal = case("normal", "en", &[]);
    normal.first_response_due_at = Some(at(9, 30));
    let queued = open(db, &acme, &[low, high_late, high_soon, normal], at(9, 1)).await;
    assert!(queued.iter().all(|o| agent_of(o).is_none()));
    let ids: HashMap<&str, i64> = ["low", "high-late", "high-soon", "normal"]
        .into_iter()
        .zip(queued.iter().map(OpenedCase::case_id))
        .collect();

    let mut served = Vec::new();
    let mut holding = first[0].case_id();
    for minute in 1..=4 {
        let resolve =
            command("solo", CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto });
        db.store.update_case(&acme, holding, resolve, at(10, minute)).await.expect("resolve");
        let held = db
            .store
            .list_cases(
                &acme,
                smo_store::CaseFilter { status: Some(CaseStatus::Assigned), ..Default::default() },
            )
            .await
            .expect("list");
        assert_eq!(held.len(), 1, "resolving frees capacity and the next case is assigned at once");
        holding = held[0].id;
        served.push(holding);
    }
    assert_eq!(served, [ids["high-soon"], ids["high-late"], ids["normal"], ids["low"]]);
}

async fn team_queues_wait_for_their_own_agents(db: &TestStore) {
    let acme = account("acme");
    let roster = Roster {
        agents: vec![agent("gen", &[], &[], None), agent("bill", &[], &[], None)],
        teams: vec![TeamSpec { name: "billing".to_owned(), members: vec!["bill".to_owned()] }],
    };
    db.store.sync_roster(&acme, &roster, at(8, 0)).await.expect("roster");
    db.store.set_presence(&acme, "bill", Presence::Offline, at(8, 30)).await.expect("offline");
    let mut billing = case("b", "en", &[]);
    billing.team = Some("billing".to_owned());
    let opened = open(db, &acme, &[billing, case("g", "en", &[])], at(9, 0)).await;
    assert_eq!(agent_of(&opened[0]), None, "only billing agents serve the billing queue");
    assert_eq!(agent_of(&opened[1]), Some("gen"), "the general queue goes to anyone");
    let change = db.store.set_presence(&acme, "bill", Presence::Online, at(9, 5)).await.expect("online");
    assert_eq!(change.routed, [smo_store::Routed { case_id: opened[0].case_id(), agent: "bill".to_owned() }]);

    // Moving a case to a team its agent does not serve takes it from them.
    let moved = db
        .store
        .update_case(
            &acme,
            opened[1].case_id(),
            command("sup", CaseAction::MoveToTeam { team: Some("billing".to_owned()) }),
            at(9, 10),
        )
        .await
        .expect("move");
    assert_eq!(moved.team.as_deref(), Some("billing"));
    assert_eq!(moved.assigned_agent.as_deref(), Some("bill"));
    let missing = command("sup", CaseAction::MoveToTeam { team: Some("nope".to_owned()) });
    assert!(matches!(
        db.store.update_case(&acme, opened[1].case_id(), missing, at(9, 11)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn an_agent_going_away_returns_cases_to_the_queue(db: &TestStore) {
    let acme = account("acme");
    let roster = Roster {
        agents: vec![agent("ann", &[], &[], Some(3)), agent("bob", &["es"], &[], Some(1))],
        teams: vec![],
    };
    db.store.sync_roster(&acme, &roster, at(8, 0)).await.expect("roster");
    db.store.set_presence(&acme, "bob", Presence::Away, at(8, 1)).await.expect("bob away");
    let opened =
        open(db, &acme, &[case("1", "es", &[]), case("2", "es", &[]), case("3", "en", &[])], at(9, 0)).await;
    assert!(opened.iter().all(|o| agent_of(o) == Some("ann")));
    db.store.set_presence(&acme, "bob", Presence::Online, at(9, 1)).await.expect("bob online");

    let change = db.store.set_presence(&acme, "ann", Presence::Away, at(9, 30)).await.expect("ann away");
    assert_eq!(change.requeued.len(), 3);
    let to_bob: Vec<i64> =
        change.requeued.iter().filter(|r| r.to_agent.as_deref() == Some("bob")).map(|r| r.case_id).collect();
    assert_eq!(to_bob.len(), 1, "bob reads Spanish and has room for one: {change:?}");
    assert!(change.requeued.iter().all(|r| r.from_agent == "ann"));
    let queued = db
        .store
        .list_cases(&acme, smo_store::CaseFilter { status: Some(CaseStatus::Queued), ..Default::default() })
        .await
        .expect("list");
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|c| c.assigned_agent.is_none()));
    let events = db.store.case_events(&acme, queued[0].id).await.expect("events");
    let last = events.last().expect("event");
    assert_eq!(last.event, CaseEventKind::Unassigned { agent: "ann".to_owned() });
    assert_eq!((last.actor.as_str(), last.at), ("ann", at(9, 30)));
    assert!(last.reason.contains("away"), "{}", last.reason);

    // Back online, ann gets the waiting cases at once.
    let back = db.store.set_presence(&acme, "ann", Presence::Online, at(9, 45)).await.expect("ann online");
    assert_eq!(back.routed.len(), 2);
    assert!(back.routed.iter().all(|r| r.agent == "ann"));
    let unknown = db.store.set_presence(&acme, "zed", Presence::Online, at(9, 50)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

async fn an_agent_who_does_not_act_loses_the_case(db: &TestStore) {
    let acme = account("acme");
    db.store.sync_agents(&acme, &["ann".to_owned(), "bob".to_owned()]).await.expect("agents");
    let opened = open(db, &acme, &[case("1", "en", &[]), case("2", "en", &[])], at(9, 0)).await;
    let (ann_case, bob_case) = (opened[0].case_id(), opened[1].case_id());
    assert_eq!(agent_of(&opened[0]), Some("ann"));
    // Bob acts in time; ann does not.
    db.store.update_case(&acme, bob_case, command("bob", CaseAction::Touch), at(9, 4)).await.expect("touch");
    let timeout = TimeDelta::minutes(5);
    assert!(db.store.requeue_inactive(&acme, timeout, at(9, 4)).await.expect("sweep").is_empty());
    let requeued = db.store.requeue_inactive(&acme, timeout, at(9, 5)).await.expect("sweep");
    assert_eq!(
        requeued,
        [smo_store::Requeued {
            case_id: ann_case,
            from_agent: "ann".to_owned(),
            to_agent: Some("bob".to_owned())
        }]
    );
    let events = db.store.case_events(&acme, ann_case).await.expect("events");
    let kinds: Vec<&CaseEventKind> = events.iter().map(|e| &e.event).collect();
    assert!(kinds.ends_with(&[
        &CaseEventKind::Unassigned { agent: "ann".to_owned() },
        &CaseEventKind::Assigned { agent: "bob".to_owned() },
    ]));
    assert!(events[events.len() - 2].reason.contains("did not act"));
    // Bob got it at 9:05; the sweep at 9:09 leaves it, at 9:10 bob loses it
    // too, and with nobody else eligible it waits in the queue.
    assert!(db.store.requeue_inactive(&acme, timeout, at(9, 9)).await.expect("sweep").is_empty());
    db.store.set_presence(&acme, "ann", Presence::Offline, at(9, 9)).await.expect("offline");
    let again = db.store.requeue_inactive(&acme, timeout, at(9, 10)).await.expect("sweep");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to_agent, None);
    let case = db.store.get_case(&acme, ann_case).await.expect("get").expect("case");
    assert_eq!(case.status, CaseStatus::Queued);
}

async fn next_case_respects_capacity_skills_and_queue_order(db: &TestStore) {
    let acme = account("acme");
    let roster = Roster {
        agents: vec![agent("es", &["es"], &[], Some(2)), agent("billing", &[], &["billing"], None)],
        teams: vec![TeamSpec { name: "vip".to_owned(), members: vec!["billing".to_owned()] }],
    };
    db.store.sync_roster(&acme, &roster, at(8, 0)).await.expect("roster");
    for name in ["es", "billing"] {
        db.store.set_presence(&acme, name, Presence::Away, at(8, 1)).await.expect("away");
    }
    let mut urgent_es = case("urgent-es", "es", &[]);
    urgent_es.level = CasePriority::Urgent;
    let mut vip = case("vip", "en", &["billing"]);
    vip.team = Some("vip".to_owned());
    let cases = [case("en", "en", &["billing"]), case("es", "es", &[]), urgent_es, vip];
    let opened = open(db, &acme, &cases, at(9, 0)).await;
    let id = |i: usize| opened[i].case_id();

    let pull = |agent: &'static str| {
        let store = db.store.clone();
        let acme = acme.clone();
        async move {
            match store.next_case(&acme, agent, at(9, 30)).await.expect("pull") {
                NextCase::Assigned { case } => Some(case.id),
                NextCase::AtCapacity => Some(-1),
                NextCase::NothingQueued => None,
            }
        }
    };
    // Pulling works whatever the presence: the agent asked.
    assert_eq!(pull("es").await, Some(id(2)), "most urgent first");
    assert_eq!(pull("es").await, Some(id(1)));
    assert_eq!(pull("es").await, Some(-1), "capacity 2 reached");
    assert_eq!(pull("billing").await, Some(id(0)), "oldest first at equal level, own topic");
    assert_eq!(pull("billing").await, Some(id(3)), "own team's queue");
    assert_eq!(pull("billing").await, None);
    let case = db.store.get_case(&acme, id(2)).await.expect("get").expect("case");
    assert_eq!((case.status, case.assigned_agent.as_deref()), (CaseStatus::Assigned, Some("es")));
    let events = db.store.case_events(&acme, id(2)).await.expect("events");
    let last = events.last().expect("event");
    assert_eq!(
        (&last.event, last.actor.as_str()),
        (&CaseEventKind::Assigned { agent: "es".to_owned() }, "es")
    );
    assert!(matches!(db.store.next_case(&acme, "zed", at(9, 31)).await, Err(StoreError::NotFound(_))));
}

async fn twenty_agents_pulling_at_once_never_share_a_case(db: &TestStore) {
    const AGENTS: usize = 20;
    const CASES: usize = 150;
    let acme = account("acme");
    let agents: Vec<AgentSpec> =
        (0..AGENTS).map(|i| agent(&format!("agent{i:02}"), &[], &[], None)).collect();
    db.store.sync_roster(&acme, &Roster { agents, teams: vec![] }, at(8, 0)).await.expect("roster");
    for i in 0..AGENTS {
        db.store.set_presence(&acme, &format!("agent{i:02}"), Presence::Away, at(8, 1)).await.expect("away");
    }
    let batch: Vec<NewCase> = (0..CASES).map(|i| case(&format!("p{i}"), "en", &[])).collect();
    let opened = open(db, &acme, &batch, at(9, 0)).await;
    let all: HashSet<i64> = opened.iter().map(OpenedCase::case_id).collect();
    assert_eq!(all.len(), CASES);

    let barrier = Arc::new(tokio::sync::Barrier::new(AGENTS));
    let mut tasks = Vec::new();
    for i in 0..AGENTS {
        // Each agent is its own process: its own pool.
        let store = db.reconnect_with(1).await;
        let (barrier, acme) = (barrier.clone(), acme.clone());
        tasks.push(tokio::spawn(async move {
            let name = format!("agent{i:02}");
            barrier.wait().await;
            let mut got = Vec::new();
            loop {
                match store.next_case(&acme, &name, at(9, 30)).await {
                    Ok(NextCase::Assigned { case }) => {
                        assert_eq!(case.assigned_agent.as_deref(), Some(name.as_str()));
                        got.push(case.id);
                    }
                    Ok(NextCase::NothingQueued) => break,
                    Ok(NextCase::AtCapacity) => panic!("no capacity limit was set"),
                    // SQLite's single writer may time out under this
                    // contention; asking again is what a client does.
                    Err(StoreError::Database(error)) if error.to_string().contains("locked") => continue,
                    Err(error) => panic!("pull failed: {error}"),
                }
            }
            store.close().await;
            (name, got)
        }));
    }
    let mut handed_out: HashMap<i64, String> = HashMap::new();
    let mut pullers = 0;
    for task in tasks {
        let (name, got) = task.await.expect("task");
        if !got.is_empty() {
            pullers += 1;
        }
        for case_id in got {
            if let Some(other) = handed_out.insert(case_id, name.clone()) {
                panic!("case {case_id} handed to {other} and {name}");
            }
        }
    }
    let handed: HashSet<i64> = handed_out.keys().copied().collect();
    assert_eq!(handed, all, "every case handed out exactly once, none lost");
    if db.is_postgres() {
        assert!(pullers > 1, "pulls ran concurrently");
    }
    for case in db.store.list_cases(&acme, smo_store::CaseFilter::default()).await.expect("list") {
        assert_eq!(case.status, CaseStatus::Assigned);
        assert_eq!(case.assigned_agent.as_ref(), handed_out.get(&case.id));
        let assigned = db
            .store
            .case_events(&acme, case.id)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| matches!(e.event, CaseEventKind::Assigned { .. }))
            .count();
        assert_eq!(assigned, 1, "case {} assigned once", case.id);
    }
}

async fn rosters_are_validated_and_listed(db: &TestStore) {
    let acme = account("acme");
    let bad = Roster {
        agents: vec![agent("ann", &[], &[], None)],
        teams: vec![TeamSpec { name: "t".to_owned(), members: vec!["zed".to_owned()] }],
    };
    assert!(matches!(db.store.sync_roster(&acme, &bad, at(8, 0)).await, Err(StoreError::InvalidInput(_))));
    let roster = Roster {
        agents: vec![agent("ann", &["EN", "es"], &["Billing"], Some(3)), agent("bob", &[], &[], None)],
        teams: vec![TeamSpec { name: "billing".to_owned(), members: vec!["ann".to_owned()] }],
    };
    db.store.sync_roster(&acme, &roster, at(8, 0)).await.expect("roster");
    // The plain agent list keeps skills and teams and deactivates the rest.
    db.store.sync_agents(&acme, &["ann".to_owned()]).await.expect("agents");
    let agents = db.store.agents(&acme).await.expect("agents");
    assert_eq!(agents.len(), 2);
    let ann = &agents[0];
    assert_eq!((ann.name.as_str(), ann.active), ("ann", true));
    assert_eq!(ann.languages, ["en", "es"]);
    assert_eq!(ann.topics, ["billing"]);
    assert_eq!(ann.capacity, Some(3));
    assert_eq!(ann.teams, ["billing"]);
    assert_eq!(ann.presence, Presence::Online);
    assert_eq!((agents[1].name.as_str(), agents[1].active), ("bob", false));
    // A second roster replaces teams.
    db.store
        .sync_roster(&acme, &Roster { agents: vec![agent("ann", &[], &[], None)], teams: vec![] }, at(8, 5))
        .await
        .expect("roster");
    assert!(db.store.agents(&acme).await.expect("agents")[0].teams.is_empty());
    assert!(db.store.agents(&account("globex")).await.expect("agents").is_empty());
}
