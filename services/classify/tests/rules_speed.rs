//! A quick measurement, not a test: µs per post for an account with 200
//! Brandwatch-style rules, on real airline tweets when the shared data set
//! is present (`../shared/data/airline/dev.csv`), else on generated tweets.
//! Run with
//! `cargo test -p smo-classify --release --test rules_speed -- --ignored --nocapture`.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use smo_classify::rules::{PostView, RuleSet};
use smo_classify::text::NormalizedText;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const VOCABULARY: &[&str] = &[
    "flight",
    "delay",
    "delayed",
    "late",
    "refund",
    "ticket",
    "bag",
    "bags",
    "luggage",
    "crew",
    "seat",
    "gate",
    "cancelled",
    "wifi",
    "food",
    "staff",
    "rude",
    "lost",
    "broken",
    "upgrade",
    "miles",
    "points",
    "boarding",
    "security",
    "app",
    "website",
    "booking",
    "hold",
    "phone",
    "agent",
    "customer",
    "service",
    "weather",
    "pilot",
    "plane",
    "airport",
    "connection",
    "missed",
    "change",
    "fee",
    "credit",
    "voucher",
    "hotel",
    "help",
    "thanks",
    "great",
    "worst",
    "never",
    "again",
    "today",
    "hours",
    "waiting",
    "reembolso",
    "vuelo",
    "retard",
    "bagage",
];

/// 200 rules in the shapes agencies write.
fn rules() -> Vec<(String, String)> {
    let mut rng = Rng(200);
    (0..200)
        .map(|index| {
            let mut w = || rng.pick(VOCABULARY);
            let expression = match index % 10 {
                0 => format!("({}* OR {} OR {}) AND NOT \"{} {}\"", w(), w(), w(), w(), w()),
                1 => format!("{} NEAR/3 ({} OR {} OR \"{} {}\")", w(), w(), w(), w(), w()),
                2 => {
                    format!("({} OR {} OR {} OR {} OR {}) AND ({} OR {})", w(), w(), w(), w(), w(), w(), w())
                }
                3 => format!("#{} OR (@united AND {})", w(), w()),
                4 => format!("lang:en AND ({} OR {}*) AND NOT {}", w(), w(), w()),
                5 => format!("\"{} {}\" OR \"{} {}\" OR {}", w(), w(), w(), w(), w()),
                6 => format!("{} ONEAR/2 {}", w(), w()),
                7 => format!("{{Delta}} AND ({} OR {})", w(), w()),
                8 => format!("({} OR {}) AND ({} OR {}) AND NOT ({} OR {})", w(), w(), w(), w(), w(), w()),
                _ => format!("{}? OR {} OR {}", w(), w(), w()),
            };
            (format!("topic-{index:03}"), expression)
        })
        .collect()
}

/// The `text` column (index 3) of the airline CSV, with quoted fields.
fn airline_tweets() -> Option<Vec<String>> {
    let data =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/airline/dev.csv"))
            .ok()?;
    let mut tweets = Vec::new();
    let mut field = String::new();
    let (mut column, mut quoted, mut chars) = (0usize, false, data.chars().peekable());
    let mut header = true;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => {
                if column == 3 && !header {
                    tweets.push(std::mem::take(&mut field));
                }
                field.clear();
                column += 1;
            }
            ('\n', false) => {
                field.clear();
                column = 0;
                header = false;
            }
            (c, _) => field.push(c),
        }
    }
    (!tweets.is_empty()).then_some(tweets)
}

/// On-CPU time of this thread in nanoseconds (Linux `schedstat`), so the
/// figure means something on a loaded machine; `None` elsewhere.
fn thread_cpu_nanos() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Runs `work` and returns µs per item, by CPU time when available.
fn per_item_micros(items: usize, mut work: impl FnMut()) -> (f64, &'static str) {
    let (cpu, wall) = (thread_cpu_nanos(), Instant::now());
    work();
    let elapsed = wall.elapsed().as_secs_f64() * 1e6;
    match (cpu, thread_cpu_nanos()) {
        (Some(before), Some(after)) => (after.saturating_sub(before) as f64 / 1e3 / items as f64, "CPU"),
        _ => (elapsed / items as f64, "wall"),
    }
}

#[test]
#[ignore = "measurement; run with --release --ignored --nocapture"]
fn rules_speed() {
    let tweets = airline_tweets().unwrap_or_else(|| {
        let mut rng = Rng(1);
        (0..10_000)
            .map(|_| {
                let words: Vec<&str> = (0..18).map(|_| rng.pick(VOCABULARY)).collect();
                format!("@united {} #fail", words.join(" "))
            })
            .collect()
    });
    let set = RuleSet::compile(&rules()).unwrap();
    let normalized: Vec<NormalizedText> = tweets.iter().map(|text| NormalizedText::new(text)).collect();
    let rounds = 5;
    let items = rounds * normalized.len();

    let mut matched = 0usize;
    let (matching, clock) = per_item_micros(items, || {
        for _ in 0..rounds {
            for text in &normalized {
                let view = PostView::new(text).with_lang("en");
                matched += set.matching(&view).len();
            }
        }
    });
    let (view_only, _) = per_item_micros(items, || {
        for _ in 0..rounds {
            for text in &normalized {
                std::hint::black_box(PostView::new(text).with_lang("en"));
            }
        }
    });
    let (normalizing, _) = per_item_micros(items, || {
        for _ in 0..rounds {
            for text in &tweets {
                std::hint::black_box(NormalizedText::new(text));
            }
        }
    });
    println!(
        "{} rules, {} posts ({clock} time): {matching:.2} µs/post for view + matching \
         ({:.1} matches/post); building the view alone {view_only:.2} µs/post; \
         normalising alone {normalizing:.2} µs/post",
        set.len(),
        tweets.len(),
        matched as f64 / items as f64,
    );
}
