//! `smo search ACCOUNT QUERY`.

use std::path::Path;

use anyhow::Context;
use clap::Args;

/// Arguments of `smo search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The account to search.
    account: String,
    /// Query: words, "phrases", AND/OR/NOT, and fields lang:, tags:, intent:,
    /// sentiment:, source:, author_handle:.
    query: String,
    /// Maximum hits.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print hits as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the hits.
pub async fn run(config: &Path, args: SearchArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    let account = settings.account(&args.account)?.id.clone();
    let reader = smo_index::IndexRoot::new(&settings.index_dir)
        .open_reader(&account)
        .with_context(|| format!("opening the index of {account}"))?;
    let hits = reader.search(&args.query, args.limit).with_context(|| format!("searching {account}"))?;
    if args.json {
        return super::print_json(&hits);
    }
    if hits.is_empty() {
        println!("no posts of {account} match {:?}", args.query);
    }
    for hit in &hits {
        println!(
            "{}  @{}  [{} {} {}]  {}",
            hit.created_at.format("%Y-%m-%d %H:%M"),
            hit.author_handle,
            hit.lang,
            hit.sentiment.as_str(),
            hit.intent.as_str(),
            one_line(&hit.text, 100)
        );
    }
    Ok(())
}

/// `text` on one line, cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}
