//! `smo-tools eval topics FILE.csv --tags TAGS.toml`: how well an account's topic
//! tags route posts, scored against posts labelled with topics (one 0/1
//! column per topic, as in the shared `topics/*.csv` sets). This is what an
//! agency does before trusting a client's Boolean queries with routing:
//! run them over a labelled sample, read precision and recall per topic,
//! and look at the posts they miss or wrongly catch (`--errors N`).
//!
//! The tags file has the shape of an account's tag tables in smo.toml, so
//! rules move between the two by copy: `[[tags]] name = "refund"
//! keywords = ["refund*", "rule:money NEAR/3 back"]`. A tag is scored
//! against the column whose name reads the same once lowercased with
//! punctuation as dashes (`billing-payment` ↔ `Billing/Payment`). Posts are
//! classified exactly as the classify stage does (models, language
//! allowlist), so tags may use `intent:`, `sentiment:` and `urgency:`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use smo_classify::eval::{TopicCounts, TopicScores};
use smo_classify::{AccountProfile, Classifier, TagRule};
use smo_proto::{AccountId, Author, Post, PostId};

use super::csv::{LabelledCsv, Loaded};
use super::output::{pct, print_header, print_per_class};
use super::{Header, par_map};

/// An account's tags as a file: `[[tags]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsFile {
    tags: Vec<TagRule>,
}

/// The tags under evaluation: as written, compiled, and where from.
#[derive(Debug)]
pub(super) struct EvaluatedTags {
    rules: Vec<TagRule>,
    profile: AccountProfile,
    path: PathBuf,
}

/// Reads and compiles the tags of `path`; errors name the file and the tag.
pub(super) fn read_tags(path: &Path, languages: Option<Vec<String>>) -> anyhow::Result<EvaluatedTags> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: TagsFile =
        toml::from_str(&text).with_context(|| format!("{}: not a tags file", path.display()))?;
    anyhow::ensure!(!file.tags.is_empty(), "{}: no [[tags]]", path.display());
    let profile = AccountProfile::new(&file.tags, languages)
        .with_context(|| format!("{}: compiling the tags", path.display()))?;
    Ok(EvaluatedTags { rules: file.tags, profile, path: path.to_owned() })
}

impl EvaluatedTags {
    /// The tags as written.
    pub(super) fn rules(&self) -> &[TagRule] {
        &self.rules
    }
}

/// A labelled post: its text and the topics (tag names) it is about.
#[derive(Debug, Clone)]
pub(super) struct TopicRow {
    line: u64,
    text: String,
    author: Option<String>,
    topics: Vec<String>,
}

/// `name` lowercased with every run of other characters than letters and
/// digits as one `-`: how tag names and column headers are matched.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Whether a topic cell says yes: `1`, `1.0`, `true`, `yes`, `x`; blank and
/// `0` say no. Anything else is an error for the row.
fn topic_cell(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" | "x" => Ok(true),
        "" | "0" | "0.0" | "false" | "no" => Ok(false),
        other => Err(format!("topic cell `{other}` is not 1 or blank")),
    }
}

/// Reads `path`: the `text` column, `author_id` or `author` when present,
/// and one column per tag of `tags`. A tag without a column is an error
/// (it would score 0 silently); label-looking columns without a tag are
/// reported on stderr.
pub(super) fn read_topics(path: &Path, tags: &[TagRule]) -> anyhow::Result<Loaded<TopicRow>> {
    let csv = LabelledCsv::open(path)?;
    let headers: Vec<String> = csv.header().map(str::to_owned).collect();
    let slugs: Vec<String> = csv.header_names().map(slug).collect();
    let position = |name: &str| slugs.iter().position(|s| s == name);
    let text_column = position("text").with_context(|| format!("{}: no `text` column", path.display()))?;
    let author_column = position("author-id").or_else(|| position("author"));
    let mut topic_columns = Vec::with_capacity(tags.len());
    for tag in tags {
        let column = position(&slug(&tag.name)).with_context(|| {
            format!(
                "{}: no column for tag `{}` (columns are matched by name, lowercased with punctuation as `-`; the header row has: {})",
                path.display(),
                tag.name,
                headers.join(", ")
            )
        })?;
        topic_columns.push((tag.name.clone(), column));
    }

    // Per column: whether every cell so far is 0/1/blank, and whether one
    // is 1; such columns look like topics.
    let mut label_like: Vec<(bool, bool)> = vec![(true, false); headers.len()];
    let loaded = csv.rows(|row| {
        for ((only_labels, has_yes), cell) in label_like.iter_mut().zip(row.fields()) {
            let cell = cell.trim();
            *only_labels &= matches!(cell, "" | "0" | "1" | "0.0" | "1.0");
            *has_yes |= matches!(cell, "1" | "1.0");
        }
        let mut topics = Vec::new();
        for (name, column) in &topic_columns {
            let cell = topic_cell(row.get(*column)).map_err(|reason| {
                format!("column `{}`: {reason}", headers.get(*column).map_or("", String::as_str))
            })?;
            if cell {
                topics.push(name.clone());
            }
        }
        Ok(TopicRow {
            line: row.line(),
            text: row.get(text_column).to_owned(),
            author: row.nonblank(author_column).map(str::to_owned),
            topics,
        })
    })?;
    let scored: Vec<usize> = topic_columns.iter().map(|(_, column)| *column).collect();
    let ignored: Vec<&str> = label_like
        .iter()
        .enumerate()
        .filter(|(index, (only_labels, has_yes))| *only_labels && *has_yes && !scored.contains(index))
        .filter_map(|(index, _)| headers.get(index).map(String::as_str))
        .filter(|header| !header.trim().is_empty() && slug(header) != "inbound")
        .collect();
    if !ignored.is_empty() {
        eprintln!(
            "warning: {}: no tag for the label column(s) {}; they are not scored",
            path.display(),
            ignored.join(", ")
        );
    }
    Ok(loaded)
}

/// A post a tag got wrong, for `--errors`.
#[derive(Debug, Clone, Serialize)]
struct Miss {
    line: u64,
    text: String,
}

/// What a tag missed and what it wrongly caught.
#[derive(Debug, Clone, Default, Serialize)]
struct TopicErrors {
    topic: String,
    /// Labelled with the topic, not tagged.
    missed: Vec<Miss>,
    /// Tagged, not labelled with the topic.
    wrongly_tagged: Vec<Miss>,
}

/// The report of `smo-tools eval topics`.
#[derive(Debug, Clone, Serialize)]
pub(super) struct TopicReport {
    #[serde(flatten)]
    header: Header,
    tags_file: String,
    #[serde(flatten)]
    scores: TopicScores,
    /// Posts with no topic, and how many of them got no tag.
    rows_without_topic: u64,
    rows_without_topic_untagged: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<TopicErrors>,
}

/// Classifies every row as the classify stage would and scores the tags.
pub(super) fn evaluate_topics(
    account: &AccountId,
    classifier: &Classifier,
    tags: &EvaluatedTags,
    rows: &[TopicRow],
    header: Header,
    errors_per_topic: usize,
) -> TopicReport {
    let now = chrono::Utc::now();
    let predicted: Vec<Vec<String>> = par_map(rows, |row| {
        let post = eval_post(account, row, now);
        classifier.classify(&post, &tags.profile, now).tags
    });
    let mut counts = TopicCounts::with_topics(tags.rules.iter().map(|tag| tag.name.as_str()));
    let mut errors: Vec<TopicErrors> = tags
        .rules
        .iter()
        .map(|tag| TopicErrors { topic: tag.name.clone(), ..TopicErrors::default() })
        .collect();
    let (mut without_topic, mut without_topic_untagged) = (0, 0);
    for (row, predicted) in rows.iter().zip(&predicted) {
        counts.add(row.topics.iter().map(String::as_str), predicted.iter().map(String::as_str));
        if row.topics.is_empty() {
            without_topic += 1;
            without_topic_untagged += u64::from(predicted.is_empty());
        }
        for errors in &mut errors {
            let gold = row.topics.contains(&errors.topic);
            let tagged = predicted.contains(&errors.topic);
            let list = match (gold, tagged) {
                (true, false) => &mut errors.missed,
                (false, true) => &mut errors.wrongly_tagged,
                _ => continue,
            };
            if list.len() < errors_per_topic {
                list.push(Miss { line: row.line, text: row.text.clone() });
            }
        }
    }
    errors.retain(|errors| !errors.missed.is_empty() || !errors.wrongly_tagged.is_empty());
    TopicReport {
        header,
        tags_file: tags.path.display().to_string(),
        scores: counts.scores(),
        rows_without_topic: without_topic,
        rows_without_topic_untagged: without_topic_untagged,
        errors,
    }
}

/// The row as the post a connector would publish: a tweet by its author.
fn eval_post(account: &AccountId, row: &TopicRow, now: chrono::DateTime<chrono::Utc>) -> Post {
    let native_id = row.line.to_string();
    let author = row.author.clone().unwrap_or_default();
    Post {
        schema_version: smo_proto::SCHEMA_VERSION,
        id: PostId::derive("file:eval", &native_id),
        account: account.clone(),
        source: "file:eval".into(),
        native_id,
        author: Author { id: author.clone(), handle: author, ..Author::default() },
        text: row.text.clone(),
        url: None,
        created_at: now,
        in_reply_to: None,
        thread_id: None,
        engagement: smo_proto::Engagement::default(),
    }
}

pub(super) fn print_topics(report: &TopicReport) -> String {
    let mut o = String::new();
    print_header(&mut o, &report.header);
    let scores = &report.scores;
    outln!(o, "  tags: {}", report.tags_file);
    outln!(
        o,
        "  macro F1 (mean of per-topic F1, the published measure): {}   macro precision {} · macro recall {} · micro F1 {}",
        pct(scores.macro_f1),
        pct(scores.macro_precision),
        pct(scores.macro_recall),
        pct(scores.micro_f1)
    );
    outln!(
        o,
        "  posts with no topic: {} ({} of them untagged)",
        report.rows_without_topic,
        report.rows_without_topic_untagged
    );
    outln!(o);
    print_per_class(&mut o, &scores.topics);
    for errors in &report.errors {
        outln!(o);
        outln!(o, "  {}:", errors.topic);
        for miss in &errors.missed {
            outln!(o, "    missed  line {:>5}: {}", miss.line, one_line(&miss.text));
        }
        for miss in &errors.wrongly_tagged {
            outln!(o, "    wrong   line {:>5}: {}", miss.line, one_line(&miss.text));
        }
    }
    o
}

/// `text` on one line, cut to a terminal's width.
fn one_line(text: &str) -> String {
    const MAX_CHARS: usize = 140;
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_CHARS {
        flat
    } else {
        format!("{}…", flat.chars().take(MAX_CHARS).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), content).unwrap();
        file
    }

    fn header() -> Header {
        Header {
            task: "topics",
            file: "x".into(),
            rows: 0,
            skipped_rows: 0,
            classifier: "test".into(),
            in_sample: None,
        }
    }

    const TAGS: &str = r#"
[[tags]]
name = "Delivery"
keywords = ["deliver*", "package"]

[[tags]]
name = "service-praise"
keywords = ["rule:intent:praise AND (staff OR team)"]
"#;

    const POSTS: &str = "id,text,author_id,Delivery,Service Praise,Other Label\n\
        1,@acme my package never arrived,u1,1,,\n\
        2,\"@acme thank you so much, your team was amazing!\",u2,,1,\n\
        3,@acme the delivery guy was lovely and your staff too thanks!,u3,1,1,\n\
        4,what a day,u4,,,1\n\
        5,broken row,u5,maybe,,\n";

    #[test]
    fn scores_tags_that_use_classification() {
        let tags_file = file(TAGS);
        let tags = read_tags(tags_file.path(), None).unwrap();
        let posts = file(POSTS);
        let loaded = read_topics(posts.path(), tags.rules()).unwrap();
        assert_eq!(loaded.rows.len(), 4);
        assert_eq!(loaded.skipped.count, 1);
        assert!(loaded.skipped.examples[0].contains("`Delivery`"), "{:?}", loaded.skipped.examples);
        assert_eq!(loaded.rows[2].topics, ["Delivery", "service-praise"]);
        assert_eq!(loaded.rows[0].author.as_deref(), Some("u1"));

        let account = AccountId::new("eval").unwrap();
        let report = evaluate_topics(&account, &Classifier::new(), &tags, &loaded.rows, header(), 5);
        let scores = &report.scores;
        assert_eq!(scores.rows, 4);
        let delivery = scores.topics.iter().find(|topic| topic.label == "Delivery").unwrap();
        assert_eq!((delivery.support, delivery.predicted, delivery.f1), (2, 2, 1.0));
        let praise = scores.topics.iter().find(|topic| topic.label == "service-praise").unwrap();
        assert_eq!((praise.support, praise.predicted, praise.f1), (2, 2, 1.0));
        assert_eq!(scores.macro_f1, Some(1.0));
        assert_eq!((report.rows_without_topic, report.rows_without_topic_untagged), (1, 1));
        assert!(report.errors.is_empty());
        let printed = print_topics(&report);
        assert!(printed.contains("macro F1") && printed.contains("100.0"), "{printed}");
    }

    #[test]
    fn errors_list_what_a_tag_missed_and_wrongly_caught() {
        let tags_file = file("[[tags]]\nname = \"delivery\"\nkeywords = [\"courier\"]\n");
        let tags = read_tags(tags_file.path(), None).unwrap();
        let posts = file("text,delivery\nmy parcel is late,1\nthe courier of the stars (a film),0\n");
        let loaded = read_topics(posts.path(), tags.rules()).unwrap();
        let account = AccountId::new("eval").unwrap();
        let report = evaluate_topics(&account, &Classifier::new(), &tags, &loaded.rows, header(), 5);
        assert_eq!(report.scores.macro_f1, Some(0.0));
        let errors = &report.errors[0];
        assert_eq!(errors.missed[0].text, "my parcel is late");
        assert_eq!(errors.wrongly_tagged[0].line, 3);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["macro_f1"], 0.0);
        assert_eq!(json["topics"][0]["label"], "delivery");
    }

    #[test]
    fn a_tag_without_a_column_and_a_bad_tags_file_are_named() {
        let tags_file = file(TAGS);
        let tags = read_tags(tags_file.path(), None).unwrap();
        let posts = file("text,Delivery\nhello,1\n");
        let error = format!("{:#}", read_topics(posts.path(), tags.rules()).unwrap_err());
        assert!(error.contains("no column for tag `service-praise`"), "{error}");
        let bad = file("[[tags]]\nname = \"x\"\nkeywords = [\"rule:(a OR\"]\n");
        let error = format!("{:#}", read_tags(bad.path(), None).unwrap_err());
        assert!(error.contains("\"x\""), "{error}");
        let typo = file("[[tag]]\nname = \"x\"\nkeywords = [\"a\"]\n");
        assert!(read_tags(typo.path(), None).is_err());
    }

    #[test]
    fn the_shipped_topic_rules_compile() {
        let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/topics");
        let mut checked = 0;
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| extension == "toml") {
                let tags = read_tags(&path, None).unwrap_or_else(|error| panic!("{error:#}"));
                assert!(tags.rules().len() >= 10, "{}", path.display());
                checked += 1;
            }
        }
        assert_eq!(checked, 2);
    }

    #[test]
    fn tag_names_meet_column_headers() {
        assert_eq!(slug("Billing/Payment"), "billing-payment");
        assert_eq!(slug("  Fire TV "), "fire-tv");
        assert_eq!(slug("Song/Artist"), slug("song-artist"));
        assert_eq!(slug("author_id"), "author-id");
        assert_eq!(slug("Rückerstattung!"), "rückerstattung");
    }

    #[test]
    fn topic_cells() {
        assert_eq!(topic_cell(" 1 "), Ok(true));
        assert_eq!(topic_cell("1.0"), Ok(true));
        assert_eq!(topic_cell(""), Ok(false));
        assert!(topic_cell("maybe").is_err());
    }
}
