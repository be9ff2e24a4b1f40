//! Unit tests of the rule language: every operator, every error, and a
//! randomised comparison of the compiled rule sets (triggers, memoised
//! atoms, sorted position lists) with a naive evaluator of the syntax tree.

use super::*;

fn view(text: &str) -> PostView<'static> {
    PostView::from_raw(text)
}

fn rule(expression: &str) -> Rule {
    Rule::parse(expression).unwrap_or_else(|err| panic!("{expression:?}: {err}"))
}

fn matches(expression: &str, text: &str) -> bool {
    rule(expression).matches(&view(text))
}

fn error(expression: &str) -> RuleError {
    match parse(expression) {
        Err(err) => err,
        Ok(expr) => panic!("{expression:?} parsed as {expr:?}"),
    }
}

#[track_caller]
fn assert_error(expression: &str, position: usize, expected_contains: &str, found_contains: &str) {
    let err = error(expression);
    assert_eq!(err.position, position, "{expression:?}: {err}");
    assert!(err.expected.contains(expected_contains), "{expression:?}: {err}");
    assert!(err.found.contains(found_contains), "{expression:?}: {err}");
}

// ---------------------------------------------------------------- operators

#[test]
fn and_or_not() {
    assert!(matches("late AND flight", "My flight is late"));
    assert!(!matches("late AND flight", "My train is late"));
    assert!(matches("late OR cancelled", "flight cancelled"));
    assert!(!matches("late OR cancelled", "flight on time"));
    assert!(matches("NOT refund", "all good"));
    assert!(!matches("NOT refund", "refund please"));
    assert!(matches("a1 AND b1 AND c1", "c1 b1 a1"));
    assert!(matches("a1 OR b1 OR c1", "only c1"));
}

#[test]
fn and_not_and_binary_not_are_the_same() {
    for expression in ["flight AND NOT late", "flight NOT late"] {
        assert!(matches(expression, "flight on time"), "{expression}");
        assert!(!matches(expression, "flight late again"), "{expression}");
        assert!(!matches(expression, "train on time"), "{expression}");
    }
    assert_eq!(parse("a NOT b"), parse("a AND NOT b"));
    assert!(matches("NOT NOT late", "late"));
}

#[test]
fn parentheses_group() {
    let expression = "(delay* OR late OR cancel*) AND NOT \"on time\"";
    assert!(matches(expression, "Flight delayed again"));
    assert!(matches(expression, "they CANCELLED my flight"));
    assert!(!matches(expression, "we landed late but the bags came on time"));
    assert!(!matches(expression, "smooth flight"));
    assert!(matches("((late))", "late"));
    assert!(matches("late OR (bag AND lost)", "lost my bag"));
    assert!(!matches("late OR (bag AND lost)", "bag found"));
}

#[test]
fn phrases_are_adjacent_ordered_and_within_a_clause() {
    assert!(matches("\"on time\"", "arrived on time!"));
    assert!(!matches("\"on time\"", "time on"));
    assert!(!matches("\"on time\"", "on the time"));
    assert!(!matches("\"late delivery\"", "it was late. Delivery came"));
    assert!(matches("\"customer service\"", "CUSTOMER   Service rocks"));
    assert!(matches("“smart quotes”", "pasted smart quotes"), "curly quotes delimit phrases too");
    assert!(matches("e-mail", "send an e-mail"), "a hyphenated bare term is a phrase");
    assert!(matches("\"deliver* late\"", "delivery late"), "wildcards inside phrases");
}

#[test]
fn near_is_unordered_and_counts_words_between() {
    let near = "refund NEAR/3 (ticket OR flight)";
    assert!(matches(near, "refund for my flight"));
    assert!(matches(near, "my flight was cancelled so refund"), "either order: 3 words between");
    assert!(!matches(near, "my flight was cancelled and so refund"), "4 words between");
    assert!(matches(near, "ticket refund"));
    assert!(!matches(near, "refund"));
    assert!(matches("late NEAR/0 flight", "flight late"), "NEAR/0 means adjacent");
    assert!(!matches("late NEAR/0 flight", "late the flight"));
    assert!(matches("refund NEAR/1 refund", "refund x refund"), "two distinct occurrences");
    assert!(!matches("refund NEAR/1 refund", "refund"), "one occurrence is not near itself");
    assert!(matches("\"lost bag\" NEAR/2 refund", "lost bag and refund"), "phrases as operands");
    assert!(!matches("\"lost bag\" NEAR/1 refund", "lost bag and no refund"));
    assert!(matches("refund NEAR/5 flight", "refund. Flight"), "NEAR crosses punctuation");
    assert!(matches("deliver* NEAR/2 {Apple}", "Apple delivered"), "wildcards and case terms");
}

#[test]
fn onear_and_near_f_are_ordered() {
    for expression in ["refund ONEAR/2 ticket", "refund NEAR/2f ticket"] {
        assert!(matches(expression, "refund my ticket"), "{expression}");
        assert!(!matches(expression, "ticket refund"), "{expression}");
        assert!(!matches(expression, "refund a b c ticket"), "{expression}");
    }
    assert_eq!(parse("a ONEAR/2 b"), parse("a NEAR/2f b"));
}

#[test]
fn wildcards() {
    assert!(matches("deliver*", "Delivery failed"));
    assert!(matches("deliver*", "deliver it"), "`*` also matches nothing");
    assert!(!matches("deliver*", "redelivery"), "prefix only");
    assert!(matches("colo?r", "what colour"));
    assert!(matches("colo?r", "COLOUR"));
    assert!(!matches("colo?r", "color"), "`?` is exactly one character");
    assert!(matches("colo?r*", "colourful"));
    assert!(matches("devoluci?n", "devolución"), "`?` matches a folded accented letter");
    assert!(matches("reembols*", "REEMBOLSÓ"));
    assert!(matches("#deliv*", "#DeliveryFail"));
    assert!(matches("@acme*", "hey @AcmeAir_help"));
}

#[test]
fn hashtags_and_mentions() {
    assert!(matches("#fail", "epic #FAIL today"));
    assert!(!matches("#fail", "epic fail today"), "a hashtag term needs the hashtag");
    assert!(matches("fail", "epic #fail"), "the hashtag's text is also a word");
    assert!(matches("@acmeair", "@AcmeAir help"));
    assert!(!matches("@acmeair", "acmeair help"));
    assert!(matches("#fail AND @acmeair", "@acmeair #fail"));
    assert!(matches("#café", "#cafe"), "hashtags fold accents");
}

#[test]
fn field_filters() {
    let text = NormalizedTextOwned::new("Where is my refund");
    let full = PostView::new(&text.0)
        .with_author("@AcmeFan")
        .with_lang("es-MX")
        .with_source("twitter:stream")
        .with_url("https://www.Acme.com/status/1?ref=x");
    let check = |expression: &str| rule(expression).matches(&full);
    assert!(check("author:acmefan"));
    assert!(check("author:@AcmeFan"));
    assert!(check("author:acme*"));
    assert!(!check("author:acme"));
    assert!(check("lang:es"), "a regional code matches its language");
    assert!(check("lang:ES-mx"));
    assert!(!check("lang:en"));
    assert!(check("source:twitter"), "the source kind before ':'");
    assert!(check("source:\"twitter:stream\""));
    assert!(check("source:twitter:stream"));
    assert!(!check("source:twit"));
    assert!(check("source:twi*"));
    assert!(check("url:acme.com"), "a domain matches its subdomains");
    assert!(!check("url:cme.com"), "but not a suffix of another domain");
    assert!(check("url:/status/"), "a substring of the URL");
    assert!(check("url:\"https://www.acme.com/status\""));
    assert!(check("refund AND lang:es AND NOT author:bot*"));

    let bare = PostView::new(&text.0);
    assert!(!rule("lang:es").matches(&bare), "a missing field never matches");
    assert!(rule("NOT lang:en").matches(&bare), "so its negation does");
    assert!(!rule("url:acme.com").matches(&bare));
    assert!(!rule("tag:billing").matches(&bare), "labels are unknown before classification");
}

#[test]
fn classification_labels() {
    let text = NormalizedTextOwned::new("Where is my refund");
    let view =
        PostView::new(&text.0).with_lang("es").with_labels(["Billing", "refunds"], "complaint", "negative");
    let check = |expression: &str| rule(expression).matches(&view);
    assert!(check("tag:billing"), "any of the tags, case-insensitive");
    assert!(check("tag:refunds AND tag:billing"));
    assert!(check("tag:bill*"));
    assert!(!check("tag:bill"));
    assert!(check("intent:complaint AND sentiment:negative"));
    assert!(!check("intent:question"));
    assert!(check("lang:es AND (refund OR reembolso) AND NOT sentiment:positive"));
    assert!(!check("urgency:legal"), "no urgency until it is supplied");
    let view = view.with_urgency(["Legal", "outage"]);
    assert!(rule("urgency:legal AND urgency:outage").matches(&view));
    assert!(!rule("urgency:safety").matches(&view));
}

#[test]
fn classification_before_tagging() {
    use smo_proto::{Intent, Sentiment, Urgency};
    let text = NormalizedTextOwned::new("thank you, the crew was amazing");
    let view =
        PostView::new(&text.0).with_classification(Intent::Praise, Sentiment::Positive, &[Urgency::Safety]);
    assert!(rule("intent:praise AND (crew OR staff)").matches(&view));
    assert!(rule("sentiment:positive AND urgency:safety").matches(&view));
    assert!(!rule("tag:anything").matches(&view), "tags are not known while tagging");
    let calm = PostView::new(&text.0).with_classification(Intent::Praise, Sentiment::Positive, &[]);
    assert!(
        !rule("urgency:safety").matches(&calm)
            && rule("NOT (urgency:safety OR urgency:legal)").matches(&calm)
    );
}

struct NormalizedTextOwned(crate::text::NormalizedText);

impl NormalizedTextOwned {
    fn new(raw: &str) -> Self {
        Self(crate::text::NormalizedText::new(raw))
    }
}

#[test]
fn from_post_fills_metadata() {
    use chrono::{TimeZone, Utc};
    use smo_proto::{AccountId, Author, Engagement, Post, PostId, SCHEMA_VERSION};
    let post = Post {
        schema_version: SCHEMA_VERSION,
        id: PostId::derive("twitter", "1"),
        account: AccountId::new("acme-air").unwrap(),
        source: "twitter".to_owned(),
        native_id: "1".to_owned(),
        author: Author {
            id: "1".to_owned(),
            handle: "Traveller".to_owned(),
            display_name: None,
            followers: None,
        },
        text: "@AcmeAir refund please".to_owned(),
        url: Some("https://twitter.com/traveller/status/1".to_owned()),
        created_at: Utc.timestamp_opt(0, 0).unwrap(),
        in_reply_to: None,
        thread_id: None,
        engagement: Engagement::default(),
    };
    let text = crate::text::NormalizedText::new(&post.text);
    let view = PostView::from_post(&post, &text).with_lang("en");
    let set = RuleSet::compile(&[
        ("a", "author:traveller AND source:twitter AND url:twitter.com AND lang:en"),
        ("b", "refund AND @acmeair"),
        ("c", "author:someone"),
    ])
    .unwrap();
    assert_eq!(set.matching(&view), vec!["a", "b"]);
}

#[test]
fn case_sensitive_terms() {
    assert!(matches("{Apple}", "I love my Apple watch"));
    assert!(!matches("{Apple}", "an apple a day"));
    assert!(!matches("{Apple}", "APPLE"));
    assert!(matches("{Apple} AND NOT (fruit OR pie)", "New Apple phone"));
    assert!(!matches("{Apple} AND NOT (fruit OR pie)", "Apple pie recipe"));
    assert!(matches("{Apple Watch}", "the Apple Watch strap"));
    assert!(!matches("{Apple Watch}", "the Apple watch strap"));
    assert!(matches("{L'Oréal}", "L’Oréal launches"), "elisions and curly apostrophes");
    assert!(!matches("{Oréal}", "L'Oreal"), "case-sensitive terms keep accents");
    assert!(matches("{NASA}", "NASA!!"));
}

#[test]
fn matching_is_case_and_accent_insensitive_by_default() {
    for text in ["quiero mi devolución", "quiero mi devolucion", "QUIERO MI DEVOLUCIÓN", "Devolución"] {
        assert!(matches("devolución", text), "{text}");
        assert!(matches("devolucion", text), "{text}");
        assert!(matches("DEVOLUCION", text), "{text}");
    }
    assert!(matches("strasse", "Straße"));
    assert!(matches("\"crème brûlée\"", "creme brulee"));
    assert!(matches("e\u{301}te\u{301}", "été"), "decomposed accents in the rule");
    assert!(matches("привет", "ПРИВЕТ мир"), "other scripts are lowercased");
    assert!(!matches("late", "latest news"), "whole words only");
}

#[test]
fn operators_must_be_upper_case() {
    // Lowercase operator words are search words...
    assert!(matches("and", "this and that"));
    assert!(matches("\"rock and roll\"", "rock and roll"));
    assert!(matches("\"AND\"", "and"), "a quoted operator is a word");
    assert!(matches("near", "near me"));
    // ...so between two terms they are a missing-operator error with a hint.
    let err = error("apple and pie");
    assert_eq!(err.position, 6);
    assert!(err.found.contains("operators are written in capitals: AND"), "{err}");
    let err = error("apple near/3 pie");
    assert!(err.found.contains("NEAR/3"), "{err}");
    assert_eq!(parse("a Or b").map_err(|err| err.position), Err(2));
}

#[test]
fn implicit_and_is_an_error() {
    let err = error("apple pie");
    assert_eq!(err.to_string(), format!("at 6: expected {} but found word \"pie\"", err.expected));
    assert!(err.expected.contains("terms need an operator between them"));
    assert_error("(a OR b) c", 9, "or end of rule", "word \"c\"");
    assert_error("a (b)", 2, "AND, OR", "'('");
    assert_error("\"a b\" \"c d\"", 6, "AND, OR", "phrase \"c d\"");
    assert_error("(a b)", 3, "or ')'", "word \"b\"");
}

#[test]
fn mixing_and_with_or_needs_parentheses() {
    assert_error("a OR b AND c", 7, "OR (mixing AND and OR needs parentheses)", "AND");
    assert_error("a AND b OR c", 8, "AND or NOT (mixing", "OR");
    assert_error("a OR b NOT c", 7, "OR (mixing", "NOT");
    assert!(parse("(a OR b) AND c").is_ok());
    assert!(parse("a OR (b AND c)").is_ok());
    assert!(parse("a AND b NOT c AND NOT d").is_ok());
}

// ------------------------------------------------------------------- errors

#[test]
fn error_display_names_position_expected_and_found() {
    let err = error("(delay* OR late");
    assert_eq!(err, RuleError::new(15, "')' to close the '(' at 0", "end of rule"));
    assert_eq!(err.to_string(), "at 15: expected ')' to close the '(' at 0 but found end of rule");
}

#[test]
fn positions_are_character_offsets() {
    // `é` and `ó` are two bytes each in UTF-8; the position counts chars.
    let err = error("café OR devolución AND");
    assert_eq!(err.position, 19);
}

#[test]
fn empty_rules() {
    assert_error("", 0, "a term", "an empty rule");
    assert_error("   \n\t", 0, "a term", "an empty rule");
    assert_error("()", 1, "a term or '('", "')'");
}

#[test]
fn unbalanced_parentheses() {
    assert_error("(a OR b", 7, "')' to close the '(' at 0", "end of rule");
    assert_error("((a OR b)", 9, "')' to close the '(' at 0", "end of rule");
    assert_error("a OR b)", 6, "end of rule", "')' without a matching '('");
    assert_error(")", 0, "a term", "')'");
}

#[test]
fn unbalanced_quotes_and_braces() {
    assert_error("\"on time", 8, "'\"' to close the phrase opened at 0", "end of rule");
    assert_error("late AND \"on time", 17, "opened at 9", "end of rule");
    assert_error("{Apple", 6, "'}' to close the case-sensitive term opened at 0", "end of rule");
    assert_error("Apple}", 5, "a term", "'}' without a matching '{'");
    assert_error("author:\"acme", 12, "'\"' to close the value", "end of rule");
    assert_error("\"\"", 0, "words inside the quotes", "an empty phrase");
    assert_error("\"  !! \"", 3, "a word", "no letters or digits");
    assert_error("{}", 0, "words inside { }", "{}");
    assert_error("{App*}", 4, "no wildcards in case-sensitive terms", "{App*}");
}

#[test]
fn dangling_operators() {
    assert_error("late AND", 8, "a term or '('", "end of rule");
    assert_error("late OR", 7, "a term or '('", "end of rule");
    assert_error("AND late", 0, "a term or '('", "AND");
    assert_error("OR", 0, "a term or '('", "OR");
    assert_error("late OR OR early", 8, "a term or '('", "OR");
    assert_error("late AND NOT", 12, "a term or '('", "end of rule");
    assert_error("NOT", 3, "a term or '('", "end of rule");
    assert_error("late NEAR/3", 11, "a term or '('", "end of rule");
    assert_error("NEAR/3 late", 0, "a term or '('", "NEAR/3");
    assert_error("(late AND)", 9, "a term or '('", "')'");
}

#[test]
fn bad_near_distances() {
    assert_error("a NEAR b", 6, "'/' and a distance after NEAR", "nothing");
    assert_error("a ONEAR b", 7, "'/' and a distance after ONEAR", "nothing");
    assert_error("a NEAR/ b", 7, "a distance from 0 to 100", "nothing");
    assert_error("a NEAR/x b", 7, "a distance from 0 to 100", "\"x\"");
    assert_error("a NEAR/-1 b", 7, "a distance from 0 to 100", "\"-1\"");
    assert_error("a NEAR/101 b", 7, "a distance from 0 to 100", "101");
    assert_error("a NEAR/99999999999999 b", 7, "a distance from 0 to 100", "99999");
    assert_error("a ONEAR/3f b", 8, "a distance", "\"3f\"");
    assert!(parse("a NEAR/100 b").is_ok());
}

#[test]
fn near_operands_are_words_phrases_or_or_groups() {
    assert_error("(a AND b) NEAR/3 c", 0, "a word, phrase or (… OR …) group", "an AND group");
    assert_error("a NEAR/3 #tag", 9, "beside NEAR", "a hashtag");
    assert_error("@acme NEAR/3 b", 0, "beside NEAR", "a mention");
    assert_error("a NEAR/3 lang:en", 9, "beside NEAR", "a field filter");
    assert_error("(a NEAR/2 b) NEAR/3 c", 0, "beside NEAR", "NEAR cannot be nested");
    assert_error("a NEAR/2 b NEAR/3 c", 11, "cannot be chained", "NEAR/3");
    assert_error("a NEAR/2 NOT b", 9, "a term or '('", "NOT");
    assert!(parse("(a OR (b OR \"c d\")) NEAR/2 (e OR fin*)").is_ok());
}

#[test]
fn wildcard_errors() {
    assert_error("a*", 0, "at least 3 letters before '*'", "\"a*\"");
    assert_error("de*", 0, "at least 3 letters before '*'", "\"de*\"");
    assert_error("de?*", 0, "at least 3 letters", "\"de?*\"");
    assert_error("*", 0, "a letter before the wildcard", "\"*\"");
    assert_error("x OR ?olor", 5, "a letter before the wildcard", "?olor");
    assert_error("de*livery", 2, "'*' only at the end of a word", "de*livery");
    assert_error("del**", 3, "'*' only at the end", "del**");
    assert_error("#ab*", 1, "at least 3 letters", "ab*");
    assert_error("@ab*", 1, "at least 3 letters", "ab*");
    assert_error("\"late de*\"", 6, "at least 3 letters", "de*");
    assert_error("e-ma?l", 1, "a single word", "e-ma?l");
    assert!(parse("del*").is_ok());
    assert!(parse("b?g").is_ok());
}

#[test]
fn term_errors() {
    assert_error("autor:acme", 0, "a field author:, lang:, source:, url:, tag:", "unknown field \"autor:\"");
    assert_error("a OR http://acme.com", 5, "field", "unknown field \"http:\"");
    assert_error("author:", 7, "a value after author:", "nothing");
    assert_error("lang:\"\"", 5, "a value after lang:", "nothing");
    assert_error("author:a*", 7, "at least 3 characters before '*'", "a*");
    assert_error("source:a*b", 8, "'*' only at the end", "a*b");
    assert_error("-refund", 0, "write NOT before a term to exclude it", "-refund");
    assert_error("!!!", 0, "a word", "no letters or digits");
    assert_error("#", 1, "a hashtag name", "nothing");
    assert_error("#two-words", 4, "a hashtag name", "#two-words");
    assert_error("@", 1, "a handle", "nothing");
    assert_error("@José", 4, "a handle", "@José");
    assert!(parse("\"10:30\"").is_ok(), "a colon inside quotes is text");
    assert!(parse("10:30").is_ok(), "a colon after digits is not a field");
}

#[test]
fn nesting_limit() {
    let ok = format!("{}late{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert!(matches(&ok, "late"));
    let deep = format!("{}late{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
    assert_error(&deep, MAX_NESTING, "at most 64 nested", "deeper nesting");
    let nots = format!("{}late", "NOT ".repeat(MAX_NESTING + 1));
    assert_error(&nots, 4 * MAX_NESTING, "at most 64 nested", "deeper nesting");
    let huge = "(".repeat(100_000);
    assert_error(&huge, MAX_RULE_CHARS, "at most 32768 characters", "100000 characters");
    let ten_thousand = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(error(&ten_thousand).position, MAX_NESTING);
}

#[test]
fn display_writes_rules_back_in_canonical_form() {
    let cases = [
        (
            "(delay*   OR late OR cancel*) AND NOT \"on   time\"",
            "(delay* OR late OR cancel*) AND NOT \"on time\"",
        ),
        ("refund NEAR/3 (ticket OR flight)", "refund NEAR/3 (ticket OR flight)"),
        ("a NEAR/2f b", "a ONEAR/2 b"),
        ("{Apple} AND NOT (fruit OR pie)", "{Apple} AND NOT (fruit OR pie)"),
        ("#Fail AND @AcmeAir", "#fail AND @acmeair"),
        ("LANG:ES AND (Reembolso OR devolución)", "lang:\"es\" AND (reembolso OR devolucion)"),
        ("author:@Acme* AND url:acme.com", "author:\"acme*\" AND url:\"acme.com\""),
        ("a NOT b", "a AND NOT b"),
        ("((a OR b) OR c)", "a OR b OR c"),
        ("e-mail", "\"e mail\""),
    ];
    for (written, canonical) in cases {
        let expr = parse(written).unwrap_or_else(|err| panic!("{written}: {err}"));
        assert_eq!(expr.to_string(), canonical);
        assert_eq!(parse(canonical), Ok(expr), "{canonical} parses back to the same tree");
    }
}

// ---------------------------------------------------------------- rule sets

#[test]
fn rule_sets_name_sorted_matches() {
    let set = RuleSet::compile(&[
        ("zeta", "late"),
        ("alpha", "late AND flight"),
        ("mid", "NOT late"),
        ("beta", "bag*"),
    ])
    .unwrap();
    assert_eq!(set.len(), 4);
    assert_eq!(set.names().collect::<Vec<_>>(), vec!["alpha", "beta", "mid", "zeta"]);
    assert_eq!(set.matching(&view("late flight, bags lost")), vec!["alpha", "beta", "zeta"]);
    assert_eq!(set.matching(&view("nothing to see")), vec!["mid"]);
    assert!(set.matches("beta", &view("baggage")));
    assert!(!set.matches("unknown", &view("baggage")));
    assert!(RuleSet::compile::<&str, &str>(&[]).unwrap().matching(&view("x")).is_empty());
}

#[test]
fn rule_set_errors_name_the_rule() {
    let err = RuleSet::compile(&[("ok", "late"), ("broken", "(late OR")]).unwrap_err();
    assert_eq!(err.rule, "broken");
    assert_eq!(err.error.position, 8);
    assert_eq!(err.to_string(), "rule \"broken\": at 8: expected a term or '(' but found end of rule");
    let err = RuleSet::compile(&[("dup", "a1"), ("dup", "b1")]).unwrap_err();
    assert_eq!(err.rule, "dup");
    assert!(err.error.expected.contains("a rule name used once"));
}

#[test]
fn from_exprs_accepts_built_trees_and_rejects_too_deep_ones() {
    let mut deep = Expr::Term(Term::Words(vec![WordMatch::Exact("late".to_owned())]));
    for _ in 0..1_000 {
        deep = Expr::Not(Box::new(deep));
    }
    let err = RuleSet::from_exprs(vec![("deep".to_owned(), deep)]).unwrap_err();
    assert_eq!(err.rule, "deep");
    let odd = vec![
        ("empty-and".to_owned(), Expr::And(vec![])),
        ("empty-or".to_owned(), Expr::Or(vec![])),
        ("empty-words".to_owned(), Expr::Term(Term::Words(vec![]))),
        (
            "empty-near".to_owned(),
            Expr::Near(Near { left: vec![vec![]], right: vec![], distance: 3, ordered: false }),
        ),
    ];
    let set = RuleSet::from_exprs(odd).unwrap();
    assert_eq!(set.matching(&view("anything")), vec!["empty-and"]);
}

#[test]
fn shared_terms_and_memoised_atoms_do_not_leak_between_rules() {
    let set = RuleSet::compile(&[
        ("phrase", "\"lost bag\""),
        ("phrase-again", "\"lost bag\" AND refund"),
        ("near", "lost NEAR/1 bag"),
        ("not-phrase", "bag AND NOT \"lost bag\""),
    ])
    .unwrap();
    assert_eq!(set.matching(&view("lost bag, refund")), vec!["near", "phrase", "phrase-again"]);
    assert_eq!(set.matching(&view("bag lost")), vec!["near", "not-phrase"]);
}

#[test]
fn types_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RuleSet>();
    assert_send_sync::<Rule>();
    assert_send_sync::<PostView<'static>>();
    assert_send_sync::<RuleError>();
}

// ------------------------------------------- compiled vs naive evaluation

/// Evaluates a syntax tree directly, word by word, with none of the
/// compiled set's indexes, triggers or memoisation.
fn naive(expr: &Expr, view: &PostView<'_>) -> bool {
    match expr {
        Expr::Term(Term::Words(words)) => (0..view.word_count()).any(|start| sequence_at(words, start, view)),
        Expr::Term(Term::Hashtag(word)) => view.hashtags().any(|tag| tag_matches(word, tag)),
        Expr::Term(Term::Mention(word)) => view.mentions().any(|handle| tag_matches(word, handle)),
        Expr::Term(Term::Field(filter)) => view.field_matches(filter),
        Expr::And(children) => children.iter().all(|child| naive(child, view)),
        Expr::Or(children) => children.iter().any(|child| naive(child, view)),
        Expr::Not(child) => !naive(child, view),
        Expr::Near(near) => {
            let spans = |alternatives: &[Vec<WordMatch>]| -> Vec<(usize, usize)> {
                let mut spans = Vec::new();
                for words in alternatives {
                    for start in 0..view.word_count() {
                        if sequence_at(words, start, view) {
                            spans.push((start, start + words.len() - 1));
                        }
                    }
                }
                spans
            };
            let (left, right) = (spans(&near.left), spans(&near.right));
            let distance = near.distance as usize;
            left.iter().any(|&(ls, le)| {
                right.iter().any(|&(rs, re)| {
                    (le < rs && rs - le - 1 <= distance)
                        || (!near.ordered && re < ls && ls - re - 1 <= distance)
                })
            })
        }
    }
}

fn sequence_at(words: &[WordMatch], start: usize, view: &PostView<'_>) -> bool {
    !words.is_empty()
        && start + words.len() <= view.word_count()
        && words.iter().enumerate().all(|(offset, word)| {
            let position = start + offset;
            (offset == 0 || !view.clause_start(position))
                && match word {
                    WordMatch::Exact(expected) => view.folded(position) == expected,
                    WordMatch::Wildcard(pattern) => pattern.matches(view.folded(position)),
                    WordMatch::CaseSensitive(expected) => view.original(position) == Some(expected.as_str()),
                }
        })
}

fn tag_matches(word: &WordMatch, tag: &str) -> bool {
    match word {
        WordMatch::Exact(expected) | WordMatch::CaseSensitive(expected) => expected == tag,
        WordMatch::Wildcard(pattern) => pattern.matches(tag),
    }
}

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

const WORDS: &[&str] =
    &["late", "flight", "refund", "bag", "bags", "delayed", "Apple", "apple", "café", "on", "time"];
const TERMS: &[&str] = &[
    "late",
    "flight",
    "refund",
    "bag",
    "bag*",
    "dela?ed",
    "{Apple}",
    "apple",
    "cafe",
    "\"on time\"",
    "\"late flight\"",
    "#fail",
    "#del*",
    "@acme",
    "lang:en",
    "author:bob",
];
const NEAR_TERMS: &[&str] = &["late", "flight", "bag*", "{Apple}", "\"on time\"", "(refund OR bags)"];

fn random_rule(rng: &mut Rng, depth: usize) -> String {
    if depth > 3 || rng.below(3) == 0 {
        return match rng.below(6) {
            0 => {
                let operator = ["NEAR", "ONEAR"][rng.below(2)];
                format!("{} {operator}/{} {}", rng.pick(NEAR_TERMS), rng.below(4), rng.pick(NEAR_TERMS))
            }
            1 => format!("NOT {}", rng.pick(TERMS)),
            _ => rng.pick(TERMS).to_owned(),
        };
    }
    let operator = [" AND ", " OR ", " AND NOT "][rng.below(3)];
    let parts: Vec<String> = (0..2 + rng.below(2)).map(|_| random_rule(rng, depth + 1)).collect();
    let joined = if operator == " OR " { parts.join(" OR ") } else { parts.join(operator) };
    format!("({joined})")
}

fn random_post(rng: &mut Rng) -> PostView<'static> {
    let mut text = String::new();
    for _ in 0..rng.below(14) {
        let chunk = match rng.below(12) {
            0 => "#fail",
            1 => "#delays",
            2 => "@acme",
            3 => ".",
            _ => rng.pick(WORDS),
        };
        text.push_str(chunk);
        text.push(' ');
    }
    let mut view = PostView::from_raw(&text);
    if rng.below(2) == 0 {
        view = view.with_lang(["en", "es"][rng.below(2)]);
    }
    if rng.below(2) == 0 {
        view = view.with_author(["bob", "alice"][rng.below(2)]);
    }
    view
}

#[test]
fn compiled_sets_agree_with_naive_evaluation() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for round in 0..60 {
        let rules: Vec<(String, String)> =
            (0..40).map(|index| (format!("r{index:02}"), random_rule(&mut rng, 0))).collect();
        let set = RuleSet::compile(&rules).unwrap_or_else(|err| panic!("round {round}: {err}"));
        let parsed: Vec<(String, Expr)> =
            rules.iter().map(|(name, expression)| (name.clone(), parse(expression).unwrap())).collect();
        for _ in 0..40 {
            let view = random_post(&mut rng);
            let expected: Vec<&str> =
                parsed.iter().filter(|(_, expr)| naive(expr, &view)).map(|(name, _)| name.as_str()).collect();
            assert_eq!(set.matching(&view), expected, "round {round}, post {:?}", view.text().clean);
        }
    }
}
