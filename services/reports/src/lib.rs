//! Monitoring reports for a client account and a period, rendered as JSON
//! and Markdown. This crate is pure: the `smo` binary gathers the numbers
//! (volumes and breakdowns from the account's search index, case counts from
//! the store) into a [`ReportInput`]; [`Report::build`] completes and derives
//! them (every day of the period present, totals, shares); the renderers turn
//! the result into files a client can read. Keeping I/O out makes every report
//! reproducible from its JSON.

mod error;
mod input;
mod json;
mod markdown;
mod period;
mod report;
mod write;

pub use error::ReportError;
pub use input::{DayVolume, ReportInput, Tally, TopPost};
pub use json::render_json;
pub use markdown::render_markdown;
pub use period::{MAX_PERIOD_DAYS, ReportPeriod};
pub use report::{REPORT_FORMAT_VERSION, Report, Share, Summary};
pub use write::{ReportPaths, write_report};
