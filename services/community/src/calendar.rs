//! Business hours: SLA clocks only run during an account's working hours, in
//! its time zone, and not on its holidays. Pure arithmetic on instants, so
//! tests pass explicit times.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use smo_runtime::FieldError;

use crate::CommunityError;

/// How far a computation looks for business time before giving up (a
/// calendar that is all holidays); about ten years.
const MAX_DAYS: i64 = 3660;

/// One span of working hours on some weekdays, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    /// Weekdays it applies to: `mon` … `sun`.
    pub days: Vec<String>,
    /// Local start time, `HH:MM`.
    pub start: String,
    /// Local end time, `HH:MM`; `24:00` is midnight at the end of the day.
    pub end: String,
}

/// When an account works: a time zone, weekly hours and holidays. Empty
/// weekly hours mean around the clock.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Per weekday from Monday: sorted, disjoint (start, end) seconds after
    /// local midnight.
    week: [Vec<(u32, u32)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

fn parse_clock(value: &str, key: &str) -> Result<u32, CommunityError> {
    let bad = || CommunityError::Invalid(FieldError::new(key.to_string(), format!("{value:?} is not HH:MM")));
    let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

fn parse_day(value: &str) -> Option<usize> {
    let day: Weekday = value.trim().parse().ok()?;
    usize::try_from(day.num_days_from_monday()).ok()
}

impl BusinessCalendar {
    /// Around the clock in UTC, no holidays: SLA targets in plain time.
    pub fn always() -> Self {
        Self { tz: Tz::UTC, week: std::array::from_fn(|_| vec![(0, 86_400)]), holidays: BTreeSet::new() }
    }

    /// Validates a calendar: an IANA time zone name (`Europe/Madrid`), spans
    /// of hours (none: around the clock) and holiday dates.
    pub fn new(
        time_zone: &str,
        hours: &[HoursConfig],
        holidays: &[NaiveDate],
    ) -> Result<Self, CommunityError> {
        let tz: Tz = time_zone.parse().map_err(|_| {
            CommunityError::Invalid(FieldError::new("time_zone", format!("unknown time zone {time_zone:?}")))
        })?;
        let mut week: [Vec<(u32, u32)>; 7] = std::array::from_fn(|_| Vec::new());
        if hours.is_empty() {
            week = std::array::from_fn(|_| vec![(0, 86_400)]);
        }
        for (i, span) in hours.iter().enumerate() {
            let key = format!("business_hours[{i}]");
            let start = parse_clock(&span.start, &format!("{key}.start"))?;
            let end = parse_clock(&span.end, &format!("{key}.end"))?;
            if end <= start {
                return Err(CommunityError::Invalid(FieldError::new(
                    key.to_string(),
                    "end must be after start",
                )));
            }
            if span.days.is_empty() {
                return Err(CommunityError::Invalid(FieldError::new(format!("{key}.days"), "no weekday")));
            }
            for day in &span.days {
                let index = parse_day(day).ok_or_else(|| {
                    CommunityError::Invalid(FieldError::new(
                        format!("{key}.days"),
                        format!("{day:?} is not a weekday"),
                    ))
                })?;
                if let Some(spans) = week.get_mut(index) {
                    spans.push((start, end));
                }
            }
        }
        for spans in &mut week {
            spans.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
            for &(start, end) in spans.iter() {
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            *spans = merged;
        }
        Ok(Self { tz, week, holidays: holidays.iter().copied().collect() })
    }

    /// The instant of local `date` plus `seconds` after midnight; a time that
    /// a DST change skips counts as the first instant after the gap.
    fn instant(&self, date: NaiveDate, seconds: u32) -> DateTime<Utc> {
        let local: NaiveDateTime = date.and_time(NaiveTime::MIN) + Duration::seconds(i64::from(seconds));
        let mut probe = local;
        for _ in 0..4 {
            if let Some(at) = self.tz.from_local_datetime(&probe).earliest() {
                return at.with_timezone(&Utc);
            }
            probe += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }

    /// The working spans of `date` as instants, in order.
    fn spans(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let index = usize::try_from(date.weekday().num_days_from_monday()).unwrap_or(0);
        self.week
            .get(index)
            .map(|spans| spans.iter().map(|&(s, e)| (self.instant(date, s), self.instant(date, e))).collect())
            .unwrap_or_default()
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The instant `seconds` of business time after `start` (`start` itself
    /// for zero or less). A calendar without working time within ten years
    /// answers ten years later.
    pub fn add(&self, start: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
        if seconds <= 0 {
            return start;
        }
        let mut left = seconds;
        // A span may begin on the previous local day (late shifts, DST).
        let mut date = self.local_date(start) - Duration::days(1);
        for _ in 0..MAX_DAYS {
            for (from, to) in self.spans(date) {
                let from = from.max(start);
                if to <= from {
                    continue;
                }
                let available = (to - from).num_seconds();
                if available >= left {
                    return from + Duration::seconds(left);
                }
                left -= available;
            }
            date += Duration::days(1);
        }
        start + Duration::days(MAX_DAYS)
    }

    /// Business seconds from `from` to `to`; negative when `to` is earlier.
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to < from {
            return -self.between(to, from);
        }
        let mut total = 0;
        let mut date = self.local_date(from) - Duration::days(1);
        let last = self.local_date(to) + Duration::days(1);
        while date <= last {
            for (start, end) in self.spans(date) {
                let (start, end) = (start.max(from), end.min(to));
                if end > start {
                    total += (end - start).num_seconds();
                }
            }
            date += Duration::days(1);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(days: &[&str], start: &str, end: &str) -> HoursConfig {
        HoursConfig {
            days: days.iter().map(|d| (*d).to_owned()).collect(),
            start: start.into(),
            end: end.into(),
        }
    }

    #[test]
    fn configuration_errors_name_the_key() {
        let bad_zone = BusinessCalendar::new("Mars/Olympus", &[], &[]);
        assert!(bad_zone.is_err());
        let backwards = BusinessCalendar::new("UTC", &[hours(&["mon"], "17:00", "09:00")], &[]);
        assert!(backwards.err().is_some_and(|e| e.to_string().contains("business_hours[0]")));
        let bad_day = BusinessCalendar::new("UTC", &[hours(&["funday"], "09:00", "17:00")], &[]);
        assert!(bad_day.err().is_some_and(|e| e.to_string().contains("days")));
        assert!(BusinessCalendar::new("UTC", &[hours(&["mon"], "9h", "17:00")], &[]).is_err());
    }

    #[test]
    fn around_the_clock_is_plain_time() {
        let calendar = BusinessCalendar::always();
        let start = Utc.with_ymd_and_hms(2024, 5, 4, 23, 0, 0).single().expect("time");
        assert_eq!(calendar.add(start, 7200), start + Duration::hours(2));
        assert_eq!(calendar.between(start, start + Duration::hours(30)), 30 * 3600);
    }
}
