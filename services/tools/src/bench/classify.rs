//! `smo-tools bench classify`: the classifier alone on one core, per post, with an
//! account's worth of topic rules, next to whatlang alone (see below).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use smo_proto::{AccountId, Post};

use super::pipeline::synthetic_post;

/// `smo-tools bench classify`: posts per second per core of the full enrichment
/// the classify stage does ([`smo_classify::Classifier::enrich`]:
/// classification with an account profile holding generated boolean topic
/// rules, spam signals and the near-duplicate window), of classification
/// alone, of the language stage alone, and of whatlang `detect` alone on the
/// same posts (what language detection cost before smo computed whatlang's
/// answers faster, and what the published whatlang figures describe). One
/// thread, each post timed on its own so the latency percentiles are real,
/// not bucket bounds.
#[derive(Debug, Args)]
pub(super) struct ClassifyArgs {
    /// Topic rules in the benchmark account's profile.
    #[arg(long, default_value_t = 200)]
    pub(super) rules: usize,
    /// Posts to classify; the texts are cycled.
    #[arg(long, default_value_t = 50_000)]
    pub(super) posts: usize,
    /// CSV with a `text` column to take the texts from, instead of the
    /// shipped sample.
    #[arg(long)]
    pub(super) file: Option<std::path::PathBuf>,
    /// Directory of the shipped sample posts (`*.ndjson`, `*.csv`).
    #[arg(long, default_value = "config/sample")]
    pub(super) sample: std::path::PathBuf,
    /// Directory of trained model files.
    #[arg(long, default_value = "config/models")]
    pub(super) models: std::path::PathBuf,
    /// The benchmark account's candidate languages, comma-separated (as
    /// `accounts[].languages`; the demo accounts have `en,es,fr,de,pt,it`);
    /// default: all languages.
    #[arg(long, value_delimiter = ',')]
    pub(super) languages: Option<Vec<String>>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub(super) json: bool,
}

/// Throughput and per-post latency of one measured operation.
#[derive(Debug, Serialize)]
pub(super) struct ClassifyRun {
    pub(super) name: &'static str,
    pub(super) posts_per_second: f64,
    pub(super) mean_us: f64,
    pub(super) p50_us: f64,
    pub(super) p90_us: f64,
    pub(super) p99_us: f64,
    pub(super) max_us: f64,
}

#[derive(Debug, Serialize)]
pub(super) struct ClassifyReport {
    pub(super) classifier: String,
    pub(super) texts_from: String,
    pub(super) texts: usize,
    pub(super) posts: usize,
    pub(super) rules: usize,
    /// The account's language allowlist, when one was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) languages: Option<Vec<String>>,
    pub(super) threads: usize,
    /// Share of posts that got at least one topic tag.
    pub(super) tagged_share: f64,
    pub(super) runs: Vec<ClassifyRun>,
    /// 1, 5 and 15 minute load averages before the run (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) load_average: Option<String>,
}

pub(super) fn classify(args: ClassifyArgs) -> anyhow::Result<()> {
    let (texts, texts_from) = match &args.file {
        Some(file) => (crate::eval::read_text_column(file)?, file.display().to_string()),
        None => (sample_dir_texts(&args.sample)?, args.sample.display().to_string()),
    };
    let classifier = smo_pipeline::load_classifier(&args.models)?;
    let rules = generate_topic_rules(&texts, args.rules);
    let profile = smo_classify::AccountProfile::new(&rules, args.languages.clone())
        .context("compiling the generated topic rules and languages")?;
    let account = AccountId::new("bench-classify")?;
    let posts: Vec<Post> =
        (0..args.posts.max(1)).map(|i| synthetic_post(&account, &texts, i, "classify")).collect();
    let now = chrono::Utc::now();
    // Figures are only comparable on an idle machine; say when it was not.
    let load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" "));

    let languages = profile.languages.as_deref();
    let floor = time_each("whatlang detect alone", &posts, |post| {
        std::hint::black_box(whatlang::detect(&post.text));
    });
    let language = time_each("language stage (normalise + detect)", &posts, |post| {
        std::hint::black_box(classifier.language_of(&post.text, languages));
    });
    let classify = time_each("classify (no spam, no near-duplicates)", &posts, |post| {
        std::hint::black_box(classifier.classify(post, &profile, now));
    });
    // As the classify stage does it: one spam scorer and one near-duplicate
    // window for the account (the window remembers every post).
    let spam = smo_classify::SpamScorer::new();
    let mut window = smo_classify::NearDuplicateWindow::default();
    let full = time_each("full enrichment (+ spam, near-duplicates)", &posts, |post| {
        std::hint::black_box(classifier.enrich(post, &profile, now, &spam, &mut window));
    });
    let tagged =
        posts.iter().filter(|post| !classifier.classify(post, &profile, now).tags.is_empty()).count();
    let report = ClassifyReport {
        classifier: classifier.version().to_owned(),
        texts_from,
        texts: texts.len(),
        posts: posts.len(),
        rules: rules.len(),
        languages: args.languages.clone(),
        threads: 1,
        tagged_share: tagged as f64 / posts.len() as f64,
        runs: vec![floor, language, classify, full],
        load_average,
    };
    if args.json {
        return crate::eval::emit_json(&report);
    }
    use std::fmt::Write as _;
    let mut out = String::new();
    writeln!(
        out,
        "smo-tools bench classify: {} posts (cycling {} texts from {}), {} topic rules, 1 thread",
        report.posts, report.texts, report.texts_from, report.rules
    )?;
    writeln!(out, "  classifier {}", report.classifier)?;
    match &report.languages {
        Some(languages) => writeln!(out, "  account languages: {}", languages.join(","))?,
        None => writeln!(out, "  account languages: all (no allowlist)")?,
    }
    writeln!(
        out,
        "  {:<42} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "", "posts/s", "mean µs", "p50 µs", "p90 µs", "p99 µs", "max µs"
    )?;
    for run in &report.runs {
        writeln!(
            out,
            "  {:<42} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9.1}",
            run.name, run.posts_per_second, run.mean_us, run.p50_us, run.p90_us, run.p99_us, run.max_us
        )?;
    }
    writeln!(out, "  posts with at least one topic tag: {:.1}%", 100.0 * report.tagged_share)?;
    if let Some(load) = &report.load_average {
        writeln!(
            out,
            "  load average before the run: {load} (other work on the machine slows every figure)"
        )?;
    }
    crate::eval::emit(&out)
}

/// Runs `operation` on every post, one at a time, after a warm-up pass over
/// the first few thousand; throughput is posts over the whole timed loop.
pub(super) fn time_each(name: &'static str, posts: &[Post], mut operation: impl FnMut(&Post)) -> ClassifyRun {
    for post in posts.iter().take(2_000) {
        operation(post);
    }
    let mut nanos: Vec<u64> = Vec::with_capacity(posts.len());
    let started = Instant::now();
    for post in posts {
        let one = Instant::now();
        operation(post);
        nanos.push(u64::try_from(one.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    let seconds = started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    nanos.sort_unstable();
    let micros = |q: f64| {
        let rank = ((nanos.len() as f64 * q).ceil() as usize).clamp(1, nanos.len().max(1)) - 1;
        nanos.get(rank).copied().unwrap_or(0) as f64 / 1000.0
    };
    let mean = nanos.iter().map(|n| *n as f64).sum::<f64>() / nanos.len().max(1) as f64 / 1000.0;
    ClassifyRun {
        name,
        posts_per_second: posts.len() as f64 / seconds,
        mean_us: mean,
        p50_us: micros(0.5),
        p90_us: micros(0.9),
        p99_us: micros(0.99),
        max_us: micros(1.0),
    }
}

/// The `text` of every post of the sample directory's `*.ndjson` and
/// `*.csv` files (malformed lines skipped), in file name order.
pub(super) fn sample_dir_texts(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the sample directory {} (or pass --file)", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "ndjson" || ext == "csv"))
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for file in &files {
        if file.extension().is_some_and(|ext| ext == "csv") {
            texts.extend(crate::eval::read_text_column(file)?);
            continue;
        }
        let content = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        texts.extend(content.lines().filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            value.get("text")?.as_str().map(str::to_owned)
        }));
    }
    anyhow::ensure!(!texts.is_empty(), "no posts with a `text` in {} (*.ndjson, *.csv)", dir.display());
    Ok(texts)
}

/// `count` boolean topic rules in the shapes agencies write (OR-groups with
/// exclusions, phrases, wildcards, NEAR, hashtags, language filters,
/// case-sensitive brand names) over words that occur in `texts`, so that
/// rules fire on real posts as an account's topics do. Deterministic.
pub(super) fn generate_topic_rules(texts: &[String], count: usize) -> Vec<smo_classify::TagRule> {
    let mut frequency: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for text in texts {
        for token in smo_classify::text::normalize(text).tokens {
            if token.word.chars().count() >= 4 && token.word.chars().all(char::is_alphabetic) {
                *frequency.entry(token.word).or_default() += 1;
            }
        }
    }
    let mut vocabulary: Vec<(String, usize)> = frequency.into_iter().collect();
    vocabulary.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    // The most frequent words are function words no topic is made of.
    let vocabulary: Vec<String> = vocabulary.into_iter().skip(30).take(1_500).map(|(word, _)| word).collect();
    if vocabulary.len() < 8 {
        return (0..count)
            .map(|i| smo_classify::TagRule::from_rule(format!("topic-{i:03}"), format!("topicword{i}")))
            .collect();
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut word = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let index = usize::try_from(state >> 33).unwrap_or(0) % vocabulary.len();
        vocabulary.get(index).cloned().unwrap_or_default()
    };
    let prefix = |word: &str| word.chars().take(4).collect::<String>();
    // Handles are ASCII letters, digits and `_`.
    let handle = |word: &str| {
        let ascii: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
        if ascii.is_empty() { "user".to_owned() } else { ascii }
    };
    let capitalised = |word: &str| {
        let mut chars = word.chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    (0..count)
        .map(|i| {
            let (a, b, c, d) = (word(), word(), word(), word());
            let expression = match i % 6 {
                0 => format!("({a} OR {b} OR {c}) AND NOT {d}"),
                1 => format!("\"{a} {b}\" OR {}* OR #{c}", prefix(&c)),
                2 => format!("{a} NEAR/3 ({b} OR {c})"),
                3 => format!("(#{a} OR @{} OR {c}) AND NOT lang:de", handle(&b)),
                4 => format!("lang:en AND ({a} OR {}* OR \"{b} {c}\")", prefix(&d)),
                _ => format!("{{{}}} OR ({a} AND {b})", capitalised(&c)),
            };
            smo_classify::TagRule::from_rule(format!("topic-{i:03}"), expression)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bench::pipeline::synthetic_post;

    #[test]
    fn generated_rules_compile_and_fire_on_their_texts() {
        let texts: Vec<String> = [
            "My flight was delayed again and the airline lost my luggage",
            "Great service today, the crew was friendly and the flight arrived early",
            "Refund still not processed after three weeks, terrible customer support",
            "Anyone watching the football tonight? Amazing goal in the second half",
        ]
        .iter()
        .cycle()
        .take(200)
        .enumerate()
        .map(|(i, text)| format!("{text} word{i}x amitié{i}"))
        .collect();
        let rules = generate_topic_rules(&texts, 200);
        assert_eq!(rules.len(), 200);
        let profile = smo_classify::AccountProfile::new(&rules, None);
        assert!(profile.is_ok(), "{:?}", profile.err());
        // Too few words for a vocabulary still gives compilable rules.
        let rules = generate_topic_rules(&["ok".to_owned()], 10);
        assert!(smo_classify::AccountProfile::new(&rules, None).is_ok());
    }

    #[test]
    fn latency_percentiles_come_from_every_post() {
        let account = AccountId::new("t").unwrap_or_else(|err| panic!("{err}"));
        let texts = vec!["hello world".to_owned()];
        let posts: Vec<Post> = (0..100).map(|i| synthetic_post(&account, &texts, i, "t")).collect();
        let run = time_each("noop", &posts, |post| {
            std::hint::black_box(post.text.len());
        });
        assert!(run.posts_per_second > 0.0);
        assert!(run.p50_us <= run.p90_us && run.p90_us <= run.p99_us && run.p99_us <= run.max_us);
    }
}
