//! The JSON rendering: the machine-readable copy of a report.

use crate::Report;

/// The report as pretty JSON with a trailing newline. Field order follows the
/// types and every list is sorted by [`Report::build`], so the same report
/// always renders to the same bytes and diffs stay readable.
pub fn render_json(report: &Report) -> String {
    // Plain structs with string keys always serialize; fall back to an empty
    // object rather than panic.
    let mut json = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned());
    json.push('\n');
    json
}
