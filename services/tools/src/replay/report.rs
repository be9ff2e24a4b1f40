//! The figures of a replay and how they are printed: the SLA policy the
//! cases run under, spreads of latencies and first-response times, SLA
//! attainment per account.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use smo_community::{HoursConfig, SlaPolicy, SlaPolicyConfig, TargetConfig};
use smo_proto::{AccountId, CasePriority};

use super::ReplayArgs;
use super::agents::AgentStats;

/// Nearest-rank quantile of sorted values.
pub(super) fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

pub(super) fn sla_config(args: &ReplayArgs, business_hours: Option<&str>) -> anyhow::Result<SlaPolicyConfig> {
    let business_hours = match business_hours {
        None => Vec::new(),
        Some(span) => {
            let (start, end) = span
                .split_once('-')
                .with_context(|| format!("business hours {span:?}: expected HH:MM-HH:MM"))?;
            let days = ["mon", "tue", "wed", "thu", "fri"].map(str::to_owned).to_vec();
            vec![HoursConfig { days, start: start.trim().to_owned(), end: end.trim().to_owned() }]
        }
    };
    let targets = CasePriority::ALL
        .iter()
        .map(|level| TargetConfig {
            priority: level.as_str().to_owned(),
            first_response_minutes: Some(args.sla_minutes),
            next_response_minutes: Some(args.sla_minutes),
        })
        .collect();
    Ok(SlaPolicyConfig {
        time_zone: args.time_zone.clone(),
        business_hours,
        holidays: Vec::new(),
        targets,
        escalations: Vec::new(),
    })
}

/// The SLA clock the accounts run with, and a what-if clock the same
/// answers are also scored on: business hours Monday to Friday 09:00–17:00
/// when the accounts run around the clock, around the clock otherwise.
pub(super) struct SlaClocks {
    pub(super) configured: (SlaPolicy, String),
    pub(super) what_if: (SlaPolicy, String),
}

impl SlaClocks {
    pub(super) fn new(args: &ReplayArgs) -> anyhow::Result<(Self, SlaPolicyConfig)> {
        let label = |hours: Option<&str>| match hours {
            None => "around the clock".to_owned(),
            Some(span) => format!("Mon–Fri {span} {}", args.time_zone),
        };
        let configured_hours = args.business_hours.as_deref();
        let what_if_hours = if configured_hours.is_some() { None } else { Some("09:00-17:00") };
        let config = sla_config(args, configured_hours)?;
        let configured = SlaPolicy::from_config(&config).context("the SLA options")?;
        let what_if =
            SlaPolicy::from_config(&sla_config(args, what_if_hours)?).context("the what-if SLA clock")?;
        Ok((
            Self {
                configured: (configured, label(configured_hours)),
                what_if: (what_if, label(what_if_hours)),
            },
            config,
        ))
    }
}

/// Percentiles of a set of durations.
#[derive(Debug, Serialize)]
pub(super) struct Spread {
    pub(super) n: usize,
    pub(super) p50: f64,
    pub(super) p90: f64,
    pub(super) p99: f64,
    pub(super) max: f64,
}

impl Spread {
    pub(super) fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let q = |q| quantile(&values, q).unwrap_or(f64::NAN);
        Self {
            n: values.len(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: values.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// First-response times of one population, in minutes of data time.
#[derive(Debug, Serialize)]
pub(super) struct FirstResponse {
    pub(super) what: String,
    pub(super) answered: usize,
    pub(super) unanswered: usize,
    pub(super) median_minutes: f64,
    pub(super) p90_minutes: f64,
    /// Share answered within the SLA target on a clock around the clock.
    pub(super) within_target: f64,
}

impl FirstResponse {
    pub(super) fn of(what: impl Into<String>, seconds: &[i64], unanswered: usize, target_secs: i64) -> Self {
        let mut minutes: Vec<f64> = seconds.iter().map(|s| *s as f64 / 60.0).collect();
        minutes.sort_by(f64::total_cmp);
        Self {
            what: what.into(),
            answered: seconds.len(),
            unanswered,
            median_minutes: quantile(&minutes, 0.5).unwrap_or(f64::NAN),
            p90_minutes: quantile(&minutes, 0.9).unwrap_or(f64::NAN),
            within_target: seconds.iter().filter(|s| **s <= target_secs).count() as f64
                / seconds.len().max(1) as f64,
        }
    }
}

/// SLA attainment of the run's cases on one business clock.
#[derive(Debug, Serialize)]
pub(super) struct Attainment {
    pub(super) clock: String,
    /// Whether this is the clock the accounts ran with (else a what-if on
    /// the same answers).
    pub(super) configured: bool,
    pub(super) met: usize,
    pub(super) missed: usize,
    /// Unanswered cases whose due time had not come when the run ended.
    pub(super) pending: usize,
    pub(super) attainment: f64,
}

#[derive(Debug, Serialize)]
pub(super) struct AccountReport {
    pub(super) id: AccountId,
    pub(super) brands: Vec<String>,
    pub(super) agents: usize,
    pub(super) capacity: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(super) struct ReplayReport {
    pub(super) mode: &'static str,
    pub(super) measured: &'static str,
    pub(super) file: String,
    /// Rows of the file that could not be read.
    pub(super) rows_skipped: usize,
    pub(super) bus: String,
    pub(super) store: String,
    pub(super) speed: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rate_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) window_from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) window_to: Option<DateTime<Utc>>,
    pub(super) accounts: Vec<AccountReport>,
    pub(super) sla_target_minutes: u32,
    /// Customer tweets published.
    pub(super) published: u64,
    /// Of those, complaints and questions the community stage turned into
    /// (or added to) cases.
    pub(super) needed_response: usize,
    pub(super) cases_opened: usize,
    /// Customer posts the run's cases hold (equals `needed_response` when no
    /// post was lost).
    pub(super) posts_in_cases: u64,
    pub(super) publish_seconds: f64,
    /// How late publishes started against their schedule, ms.
    pub(super) publish_lag_ms: Spread,
    /// Publish started → case assignable (community transaction returned), ms.
    pub(super) assignable_latency_ms: Spread,
    /// Complaints and questions made assignable per second, first publish to last case.
    pub(super) assignable_per_second: f64,
    pub(super) first_response: Vec<FirstResponse>,
    pub(super) sla: Vec<Attainment>,
    pub(super) agents: AgentStats,
    pub(super) leftover_cases_closed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) load_average: Option<String>,
    pub(super) notes: Vec<String>,
}

pub(super) fn print_report(r: &ReplayReport) {
    let minutes = |m: f64| {
        if m >= 120.0 { format!("{:.1} h", m / 60.0) } else { format!("{m:.1} min") }
    };
    println!("smo-tools bench replay ({}): {}", r.mode, r.file);
    if r.rows_skipped > 0 {
        println!("  {} unreadable rows of the file skipped", r.rows_skipped);
    }
    println!("  bus   {}\n  store {}", r.bus, r.store);
    match (r.rate_per_second, r.window_from, r.window_to) {
        (Some(rate), _, _) => println!(
            "  published {} complaints at {rate:.0}/s flat in {:.1}s (agents and SLA clock in real time)",
            r.published, r.publish_seconds
        ),
        (None, Some(from), Some(to)) => println!(
            "  replayed {} customer tweets of {} – {} ({:.1} h of data) at {}× real time in {:.1}s",
            r.published,
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M UTC"),
            (to - from).as_seconds_f64() / 3600.0,
            r.speed,
            r.publish_seconds
        ),
        _ => {}
    }
    let brands: usize = r.accounts.iter().map(|a| a.brands.len()).sum();
    println!(
        "  {} accounts ({brands} brands), {} agents × capacity {} each; SLA first response {} min",
        r.accounts.len(),
        r.accounts.first().map_or(0, |a| a.agents),
        r.accounts.first().and_then(|a| a.capacity).map_or("unlimited".to_owned(), |c| c.to_string()),
        r.sla_target_minutes
    );
    println!(
        "  {} needed a response (complaint/question) → {} cases opened, {} posts in them",
        r.needed_response, r.cases_opened, r.posts_in_cases
    );
    let l = &r.assignable_latency_ms;
    println!(
        "  publish → case assignable (ms): p50 {:.0}  p90 {:.0}  p99 {:.0}  max {:.0}  (n = {}; aim: p99 < 1000)",
        l.p50, l.p90, l.p99, l.max, l.n
    );
    println!(
        "  {:.1} complaints/questions made assignable per second over the run; publish lag p99 {:.0} ms",
        r.assignable_per_second, r.publish_lag_ms.p99
    );
    if !r.first_response.is_empty() {
        println!(
            "  first response (case opened → first answer, data time)  {:>6} {:>9} {:>9} {:>9}",
            "n", "median", "p90", "≤ target"
        );
        for f in &r.first_response {
            println!(
                "    {:<52} {:>6} {:>9} {:>9} {:>8.1}%{}",
                f.what,
                f.answered,
                minutes(f.median_minutes),
                minutes(f.p90_minutes),
                100.0 * f.within_target,
                if f.unanswered > 0 { format!("  ({} never answered)", f.unanswered) } else { String::new() }
            );
        }
    }
    for s in &r.sla {
        println!(
            "  SLA attainment, clock {}{}: {:.1}% ({} met, {} missed, {} pending)",
            s.clock,
            if s.configured { " (configured)" } else { " (what-if on the same answers)" },
            100.0 * s.attainment,
            s.met,
            s.missed,
            s.pending
        );
    }
    let a = &r.agents;
    println!(
        "  agents: {} answers, {} pulled with next_case, queue peak {}, {} escalations, lateness p99 {:.0}s data time, {} store errors",
        a.responses, a.pulled, a.max_queued, a.escalations, a.lateness_p99_seconds, a.errors
    );
    if r.leftover_cases_closed > 0 {
        println!("  closed {} cases an earlier replay left open", r.leftover_cases_closed);
    }
    if let Some(load) = &r.load_average {
        println!("  load average before the run: {load}");
    }
    for note in &r.notes {
        println!("  note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), Some(5.0));
        assert_eq!(quantile(&values, 0.9), Some(9.0));
        assert_eq!(quantile(&values, 0.99), Some(10.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
