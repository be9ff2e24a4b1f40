//! The word forms rules compare: accent-folded lowercase words (the default,
//! so `devolución` also finds `devolucion`, which tweets often write) and
//! original-case words (for `{Apple}`), both aligned with the tokens of
//! [`crate::text::tokenize`] so that rules, tags and the classifier see the
//! same words at the same positions.

use std::borrow::Cow;

use crate::text::{Token, is_word_char};

/// Lowercase `word` with accents removed: Latin-1 and Latin Extended-A
/// letters lose their diacritics (`é` → `e`, `ñ` → `n`, `ł` → `l`), the
/// ligatures `æ`, `œ` and `ß` are spelled out, and combining marks
/// (U+0300–U+036F) are dropped. Other scripts are left as they are. `word`
/// is expected in lower case already (token words are); the folding is
/// idempotent. Apostrophes a dropped mark leaves at either end are trimmed,
/// as the tokeniser trims them. Borrows when nothing changes, which is the
/// case for ASCII.
pub(crate) fn fold_word(word: &str) -> Cow<'_, str> {
    if word.is_ascii() || !word.chars().any(|c| is_combining_mark(c) || fold_char(c).is_some()) {
        return Cow::Borrowed(word);
    }
    let mut folded = String::with_capacity(word.len());
    for c in word.chars() {
        if is_combining_mark(c) {
            continue;
        }
        match fold_char(c) {
            Some(replacement) => folded.push_str(replacement),
            None => folded.push(c),
        }
    }
    let trimmed = folded.trim_matches('\'');
    if trimmed.len() != folded.len() {
        folded = trimmed.to_owned();
    }
    Cow::Owned(folded)
}

/// Lowercases then folds; for rule terms, which are written in any case.
pub(crate) fn lower_fold(text: &str) -> String {
    let lower = text.to_lowercase();
    match fold_word(&lower) {
        Cow::Borrowed(_) => lower,
        Cow::Owned(folded) => folded,
    }
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        _ => return None,
    })
}

/// Same apostrophe folding as the tokeniser, so `don’t` is `don't`.
pub(crate) fn fold_apostrophe(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}' => '\'',
        other => other,
    }
}

/// The words of `text` as written (case and accents kept, apostrophes
/// folded), one per token of `tokens` (which must be `tokenize(text)`).
/// The split mirrors the tokeniser, including French and Italian elisions
/// (`L'Oréal` → `L`, `Oréal`); a token whose original form cannot be
/// recovered (should the tokeniser change) gets `None`, which only means a
/// case-sensitive term cannot match it.
pub(crate) fn original_words(text: &str, tokens: &[Token]) -> Vec<Option<Box<str>>> {
    let mut originals: Vec<Option<Box<str>>> = vec![None; tokens.len()];
    let mut next = 0usize;
    let mut current = String::new();
    let mut align = |raw: &str, next: &mut usize| {
        let raw = raw.trim_matches('\'');
        if raw.is_empty() {
            return;
        }
        let Some(token) = tokens.get(*next) else {
            return;
        };
        if lowercases_to(raw, &token.word) {
            if let Some(slot) = originals.get_mut(*next) {
                *slot = Some(raw.into());
            }
            *next += 1;
            return;
        }
        if let Some((head, tail)) = raw.split_once('\'')
            && let Some(following) = tokens.get(*next + 1)
            && lowercases_to(head, &token.word)
            && lowercases_to(tail, &following.word)
        {
            if let Some(slot) = originals.get_mut(*next) {
                *slot = Some(head.into());
            }
            if let Some(slot) = originals.get_mut(*next + 1) {
                *slot = Some(tail.into());
            }
            *next += 2;
        }
        // Otherwise the tokeniser split differently: leave `None` and let
        // the next raw word try to realign with the same token.
    };
    for c in text.chars() {
        let c = fold_apostrophe(c);
        if is_word_char(c) || (c == '\'' && !current.is_empty()) {
            current.push(c);
        } else if !current.is_empty() {
            align(&current, &mut next);
            current.clear();
        }
    }
    if !current.is_empty() {
        align(&current, &mut next);
    }
    originals
}

/// Whether `raw.to_lowercase() == lower`, without allocating for ASCII.
fn lowercases_to(raw: &str, lower: &str) -> bool {
    if raw.is_ascii() {
        raw.len() == lower.len() && raw.bytes().zip(lower.bytes()).all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        raw.to_lowercase() == lower
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    #[test]
    fn folds_latin_accents_and_combining_marks() {
        assert_eq!(fold_word("devolución"), "devolucion");
        assert_eq!(fold_word("straße"), "strasse");
        assert_eq!(fold_word("e\u{301}te\u{301}"), "ete");
        assert_eq!(fold_word("łódź"), "lodz");
        assert_eq!(fold_word("привет"), "привет");
        assert!(matches!(fold_word("plain"), Cow::Borrowed(_)));
        assert_eq!(lower_fold("İSTANBUL"), "istanbul");
        for word in ["çà", "ß", "œuvre", "i\u{307}"] {
            let once = fold_word(word).into_owned();
            assert_eq!(fold_word(&once), once, "folding is idempotent");
        }
    }

    #[test]
    fn original_words_align_with_tokens() {
        let text = "L’Oréal and Apple's APPLE don't, 'quoted' ΣΣ";
        let tokens = tokenize(text);
        let originals = original_words(text, &tokens);
        let originals: Vec<&str> = originals.iter().map(|o| o.as_deref().unwrap_or("?")).collect();
        assert_eq!(originals, vec!["L", "Oréal", "and", "Apple's", "APPLE", "don't", "quoted", "ΣΣ"]);
        assert_eq!(tokens.len(), originals.len());
    }
}
