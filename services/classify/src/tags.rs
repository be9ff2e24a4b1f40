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

use serde::{Deserialize, Serialize};

use crate::error::ClassifyError;
use crate::phrases::PhraseMatcher;
use crate::text::NormalizedText;

/// Longest tag name accepted; tags are index terms and report labels.
const MAX_TAG_NAME_CHARS: usize = 100;

/// One topic tag of an account and the keywords that select it, as written
/// in the account's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRule {
    /// The tag attached to matching posts, e.g. `delivery`.
    pub name: String,
    /// Words, phrases, `prefix*` wildcards or `#hashtags`; any one matches.
    pub keywords: Vec<String>,
}

impl TagRule {
    /// Convenience constructor, mostly for tests and examples.
    pub fn new(name: impl Into<String>, keywords: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { name: name.into(), keywords: keywords.into_iter().map(Into::into).collect() }
    }
}

/// An account's tag rules, validated and indexed for fast evaluation.
#[derive(Debug, Clone, Default)]
pub struct CompiledTags {
    /// Tag names sorted; a target id of the matcher is an index here, so
    /// matches come out sorted and unique for free.
    names: Vec<String>,
    matcher: PhraseMatcher,
}

impl CompiledTags {
    /// Validates and compiles `rules`. Fails on the first bad rule, naming
    /// it: empty or duplicate name, no keywords, or a malformed keyword.
    pub fn new(rules: &[TagRule]) -> Result<Self, ClassifyError> {
        let mut sorted: Vec<&TagRule> = rules.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut compiled = Self::default();
        for (target, rule) in sorted.into_iter().enumerate() {
            let invalid = |reason: String| ClassifyError::InvalidTagRule { rule: rule.name.clone(), reason };
            validate_name(&rule.name).map_err(|reason| invalid(reason.to_owned()))?;
            if compiled.names.last() == Some(&rule.name) {
                return Err(invalid("another rule has the same name".to_owned()));
            }
            if rule.keywords.is_empty() {
                return Err(invalid("no keywords".to_owned()));
            }
            for keyword in &rule.keywords {
                compiled.matcher.add(keyword, target).map_err(invalid)?;
            }
            compiled.names.push(rule.name.clone());
        }
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

    /// The tags whose keywords occur in `text`, sorted and unique.
    pub fn tags_for(&self, text: &NormalizedText) -> Vec<String> {
        if self.names.is_empty() {
            return Vec::new();
        }
        self.matcher
            .matches(text)
            .into_iter()
            .zip(&self.names)
            .filter(|(hit, _)| *hit)
            .map(|(_, name)| name.clone())
            .collect()
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
    fn no_rules_no_tags() {
        let tags = CompiledTags::empty();
        assert!(tags.is_empty());
        assert!(tags.tags_for(&normalize("anything at all")).is_empty());
    }
}
