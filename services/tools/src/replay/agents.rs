//! **Agents.** `--agents` per account with `--capacity` each take the cases
//! routing gives them and pull queued ones with [`smo_store::CaseStore::next_case`];
//! each answers ([`CaseAction::Respond`]) a delay after getting the case,
//! drawn from the real reply delays of the file (customer tweet → the brand
//! tweet replying to it), then resolves it. Those delays already contain
//! the brands' own queueing, so the default capacity is high enough that the
//! simulated team is not a second bottleneck; lower it to see queueing.
//! The store routes a queued case the moment an answer frees capacity, so
//! pulls seldom find one; they are counted all the same.
//! Once every post is published and the pipeline has settled, nothing but
//! agent answers can happen, so the clock jumps from one answer to the next
//! instead of waiting out the long tail of delays in wall time.
//!

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use smo_community::CaseOpener;
use smo_proto::{AccountId, CaseStatus};
use smo_store::{CaseAction, CaseCommand, CaseFilter, NextCase, SlaClock, Store};
use tokio::sync::watch;

use super::SETTLE_LIMIT;
use super::clock::SimClock;
use super::corpus::DelaySampler;
use super::report::quantile;

/// How often the agents look at their queues while the clock runs paced.
pub(super) const AGENT_TICK: Duration = Duration::from_millis(50);
/// How often (wall) the agents run the accounts' upkeep on the simulated clock.
pub(super) const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// A response an agent will give.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub(super) agent: String,
    pub(super) due: DateTime<Utc>,
}

/// The agents of one account.
#[derive(Debug)]
pub(super) struct Desk {
    pub(super) account: AccountId,
    pub(super) agents: Vec<String>,
    /// Cases an agent holds and will answer, by case id.
    pub(super) pending: HashMap<i64, Pending>,
    /// Refused answers per case; after three the agents leave the case be,
    /// so one odd case cannot keep the drain going.
    pub(super) refused: HashMap<i64, u32>,
    pub(super) queued: u64,
    /// When the agents next read their queues (paced mode).
    pub(super) next_poll: Option<Instant>,
}

/// What the simulated agents did.
#[derive(Debug, Default, Serialize)]
pub(super) struct AgentStats {
    /// Answers given (first and next responses).
    pub(super) responses: u64,
    /// Cases taken from the queue with `next_case`.
    pub(super) pulled: u64,
    /// Escalations the SLA sweep fired (on the simulated clock).
    pub(super) escalations: u64,
    /// Most cases waiting in the accounts' queues at once.
    pub(super) max_queued: u64,
    /// Store calls that failed (logged).
    pub(super) errors: u64,
    /// How late answers were given relative to their drawn time, in
    /// seconds of data time (the simulation's own error).
    pub(super) lateness_p99_seconds: f64,
    /// The latest answer.
    pub(super) lateness_max_seconds: f64,
    #[serde(skip)]
    pub(super) lateness: Vec<f64>,
}

pub(super) struct Agents {
    pub(super) store: Store,
    pub(super) opener: CaseOpener,
    pub(super) clock: Arc<SimClock>,
    /// Simulated times are at least this; earlier timestamps are wall-clock.
    pub(super) sim_floor: DateTime<Utc>,
    pub(super) desks: Vec<Desk>,
    pub(super) sampler: DelaySampler,
    pub(super) stats: AgentStats,
}

impl Agents {
    /// Runs paced until `drain` (then jumps from answer to answer until every
    /// case is answered) or until `stop`.
    pub(super) async fn run(
        mut self,
        mut drain: watch::Receiver<bool>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<AgentStats> {
        let mut last_upkeep: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if *drain.borrow() {
                self.drain().await?;
                break;
            }
            let upkeep = last_upkeep.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY);
            if upkeep {
                last_upkeep = Some(Instant::now());
            }
            self.step(upkeep, false).await;
            tokio::select! {
                () = tokio::time::sleep(AGENT_TICK) => {}
                _ = drain.changed() => {}
                () = smo_runtime::shutdown::fired(&mut stop) => {}
            }
        }
        let mut lateness = std::mem::take(&mut self.stats.lateness);
        lateness.sort_by(f64::total_cmp);
        self.stats.lateness_p99_seconds = quantile(&lateness, 0.99).unwrap_or(0.0);
        self.stats.lateness_max_seconds = lateness.last().copied().unwrap_or(0.0);
        Ok(self.stats)
    }

    /// The clock stops; each round runs at the earliest pending answer.
    pub(super) async fn drain(&mut self) -> anyhow::Result<()> {
        self.clock.stop();
        let started = Instant::now();
        loop {
            self.step(true, true).await;
            let next = self.desks.iter().flat_map(|d| d.pending.values().map(|p| p.due)).min();
            let queued: u64 = self.desks.iter().map(|d| d.queued).sum();
            match next {
                Some(next) => self.clock.set(next),
                None if queued == 0 => return Ok(()),
                None => anyhow::bail!("{queued} cases queued that no simulated agent can take"),
            }
            if started.elapsed() > SETTLE_LIMIT {
                anyhow::bail!("the agents did not answer every case within {SETTLE_LIMIT:?}");
            }
        }
    }

    /// One look at every account at the current simulated time: upkeep
    /// (SLA sweep, routing) if asked, due answers, newly held cases, pulls
    /// from the queue. Store errors are logged and counted.
    pub(super) async fn step(&mut self, upkeep: bool, force_poll: bool) {
        for index in 0..self.desks.len() {
            if let Err(error) = self.step_desk(index, upkeep, force_poll).await {
                self.stats.errors += 1;
                tracing::warn!(%error, "simulated agents: store call failed");
            }
        }
        let queued = self.desks.iter().map(|d| d.queued).sum();
        self.stats.max_queued = self.stats.max_queued.max(queued);
    }

    pub(super) async fn step_desk(
        &mut self,
        index: usize,
        upkeep: bool,
        force_poll: bool,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let desk = &mut self.desks[index];
        if upkeep {
            let done = self.opener.upkeep(&desk.account, now).await?;
            self.stats.escalations += done.escalated.len() as u64;
        }
        let due: Vec<(i64, Pending)> =
            desk.pending.iter().filter(|(_, p)| p.due <= now).map(|(id, p)| (*id, p.clone())).collect();
        for (case_id, pending) in due {
            desk.pending.remove(&case_id);
            self.stats.lateness.push((now - pending.due).as_seconds_f64());
            let command = |action| CaseCommand {
                actor: pending.agent.clone(),
                reason: "replay: simulated agent".to_owned(),
                expected_version: None,
                action,
            };
            let respond = CaseAction::Respond { agent: pending.agent.clone(), wait_on_customer: false };
            if let Err(error) = self.store.update_case(&desk.account, case_id, command(respond), now).await {
                self.stats.errors += 1;
                *desk.refused.entry(case_id).or_default() += 1;
                tracing::warn!(case_id, %error, "simulated answer refused");
                continue;
            }
            self.stats.responses += 1;
            let resolve = CaseAction::SetStatus { to: CaseStatus::Resolved, sla: SlaClock::Auto };
            if let Err(error) = self.store.update_case(&desk.account, case_id, command(resolve), now).await {
                self.stats.errors += 1;
                tracing::warn!(case_id, %error, "simulated resolve refused");
            }
        }
        if force_poll || self.desks[index].next_poll.is_none_or(|at| Instant::now() >= at) {
            let started = Instant::now();
            self.poll_desk(index, now).await?;
            // The agents' reads take at most a fifth of the time, so a long
            // list of held cases does not load the store the pipeline writes.
            self.desks[index].next_poll = Some(Instant::now() + AGENT_TICK.max(started.elapsed() * 4));
        }
        Ok(())
    }

    /// Newly held cases get an answer time; agents with room pull queued ones.
    pub(super) async fn poll_desk(&mut self, index: usize, now: DateTime<Utc>) -> anyhow::Result<()> {
        let desk = &mut self.desks[index];
        let filter = CaseFilter { status: Some(CaseStatus::Assigned), ..CaseFilter::default() };
        for case in self.store.list_cases(&desk.account, filter).await? {
            let Some(agent) = case.assigned_agent.clone() else { continue };
            if desk.pending.contains_key(&case.id) || desk.refused.get(&case.id).is_some_and(|n| *n >= 3) {
                continue;
            }
            // Routing by the stages stamps the wall clock; agents and the
            // bench's upkeep stamp the simulated one.
            let assigned = match case.assigned_at {
                Some(at) if at >= self.sim_floor => at,
                Some(at) => self.clock.state().sim_of_wall(at).min(now),
                None => now,
            };
            let due = assigned + TimeDelta::seconds(self.sampler.draw());
            desk.pending.insert(case.id, Pending { agent, due });
        }
        desk.queued = self
            .store
            .cases_by_status(&desk.account)
            .await?
            .into_iter()
            .find(|(status, _)| *status == CaseStatus::Queued)
            .map_or(0, |(_, n)| n);
        if desk.queued == 0 {
            return Ok(());
        }
        for agent in desk.agents.clone() {
            // Until the agent is at capacity or nothing is queued for them.
            while let NextCase::Assigned { case } = self.store.next_case(&desk.account, &agent, now).await? {
                self.stats.pulled += 1;
                let due = now + TimeDelta::seconds(self.sampler.draw());
                desk.pending.insert(case.id, Pending { agent: agent.clone(), due });
                desk.queued = desk.queued.saturating_sub(1);
            }
        }
        Ok(())
    }
}
