//! The Markdown rendering: the document a client reads.

use std::fmt::{self, Write};

use crate::{Report, Share};

/// Widest volume bar, in characters.
const BAR_WIDTH: u64 = 24;
/// Longest post text quoted in the top posts table, in characters.
const QUOTE_MAX_CHARS: usize = 280;

/// The report as a client-ready Markdown document: title, summary, volume per
/// day with text bars, breakdowns, top posts and cases. Text that comes from
/// posts is escaped, so a post cannot break a table or inject links or HTML.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_document(&mut out, report);
    out
}

fn write_document(out: &mut String, report: &Report) -> fmt::Result {
    let period = &report.period;
    writeln!(out, "# Monitoring report: {}", escape(report.account.as_str()))?;
    writeln!(out)?;
    writeln!(
        out,
        "**Period:** {} to {} ({} {}, UTC) · **Generated:** {}",
        period.from(),
        period.to(),
        period.day_count(),
        plural(u64::from(period.day_count()), "day", "days"),
        report.generated_at.format("%Y-%m-%d %H:%M UTC"),
    )?;
    write_summary(out, report)?;
    write_volume(out, report)?;
    write_shares(out, "Languages", ["Language", "Posts", "Share"], &report.languages)?;
    write_shares(out, "Sentiment", ["Sentiment", "Posts", "Share"], &report.sentiment)?;
    write_shares(out, "Intents", ["Intent", "Posts", "Share"], &report.intents)?;
    write_shares(out, "Top tags", ["Tag", "Posts", "Share of posts"], &report.top_tags)?;
    write_top_posts(out, report)?;
    writeln!(out)?;
    writeln!(out, "## Complaints opened")?;
    writeln!(out)?;
    let opened = report.summary.complaints_opened;
    writeln!(
        out,
        "**{}** {} opened for the community team during the period.",
        thousands(opened),
        plural(opened, "case was", "cases were"),
    )?;
    write_shares(out, "Cases by status", ["Status", "Cases", "Share"], &report.cases_by_status)
}

fn write_summary(out: &mut String, report: &Report) -> fmt::Result {
    let summary = &report.summary;
    writeln!(out)?;
    writeln!(out, "## Summary")?;
    writeln!(out)?;
    writeln!(out, "| Metric | Value |")?;
    writeln!(out, "| --- | ---: |")?;
    writeln!(out, "| Posts | {} |", thousands(summary.total_posts))?;
    writeln!(out, "| Average posts per day | {:.2} |", summary.average_posts_per_day)?;
    match &summary.peak_day {
        Some(peak) => writeln!(out, "| Busiest day | {} ({} posts) |", peak.date, thousands(peak.posts))?,
        None => writeln!(out, "| Busiest day | — |")?,
    }
    writeln!(out, "| Complaints opened | {} |", thousands(summary.complaints_opened))?;
    writeln!(out, "| Cases (all statuses) | {} |", thousands(summary.cases))
}

fn write_volume(out: &mut String, report: &Report) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "## Volume per day")?;
    writeln!(out)?;
    writeln!(out, "| Day | Posts | |")?;
    writeln!(out, "| --- | ---: | --- |")?;
    let max = report.volume_by_day.iter().map(|day| day.posts).max().unwrap_or(0);
    for day in &report.volume_by_day {
        writeln!(
            out,
            "| {} | {} | {} |",
            day.date.format("%a %Y-%m-%d"),
            thousands(day.posts),
            bar(day.posts, max)
        )?;
    }
    Ok(())
}

fn write_shares(
    out: &mut String,
    title: &str,
    [label, unit, share_label]: [&str; 3],
    shares: &[Share],
) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "## {title}")?;
    writeln!(out)?;
    if shares.is_empty() {
        return writeln!(out, "_No data for this period._");
    }
    writeln!(out, "| {label} | {unit} | {share_label} |")?;
    writeln!(out, "| --- | ---: | ---: |")?;
    for share in shares {
        writeln!(
            out,
            "| {} | {} | {:.1} % |",
            escape(&share.name),
            thousands(share.count),
            share.share * 100.0
        )?;
    }
    Ok(())
}

fn write_top_posts(out: &mut String, report: &Report) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "## Top posts")?;
    writeln!(out)?;
    if report.top_posts.is_empty() {
        return writeln!(out, "_No data for this period._");
    }
    writeln!(out, "| # | Author | Post | Engagement | Published |")?;
    writeln!(out, "| ---: | --- | --- | ---: | --- |")?;
    for (rank, post) in report.top_posts.iter().enumerate() {
        let mut text = escape(&quote(&post.text));
        if let Some(url) = post.url.as_deref().filter(|url| is_plain_web_url(url)) {
            write!(text, " ([link]({url}))")?;
        }
        writeln!(
            out,
            "| {} | @{} | {} | {} | {} |",
            rank + 1,
            escape(&post.author_handle),
            text,
            thousands(post.engagement),
            post.created_at.format("%Y-%m-%d %H:%M")
        )?;
    }
    Ok(())
}

/// Makes `text` safe inside a table cell: line breaks become spaces (a
/// newline would end the row) and Markdown punctuation is backslash-escaped
/// (`|` would split the cell; `*`, `_`, `[`, `<`… would format, link or
/// inject HTML).
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut previous_was_break = false;
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            if !previous_was_break {
                escaped.push(' ');
            }
            previous_was_break = true;
            continue;
        }
        previous_was_break = false;
        if matches!(c, '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '~' | '&') {
            escaped.push('\\');
        }
        escaped.push(if c.is_control() { ' ' } else { c });
    }
    escaped
}

/// The start of a post's text, cut on a character boundary.
fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_MAX_CHARS {
        return text.to_owned();
    }
    let mut quoted: String = text.chars().take(QUOTE_MAX_CHARS - 1).collect();
    quoted.push('…');
    quoted
}

/// Only plain http(s) URLs become links; anything that could end the link
/// early or smuggle markup is left out.
fn is_plain_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '(' | ')' | '[' | ']' | '<' | '>' | '|' | '"' | '\\' | '`')
        })
}

/// A bar proportional to `value / max`; at least one block for any non-zero value.
fn bar(value: u64, max: u64) -> String {
    if value == 0 || max == 0 {
        return String::new();
    }
    let blocks = (u128::from(value) * u128::from(BAR_WIDTH)).div_ceil(u128::from(max));
    "█".repeat(usize::try_from(blocks).unwrap_or(1).max(1))
}

/// `1234567` → `1,234,567`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn plural<'a>(count: u64, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_be_broken_out_of() {
        assert_eq!(escape("a|b\r\nc"), "a\\|b c");
        assert_eq!(escape("[x](javascript:y) <b>"), "\\[x\\](javascript:y) \\<b\\>");
        assert_eq!(escape("snake_case *bold*"), "snake\\_case \\*bold\\*");
    }

    #[test]
    fn numbers_and_bars() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bar(0, 10), "");
        assert_eq!(bar(1, 1_000_000).chars().count(), 1);
        assert_eq!(bar(10, 10).chars().count(), BAR_WIDTH as usize);
        assert_eq!(bar(u64::MAX, u64::MAX).chars().count(), BAR_WIDTH as usize);
    }

    #[test]
    fn only_plain_web_urls_become_links() {
        assert!(is_plain_web_url("https://example.com/p/1?x=2"));
        assert!(!is_plain_web_url("javascript:alert(1)"));
        assert!(!is_plain_web_url("https://example.com/a) [x](y"));
    }
}
