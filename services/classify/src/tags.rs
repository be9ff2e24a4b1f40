//! An account's keyword topic tags. Each [`TagRule`] names a tag and lists
//! keywords; a post gets the tag when any keyword occurs in it. Rules are
//! compiled once per account ([`CompiledTags::new`]) so that a bad rule is
//! rejected at config load with its name, and evaluation per post is a few
//! hash lookups per word.
//!
//! Keyword syntax: a word or phrase, matched whole-word and case-insensitively
//! on normalised text (`late delivery`); a trailing `*` is a prefix wildcard on
//! the last word (`deliver*`); a leading `#` matches hashtags only
//! (`#blackfriday`, `#deliver*`).
//!
//! A keyword written `rule:EXPRESSION` is instead a boolean rule in the
//! language of [`crate::rules`] (`rule:(delay* OR late) AND NOT "on time"`),
//! for topics that plain keywords cannot express; [`TagRule::from_rule`]
//! builds such a tag. A tag matches when any of its keywords or rules does.
//! The prefix keeps [`TagRule`] and the configuration shape unchanged, so
//! existing tag definitions and code that builds them keep working.

use serde::{Deserialize, Serialize};

use crate::error::ClassifyError;
use crate::phrases::PhraseMatcher;
use crate::rules::{Expr, PostView, RuleSet, parse};
use crate::text::NormalizedText;

/// Marks a keyword that is a rule expression rather than a plain keyword.
pub const RULE_KEYWORD_PREFIX: &str = "rule:";

/// Longest tag name accepted; tags are index terms and report labels.
const MAX_TAG_NAME_CHARS: usize = 100;

/// One topic tag of an account and the keywords that select it, as written
/// in the account's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRule {
    /// The tag attached to matching posts, e.g. `delivery`.
    pub name: String,
    /// Words, phrases, `prefix*` wildcards, `#hashtags`, or `rule:` boolean
    /// rule expressions; any one matches.
    pub keywords: Vec<String>,
}

impl TagRule {
    /// Convenience constructor, mostly for tests and examples.
    pub fn new(name: impl Into<String>, keywords: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { name: name.into(), keywords: keywords.into_iter().map(Into::into).collect() }
    }

    /// A tag defined by one boolean rule (see [`crate::rules`]), e.g.
    /// `TagRule::from_rule("refunds", "refund NEAR/3 (ticket OR flight)")`;
    /// stored as a single `rule:` keyword.
    pub fn from_rule(name: impl Into<String>, expression: impl AsRef<str>) -> Self {
        Self { name: name.into(), keywords: vec![format!("{RULE_KEYWORD_PREFIX}{}", expression.as_ref())] }
    }

    /// The rule expressions among the keywords, without their prefix.
    pub fn rule_expressions(&self) -> impl Iterator<Item = &str> {
        self.keywords.iter().filter_map(|keyword| rule_expression(keyword))
    }
}

/// The expression of a `rule:` keyword.
fn rule_expression(keyword: &str) -> Option<&str> {
    keyword.trim_start().strip_prefix(RULE_KEYWORD_PREFIX)
}

/// An account's tag rules, validated and indexed for fast evaluation.
#[derive(Debug, Clone, Default)]
pub struct CompiledTags {
    /// Tag names sorted; a target id of the matcher is an index here, so
    /// matches come out sorted and unique for free.
    names: Vec<String>,
    matcher: PhraseMatcher,
    /// Tags with `rule:` keywords, one rule per tag (its rules OR-ed), named
    /// after the tag.
    rules: RuleSet,
    /// For each rule of `rules` (in its name order), the tag's index.
    rule_targets: Vec<usize>,
}

impl CompiledTags {
    /// Validates and compiles `rules`. Fails on the first bad rule, naming
    /// it: empty or duplicate name, no keywords, a malformed keyword, or a
    /// `rule:` expression that does not parse (the reason gives the
    /// character position in the expression and what was expected there).
    pub fn new(rules: &[TagRule]) -> Result<Self, ClassifyError> {
        let mut sorted: Vec<&TagRule> = rules.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut compiled = Self::default();
        let mut rule_exprs: Vec<(String, Expr)> = Vec::new();
        for (target, rule) in sorted.into_iter().enumerate() {
            let invalid = |reason: String| ClassifyError::InvalidTagRule { rule: rule.name.clone(), reason };
            validate_name(&rule.name).map_err(|reason| invalid(reason.to_owned()))?;
            if compiled.names.last() == Some(&rule.name) {
                return Err(invalid("another rule has the same name".to_owned()));
            }
            if rule.keywords.is_empty() {
                return Err(invalid("no keywords".to_owned()));
            }
            let mut exprs = Vec::new();
            for keyword in &rule.keywords {
                match rule_expression(keyword) {
                    Some(expression) => exprs.push(
                        parse(expression).map_err(|err| invalid(format!("rule {expression:?}: {err}")))?,
                    ),
                    None => compiled.matcher.add(keyword, target).map_err(invalid)?,
                }
            }
            if !exprs.is_empty() {
                let expr = if exprs.len() == 1 { exprs.remove(0) } else { Expr::Or(exprs) };
                rule_exprs.push((rule.name.clone(), expr));
                compiled.rule_targets.push(target);
            }
            compiled.names.push(rule.name.clone());
        }
        compiled.rules = RuleSet::from_exprs(rule_exprs).map_err(|err| ClassifyError::InvalidTagRule {
            rule: err.rule.clone(),
            reason: err.error.to_string(),
        })?;
        Ok(compiled)
    }

    /// No rules: every post gets no tags.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Names of the compiled tags, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether there are no rules at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The tags whose keywords occur in `text`, sorted and unique. Rule
    /// field filters (`lang:`, `author:`…) see no metadata here and do not
    /// match; use [`Self::tags_for_view`] to supply it.
    pub fn tags_for(&self, text: &NormalizedText) -> Vec<String> {
        if self.names.is_empty() {
            return Vec::new();
        }
        if self.rules.is_empty() {
            return self.named(self.matcher.matches(text));
        }
        self.tags_for_view(&PostView::new(text))
    }

    /// The tags whose keywords or rules match the post, sorted and unique;
    /// `view` carries the metadata that rule field filters compare (build
    /// it once per post with [`PostView::from_post`] and `with_lang`).
    pub fn tags_for_view(&self, view: &PostView<'_>) -> Vec<String> {
        if self.names.is_empty() {
            return Vec::new();
        }
        let mut hits = self.matcher.matches(view.text());
        hits.resize(self.names.len(), false);
        for index in self.rules.matching_indexes(view) {
            if let Some(hit) = self.rule_targets.get(index).and_then(|&target| hits.get_mut(target)) {
                *hit = true;
            }
        }
        self.named(hits)
    }

    fn named(&self, hits: Vec<bool>) -> Vec<String> {
        hits.into_iter().zip(&self.names).filter(|(hit, _)| *hit).map(|(_, name)| name.clone()).collect()
    }
}

fn validate_name(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() {
        Err("the name is empty")
    } else if name.trim() != name {
        Err("the name has leading or trailing whitespace")
    } else if name.chars().any(char::is_control) {
        Err("the name has control characters")
    } else if name.chars().count() > MAX_TAG_NAME_CHARS {
        Err("the name is longer than 100 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn airline_tags() -> CompiledTags {
        let rules = [
            TagRule::new("refunds", ["refund*", "money back", "reembolso", "remboursement"]),
            TagRule::new("baggage", ["lost luggage", "bag", "bags", "maleta", "bagage*"]),
            TagRule::new("delays", ["delay*", "late", "retraso", "en retard", "#delayed"]),
            TagRule::new("black-friday", ["#blackfriday", "black friday"]),
        ];
        match CompiledTags::new(&rules) {
            Ok(tags) => tags,
            Err(err) => panic!("{err}"),
        }
    }

    #[test]
    fn tags_are_sorted_unique_and_match_phrases_wildcards_hashtags() {
        let tags = airline_tags();
        let text = normalize(
            "@AcmeAir flight delayed 5h and my bags are gone. Want my money back! Refunds? #delayed",
        );
        assert_eq!(tags.tags_for(&text), vec!["baggage", "delays", "refunds"]);
    }

    #[test]
    fn spanish_and_french_keywords() {
        let tags = airline_tags();
        assert_eq!(
            tags.tags_for(&normalize("@iberia mi maleta no llegó y el vuelo con retraso")),
            vec!["baggage", "delays"]
        );
        assert_eq!(
            tags.tags_for(&normalize("Vol en retard, et toujours pas de remboursement")),
            vec!["delays", "refunds"]
        );
    }

    #[test]
    fn hashtag_keyword_needs_the_hashtag_and_words_need_whole_words() {
        let tags = airline_tags();
        assert_eq!(tags.tags_for(&normalize("#BlackFriday deals")), vec!["black-friday"]);
        assert_eq!(tags.tags_for(&normalize("Black Friday deals")), vec!["black-friday"]);
        assert!(tags.tags_for(&normalize("blackfriday deals, baggy jeans, latest news")).is_empty());
    }

    #[test]
    fn bad_rules_are_rejected_with_their_name() {
        let cases = [
            (vec![TagRule::new("", ["x"])], ""),
            (vec![TagRule::new("empty", Vec::<String>::new())], "empty"),
            (vec![TagRule::new("wild", ["de*livery"])], "wild"),
            (vec![TagRule::new("ok", ["fine"]), TagRule::new("bad", ["!!"])], "bad"),
            (vec![TagRule::new("dup", ["a1"]), TagRule::new("dup", ["b1"])], "dup"),
        ];
        for (rules, expected) in cases {
            match CompiledTags::new(&rules) {
                Err(ClassifyError::InvalidTagRule { rule, reason }) => {
                    assert_eq!(rule, expected, "{reason}");
                }
                other => panic!("{rules:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn tags_can_be_defined_by_rule_expressions() {
        let rules = [
            TagRule::from_rule("delays", "(delay* OR late OR cancel*) AND NOT \"on time\""),
            TagRule::from_rule("refunds", "refund NEAR/3 (ticket OR flight)"),
            TagRule::new("baggage", ["bag", "bags", "rule: {Luggage} OR maleta"]),
            TagRule::from_rule("spanish", "lang:es AND (reembolso OR devolución)"),
        ];
        let tags = CompiledTags::new(&rules).unwrap();
        assert_eq!(tags.names(), ["baggage", "delays", "refunds", "spanish"]);
        assert_eq!(
            tags.tags_for(&normalize("Flight delayed 3h, I want a refund for the flight")),
            vec!["delays", "refunds"]
        );
        assert!(tags.tags_for(&normalize("Delayed but landed on time")).is_empty());
        assert_eq!(tags.tags_for(&normalize("Luggage lost")), vec!["baggage"]);
        assert!(tags.tags_for(&normalize("luggage lost")).is_empty(), "{{Luggage}} is case-sensitive");
        assert_eq!(tags.tags_for(&normalize("my bags")), vec!["baggage"], "keywords still work");

        let text = normalize("Quiero la devolucion del billete");
        assert!(tags.tags_for(&text).is_empty(), "no language known: lang:es cannot match");
        assert_eq!(tags.tags_for_view(&PostView::new(&text).with_lang("es")), vec!["spanish"]);
        assert_eq!(
            rules[0].rule_expressions().collect::<Vec<_>>(),
            vec!["(delay* OR late OR cancel*) AND NOT \"on time\""]
        );
    }

    #[test]
    fn bad_rule_expressions_name_the_tag_and_the_position() {
        let rules = [TagRule::new("ok", ["fine"]), TagRule::from_rule("delays", "(delay* OR late")];
        match CompiledTags::new(&rules) {
            Err(ClassifyError::InvalidTagRule { rule, reason }) => {
                assert_eq!(rule, "delays");
                assert_eq!(
                    reason,
                    "rule \"(delay* OR late\": at 15: expected ')' to close the '(' at 0 but found end of rule"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(CompiledTags::new(&[TagRule::from_rule("x", "a*")]).is_err());
        assert!(CompiledTags::new(&[TagRule::from_rule("x", "")]).is_err());
    }

    #[test]
    fn no_rules_no_tags() {
        let tags = CompiledTags::empty();
        assert!(tags.is_empty());
        assert!(tags.tags_for(&normalize("anything at all")).is_empty());
    }
}
