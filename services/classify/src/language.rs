//! Language detection: whatlang on the post's words only (its answers are
//! computed by the crate's `whatlang_fast` module, exactly and about eight
//! times faster), with the tweet noise the detector would otherwise read as
//! text removed, a few cheap corrections where whatlang is known to be weak
//! on social-media text, and `und` instead of a coin toss on very short
//! text.
//!
//! What is removed before detection: `@mentions`, URLs, emoji and symbols
//! (by [`crate::text::normalize`]), whole `#hashtags` (brand and campaign
//! tags are usually English or not words at all, whatever the language of
//! the post), and the bare `http` left where datasets anonymised links.
//!
//! Corrections, each measured on the dev sets (see the README, section
//! Evaluation):
//! - **Arabic script**: Arabic, Persian and Urdu are told apart by the
//!   letters their keyboards produce (Arabic `ي ك ة ى`, Persian and Urdu
//!   `ی ک پ چ ژ گ`, Urdu only `ٹ ڈ ڑ ں ے ھ ہ`), which is decisive where
//!   trigrams are not.
//! - **Spanish / Portuguese**: whatlang confuses them on tweets (one Spanish
//!   tweet in eight read as Portuguese); frequent function words that exist
//!   in only one of the two (`el`, `muy`, `soy` / `não`, `você`, `muito`)
//!   decide when they disagree with it.
//! - **Romanised Hindi** (Hinglish) is not Devanagari Hindi and whatlang has
//!   no model for it (it answers English, Javanese, Indonesian…). Posts with
//!   enough Hindi function words written in Latin letters (`hai`, `nahi`,
//!   `kya`, `bhi`…) are reported as [`HINDI_LATIN`] (`hi-Latn`, the BCP 47
//!   tag); the rest of such posts get whatever whatlang says, usually
//!   English, as code-mixed posts often are.
//!
//! Short text: under [`SHORT_TEXT_LETTERS`] letters the answer is `und`
//! unless whatlang's confidence reaches [`SHORT_TEXT_MIN_CONFIDENCE`]; a
//! script used by one language only (Greek, Korean, Thai…) is always
//! confident. The threshold answers when a guess is more likely right than
//! wrong, tuned on single words and word pairs of 75 languages and on
//! tweets in 8.
//!
//! `reliable` is set when confidence reaches [`RELIABLE_CONFIDENCE`]; on the
//! dev sets such answers were right 97–99% of the time for languages the
//! detector knows.
//!
//! Codes are ISO 639-1 where one exists, as the wire contract asks, else
//! ISO 639-3; `hi-Latn` for romanised Hindi; `und` when undetermined.

use std::sync::LazyLock;

use smo_proto::Language;
use whatlang::{Info, Lang, Script};

use crate::error::ClassifyError;
use crate::hashing::FastSet;
use crate::lexicons;
use crate::text::NormalizedText;

/// Code for "undetermined" (ISO 639-2 `und`).
pub const UNDETERMINED: &str = "und";

/// Code for Hindi written in Latin letters (BCP 47 language-script tag).
pub const HINDI_LATIN: &str = "hi-Latn";

/// Below this many letters (after noise removal) a text is short: trigram
/// statistics are thin and whatlang's guesses are often wrong.
pub const SHORT_TEXT_LETTERS: usize = 20;

/// Short text is answered only at this whatlang confidence or above. Tuned
/// on the dev sets: below it fewer than half of the answers were right.
pub const SHORT_TEXT_MIN_CONFIDENCE: f64 = 0.2;

/// At this confidence or above a language is flagged `reliable`.
pub const RELIABLE_CONFIDENCE: f32 = 0.5;

/// Only the start of very long texts is looked at: trigram statistics settle
/// long before this, and detection cost is linear in the input.
const MAX_DETECTION_BYTES: usize = 4096;

/// Confidence given to an answer changed by the Spanish / Portuguese word
/// vote: enough to answer short text, not enough to call it reliable (the
/// vote was right about nine times in ten on the dev tweets).
const WORD_VOTE_CONFIDENCE: f64 = 0.4;

/// Confidence given to an Arabic / Persian / Urdu answer decided by letters
/// (right about 98% of the time on the dev sets).
const LETTER_EVIDENCE_CONFIDENCE: f64 = 0.5;

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

fn is_hindi_latin_code(code: &str) -> bool {
    code.trim().eq_ignore_ascii_case(HINDI_LATIN)
}

/// Canonical form of a language code as smo writes it (`spa`, `ES` → `es`,
/// `hi-latn` → `hi-Latn`), or `None` when the detector never answers that
/// language. Lets configs and queries use either ISO standard.
pub fn canonical_language_code(code: &str) -> Option<&'static str> {
    if is_hindi_latin_code(code) {
        return Some(HINDI_LATIN);
    }
    parse_code(code).map(output_code)
}

/// Whether the detector can ever answer `code`: evaluation reports means
/// over these languages separately, as published comparisons do.
pub fn is_detectable(code: &str) -> bool {
    canonical_language_code(code).is_some()
}

/// Checks an allowlist from an account's configuration.
pub fn validate_language_allowlist(codes: &[String]) -> Result<(), ClassifyError> {
    match codes.iter().find(|code| canonical_language_code(code).is_none()) {
        Some(code) => Err(ClassifyError::UnknownLanguage { code: code.clone() }),
        None => Ok(()),
    }
}

/// The languages an allowlist lets the detector answer.
#[derive(Debug)]
struct Candidates {
    /// `None`: every whatlang language.
    whatlang: Option<Vec<Lang>>,
    /// Whether [`HINDI_LATIN`] may be answered.
    hindi_latin: bool,
}

impl Candidates {
    /// Unknown codes are ignored; an allowlist with no known code means no
    /// restriction. `hi` (Hindi) admits romanised Hindi too, since accounts
    /// that expect Hindi get both.
    fn from_allowlist(allowlist: Option<&[String]>) -> Self {
        let codes = allowlist.unwrap_or_default();
        let whatlang: Vec<Lang> = codes.iter().filter_map(|code| parse_code(code)).collect();
        let hindi_latin = codes.iter().any(|code| is_hindi_latin_code(code));
        if whatlang.is_empty() && !hindi_latin {
            return Self { whatlang: None, hindi_latin: true };
        }
        let hindi_latin = hindi_latin || whatlang.contains(&Lang::Hin);
        Self { whatlang: Some(whatlang), hindi_latin }
    }

    fn allows(&self, lang: Lang) -> bool {
        self.whatlang.as_ref().is_none_or(|list| list.contains(&lang))
    }
}

/// Detects the language of normalised text, optionally among an account's
/// candidate languages only (faster, and avoids exotic guesses on short
/// posts).
#[derive(Debug, Clone, Default)]
pub struct LanguageDetector {
    /// Built only by [`LanguageDetector::new`] (it may hold state later).
    _private: (),
}

impl LanguageDetector {
    /// A detector considering every language whatlang knows.
    pub fn new() -> Self {
        Self::default()
    }

    /// The language of `text`. `allowlist` holds ISO 639-1/639-3 codes (and
    /// `hi-Latn`); unknown codes in it are ignored, and an allowlist with no
    /// known code means no restriction.
    pub fn detect(&self, text: &NormalizedText, allowlist: Option<&[String]>) -> Language {
        let sample = detection_text(text);
        let sample = prefix_on_char_boundary(&sample, MAX_DETECTION_BYTES);
        let letters = sample.chars().filter(|c| c.is_alphabetic()).count();
        if letters == 0 {
            return undetermined();
        }
        let candidates = Candidates::from_allowlist(allowlist);
        // whatlang's answer, computed by the faster reimplementation.
        let info = match &candidates.whatlang {
            None => crate::whatlang_fast::detect(sample, None),
            Some(list) if list.is_empty() => None,
            Some(list) => crate::whatlang_fast::detect(sample, Some(list)),
        };
        let script = info.as_ref().map(Info::script).or_else(|| whatlang::detect_script(sample));
        if candidates.hindi_latin
            && script == Some(Script::Latin)
            && let Some(confidence) = hindi_latin_confidence(text)
        {
            return answer(HINDI_LATIN, confidence);
        }
        let Some(info) = info else {
            return undetermined();
        };
        let (lang, confidence) = correct(info.lang(), info.confidence(), sample, text, &candidates);
        let threshold = if letters < SHORT_TEXT_LETTERS { SHORT_TEXT_MIN_CONFIDENCE } else { 0.0 };
        if !(confidence > 0.0 && confidence >= threshold) {
            return undetermined();
        }
        answer(output_code(lang), confidence)
    }
}

fn answer(code: &str, confidence: f64) -> Language {
    let confidence = clamp_unit(confidence as f32);
    Language { code: code.to_owned(), confidence, reliable: confidence >= RELIABLE_CONFIDENCE }
}

fn undetermined() -> Language {
    Language { code: UNDETERMINED.to_owned(), confidence: 0.0, reliable: false }
}

fn clamp_unit(value: f32) -> f32 {
    if value.is_finite() { value.clamp(0.0, 1.0) } else { 0.0 }
}

/// The text the detector reads: the normalised text without hashtags and
/// without the `http` that anonymised datasets leave for links. Hashtags
/// appear in [`NormalizedText::clean`] in order, without `#`; they are
/// matched from the end, where tweets usually put them, so a word that a
/// later hashtag repeats (`delayed again #delayed`) stays.
pub fn detection_text(text: &NormalizedText) -> String {
    let mut hashtags = text.hashtags.iter().rev().peekable();
    let mut kept: Vec<&str> = Vec::new();
    for chunk in text.clean.split_whitespace().rev() {
        let word = chunk.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        if let Some(tag) = hashtags.peek()
            && word.to_lowercase() == **tag
        {
            hashtags.next();
            continue;
        }
        if word.eq_ignore_ascii_case("http") || word.eq_ignore_ascii_case("https") {
            continue;
        }
        kept.push(chunk);
    }
    let mut out = String::with_capacity(text.clean.len());
    for chunk in kept.iter().rev() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(chunk);
    }
    out
}

/// Applies the corrections of the module documentation to whatlang's
/// answer, never switching to a language the account does not allow.
fn correct(
    lang: Lang,
    confidence: f64,
    sample: &str,
    text: &NormalizedText,
    candidates: &Candidates,
) -> (Lang, f64) {
    let corrected = match lang {
        Lang::Ara | Lang::Pes | Lang::Urd => arabic_script_by_letters(sample, lang),
        Lang::Spa | Lang::Por => spanish_or_portuguese_by_words(text, lang),
        _ => None,
    };
    match corrected {
        Some((other, evidence)) if other != lang && candidates.allows(other) => {
            (other, confidence.max(evidence))
        }
        _ => (lang, confidence),
    }
}

/// Arabic, Persian or Urdu from the letters only some of them use, with the
/// confidence to give that evidence; `None` when the letters do not decide.
fn arabic_script_by_letters(sample: &str, detected: Lang) -> Option<(Lang, f64)> {
    let (mut arabic, mut persian_urdu, mut urdu) = (0usize, 0usize, 0usize);
    for c in sample.chars() {
        match c {
            // ي ك ة ى
            '\u{064A}' | '\u{0643}' | '\u{0629}' | '\u{0649}' => arabic += 1,
            // ی ک پ چ ژ گ
            '\u{06CC}' | '\u{06A9}' | '\u{067E}' | '\u{0686}' | '\u{0698}' | '\u{06AF}' => persian_urdu += 1,
            // ٹ ڈ ڑ ں ے ھ ہ
            '\u{0679}' | '\u{0688}' | '\u{0691}' | '\u{06BA}' | '\u{06D2}' | '\u{06BE}' | '\u{06C1}' => {
                urdu += 1
            }
            _ => {}
        }
    }
    let lang = if urdu > 0 && arabic == 0 {
        Lang::Urd
    } else if arabic > 0 && persian_urdu == 0 && urdu == 0 {
        Lang::Ara
    } else if persian_urdu > 0 && arabic == 0 && urdu == 0 {
        // Persian or Urdu: keep whatlang's pick between the two.
        if detected == Lang::Ara { Lang::Pes } else { detected }
    } else {
        return None;
    };
    Some((lang, LETTER_EVIDENCE_CONFIDENCE))
}

/// Spanish or Portuguese by a vote of function words found in only one of
/// them; `None` on a tie.
fn spanish_or_portuguese_by_words(text: &NormalizedText, detected: Lang) -> Option<(Lang, f64)> {
    let (mut spanish, mut portuguese) = (0i32, 0i32);
    for token in &text.tokens {
        if is_spanish_only_word(&token.word) {
            spanish += 1;
        } else if is_portuguese_only_word(&token.word) {
            portuguese += 1;
        }
    }
    let lang = match spanish.cmp(&portuguese) {
        std::cmp::Ordering::Greater => Lang::Spa,
        std::cmp::Ordering::Less => Lang::Por,
        std::cmp::Ordering::Equal => return None,
    };
    (lang != detected).then_some((lang, WORD_VOTE_CONFIDENCE))
}

fn is_spanish_only_word(word: &str) -> bool {
    static WORDS: LazyLock<FastSet<&'static str>> =
        LazyLock::new(|| lexicons::entries(lexicons::SPANISH_ONLY_WORDS).collect());
    WORDS.contains(word)
}

fn is_portuguese_only_word(word: &str) -> bool {
    static WORDS: LazyLock<FastSet<&'static str>> =
        LazyLock::new(|| lexicons::entries(lexicons::PORTUGUESE_ONLY_WORDS).collect());
    WORDS.contains(word)
}

/// Confidence that `text` is romanised Hindi, or `None` when it does not
/// read as such: at least one distinctive Hindi word (`hai`, `nahi`,
/// `kya`…), a weighted count of Hindi words of at least 1.5 where short or
/// ambiguous ones (`ki`, `ko`, `se`…, also words of other languages) count
/// half, and those words make at least 15% of the text. On the dev sets this
/// found half of the romanised Hindi tweets (the rest is mostly English)
/// with about one false alarm per 10,000 texts in other languages.
fn hindi_latin_confidence(text: &NormalizedText) -> Option<f64> {
    let (mut words, mut strong, mut weak) = (0usize, 0usize, 0usize);
    for token in &text.tokens {
        if !token.word.chars().any(char::is_alphabetic) {
            continue;
        }
        words += 1;
        if is_hindi_latin_word(&token.word) {
            strong += 1;
        } else if is_ambiguous_hindi_latin_word(&token.word) {
            weak += 1;
        }
    }
    let score = strong as f64 + 0.5 * weak as f64;
    (strong >= 1 && score >= 1.5 && score >= 0.15 * words as f64).then(|| (0.25 * score).min(1.0))
}

fn is_hindi_latin_word(word: &str) -> bool {
    static WORDS: LazyLock<FastSet<&'static str>> =
        LazyLock::new(|| lexicons::entries(lexicons::HINDI_LATIN_WORDS).collect());
    WORDS.contains(word)
}

fn is_ambiguous_hindi_latin_word(word: &str) -> bool {
    static WORDS: LazyLock<FastSet<&'static str>> =
        LazyLock::new(|| lexicons::entries(lexicons::HINDI_LATIN_AMBIGUOUS_WORDS).collect());
    WORDS.contains(word)
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
        for text in [
            "ok",
            "@acme thanks!",
            "lol 😂😂",
            "https://t.co/abc",
            "",
            "👍 nice one",
            "#MondayMotivation #coffee",
        ] {
            let language = detect(text);
            assert_eq!(language.code, UNDETERMINED, "{text:?}");
            assert_eq!(language.confidence, 0.0);
            assert!(!language.reliable);
        }
        assert_ne!(detect("我的订单还没有到，已经等了两个星期").code, UNDETERMINED);
    }

    #[test]
    fn short_text_in_a_script_of_one_language_is_answered() {
        for (text, expected) in
            [("καλημέρα", "el"), ("감사합니다", "ko"), ("ありがとう", "ja"), ("ขอบคุณ", "th")]
        {
            let language = detect(text);
            assert_eq!(language.code, expected, "{text}");
            assert!(language.reliable, "{text}");
        }
    }

    #[test]
    fn long_clear_text_is_reliable() {
        let language =
            detect("@AcmeAir my flight has been delayed three times this week and nobody tells us anything");
        assert_eq!(language.code, "en");
        assert!(language.reliable);
        assert!(language.confidence >= RELIABLE_CONFIDENCE);
    }

    #[test]
    fn hashtags_and_anonymised_links_are_not_read_as_words() {
        let text =
            normalize("#TravelTuesday #BestDealsEver muchas gracias por todo, el viaje fue perfecto http");
        assert_eq!(detection_text(&text), "muchas gracias por todo, el viaje fue perfecto");
        assert_eq!(
            detect("#TravelTuesday #BestDealsEver muchas gracias por todo, el viaje fue perfecto").code,
            "es"
        );
        // A word equal to a later hashtag stays when it comes first.
        let text = normalize("delayed again, so #delayed");
        assert_eq!(detection_text(&text), "delayed again, so");
    }

    #[test]
    fn spanish_and_portuguese_are_told_apart_by_function_words() {
        assert_eq!(detect("No soy capaz de dormir").code, "es");
        assert_eq!(detect("@user que va tío, aún no lo he probado").code, "es");
        assert_eq!(detect("Eu não sei o que fazer com você").code, "pt");
    }

    #[test]
    fn arabic_persian_and_urdu_are_told_apart_by_letters() {
        assert_eq!(detect("أنا أحب هذا الكتاب كثيرا").code, "ar");
        assert_eq!(detect("من این کتاب را خیلی دوست دارم").code, "fa");
        assert_eq!(detect("مجھے یہ کتاب بہت پسند ہے").code, "ur");
    }

    #[test]
    fn romanised_hindi_is_reported_as_hi_latn() {
        let hinglish = "@user yaar ye movie bahut acchi thi, kya baat hai";
        let language = detect(hinglish);
        assert_eq!(language.code, HINDI_LATIN);
        assert!(language.confidence > 0.0);
        // English with a greeting that is also a Hindi word is English.
        assert_eq!(detect("hi there, how are you doing today? the app keeps crashing").code, "en");
        // Devanagari Hindi stays `hi`.
        assert_eq!(detect("मेरा ऑर्डर अभी तक नहीं आया है और कोई जवाब नहीं दे रहा").code, "hi");
        // An account without Hindi never gets hi-Latn; one with Hindi does.
        let detector = LanguageDetector::new();
        let text = normalize(hinglish);
        assert_ne!(detector.detect(&text, Some(&["en".to_owned()])).code, HINDI_LATIN);
        assert_eq!(detector.detect(&text, Some(&["hi".to_owned()])).code, HINDI_LATIN);
        assert_eq!(detector.detect(&text, Some(&["hi-Latn".to_owned()])).code, HINDI_LATIN);
        // Only hi-Latn allowed: anything else is undetermined.
        let english =
            normalize("my flight has been delayed three times this week and nobody tells us anything");
        assert_eq!(detector.detect(&english, Some(&["hi-Latn".to_owned()])).code, UNDETERMINED);
        assert_eq!(canonical_language_code("HI-latn"), Some(HINDI_LATIN));
        assert!(validate_language_allowlist(&["hi-Latn".to_owned()]).is_ok());
    }

    #[test]
    fn odd_inputs_never_panic() {
        let long_hashtags = "#a".repeat(100_000);
        let inputs = [
            "\u{0}\u{1}\u{7f}",
            "\u{200b}\u{feff}\u{202e}abc",
            "ــــــ",
            "ي ی",
            "@@@ ### ::: ///",
            "ok ok ok ok ok ok ok ok ok ok ok",
            &long_hashtags,
        ];
        for input in inputs {
            let language = detect(input);
            assert!((0.0..=1.0).contains(&language.confidence), "{input:?}");
        }
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
