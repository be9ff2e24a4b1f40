//! whatlang 0.18's language detection, reimplemented to give exactly the
//! same answers (same language, same confidence, bit for bit) several
//! times faster.
//!
//! Why: whatlang scores a text against each candidate language's profile of
//! 300 trigrams by looking every profile trigram up in the text's trigram
//! table: 37 Latin-script languages × 300 lookups, about 11,000 hash lookups
//! per post, whatever the post's length. That was 70% of the classify
//! stage's time. Here the profiles are indexed the other way round, from
//! trigram to the languages and ranks that have it, so a post costs one
//! lookup per distinct trigram *of the post* (a tweet has about 100), and the
//! text's trigrams are counted by sorting instead of hashing.
//!
//! What is reproduced: the combined method (alphabet and trigram scores,
//! weighted by text length) for the scripts several languages share (Latin,
//! Cyrillic, Arabic, Devanagari, Hebrew), with whatlang's allowlist, tie
//! order and confidence. Texts in other scripts (one language per script,
//! Chinese/Japanese) go to whatlang itself, which answers those without any
//! trigram work. The trigram profiles and alphabets are whatlang's own
//! (`data/whatlang_profiles.txt`, MIT, with its licence). A test checks the
//! answers against whatlang on texts in every script; `Cargo.lock` pins
//! whatlang, and that test fails if an upgrade changes its behaviour.

use std::cmp::Reverse;
use std::sync::LazyLock;

use whatlang::{Detector, Info, Lang, Script};

use crate::hashing::FastMap;

/// whatlang's trigram profiles: `script \t code \t count \t trigrams`.
const PROFILES: &str = include_str!("../data/whatlang_profiles.txt");

/// Largest rank difference a trigram counts for (whatlang's constant).
const MAX_TRIGRAM_DISTANCE: u32 = 300;
/// Largest distance of a text from a profile (whatlang's constant).
const MAX_TOTAL_DISTANCE: u32 = MAX_TRIGRAM_DISTANCE * MAX_TRIGRAM_DISTANCE;
/// Distinct trigrams of a text that are ranked (whatlang's constant).
const TEXT_TRIGRAMS_SIZE: usize = 600;

// whatlang 0.18, src/alphabets/{latin,cyrillic}.rs (MIT, see the profiles
// file for the licence): the letters each language commonly uses.
const LATIN_ALPHABETS: &[(Lang, &str)] = &[
    (Lang::Afr, "abcdefghijklmnopqrstuvwxyzáèéêëíîïóôúû"),
    (Lang::Aka, "abdefghiklmnoprstuwyɔɛ"),
    (Lang::Aze, "abcdefghijklmnopqrstuvxyzçöüğışə̇"),
    (Lang::Cat, "abcdefghijklmnopqrstuvwxyz·àçèéíïòóúü"),
    (Lang::Ces, "abcdefghijklmnopqrstuvwxyzáéíóúýčďěňřšťůž"),
    (Lang::Cym, "abcdefghijklmnopqrstuvwxyzàáâäèéêëìíîïòóôöùúûüýÿŵŷẁẃẅỳ"),
    (Lang::Dan, "abcdefghijklmnopqrstuvwxyzåæø"),
    (Lang::Deu, "abcdefghijklmnopqrstuvwxyzßäöü"),
    (Lang::Eng, "abcdefghijklmnopqrstuvwxyz"),
    (Lang::Epo, "abcdefghijklmnoprstuvzĉĝĥĵŝŭ"),
    (Lang::Est, "abcdefghijklmnopqrstuvwxyzäõöü"),
    (Lang::Fin, "abcdefghijklmnopqrstuvwxyzäöšž"),
    (Lang::Fra, "abcdefghijklmnopqrstuvwxyzàâçèéêëîïôùûüÿœ"),
    (Lang::Hrv, "abcdefghijklmnopqrstuvwxyzćčđšž"),
    (Lang::Hun, "abcdefghijklmnopqrstuvwxyzáéíóöúüőű"),
    (Lang::Ind, "abcdefghijklmnopqrstuvwxyz"),
    (Lang::Ita, "abcdefghijklmnopqrstuvwxyzàèéìòù"),
    (Lang::Jav, "abcdefghijklmnopqrstuvwxyzèé"),
    (Lang::Lat, "abcdefghijklmnopqrstuvwxyz"),
    (Lang::Lav, "abcdefghijklmnopqrstuvwxyzāčēģīķļņōŗšūž"),
    (Lang::Lit, "abcdefghijklmnopqrstuvwxyząčėęįšūųž"),
    (Lang::Nld, "abcdefghijklmnopqrstuvwxyzàèéëïĳ"),
    (Lang::Nob, "abcdefghijklmnopqrstuvwxyzåæø"),
    (Lang::Pol, "abcdefghijklmnopqrstuvwxyzóąćęłńśźż"),
    (Lang::Por, "abcdefghijklmnopqrstuvwxyzàáâãçéêíóôõú"),
    (Lang::Ron, "abcdefghijklmnopqrstuvwxyzâîăşţ"),
    (Lang::Slk, "abcdefghijklmnopqrstuvwxyzáäéíóôúýčďĺľňŕšťž"),
    (Lang::Slv, "abcdefghijklmnopqrstuvwxyzčšž"),
    (Lang::Sna, "abcdefghijklmnopqrstuvwxyz"),
    (Lang::Spa, "abcdefghijklmnopqrstuvwxyz¡¿áéíñóúü"),
    (Lang::Swe, "abcdefghijklmnopqrstuvwxyzäåö"),
    (Lang::Tgl, "abcdefghijklmnopqrstuvwxyzáéíñóú"),
    (Lang::Tuk, "abdefghijklmnoprstuwyzäçöüýňşž"),
    (Lang::Tur, "abcdefghijklmnopqrstuvwxyzçöüğış̇"),
    (Lang::Uzb, "abcdefghijklmnopqrstuvxyzʻ"),
    (
        Lang::Vie,
        "abcdefghijklmnopqrstuvwxyzàáâãèéêìíòóôõùúýăđĩũơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
    ),
    (Lang::Zul, "abcdefghijklmnopqrstuvwxyz"),
];
const CYRILLIC_ALPHABETS: &[(Lang, &str)] = &[
    (Lang::Bul, "абвгдежзийклмнопрстуфхцчшщъьюя"),
    (Lang::Rus, "абвгдежзийклмнопрстуфхцчшщъыьэюяё"),
    (Lang::Ukr, "абвгдежзийклмнопрстуфхцчшщьюяєіїґ"),
    (Lang::Bel, "абвгдежзйклмнопрстуфхцчшыьэюяёіў"),
    (Lang::Srp, "абвгдежзиклмнопрстуфхцчшђјљњћџ"),
    (Lang::Mkd, "абвгдежзиклмнопрстуфхцчшѓѕјљњќџ"),
];

/// The scripts several languages share, which need scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SharedScript {
    Latin,
    Cyrillic,
    Arabic,
    Devanagari,
    Hebrew,
}

impl SharedScript {
    fn of(script: Script) -> Option<Self> {
        match script {
            Script::Latin => Some(Self::Latin),
            Script::Cyrillic => Some(Self::Cyrillic),
            Script::Arabic => Some(Self::Arabic),
            Script::Devanagari => Some(Self::Devanagari),
            Script::Hebrew => Some(Self::Hebrew),
            _ => None,
        }
    }

    fn script(self) -> Script {
        match self {
            Self::Latin => Script::Latin,
            Self::Cyrillic => Script::Cyrillic,
            Self::Arabic => Script::Arabic,
            Self::Devanagari => Script::Devanagari,
            Self::Hebrew => Script::Hebrew,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Latin => "Latin",
            Self::Cyrillic => "Cyrillic",
            Self::Arabic => "Arabic",
            Self::Devanagari => "Devanagari",
            Self::Hebrew => "Hebrew",
        }
    }
}

type TrigramMap<V> = FastMap<u64, V>;

/// One script's profiles, indexed from trigram to `(language position,
/// rank)` pairs.
#[derive(Debug, Default)]
struct Profiles {
    /// The languages in whatlang's profile order (which decides ties).
    langs: Vec<Lang>,
    /// Trigrams in each language's profile.
    lengths: Vec<u32>,
    /// Where each trigram's `(language position, rank)` pairs are in
    /// [`Self::pairs`]: start and count.
    postings: TrigramMap<(u32, u32)>,
    pairs: Vec<(u16, u16)>,
}

/// A script's alphabets as whatlang inverts them: sorted letters, and the
/// languages using each.
#[derive(Debug, Default)]
struct Alphabets {
    letters: Vec<char>,
    langs: Vec<Vec<Lang>>,
}

impl Alphabets {
    fn new(alphabets: &[(Lang, &str)]) -> Self {
        let mut by_letter: std::collections::BTreeMap<char, Vec<Lang>> = std::collections::BTreeMap::new();
        for (lang, alphabet) in alphabets {
            for letter in alphabet.chars() {
                by_letter.entry(letter).or_default().push(*lang);
            }
        }
        let (letters, langs) = by_letter.into_iter().unzip();
        Self { letters, langs }
    }
}

#[derive(Debug, Default)]
struct Tables {
    profiles: [Profiles; 5],
    latin: Alphabets,
    cyrillic: Alphabets,
}

static TABLES: LazyLock<Tables> = LazyLock::new(Tables::load);

impl Tables {
    fn load() -> Self {
        let mut tables = Tables {
            latin: Alphabets::new(LATIN_ALPHABETS),
            cyrillic: Alphabets::new(CYRILLIC_ALPHABETS),
            ..Tables::default()
        };
        let mut building: [TrigramMap<Vec<(u16, u16)>>; 5] = Default::default();
        let scripts = [
            SharedScript::Latin,
            SharedScript::Cyrillic,
            SharedScript::Arabic,
            SharedScript::Devanagari,
            SharedScript::Hebrew,
        ];
        for line in PROFILES.lines().filter(|line| !line.starts_with('#') && !line.is_empty()) {
            let mut fields = line.splitn(4, '\t');
            let (Some(script), Some(code), Some(_count), Some(trigrams)) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            // The data is compiled in and checked by the tests; a line that
            // does not parse cannot occur, and is skipped rather than panic.
            let (Some(index), Some(lang)) =
                (scripts.iter().position(|s| s.name() == script), Lang::from_code(code))
            else {
                continue;
            };
            let profiles = &mut tables.profiles[index];
            let position = profiles.langs.len() as u16;
            profiles.langs.push(lang);
            let chars: Vec<char> = trigrams.chars().collect();
            profiles.lengths.push((chars.len() / 3) as u32);
            for (rank, trigram) in chars.chunks_exact(3).enumerate() {
                let key = pack(trigram[0], trigram[1], trigram[2]);
                building[index].entry(key).or_default().push((position, rank as u16));
            }
        }
        // Flatten each script's postings into one array, in trigram order
        // (the order does not change any sum).
        for (profiles, postings) in tables.profiles.iter_mut().zip(building) {
            let mut postings: Vec<(u64, Vec<(u16, u16)>)> = postings.into_iter().collect();
            postings.sort_unstable_by_key(|(trigram, _)| *trigram);
            for (trigram, pairs) in postings {
                profiles.postings.insert(trigram, (profiles.pairs.len() as u32, pairs.len() as u32));
                profiles.pairs.extend(pairs);
            }
        }
        tables
    }

    fn profiles(&self, script: SharedScript) -> &Profiles {
        &self.profiles[script as usize]
    }
}

/// A trigram's count in a text, and the trigram ([`pack`]ed).
type Counted = (u32, u64);

/// A trigram as one integer whose order is the order of the three
/// characters, as whatlang sorts them.
fn pack(a: char, b: char, c: char) -> u64 {
    (u64::from(a) << 42) | (u64::from(b) << 21) | u64::from(c)
}

/// whatlang's `is_stop_char`: ASCII punctuation, digits, space and controls.
fn is_stop_char(c: char) -> bool {
    matches!(c, '\u{0000}'..='\u{0040}' | '\u{005B}'..='\u{0060}' | '\u{007B}'..='\u{007E}')
}

/// Languages allowed: all, or an allowlist.
#[derive(Clone, Copy)]
struct Allowed<'a>(Option<&'a [Lang]>);

impl Allowed<'_> {
    fn contains(self, lang: Lang) -> bool {
        self.0.is_none_or(|list| list.contains(&lang))
    }
}

/// Detects the language of `text` exactly as `whatlang::detect` (no
/// allowlist) or `whatlang::Detector::with_allowlist(list).detect` would.
pub(crate) fn detect(text: &str, allowlist: Option<&[Lang]>) -> Option<Info> {
    let script = whatlang::detect_script(text)?;
    let Some(shared) = SharedScript::of(script) else {
        // One language per script, or Chinese/Japanese by kana share:
        // whatlang decides without trigrams, cheaply.
        return match allowlist {
            None => whatlang::detect(text),
            Some(list) => Detector::with_allowlist(list.to_vec()).detect(text),
        };
    };
    combined(text, shared, Allowed(allowlist))
}

/// whatlang's combined method (`combined::detect`).
fn combined(text: &str, script: SharedScript, allowed: Allowed<'_>) -> Option<Info> {
    let lowercase = text.to_lowercase();
    let (alphabet_count, alphabet_scores) = alphabet_scores(&lowercase, script, allowed);
    let (trigram_count, trigram_scores) = trigram_scores(&lowercase, script, allowed);

    // The languages in whatlang's order (alphabet scores', then the other
    // trigram scores'), each with both scores; looked up by index rather
    // than by whatlang's linear searches, with the same result.
    let mut alphabet_of = vec![None; Lang::all().len()];
    let mut trigram_of = vec![None; Lang::all().len()];
    for &(lang, score) in &alphabet_scores {
        alphabet_of[lang as usize].get_or_insert(score);
    }
    for &(lang, score) in &trigram_scores {
        trigram_of[lang as usize].get_or_insert(score);
    }
    let mut all_langs: Vec<Lang> = alphabet_scores.iter().map(|x| x.0).collect();
    for &(lang, _) in &trigram_scores {
        if alphabet_of[lang as usize].is_none() && !all_langs.contains(&lang) {
            all_langs.push(lang);
        }
    }
    let alphabet_weight = (-(alphabet_count as f64 / 300.0) + 2.0 / 3.0).clamp(1.0 / 3.0, 2.0 / 3.0);
    let trigram_weight = 1.0 - alphabet_weight;
    let mut scores: Vec<(Lang, f64)> = all_langs
        .into_iter()
        .map(|lang| {
            let a = alphabet_of[lang as usize].unwrap_or(0.0);
            let t = trigram_of[lang as usize].unwrap_or(0.0);
            (lang, a * alphabet_weight + t * trigram_weight)
        })
        .collect();
    scores.sort_unstable_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Less));
    let mut scores = scores.into_iter();
    let (lang, first) = scores.next()?;
    let confidence = match scores.next() {
        Some((_, second)) => confidence(first, second, trigram_count),
        None => 1.0,
    };
    Some(Info::new(script.script(), lang, confidence))
}

/// whatlang's `calculate_confidence`.
fn confidence(highest: f64, second: f64, count: usize) -> f64 {
    if highest == 0.0 {
        return 0.0;
    }
    if second == 0.0 {
        return highest;
    }
    let confident_rate = (3.0 / count as f64) + 0.015;
    let rate = (highest - second) / second;
    if rate > confident_rate { 1.0 } else { rate / confident_rate }
}

/// whatlang's alphabet scores (`alphabets::raw_detect`): the letter count
/// and each language's normalised score, best first.
fn alphabet_scores(lowercase: &str, script: SharedScript, allowed: Allowed<'_>) -> (usize, Vec<(Lang, f64)>) {
    let tables = &*TABLES;
    let alphabets = match script {
        SharedScript::Latin => &tables.latin,
        SharedScript::Cyrillic => &tables.cyrillic,
        // whatlang has no alphabets for these yet: every language scores 1.
        SharedScript::Arabic | SharedScript::Devanagari | SharedScript::Hebrew => {
            let whatlang_script = script.script();
            let scores = whatlang_script
                .langs()
                .iter()
                .filter(|&&lang| allowed.contains(lang))
                .map(|&l| (l, 1.0))
                .collect();
            return (1, scores);
        }
    };
    let whatlang_script = script.script();
    let script_langs = whatlang_script.langs();
    let mut letter_scores = vec![0usize; alphabets.letters.len()];
    let mut max_raw_score = 0usize;
    for c in lowercase.chars() {
        if is_stop_char(c) {
            continue;
        }
        max_raw_score += 1;
        if let Ok(position) = alphabets.letters.binary_search(&c) {
            letter_scores[position] += 2;
        }
    }
    let mut lang_scores = vec![0usize; Lang::all().len()];
    let mut common_score = 0usize;
    for (position, &score) in letter_scores.iter().enumerate() {
        if score > 0 {
            let langs = &alphabets.langs[position];
            if langs.len() == script_langs.len() {
                common_score += score;
            } else {
                for &lang in langs {
                    lang_scores[lang as usize] += score;
                }
            }
        }
    }
    let mut raw_scores: Vec<(Lang, usize)> = script_langs
        .iter()
        .filter(|&&lang| allowed.contains(lang))
        .map(|&lang| (lang, (lang_scores[lang as usize] + common_score).saturating_sub(max_raw_score)))
        .collect();
    raw_scores.sort_unstable_by_key(|(_, score)| Reverse(*score));
    let scores = raw_scores.iter().map(|&(lang, raw)| (lang, raw as f64 / max_raw_score as f64)).collect();
    (max_raw_score, scores)
}

/// whatlang's trigram scores (`trigrams::raw_detect`): the number of
/// distinct ranked trigrams of the text and each language's score, best
/// first.
fn trigram_scores(lowercase: &str, script: SharedScript, allowed: Allowed<'_>) -> (usize, Vec<(Lang, f64)>) {
    // Count the text's trigrams by sorting them, then rank them by count
    // and trigram, both descending, keeping the first 600.
    let mut trigrams: Vec<u64> = Vec::with_capacity(lowercase.len() + 1);
    let mut chars = lowercase.chars().map(|c| if is_stop_char(c) { ' ' } else { c }).chain(Some(' '));
    let mut c1 = ' ';
    let mut c2 = chars.next().unwrap_or(' ');
    for c3 in chars {
        if !(c2 == ' ' && (c1 == ' ' || c3 == ' ')) {
            trigrams.push(pack(c1, c2, c3));
        }
        c1 = c2;
        c2 = c3;
    }
    trigrams.sort_unstable();
    let mut counted: Vec<Counted> = Vec::with_capacity(trigrams.len());
    for trigram in trigrams {
        match counted.last_mut() {
            Some((count, last)) if *last == trigram => *count += 1,
            _ => counted.push((1, trigram)),
        }
    }
    // Descending (count, trigram). Most trigrams of a post occur once:
    // those are already in ascending trigram order, so only the repeated
    // ones need sorting, and the single ones follow them reversed.
    let (mut repeated, single): (Vec<Counted>, Vec<Counted>) =
        counted.into_iter().partition(|&(count, _)| count > 1);
    repeated.sort_unstable_by(|a, b| b.cmp(a));
    let mut counted = repeated;
    counted.extend(single.into_iter().rev());
    counted.truncate(TEXT_TRIGRAMS_SIZE);
    let unique = counted.len();

    let profiles = TABLES.profiles(script);
    // For each language: Σ over the profile's trigrams found in the text of
    // (|rank difference| − MAX_TRIGRAM_DISTANCE); the distance is then the
    // profile length × MAX_TRIGRAM_DISTANCE plus that.
    let mut found = vec![0i64; profiles.langs.len()];
    for (position, &(_, trigram)) in counted.iter().enumerate() {
        if let Some(&(start, count)) = profiles.postings.get(&trigram) {
            let start = start as usize;
            for &(lang, rank) in profiles.pairs.get(start..start + count as usize).unwrap_or_default() {
                let difference = (position as i64 - i64::from(rank)).abs();
                found[usize::from(lang)] += difference - i64::from(MAX_TRIGRAM_DISTANCE);
            }
        }
    }
    let count = unique as u32;
    let mut distances: Vec<(Lang, u32)> = Vec::with_capacity(profiles.langs.len());
    for (index, &lang) in profiles.langs.iter().enumerate() {
        if !allowed.contains(lang) {
            continue;
        }
        let full = i64::from(profiles.lengths[index]) * i64::from(MAX_TRIGRAM_DISTANCE);
        let mut total = u32::try_from(full + found[index]).unwrap_or(0);
        if MAX_TRIGRAM_DISTANCE > count {
            total = total.wrapping_sub((MAX_TRIGRAM_DISTANCE - count) * MAX_TRIGRAM_DISTANCE);
        }
        distances.push((lang, total.clamp(0, MAX_TOTAL_DISTANCE)));
    }
    distances.sort_unstable_by_key(|(_, distance)| *distance);
    let max_distance = count.wrapping_mul(MAX_TRIGRAM_DISTANCE);
    let scores = distances
        .iter()
        .map(|&(lang, distance)| {
            (lang, f64::from(max_distance.wrapping_sub(distance)) / f64::from(max_distance))
        })
        .collect();
    (unique, scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_same(text: &str, allowlist: Option<&[Lang]>) {
        let expected = match allowlist {
            None => whatlang::detect(text),
            Some(list) => Detector::with_allowlist(list.to_vec()).detect(text),
        };
        assert_eq!(detect(text, allowlist), expected, "{text:?} with {allowlist:?}");
    }

    #[test]
    fn profiles_load_completely() {
        let tables = &*TABLES;
        let counts: Vec<usize> = tables.profiles.iter().map(|p| p.langs.len()).collect();
        assert_eq!(counts, vec![37, 6, 3, 3, 2]);
        for (profiles, script) in tables.profiles.iter().zip([
            Script::Latin,
            Script::Cyrillic,
            Script::Arabic,
            Script::Devanagari,
            Script::Hebrew,
        ]) {
            assert!(profiles.lengths.iter().all(|&n| n == 300));
            for lang in &profiles.langs {
                assert!(script.langs().contains(lang), "{lang:?} is not a {script:?} language");
            }
        }
    }

    #[test]
    fn answers_exactly_as_whatlang() {
        let texts = [
            "",
            "a",
            "ok",
            "Hello there, how are you doing today? The app keeps crashing.",
            "@AcmeAir my flight has been delayed three times this week and nobody tells us anything",
            "llevo dos horas esperando en el aeropuerto y nadie nos dice nada del vuelo",
            "mon vol est encore annulé et personne ne répond au service client",
            "mein Koffer ist seit drei Tagen verschwunden und niemand hilft mir",
            "o meu voo foi cancelado e ninguém me explica o que aconteceu",
            "la mia valigia è stata persa, pessimo servizio",
            "yaar ye movie bahut acchi thi, kya baat hai",
            "Dzień dobry, jak się masz? Łódź, Kraków, Gdańsk.",
            "Tämä on suomenkielinen lause, jossa on ääkkösiä.",
            "Bu bir Türkçe cümledir ve güzel görünüyor.",
            "Tôi yêu tiếng Việt rất nhiều, cảm ơn bạn.",
            "Мой рейс отменили и никто ничего не объясняет",
            "Дуже цікаво, що ви думаєте про це?",
            "Добар дан, како сте? Ђорђе, љубав, њива.",
            "أنا أحب هذا الكتاب كثيرا",
            "من این کتاب را خیلی دوست دارم",
            "مجھے یہ کتاب بہت پسند ہے",
            "मेरा ऑर्डर अभी तक नहीं आया है और कोई जवाब नहीं दे रहा",
            "माझे नाव काय आहे हे तुम्हाला माहित आहे का",
            "שלום, מה שלומך היום?",
            "איך האָב דיר ליב",
            "我的订单还没有到，已经等了两个星期",
            "ありがとうございます、とても嬉しいです",
            "καλημέρα σας, τι κάνετε;",
            "감사합니다 정말 좋아요",
            "xaaaaabbbb    d",
            "Façade, Schönheitstraße, naïve café",
            "1234 !!! ??? ...",
            "RT : the the the the the the the the the the",
            "e e e e e e e e e e e e e e e e e e e e e e e e e e e e",
        ];
        let long = "Mon vol a été annulé et personne ne veut me rembourser le billet. ".repeat(40);
        let allowlists: [Option<&[Lang]>; 5] = [
            None,
            Some(&[Lang::Eng, Lang::Spa, Lang::Fra, Lang::Deu, Lang::Por, Lang::Ita]),
            Some(&[Lang::Eng]),
            Some(&[Lang::Rus, Lang::Ukr, Lang::Ara]),
            Some(&[]),
        ];
        for allowlist in allowlists {
            for text in texts.iter().copied().chain([long.as_str()]) {
                assert_same(text, allowlist);
            }
        }
    }

    /// Every text of the shared data sets (130,000 texts in 75 languages),
    /// with and without allowlists. Reads `../shared/data` beside the
    /// repository; run with `cargo test -p smo-classify --release --
    /// --ignored same_answers_on_the_shared_data`.
    #[test]
    #[ignore = "reads ../shared/data; slow in a debug build"]
    fn same_answers_on_the_shared_data() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        let mut texts = Vec::new();
        for file in
            ["langid/dev.csv", "multilingual/dev.csv", "sentiment/tweeteval_val.csv", "airline/dev.csv"]
        {
            let mut reader = csv::Reader::from_path(root.join(file)).unwrap();
            let column = reader.headers().unwrap().iter().position(|h| h == "text").unwrap();
            for record in reader.records() {
                texts.push(record.unwrap().get(column).unwrap().to_owned());
            }
        }
        assert!(texts.len() > 130_000, "{}", texts.len());
        let six = [Lang::Eng, Lang::Spa, Lang::Fra, Lang::Deu, Lang::Por, Lang::Ita];
        let eight = [Lang::Eng, Lang::Spa, Lang::Fra, Lang::Deu, Lang::Por, Lang::Ita, Lang::Ara, Lang::Hin];
        for allowlist in [None, Some(&six[..]), Some(&eight[..])] {
            for text in &texts {
                assert_same(text, allowlist);
                let normalized = crate::text::NormalizedText::new(text);
                assert_same(&crate::language::detection_text(&normalized), allowlist);
            }
        }
    }
}
