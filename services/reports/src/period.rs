//! The days a report covers.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// Longest period a report may cover (about ten years): every day gets a
/// row, so this bounds the work a bad request can cause.
pub const MAX_PERIOD_DAYS: u32 = 3660;

/// A validated span of whole UTC days, both ends included: "May 1 to May 7"
/// as people say it. [`ReportPeriod::start`] / [`ReportPeriod::end`] give the
/// half-open timestamp range queries need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "UncheckedPeriod")]
pub struct ReportPeriod {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Deserialize)]
struct UncheckedPeriod {
    from: NaiveDate,
    to: NaiveDate,
}

impl TryFrom<UncheckedPeriod> for ReportPeriod {
    type Error = ReportError;

    fn try_from(value: UncheckedPeriod) -> Result<Self, Self::Error> {
        Self::new(value.from, value.to)
    }
}

impl ReportPeriod {
    /// The days `from` to `to`, both included; refuses reversed periods and
    /// periods longer than [`MAX_PERIOD_DAYS`].
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, ReportError> {
        let days = (to - from).num_days() + 1;
        if days < 1 {
            return Err(ReportError::PeriodReversed { from, to });
        }
        // The upper bound also keeps `end()` (the day after `to`) representable.
        if days > i64::from(MAX_PERIOD_DAYS) || to.succ_opt().is_none() {
            return Err(ReportError::PeriodTooLong { from, to, days, max: MAX_PERIOD_DAYS });
        }
        Ok(Self { from, to })
    }

    /// The first day of the period.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The last day of the period (included).
    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Midnight UTC at the start of the first day: the inclusive lower bound.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(NaiveTime::MIN).and_utc()
    }

    /// Midnight UTC after the last day: the exclusive upper bound.
    pub fn end(&self) -> DateTime<Utc> {
        // `new` guarantees the day after `to` exists.
        self.to.succ_opt().unwrap_or(self.to).and_time(NaiveTime::MIN).and_utc()
    }

    /// How many days the period has (at least 1).
    pub fn day_count(&self) -> u32 {
        u32::try_from((self.to - self.from).num_days() + 1).unwrap_or(1)
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.from.iter_days().take(self.day_count() as usize)
    }

    /// Whether `day` is in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 5, d).expect("date")
    }

    #[test]
    fn bounds_are_whole_utc_days_half_open() {
        let period = ReportPeriod::new(day(1), day(7)).expect("period");
        assert_eq!(period.start().to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert_eq!(period.end().to_rfc3339(), "2024-05-08T00:00:00+00:00");
        assert_eq!(period.day_count(), 7);
        assert_eq!(period.days().last(), Some(day(7)));
        let single = ReportPeriod::new(day(3), day(3)).expect("one day");
        assert_eq!(single.days().collect::<Vec<_>>(), [day(3)]);
    }

    #[test]
    fn bad_periods_are_refused() {
        assert!(matches!(ReportPeriod::new(day(7), day(1)), Err(ReportError::PeriodReversed { .. })));
        assert!(ReportPeriod::new(NaiveDate::MIN, day(1)).is_err());
        assert!(ReportPeriod::new(NaiveDate::MAX, NaiveDate::MAX).is_err());
        let json = r#"{"from":"2024-05-07","to":"2024-05-01"}"#;
        assert!(serde_json::from_str::<ReportPeriod>(json).is_err());
    }
}
