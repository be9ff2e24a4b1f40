//! Classification must never panic, whatever the text: posts come from the
//! open internet. These tests throw generated and adversarial strings at the
//! whole classifier and at tag-rule compilation.

#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use smo_classify::{AccountProfile, Classifier, CompiledTags, TagRule};
use smo_proto::{AccountId, Author, Engagement, Intent, Post, PostId, SCHEMA_VERSION};

/// Small deterministic generator (xorshift64*), so failures reproduce
/// without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that matter to the normaliser: markers, punctuation, UTF-8 lead and
/// continuation bytes, whitespace.
const INTERESTING_BYTES: &[u8] =
    b"@#*:;()<>!?'/.-_ \t\n\r\x00\xc3\xa9\xe2\x80\x99\xf0\x9f\x98\x80\xff\xfe\x80\xbf";

/// Characters that matter to the tokeniser and detector.
const INTERESTING_CHARS: &[char] = &[
    'a',
    'Z',
    'é',
    'ß',
    'İ',
    'ı',
    'Σ',
    'ς',
    'я',
    'Ж',
    '中',
    '文',
    'ア',
    'ไ',
    'ا',
    'ع',
    'ה',
    'क',
    '\u{094D}',
    '\u{0301}',
    '\u{200D}',
    '\u{200B}',
    '\u{FE0F}',
    '\u{202E}',
    '\u{FEFF}',
    '😀',
    '😡',
    '👍',
    '🏽',
    '🇫',
    '🇷',
    '❤',
    '’',
    '«',
    '¿',
    '¡',
    '？',
    '！',
    '@',
    '#',
    '＃',
    '*',
    ' ',
    '\n',
    '\'',
    ':',
    ')',
    '(',
    '\u{0}',
    '\u{10FFFF}',
    '\u{E000}',
    '٣',
    '½',
    'ǅ',
];

fn post(text: String) -> Post {
    Post {
        schema_version: SCHEMA_VERSION,
        id: PostId::derive("fuzz", "1"),
        account: AccountId::new("fuzz").unwrap(),
        source: "fuzz".to_owned(),
        native_id: "1".to_owned(),
        author: Author {
            id: "1".to_owned(),
            handle: "fuzzer".to_owned(),
            display_name: None,
            followers: Some(u64::MAX),
        },
        text,
        url: None,
        created_at: Utc.timestamp_opt(0, 0).unwrap(),
        in_reply_to: None,
        thread_id: None,
        engagement: Engagement::default(),
    }
}

fn profile() -> AccountProfile {
    AccountProfile::new(
        &[
            TagRule::new("greek", ["σς", "ΣΣ*"]),
            TagRule::new("hashtags", ["#ΣΣ", "#a_*"]),
            TagRule::new("mixed", ["a é", "中文", "deliver*", "#delivery"]),
        ],
        Some(vec!["en".to_owned(), "es".to_owned(), "rus".to_owned()]),
    )
    .unwrap()
}

fn check(classifier: &Classifier, profile: &AccountProfile, text: String) {
    let enriched = classifier.classify(&post(text), profile, Utc::now());
    assert!((-1.0..=1.0).contains(&enriched.sentiment.score));
    assert!((0.0..=1.0).contains(&enriched.priority));
    assert!((0.0..=1.0).contains(&enriched.language.confidence));
    let mut sorted = enriched.tags.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, enriched.tags);
}

#[test]
fn generated_byte_strings_never_panic() {
    let classifier = Classifier::new();
    let profile = profile();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3_000 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    rng.next() as u8
                } else {
                    INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]
                }
            })
            .collect();
        check(&classifier, &profile, String::from_utf8_lossy(&bytes).into_owned());
    }
}

#[test]
fn generated_char_strings_never_panic() {
    let classifier = Classifier::new();
    let profile = profile();
    let mut rng = Rng(42);
    for _ in 0..3_000 {
        let len = rng.below(120);
        let text: String = (0..len).map(|_| INTERESTING_CHARS[rng.below(INTERESTING_CHARS.len())]).collect();
        check(&classifier, &profile, text);
    }
}

#[test]
fn adversarial_inputs_never_panic() {
    let classifier = Classifier::new();
    let profile = profile();
    let megabyte_of_mixed_scripts: String =
        "Delivery late 配送遅延 доставка задерживается التوصيل متأخر 😡 @acme #delivery "
            .chars()
            .cycle()
            .take(700_000)
            .collect();
    assert!(megabyte_of_mixed_scripts.len() > 1_000_000);
    let inputs = [
        String::new(),
        " \n\t ".to_owned(),
        "😀😡👍🏽🇫🇷❤️‍🔥".repeat(10),
        "@".repeat(1_000_000),
        "#".repeat(1_000_000),
        "a".repeat(1_000_000),
        "deliver".repeat(150_000),
        "!?".repeat(500_000),
        "https://".repeat(100_000),
        "'".repeat(1_000_000),
        "\u{0301}".repeat(400_000),
        megabyte_of_mixed_scripts,
        "ﷺ ﷽ ꧅ 𒐫 𒈙".repeat(1000),
        "\u{202E}evil\u{202C} \u{0}\u{1}\u{7F}".to_owned(),
    ];
    for input in inputs {
        check(&classifier, &profile, input);
    }
}

#[test]
fn one_megabyte_complaint_is_classified_reasonably_fast() {
    let classifier = Classifier::new();
    let text = "@acme my delivery is late again and nobody answers, worst service ever! ".repeat(14_000);
    assert!(text.len() > 1_000_000);
    let started = std::time::Instant::now();
    let enriched = classifier.classify(&post(text), &profile(), Utc::now());
    assert_eq!(enriched.intent, Intent::Complaint);
    assert_eq!(enriched.language.code, "en");
    assert_eq!(enriched.tags, vec!["mixed"]);
    // Generous bound for a debug build on a loaded 2-core machine; the point
    // is linear, not quadratic, behaviour.
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn generated_tag_rules_never_panic() {
    let mut rng = Rng(7);
    for _ in 0..2_000 {
        let keywords: Vec<String> = (0..1 + rng.below(4))
            .map(|_| {
                let len = rng.below(8);
                (0..len).map(|_| INTERESTING_CHARS[rng.below(INTERESTING_CHARS.len())]).collect()
            })
            .collect();
        let rules = [TagRule { name: "generated".to_owned(), keywords }];
        if let Ok(tags) = CompiledTags::new(&rules) {
            let text: String =
                (0..rng.below(60)).map(|_| INTERESTING_CHARS[rng.below(INTERESTING_CHARS.len())]).collect();
            let _ = tags.tags_for(&smo_classify::text::normalize(&text));
        }
    }
}
