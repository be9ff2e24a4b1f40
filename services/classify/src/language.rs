//! Language detection with whatlang on normalised text (mentions, URLs and
//! emoji removed: `@handles` and links are not words of any language and
//! mislead trigram detection on short posts). Codes are ISO 639-1 where one
//! exists, as the wire contract asks, else ISO 639-3; `und` when the text is
//! too short to tell.

use smo_proto::Language;
use whatlang::{Detector, Lang};

use crate::error::ClassifyError;
use crate::text::NormalizedText;

/// Code for "undetermined" (ISO 639-2 `und`).
pub const UNDETERMINED: &str = "und";

/// Fewer word-like units than this and detection is a coin toss: answer
/// [`UNDETERMINED`].
const MIN_WORD_UNITS: usize = 3;
/// Fewer letters than this and detection is a coin toss too (`I am ok`).
const MIN_LETTERS: usize = 6;
/// Only the start of very long texts is looked at: trigram statistics settle
/// long before this, and detection cost is linear in the input.
const MAX_DETECTION_BYTES: usize = 4096;

/// Every whatlang language with its ISO 639-1 code.
const ISO_639_1: &[(Lang, &str)] = &[
    (Lang::Epo, "eo"),
    (Lang::Eng, "en"),
    (Lang::Rus, "ru"),
    (Lang::Cmn, "zh"),
    (Lang::Spa, "es"),
    (Lang::Por, "pt"),
    (Lang::Ita, "it"),
    (Lang::Ben, "bn"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ukr, "uk"),
    (Lang::Kat, "ka"),
    (Lang::Ara, "ar"),
    (Lang::Hin, "hi"),
    (Lang::Jpn, "ja"),
    (Lang::Heb, "he"),
    (Lang::Yid, "yi"),
    (Lang::Pol, "pl"),
    (Lang::Amh, "am"),
    (Lang::Jav, "jv"),
    (Lang::Kor, "ko"),
    (Lang::Nob, "nb"),
    (Lang::Dan, "da"),
    (Lang::Swe, "sv"),
    (Lang::Fin, "fi"),
    (Lang::Tur, "tr"),
    (Lang::Nld, "nl"),
    (Lang::Hun, "hu"),
    (Lang::Ces, "cs"),
    (Lang::Ell, "el"),
    (Lang::Bul, "bg"),
    (Lang::Bel, "be"),
    (Lang::Mar, "mr"),
    (Lang::Kan, "kn"),
    (Lang::Ron, "ro"),
    (Lang::Slv, "sl"),
    (Lang::Hrv, "hr"),
    (Lang::Srp, "sr"),
    (Lang::Mkd, "mk"),
    (Lang::Lit, "lt"),
    (Lang::Lav, "lv"),
    (Lang::Est, "et"),
    (Lang::Tam, "ta"),
    (Lang::Vie, "vi"),
    (Lang::Urd, "ur"),
    (Lang::Tha, "th"),
    (Lang::Guj, "gu"),
    (Lang::Uzb, "uz"),
    (Lang::Pan, "pa"),
    (Lang::Aze, "az"),
    (Lang::Ind, "id"),
    (Lang::Tel, "te"),
    (Lang::Pes, "fa"),
    (Lang::Mal, "ml"),
    (Lang::Ori, "or"),
    (Lang::Mya, "my"),
    (Lang::Nep, "ne"),
    (Lang::Sin, "si"),
    (Lang::Khm, "km"),
    (Lang::Tuk, "tk"),
    (Lang::Aka, "ak"),
    (Lang::Zul, "zu"),
    (Lang::Sna, "sn"),
    (Lang::Afr, "af"),
    (Lang::Lat, "la"),
    (Lang::Slk, "sk"),
    (Lang::Cat, "ca"),
    (Lang::Tgl, "tl"),
    (Lang::Hye, "hy"),
    (Lang::Cym, "cy"),
];

/// The code smo uses for `lang`: ISO 639-1 where one exists, else whatlang's
/// ISO 639-3 code.
fn output_code(lang: Lang) -> &'static str {
    ISO_639_1.iter().find(|(candidate, _)| *candidate == lang).map_or_else(|| lang.code(), |(_, code)| code)
}

/// The detector language for an ISO 639-1 or 639-3 code, any case.
fn parse_code(code: &str) -> Option<Lang> {
    let code = code.trim().to_ascii_lowercase();
    ISO_639_1.iter().find(|(_, iso1)| *iso1 == code).map(|(lang, _)| *lang).or_else(|| Lang::from_code(code))
}

/// Canonical form of a language code as smo writes it (`spa`, `ES` → `es`),
/// or `None` when the detector does not know the language. Lets configs and
/// queries use either ISO standard.
pub fn canonical_language_code(code: &str) -> Option<&'static str> {
    parse_code(code).map(output_code)
}

/// Checks an allowlist from an account's configuration.
pub fn validate_language_allowlist(codes: &[String]) -> Result<(), ClassifyError> {
    match codes.iter().find(|code| parse_code(code).is_none()) {
        Some(code) => Err(ClassifyError::UnknownLanguage { code: code.clone() }),
        None => Ok(()),
    }
}

/// Detects the language of normalised text, optionally among an account's
/// candidate languages only (faster, and avoids exotic guesses on short
/// posts).
#[derive(Debug, Clone, Default)]
pub struct LanguageDetector {
    any_language: Detector,
}

impl LanguageDetector {
    /// A detector considering every language whatlang knows.
    pub fn new() -> Self {
        Self::default()
    }

    /// The language of `text`. `allowlist` holds ISO 639-1/639-3 codes;
    /// unknown codes in it are ignored, and an allowlist with no known code
    /// means no restriction.
    pub fn detect(&self, text: &NormalizedText, allowlist: Option<&[String]>) -> Language {
        if is_too_short(text) {
            return undetermined();
        }
        let sample = prefix_on_char_boundary(&text.clean, MAX_DETECTION_BYTES);
        let allowed: Vec<Lang> =
            allowlist.unwrap_or_default().iter().filter_map(|code| parse_code(code)).collect();
        let info = if allowed.is_empty() {
            self.any_language.detect(sample)
        } else {
            Detector::with_allowlist(allowed).detect(sample)
        };
        match info {
            Some(info) => Language {
                code: output_code(info.lang()).to_owned(),
                confidence: clamp_unit(info.confidence() as f32),
                reliable: info.is_reliable(),
            },
            None => undetermined(),
        }
    }
}

fn undetermined() -> Language {
    Language { code: UNDETERMINED.to_owned(), confidence: 0.0, reliable: false }
}

fn clamp_unit(value: f32) -> f32 {
    if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.0 }
}

/// Whether `text` has too few words or letters for a dependable guess.
/// Scripts written without spaces (Chinese, Japanese, Thai…) count one unit
/// per two characters, roughly a word.
fn is_too_short(text: &NormalizedText) -> bool {
    let mut units = 0usize;
    let mut letters = 0usize;
    for token in &text.tokens {
        let mut unspaced = 0usize;
        let mut token_letters = 0usize;
        for c in token.word.chars() {
            if c.is_alphabetic() {
                token_letters += 1;
                if is_unspaced_script(c) {
                    unspaced += 1;
                }
            }
        }
        letters += token_letters;
        if unspaced > 0 {
            units += unspaced.div_ceil(2);
        } else if token_letters > 0 {
            units += 1;
        }
        if units >= MIN_WORD_UNITS && letters >= MIN_LETTERS {
            return false;
        }
    }
    true
}

fn is_unspaced_script(c: char) -> bool {
    matches!(
        c as u32,
        0x0E00..=0x0EFF // Thai, Lao
            | 0x1000..=0x109F // Myanmar
            | 0x1780..=0x17FF // Khmer
            | 0x3040..=0x30FF // Hiragana, Katakana
            | 0x3400..=0x4DBF // CJK extension A
            | 0x4E00..=0x9FFF // CJK unified ideographs
            | 0xF900..=0xFAFF // CJK compatibility ideographs
            | 0x20000..=0x2FFFF // CJK extensions B and later
    )
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a
/// char boundary.
fn prefix_on_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn detect(text: &str) -> Language {
        LanguageDetector::new().detect(&normalize(text), None)
    }

    #[test]
    fn every_whatlang_language_has_a_two_letter_code() {
        for lang in Lang::all() {
            let code = output_code(*lang);
            assert_eq!(code.len(), 2, "{lang:?} → {code}");
            assert_eq!(parse_code(code), Some(*lang));
            assert_eq!(parse_code(lang.code()), Some(*lang));
        }
        assert_eq!(canonical_language_code("SPA"), Some("es"));
        assert_eq!(canonical_language_code(" en "), Some("en"));
        assert_eq!(canonical_language_code("xx"), None);
    }

    #[test]
    fn detects_common_languages_of_real_looking_posts() {
        let cases = [
            ("@AcmeAir my flight has been delayed three times this week and nobody tells us anything", "en"),
            ("@Iberia llevo dos horas esperando en el aeropuerto y nadie nos dice nada del vuelo", "es"),
            ("@AirFrance mon vol est encore annulé et personne ne répond au service client", "fr"),
            ("@Lufthansa mein Koffer ist seit drei Tagen verschwunden und niemand hilft mir", "de"),
            ("@TAP o meu voo foi cancelado e ninguém me explica o que aconteceu", "pt"),
        ];
        for (text, expected) in cases {
            let language = detect(text);
            assert_eq!(language.code, expected, "{text}");
            assert!(language.confidence > 0.0 && language.confidence <= 1.0);
        }
    }

    #[test]
    fn mentions_and_urls_are_stripped_before_detection() {
        // The handles and link alone would be read as words; only the
        // Spanish sentence must count.
        let text = "@TheHappyTravelCompany @BestWestern_Hotels muchas gracias por todo el viaje https://www.example.com/the-best-travel-review-ever";
        let normalized = normalize(text);
        assert!(!normalized.clean.contains("Travel"));
        assert_eq!(detect(text).code, "es");
    }

    #[test]
    fn very_short_text_is_undetermined() {
        for text in ["ok", "@acme thanks!", "lol 😂😂", "https://t.co/abc", "", "我的", "👍 nice one"]
        {
            let language = detect(text);
            assert_eq!(language.code, UNDETERMINED, "{text:?}");
            assert_eq!(language.confidence, 0.0);
            assert!(!language.reliable);
        }
        assert_ne!(detect("我的订单还没有到，已经等了两个星期").code, UNDETERMINED);
    }

    #[test]
    fn allowlist_restricts_candidates() {
        let detector = LanguageDetector::new();
        // Portuguese text; with only Spanish and English allowed the answer
        // must be one of those.
        let text = normalize("o meu voo foi cancelado e ninguém me explica nada");
        let allow = vec!["es".to_owned(), "eng".to_owned()];
        let language = detector.detect(&text, Some(&allow));
        assert!(["es", "en"].contains(&language.code.as_str()), "{language:?}");
        assert_eq!(detector.detect(&text, None).code, "pt");
        // Unknown codes are ignored rather than failing a post.
        let junk = vec!["zz".to_owned()];
        assert_eq!(detector.detect(&text, Some(&junk)).code, "pt");
        // Russian text with only Latin-script languages allowed: undetermined.
        let russian = normalize("мой рейс отменили и никто ничего не объясняет");
        let language = detector.detect(&russian, Some(&allow));
        assert_eq!(language.code, UNDETERMINED);
    }

    #[test]
    fn allowlist_validation_names_the_bad_code() {
        assert!(validate_language_allowlist(&["en".to_owned(), "fra".to_owned()]).is_ok());
        assert_eq!(
            validate_language_allowlist(&["en".to_owned(), "klingon".to_owned()]),
            Err(ClassifyError::UnknownLanguage { code: "klingon".to_owned() })
        );
    }

    #[test]
    fn long_text_is_sampled_on_a_char_boundary() {
        let text = "é".repeat(10_000);
        let sample = prefix_on_char_boundary(&text, 4095);
        assert_eq!(sample.len(), 4094);
        let language =
            detect(&"Mon vol a été annulé et personne ne veut me rembourser le billet. ".repeat(20_000));
        assert_eq!(language.code, "fr");
    }
}
