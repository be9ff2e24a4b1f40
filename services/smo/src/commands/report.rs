//! `smo report ACCOUNT --from DATE --to DATE`: gathers the period's figures
//! from the account's index and the case store and renders them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use smo_proto::AccountId;
use smo_reports::{Report, ReportPaths, ReportPeriod};
use smo_store::Store;

use smo_pipeline::settings::Settings;

/// Arguments of `smo report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The account.
    account: String,
    /// First day of the period (YYYY-MM-DD, UTC).
    #[arg(long)]
    from: NaiveDate,
    /// Last day of the period, inclusive (YYYY-MM-DD, UTC).
    #[arg(long)]
    to: NaiveDate,
    /// Directory to write into; default `{data_dir}/reports`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the report as JSON on stdout as well.
    #[arg(long)]
    json: bool,
}

/// Writes the report and prints its paths (or the JSON).
pub async fn run(config: &Path, args: ReportArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    let account = settings.account(&args.account)?.id.clone();
    let period = ReportPeriod::new(args.from, args.to)?;
    let store = smo_store::connect(&settings.store_url).await?;
    store.migrate().await?;
    let out = args.out.unwrap_or_else(|| settings.data_dir.join("reports"));
    let (report, paths) = write(&settings, &store, &account, period, &out).await?;
    if args.json {
        println!("{}", smo_reports::render_json(&report));
    } else {
        println!("report of {account} for {} .. {}", args.from, args.to);
        println!("  markdown: {}", paths.markdown.display());
        println!("  json:     {}", paths.json.display());
    }
    Ok(())
}

/// Gathers, builds and writes the report of `account` for `period` under `out`.
pub async fn write(
    settings: &Settings,
    store: &Store,
    account: &AccountId,
    period: ReportPeriod,
    out: &Path,
) -> anyhow::Result<(Report, ReportPaths)> {
    let (from, to) = (period.start(), period.end());
    let reader = smo_index::IndexRoot::new(&settings.index_dir)
        .open_reader(account)
        .with_context(|| format!("opening the index of {account}"))?;
    let facts = reader.facts(from, to, 5).with_context(|| format!("aggregating posts of {account}"))?;
    let complaints_opened = store
        .cases_opened_by_intent(account, from, to)
        .await?
        .into_iter()
        .find(|(intent, _)| *intent == smo_proto::Intent::Complaint)
        .map_or(0, |(_, count)| count);
    let cases_by_status = store
        .cases_by_status(account)
        .await?
        .into_iter()
        .map(|(status, count)| smo_reports::Tally { name: status.as_str().to_owned(), count })
        .collect();
    let tallies = |counts: Vec<smo_index::TermCount>| {
        counts.into_iter().map(|c| smo_reports::Tally { name: c.term, count: c.count }).collect::<Vec<_>>()
    };
    let input = smo_reports::ReportInput {
        account: account.clone(),
        period,
        generated_at: chrono::Utc::now(),
        volume_by_day: facts
            .per_day
            .into_iter()
            .map(|d| smo_reports::DayVolume { date: d.day, posts: d.count })
            .collect(),
        languages: tallies(facts.languages),
        sentiment: tallies(facts.sentiments),
        intents: tallies(facts.intents),
        top_tags: tallies(facts.top_tags),
        top_posts: facts
            .top_posts
            .into_iter()
            .map(|top| smo_reports::TopPost {
                id: top.post.post.id,
                author_handle: top.post.post.author.handle,
                text: top.post.post.text,
                url: top.post.post.url,
                engagement: top.engagement,
                created_at: top.post.post.created_at,
            })
            .collect(),
        complaints_opened,
        cases_by_status,
    };
    let report = Report::build(input);
    let paths = smo_reports::write_report(out, &report)
        .with_context(|| format!("writing report under {}", out.display()))?;
    Ok((report, paths))
}
