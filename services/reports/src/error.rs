//! The one error type of the crate.

use std::path::PathBuf;

use chrono::NaiveDate;

/// Why a report could not be defined or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period ends before it starts.
    #[error("report period {from} to {to} ends before it starts")]
    PeriodReversed {
        /// First day asked for.
        from: NaiveDate,
        /// Last day asked for.
        to: NaiveDate,
    },
    /// The period is longer than a report can reasonably list day by day.
    #[error("report period {from} to {to} spans {days} days; at most {max} are allowed")]
    PeriodTooLong {
        /// First day asked for.
        from: NaiveDate,
        /// Last day asked for.
        to: NaiveDate,
        /// Days in the period.
        days: i64,
        /// The limit, [`crate::MAX_PERIOD_DAYS`].
        max: u32,
    },
    /// Writing a report file failed.
    #[error("could not write report file {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What the OS reported.
        source: std::io::Error,
    },
}
