//! A realistic account: an airline brand's Brandwatch-style topic rules
//! against real-looking tweets, through the public API exactly as the
//! classify stage and the tag configuration use it.

#![allow(clippy::unwrap_used)]

use smo_classify::rules::{PostView, RuleSet};
use smo_classify::text::NormalizedText;
use smo_classify::{CompiledTags, TagRule};

const RULES: &[(&str, &str)] = &[
    ("disruption", "(delay* OR late OR cancel*) AND NOT \"on time\""),
    ("refund-request", "refund NEAR/3 (ticket OR flight)"),
    ("apple-brand", "{Apple} AND NOT (fruit OR pie)"),
    ("public-fail", "#fail AND @acmeair"),
    ("refund-es", "lang:es AND (reembolso OR devolución)"),
];

/// (text, detected language, expected rule names)
const TWEETS: &[(&str, &str, &[&str])] = &[
    (
        "@AcmeAir flight AA123 delayed 4 hours and no one at the gate. #fail",
        "en",
        &["disruption", "public-fail"],
    ),
    ("@AcmeAir Cancelled Flightled again?! Third time this month 😡", "en", &["disruption"]),
    ("Thanks @AcmeAir, landed on time and the crew was great ✈️", "en", &[]),
    ("Running late but the flight left on time, so I missed it. Thanks a lot @AcmeAir", "en", &[]),
    (
        "@AcmeAir still waiting for the refund on my cancelled ticket from March",
        "en",
        &["disruption", "refund-request"],
    ),
    ("@AcmeAir I want a refund for the flight you moved without asking", "en", &["refund-request"]),
    ("@AcmeAir how do I get my refund? The ticket was for flight 221 on Sunday", "en", &["refund-request"]),
    ("refund is not something @AcmeAir does, I have asked about it many many times for my ticket", "en", &[]),
    ("Watching the game on my Apple TV on the plane, wifi actually works @AcmeAir", "en", &["apple-brand"]),
    ("The apple pie on @AcmeAir flight 88 was lovely", "en", &[]),
    ("Apple pie in business class, nice touch", "en", &[]),
    ("@AcmeAir lost my bag. Again. #FAIL", "en", &["public-fail"]),
    ("#fail of the week: whoever designed this airport", "en", &[]),
    ("@AcmeAir llevo tres semanas esperando la devolución del billete", "es", &["refund-es"]),
    ("@AcmeAir quiero mi REEMBOLSO ya, vuelo cancelado", "es", &["disruption", "refund-es"]),
    ("@AcmeAir devolucion por favor, vuelo con retraso", "es", &["refund-es"]),
    ("@AcmeAir my reembolso email was in Spanish, is that normal?", "en", &[]),
    ("RT @news: AcmeAir reports delays at JFK after storm https://t.co/abc123", "en", &["disruption"]),
];

fn rule_set() -> RuleSet {
    RuleSet::compile(RULES).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn airline_rules_match_the_tweets_they_are_written_for() {
    let rules = rule_set();
    for (text, lang, expected) in TWEETS {
        let normalized = NormalizedText::new(text);
        let view = PostView::new(&normalized).with_lang(lang).with_source("twitter");
        assert_eq!(rules.matching(&view), *expected, "{text}");
    }
}

#[test]
fn the_same_rules_work_as_tag_definitions() {
    let tags: Vec<TagRule> =
        RULES.iter().map(|(name, expression)| TagRule::from_rule(*name, expression)).collect();
    let compiled = CompiledTags::new(&tags).unwrap();
    for (text, lang, expected) in TWEETS {
        let normalized = NormalizedText::new(text);
        let view = PostView::new(&normalized).with_lang(lang);
        assert_eq!(compiled.tags_for_view(&view), *expected, "{text}");
        // Without the language, only the `lang:` rule changes.
        let without_lang: Vec<&str> = expected.iter().copied().filter(|name| *name != "refund-es").collect();
        assert_eq!(compiled.tags_for(&normalized), without_lang, "{text}");
    }
}

#[test]
fn rules_from_configuration_keywords() {
    // The configuration shape is unchanged: a `rule:` keyword in a tag's
    // keyword list, next to plain keywords.
    let config = [
        TagRule::new("delays", ["delay*", "rule: late NEAR/2 (flight OR plane) AND NOT \"on time\""]),
        TagRule::new("refunds", ["refund*", "money back"]),
    ];
    let compiled = CompiledTags::new(&config).unwrap();
    let tags = |text: &str| compiled.tags_for(&NormalizedText::new(text));
    assert_eq!(tags("the plane was very late"), vec!["delays"]);
    assert_eq!(tags("Delayed, and I want my money back"), vec!["delays", "refunds"]);
    assert!(tags("late night, the flight was on time").is_empty());
}
