//! The built-in lexicons and cue lists. They live as plain text under
//! `services/classify/lexicons/` so that they can be reviewed and extended
//! without reading Rust, and are compiled into the library so that
//! classification reads no file at run time. Malformed lines are skipped
//! rather than failing the classifier; the unit tests below make sure there
//! are none.

/// Sentiment weights: `<signed weight> word word …` per line.
pub(crate) const SENTIMENT: &str = include_str!("../lexicons/sentiment.txt");
/// The VADER lexicon's English words: `<signed weight> word` per line.
pub(crate) const VADER: &str = include_str!("../lexicons/vader.txt");
/// Intensifier factors: `<factor> word word …` per line.
pub(crate) const INTENSIFIERS: &str = include_str!("../lexicons/intensifiers.txt");
/// Negators, as words.
pub(crate) const NEGATORS: &str = include_str!("../lexicons/negators.txt");
/// Contrast words, as words.
pub(crate) const CONTRASTS: &str = include_str!("../lexicons/contrasts.txt");
/// Strong complaint cues, one keyword per line.
pub(crate) const COMPLAINT_CUES: &str = include_str!("../lexicons/complaint_cues.txt");
/// Complaint topic cues, one keyword per line.
pub(crate) const COMPLAINT_TOPICS: &str = include_str!("../lexicons/complaint_topics.txt");
/// Help-seeking phrases, one keyword per line.
pub(crate) const QUESTION_CUES: &str = include_str!("../lexicons/question_cues.txt");
/// Interrogative openings, as words.
pub(crate) const QUESTION_OPENINGS: &str = include_str!("../lexicons/question_openings.txt");
/// Praise cues, one keyword per line.
pub(crate) const PRAISE_CUES: &str = include_str!("../lexicons/praise_cues.txt");
/// Urgency cues, one keyword per line, in `[kind]` sections.
pub(crate) const URGENCY_CUES: &str = include_str!("../lexicons/urgency_cues.txt");

/// Words that mark Spanish against Portuguese (the word vote between the two).
pub(crate) const SPANISH_ONLY_WORDS: &str = include_str!("../lexicons/spanish_only_words.txt");
/// Words that mark Portuguese against Spanish (the word vote between the two).
pub(crate) const PORTUGUESE_ONLY_WORDS: &str = include_str!("../lexicons/portuguese_only_words.txt");
/// Romanised Hindi words that rarely occur in other languages (strong evidence of hi-Latn).
pub(crate) const HINDI_LATIN_WORDS: &str = include_str!("../lexicons/hindi_latin_words.txt");
/// Short romanised Hindi words that other languages also use (weak evidence of hi-Latn).
pub(crate) const HINDI_LATIN_AMBIGUOUS_WORDS: &str =
    include_str!("../lexicons/hindi_latin_ambiguous_words.txt");

/// The non-blank, non-comment (`//`) lines of `list`, trimmed, without
/// section headers (`[kind]`).
pub(crate) fn entries(list: &'static str) -> impl Iterator<Item = &'static str> {
    sectioned(list).map(|(_, entry)| entry)
}

/// The entries of `list` with the section each is under: the name of the
/// last `[name]` line before it, or `""` before the first.
pub(crate) fn sectioned(list: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    let mut section = "";
    list.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with("//")).filter_map(
        move |line| match line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            Some(name) => {
                section = name.trim();
                None
            }
            None => Some((section, line)),
        },
    )
}

/// Every whitespace-separated word of `list`'s entries.
pub(crate) fn words(list: &'static str) -> impl Iterator<Item = &'static str> {
    entries(list).flat_map(str::split_whitespace)
}

/// `(weight, word)` for every word of lines shaped `<weight> word word …`.
pub(crate) fn weighted(list: &'static str) -> impl Iterator<Item = (f32, &'static str)> {
    entries(list).flat_map(|line| {
        let mut parts = line.split_whitespace();
        let weight =
            parts.next().and_then(|weight| weight.parse::<f32>().ok()).filter(|weight| weight.is_finite());
        parts.filter_map(move |word| weight.map(|weight| (weight, word)))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::phrases::PhraseMatcher;

    #[test]
    fn weighted_lists_parse_completely() {
        for list in [SENTIMENT, INTENSIFIERS, VADER] {
            for line in entries(list) {
                let weight = line.split_whitespace().next().unwrap();
                let weight: f32 = weight.parse().unwrap_or_else(|_| panic!("bad weight in {line:?}"));
                assert!(weight.is_finite() && weight != 0.0, "{line:?}");
                assert!(line.split_whitespace().count() > 1, "no words in {line:?}");
            }
        }
    }

    #[test]
    fn sentiment_words_are_lowercase_and_never_of_both_signs() {
        let mut seen: HashMap<&str, f32> = HashMap::new();
        for (weight, word) in weighted(SENTIMENT) {
            assert_eq!(word, word.to_lowercase(), "{word} must be lowercase");
            if let Some(previous) = seen.insert(word, weight) {
                assert_eq!(
                    previous.signum(),
                    weight.signum(),
                    "{word} is listed as both positive and negative"
                );
            }
        }
        assert!(seen.len() > 500, "{} words", seen.len());
        let vader: Vec<(f32, &str)> = weighted(VADER).collect();
        assert!(vader.len() > 7_000, "{} VADER words", vader.len());
        assert!(vader.iter().all(|(weight, word)| {
            (-4.0..=4.0).contains(weight) && *word == word.to_lowercase() && !word.contains(' ')
        }));
    }

    #[test]
    fn cue_lists_compile() {
        for list in [COMPLAINT_CUES, COMPLAINT_TOPICS, QUESTION_CUES, PRAISE_CUES, URGENCY_CUES] {
            let mut matcher = PhraseMatcher::default();
            for (target, cue) in entries(list).enumerate() {
                if let Err(reason) = matcher.add(cue, target) {
                    panic!("built-in cue {cue:?} does not compile: {reason}");
                }
            }
        }
    }

    #[test]
    fn urgency_cues_are_all_under_a_known_kind_once() {
        let mut seen = std::collections::HashSet::new();
        for (section, cue) in sectioned(URGENCY_CUES) {
            let known =
                section == "general" || smo_proto::Urgency::ALL.iter().any(|kind| kind.as_str() == section);
            assert!(known, "{cue:?} is under unknown section [{section}]");
            assert!(seen.insert(cue), "{cue:?} is listed twice");
        }
        for kind in smo_proto::Urgency::ALL {
            assert!(sectioned(URGENCY_CUES).any(|(section, _)| section == kind.as_str()), "{kind:?}");
        }
    }

    #[test]
    fn language_word_lists_are_single_lowercase_words() {
        for list in
            [SPANISH_ONLY_WORDS, PORTUGUESE_ONLY_WORDS, HINDI_LATIN_WORDS, HINDI_LATIN_AMBIGUOUS_WORDS]
        {
            assert!(entries(list).count() > 10);
            for word in entries(list) {
                assert_eq!(word, word.to_lowercase());
                assert!(!word.contains(char::is_whitespace), "{word:?}");
            }
        }
    }

    #[test]
    fn word_lists_are_single_lowercase_words() {
        for list in [NEGATORS, CONTRASTS, QUESTION_OPENINGS] {
            for word in words(list) {
                assert_eq!(word, word.to_lowercase());
            }
        }
        assert!(words(NEGATORS).any(|word| word == "not"));
    }
}
