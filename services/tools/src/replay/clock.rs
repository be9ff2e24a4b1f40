//! **Two clocks.** The bench runs a simulated clock in data time: it starts
//! at the first replayed tweet and runs `--speed` times faster than the
//! wall clock. Post times, SLA due times and every agent action are stamped
//! on it, so first-response times come out in real (data) minutes without
//! rescaling and the SLA clock works on the data's real weekdays and hours:
//! the data is moved forward by a whole number of weeks (at least one week
//! ahead of the wall clock), which keeps the UTC weekday and time of day of
//! every tweet. Compressing timestamps to the wall clock instead would squeeze
//! an 8-hour business day into under five wall minutes and make a 1-hour
//! target 36 seconds, which SLA policies (whole minutes, business hours)
//! cannot express. Keeping sim time ahead of the wall clock also means the
//! pipeline's own upkeep, which runs on the wall clock, never sees an SLA
//! clock due; the bench runs the same upkeep ([`CaseOpener::upkeep`](smo_community::CaseOpener::upkeep)) on the
//! simulated clock instead, every second. The stages stamp their routing
//! decisions with the wall clock (assignment times of cases they route);
//! the agents map those back onto the simulated clock.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};

/// The simulated clock: `speed` times the wall clock from a base, or
/// stopped at a set instant (the drain, where it jumps from event to event).
#[derive(Debug, Clone, Copy)]
pub(super) struct ClockState {
    pub(super) wall: Instant,
    pub(super) wall_utc: DateTime<Utc>,
    pub(super) sim: DateTime<Utc>,
    /// `None`: stopped at `sim` until set.
    pub(super) speed: Option<f64>,
}

pub(super) fn scaled(seconds: f64, speed: f64) -> TimeDelta {
    TimeDelta::microseconds((seconds * speed * 1e6) as i64)
}

impl ClockState {
    pub(super) fn sim_at(&self, wall: Instant) -> DateTime<Utc> {
        match self.speed {
            Some(speed) => self.sim + scaled(wall.saturating_duration_since(self.wall).as_secs_f64(), speed),
            None => self.sim,
        }
    }

    /// Simulated time of a wall-clock timestamp (as the stages write them);
    /// while stopped, the current simulated time.
    pub(super) fn sim_of_wall(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self.speed {
            Some(speed) => self.sim + scaled((at - self.wall_utc).as_seconds_f64(), speed),
            None => self.sim,
        }
    }
}

#[derive(Debug)]
pub(super) struct SimClock {
    pub(super) state: Mutex<ClockState>,
}

impl SimClock {
    pub(super) fn paced(wall: Instant, sim: DateTime<Utc>, speed: f64) -> Self {
        let wall_utc = Utc::now()
            + TimeDelta::from_std(wall.saturating_duration_since(Instant::now())).unwrap_or_default();
        Self { state: Mutex::new(ClockState { wall, wall_utc, sim, speed: Some(speed) }) }
    }

    pub(super) fn state(&self) -> ClockState {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.state().sim_at(Instant::now())
    }

    /// Stops the clock where it is; from now on only [`SimClock::set`] moves it.
    pub(super) fn stop(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = state.sim_at(Instant::now());
        *state = ClockState { wall: Instant::now(), wall_utc: Utc::now(), sim: now, speed: None };
    }

    /// Moves a stopped clock forward to `sim`.
    pub(super) fn set(&self, sim: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.speed.is_none() && sim > state.sim {
            state.sim = sim;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::replay::parse_instant;

    #[test]
    fn the_simulated_clock_maps_wall_time_at_its_speed() {
        let wall = Instant::now();
        let wall_utc = Utc::now();
        let sim = parse_instant("2026-11-03T22:00:00Z").expect("time");
        let state = ClockState { wall, wall_utc, sim, speed: Some(100.0) };
        assert_eq!(state.sim_at(wall + Duration::from_secs(3)), sim + TimeDelta::minutes(5));
        assert_eq!(state.sim_of_wall(wall_utc + TimeDelta::seconds(36)), sim + TimeDelta::hours(1));
        let stopped = ClockState { speed: None, ..state };
        assert_eq!(stopped.sim_at(wall + Duration::from_secs(3)), sim);
    }
}
