//! Building, rendering and writing reports.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use smo_proto::{AccountId, PostId};
use smo_reports::{
    DayVolume, Report, ReportInput, ReportPeriod, TopPost, render_json, render_markdown, write_report,
};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, d).expect("date")
}

fn time(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, d, h, 0, 0).single().expect("time")
}

fn input() -> ReportInput {
    ReportInput {
        account: AccountId::new("acme-air").expect("account"),
        period: ReportPeriod::new(day(1), day(7)).expect("period"),
        generated_at: time(8, 6),
        volume_by_day: vec![
            DayVolume { date: day(2), posts: 120 },
            DayVolume { date: day(5), posts: 30 },
            DayVolume { date: day(2), posts: 5 },
            // Outside the period: dropped.
            DayVolume { date: day(9), posts: 1000 },
        ],
        languages: vec![("en", 100).into(), ("es", 50).into(), ("und", 5).into()],
        sentiment: vec![("negative", 80).into(), ("neutral", 45).into(), ("positive", 30).into()],
        intents: vec![("complaint", 60).into(), ("question", 20).into(), ("other", 75).into()],
        top_tags: vec![("delays", 70).into(), ("baggage", 31).into()],
        top_posts: vec![
            TopPost {
                id: PostId("p2".to_owned()),
                author_handle: "quiet_one".to_owned(),
                text: "fine flight".to_owned(),
                url: None,
                engagement: 3,
                created_at: time(5, 9),
            },
            TopPost {
                id: PostId("p1".to_owned()),
                author_handle: "frequent_flyer".to_owned(),
                text: "Flight 12 | delayed\nagain, **no** info <script>".to_owned(),
                url: Some("https://social.example/p/1".to_owned()),
                engagement: 240,
                created_at: time(2, 18),
            },
        ],
        complaints_opened: 42,
        cases_by_status: vec![("assigned", 30).into(), ("resolved", 10).into(), ("queued", 2).into()],
    }
}

#[test]
fn every_day_of_the_period_appears_zero_filled() {
    let report = Report::build(input());
    let days: Vec<(NaiveDate, u64)> = report.volume_by_day.iter().map(|v| (v.date, v.posts)).collect();
    assert_eq!(
        days,
        [(day(1), 0), (day(2), 125), (day(3), 0), (day(4), 0), (day(5), 30), (day(6), 0), (day(7), 0)]
    );
    assert_eq!(report.summary.total_posts, 155);
    assert_eq!(report.summary.days, 7);
    assert_eq!(report.summary.average_posts_per_day, 22.14);
    assert_eq!(report.summary.peak_day, Some(DayVolume { date: day(2), posts: 125 }));
    assert_eq!(report.summary.cases, 42);
}

#[test]
fn shares_and_orders_are_computed() {
    let report = Report::build(input());
    let en = &report.languages[0];
    assert_eq!((en.name.as_str(), en.count, en.share), ("en", 100, 0.6452));
    let intents: Vec<&str> = report.intents.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(intents, ["other", "complaint", "question"]);
    // Tags are shares of all posts.
    assert_eq!(report.top_tags[0].share, 0.4516);
    assert_eq!(report.top_posts[0].id, PostId("p1".to_owned()));
    assert_eq!(report.cases_by_status[0].name, "assigned");
}

#[test]
fn an_empty_period_still_renders() {
    let mut empty = input();
    empty.volume_by_day.clear();
    empty.languages.clear();
    empty.top_posts.clear();
    empty.cases_by_status.clear();
    let report = Report::build(empty);
    assert_eq!(report.volume_by_day.len(), 7);
    assert_eq!(report.summary.peak_day, None);
    assert_eq!(report.summary.average_posts_per_day, 0.0);
    let markdown = render_markdown(&report);
    assert!(markdown.contains("_No data for this period._"));
    assert!(markdown.contains("| Busiest day | — |"));
}

#[test]
fn markdown_has_every_section_and_escapes_post_text() {
    let markdown = render_markdown(&Report::build(input()));
    for heading in [
        "# Monitoring report: acme-air",
        "## Summary",
        "## Volume per day",
        "## Languages",
        "## Sentiment",
        "## Intents",
        "## Top tags",
        "## Top posts",
        "## Complaints opened",
        "## Cases by status",
    ] {
        assert!(markdown.contains(heading), "missing {heading:?} in\n{markdown}");
    }
    assert!(markdown.contains("**Period:** 2024-05-01 to 2024-05-07 (7 days, UTC)"));
    assert!(markdown.contains("| Thu 2024-05-02 | 125 | ████████████████████████ |"));
    assert!(markdown.contains("| Wed 2024-05-01 | 0 |  |"));
    assert!(markdown.contains("| en | 100 | 64.5 % |"));
    assert!(markdown.contains("**42** cases were opened"));
    // The pipe and the newline of the post stay inside one cell, markup is inert.
    let row = markdown.lines().find(|line| line.contains("Flight 12")).expect("top post row");
    assert!(row.contains(r"Flight 12 \| delayed again, \*\*no\*\* info \<script\>"), "{row}");
    assert!(row.contains("([link](https://social.example/p/1))"), "{row}");
    assert!(row.contains(r"@frequent\_flyer"), "{row}");
    let unescaped_pipes = row.replace(r"\|", "").matches('|').count();
    assert_eq!(unescaped_pipes, 6, "a five-column row: {row}");
}

#[test]
fn json_round_trips_and_is_stable() {
    let report = Report::build(input());
    let json = render_json(&report);
    let back: Report = serde_json::from_str(&json).expect("parse back");
    assert_eq!(back, report);
    assert_eq!(render_json(&back), json);
    assert!(json.ends_with("}\n"));
    assert!(json.contains("\"format_version\": 1"));
    assert!(json.contains("\"from\": \"2024-05-01\""));
}

#[test]
fn files_land_under_account_and_period() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = Report::build(input());
    let paths = write_report(dir.path(), &report).expect("write");
    assert_eq!(paths.json, dir.path().join("acme-air").join("2024-05-01_2024-05-07.json"));
    assert_eq!(paths.markdown, dir.path().join("acme-air").join("2024-05-01_2024-05-07.md"));
    let json = std::fs::read_to_string(&paths.json).expect("read json");
    assert_eq!(json, render_json(&report));
    let markdown = std::fs::read_to_string(&paths.markdown).expect("read markdown");
    assert_eq!(markdown, render_markdown(&report));
    // Writing again replaces the files and leaves no partial ones behind.
    write_report(dir.path(), &report).expect("rewrite");
    let entries = std::fs::read_dir(dir.path().join("acme-air")).expect("list").count();
    assert_eq!(entries, 2);
}

#[test]
fn write_errors_name_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").expect("blocker");
    let error = write_report(&blocker, &Report::build(input())).expect_err("cannot write");
    assert!(error.to_string().contains("file"), "{error}");
}
