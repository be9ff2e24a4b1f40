//! The rule parser and evaluator must never panic, whatever a person pastes
//! into a rule field or whatever a post contains: generated rule strings
//! (unbalanced quotes and parentheses, operators only, random Unicode,
//! lossy-decoded invalid UTF-8), pathological nesting, a 1 MB post, and a
//! 500-rule set. A tiny deterministic generator keeps failures reproducible
//! without a dependency.

#![allow(clippy::unwrap_used)]

use smo_classify::rules::{MAX_NESTING, PostView, Rule, RuleSet, parse};
use smo_classify::text::NormalizedText;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces rules are made of, valid and broken.
const PIECES: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "AND NOT",
    "NEAR/3",
    "ONEAR/0",
    "NEAR/2f",
    "NEAR/",
    "NEAR/x",
    "NEAR/999",
    "(",
    ")",
    "((",
    "))",
    "\"",
    "\"on time\"",
    "“",
    "”",
    "{",
    "}",
    "{Apple}",
    "#fail",
    "#",
    "@acme",
    "@",
    "author:",
    "author:bob",
    "lang:es",
    "source:\"web form\"",
    "url:acme.com",
    "foo:bar",
    "delay*",
    "de*",
    "*",
    "?",
    "colo?r",
    "a?",
    "late",
    "flight",
    "refund",
    "devolución",
    "and",
    "or",
    "near",
    "-x",
    ":",
    "'",
    "’",
    "l'avion",
    "\u{0301}",
    "İ",
    "ß",
    "中文",
    "😀",
    "\u{200B}",
    "\u{FEFF}",
    "\u{0}",
    "\\",
    " ",
    "  ",
    "\t",
    "\n",
];

const CHARS: &[char] = &[
    'a',
    'Z',
    'é',
    'ß',
    'İ',
    'ı',
    'Σ',
    'я',
    '中',
    'ア',
    'ا',
    '\u{0301}',
    '\u{200D}',
    '\u{FE0F}',
    '\u{202E}',
    '😀',
    '👍',
    '"',
    '“',
    '”',
    '(',
    ')',
    '{',
    '}',
    '#',
    '＃',
    '@',
    '＠',
    '*',
    '?',
    ':',
    '/',
    '\'',
    '’',
    '-',
    ' ',
    '\n',
    '\u{0}',
    '\u{10FFFF}',
    'N',
    'E',
    'A',
    'R',
    'O',
    'D',
    'T',
    '3',
    'f',
];

fn posts() -> Vec<PostView<'static>> {
    [
        "@acme my flight is delayed, no refund, epic #fail",
        "Apple devolución colour l’avion on time",
        "",
        "😀😀 \u{0301}\u{0301} İİ ßß 中文 #中文 @a_b",
        "late late late late late late late late late late",
    ]
    .iter()
    .map(|text| PostView::from_raw(text).with_lang("es").with_author("bob").with_url("https://acme.com/x"))
    .collect()
}

/// Parses `expression`; when it parses, the canonical form must parse to
/// the same tree, and the rule must compile and evaluate.
fn exercise(expression: &str, posts: &[PostView<'static>]) -> bool {
    match parse(expression) {
        Ok(expr) => {
            let canonical = expr.to_string();
            assert_eq!(parse(&canonical).as_ref(), Ok(&expr), "{expression:?} → {canonical:?}");
            let rule = Rule::parse(expression).unwrap();
            for post in posts {
                let _ = rule.matches(post);
            }
            true
        }
        Err(err) => {
            assert!(err.position <= expression.chars().count(), "{expression:?}: {err}");
            assert!(!err.to_string().is_empty());
            false
        }
    }
}

#[test]
fn generated_rules_from_pieces_never_panic() {
    let posts = posts();
    let mut rng = Rng(0xDEAD_BEEF_1234_5678);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let expression: Vec<&str> = (0..1 + rng.below(9)).map(|_| rng.pick(PIECES)).collect();
        let separator = if rng.below(4) == 0 { "" } else { " " };
        if exercise(&expression.join(separator), &posts) {
            parsed += 1;
        }
    }
    assert!(parsed > 1_000, "the generator should also produce valid rules ({parsed})");
}

#[test]
fn random_unicode_rules_never_panic() {
    let posts = posts();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let expression: String = (0..rng.below(40)).map(|_| CHARS[rng.below(CHARS.len())]).collect();
        exercise(&expression, &posts);
    }
}

#[test]
fn lossy_invalid_utf8_rules_and_posts_never_panic() {
    const BYTES: &[u8] =
        b"()\"{}#@*?: ANDORT/3\xc3\xa9\xe2\x80\x9c\xe2\x80\x99\xf0\x9f\x98\x80\xff\xfe\x80\xbf\xc3";
    let mut rng = Rng(7);
    let set =
        RuleSet::compile(&[("a", "late OR refund*"), ("b", "\"on time\" NEAR/2 flight"), ("c", "NOT #x")])
            .unwrap();
    for _ in 0..10_000 {
        let bytes: Vec<u8> = (0..rng.below(60))
            .map(|_| if rng.below(3) == 0 { rng.next() as u8 } else { BYTES[rng.below(BYTES.len())] })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        exercise(&text, &posts());
        let _ = set.matching(&PostView::from_raw(&text));
    }
}

#[test]
fn operators_only_are_errors() {
    let operators = ["AND", "OR", "NOT", "NEAR/3", "ONEAR/1", "(", ")"];
    let mut rng = Rng(99);
    for _ in 0..5_000 {
        let expression: Vec<&str> = (0..1 + rng.below(8)).map(|_| rng.pick(&operators)).collect();
        let expression = expression.join(" ");
        assert!(parse(&expression).is_err(), "{expression:?} has no term");
    }
}

#[test]
fn pathological_nesting_is_an_error_not_a_stack_overflow() {
    let parens = format!("{}late{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(parse(&parens).unwrap_err().position, MAX_NESTING);
    let unclosed = "(".repeat(10_000);
    assert!(parse(&unclosed).is_err());
    let nots = "NOT ".repeat(8_000) + "late";
    assert!(parse(&nots).is_err());
    let ors = "(late OR ".repeat(3_000) + "x" + &")".repeat(3_000);
    assert!(parse(&ors).is_err());
    let near_nests = "(a NEAR/1 ".repeat(3_000);
    assert!(parse(&near_nests).is_err());
    // At the limit it parses and evaluates.
    let deepest = format!("{}late{}", "(NOT ".repeat(MAX_NESTING / 2), ")".repeat(MAX_NESTING / 2));
    assert!(Rule::parse(&deepest).unwrap().matches(&PostView::from_raw("late")));
    // Flat but long rules are fine up to the length limit.
    let wide = vec!["late"; 3_000].join(" OR ");
    assert!(Rule::parse(&wide).unwrap().matches(&PostView::from_raw("so late")));
}

#[test]
fn one_megabyte_post_against_many_rules() {
    let text = "@acme my delivery is late again, refund my ticket now #fail l’avion Apple colour "
        .chars()
        .cycle()
        .take(1_100_000)
        .collect::<String>();
    assert!(text.len() > 1_000_000);
    let normalized = NormalizedText::new(&text);
    let view = PostView::new(&normalized).with_lang("en");
    let set = RuleSet::compile(&[
        ("words", "late AND refund"),
        ("near", "refund NEAR/2 (ticket OR flight)"),
        ("far", "delivery ONEAR/0 colour"),
        ("phrase", "\"refund my ticket\""),
        ("wild", "deliv* AND colo?r"),
        ("case", "{Apple} NEAR/1 colour"),
        ("tags", "#fail AND @acme"),
        ("not", "NOT lang:en"),
        ("same", "late NEAR/100 late"),
    ])
    .unwrap();
    assert_eq!(set.matching(&view), vec!["case", "near", "phrase", "same", "tags", "wild", "words"]);
    let single_word = "é".repeat(500_000);
    assert_eq!(set.matching(&PostView::from_raw(&single_word)), vec!["not"]);
}

#[test]
fn five_hundred_generated_rules_compile_and_evaluate() {
    const VOCABULARY: &[&str] = &[
        "flight",
        "delay",
        "late",
        "refund",
        "ticket",
        "bag",
        "luggage",
        "crew",
        "seat",
        "gate",
        "cancel",
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
        "reembolso",
        "vuelo",
        "retard",
        "bagage",
        "remboursement",
    ];
    let mut rng = Rng(500);
    let mut rules = Vec::new();
    for index in 0..500 {
        let mut word = || rng.pick(VOCABULARY).to_owned();
        let (a, b, c, d) = (word(), word(), word(), word());
        let expression = match index % 8 {
            0 => format!("{a} AND ({b} OR {c}*)"),
            1 => format!("\"{a} {b}\" OR {c}"),
            2 => format!("{a} NEAR/3 ({b} OR {c})"),
            3 => format!("({a} OR {b}) AND NOT {c}"),
            4 => format!("#{a} OR @{b}"),
            5 => format!("lang:en AND {a} ONEAR/2 {b}"),
            6 => format!("{{{}}} OR {b}", a.to_uppercase()),
            _ => format!("({a} OR {b} OR {c}) AND ({d} OR \"{a} {d}\")"),
        };
        rules.push((format!("rule-{index:03}"), expression));
    }
    let set = RuleSet::compile(&rules).unwrap();
    assert_eq!(set.len(), 500);
    let tweets = [
        "@acme my flight delay is a joke, refund my ticket #refund",
        "Lost luggage at the gate, staff rude, app broken",
        "FLIGHT crew amazing, upgrade and miles 👍",
        "vuelo cancelado, quiero reembolso",
        "nothing relevant here",
        "",
    ];
    for tweet in tweets {
        let view = PostView::from_raw(tweet).with_lang("en");
        let matched = set.matching(&view);
        let mut sorted = matched.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(matched, sorted, "names are sorted and unique");
        // Every match is confirmed by the rule on its own.
        for (name, expression) in &rules {
            let alone = Rule::parse(expression).unwrap().matches(&view);
            assert_eq!(alone, matched.contains(&name.as_str()), "{name}: {expression} on {tweet:?}");
        }
    }
}
