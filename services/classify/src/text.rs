//! Normalisation of social-media text. Every classifier stage looks at the
//! same [`NormalizedText`] so that tweet noise (mentions, links, hashtag
//! markers, emoji) is handled once and the same way everywhere: language
//! detection must not see `@handles` or URLs, and tag keywords must be
//! tokenised exactly like the text they are matched against.
//!
//! Everything here works on `char`s, never on byte offsets computed by hand,
//! so any `&str` is safe, and every pass is linear in the input length.

/// Emoticons and emoji with a clear polarity, counted while they are
/// stripped: the text loses them but sentiment still gets their signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmotiveCues {
    /// Smileys, hearts, thumbs up, `:)`, `<3`.
    pub positive: u32,
    /// Frowns, angry faces, thumbs down, `:(`, `</3`.
    pub negative: u32,
}

/// One lowercase word with the little context sentiment rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word, lowercased. Inner apostrophes are kept (`don't`).
    pub word: String,
    /// The author wrote it in capitals (`WORST`), a sign of emphasis.
    pub shouted: bool,
    /// Punctuation (`.`, `,`, `!`, `?`…) separates it from the previous word,
    /// which bounds negation scope and phrase matches.
    pub clause_start: bool,
}

/// A post's text after noise removal, with what was removed kept as signals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormalizedText {
    /// Text without mentions, URLs, hashtag markers, emoji and symbols, with
    /// whitespace collapsed; case and ordinary punctuation are kept because
    /// language detection does better with them.
    pub clean: String,
    /// Lowercase words of [`Self::clean`].
    pub tokens: Vec<Token>,
    /// Hashtags, lowercased, without `#`, in order of appearance.
    pub hashtags: Vec<String>,
    /// Mentioned handles, lowercased, without `@`, in order of appearance.
    pub mentions: Vec<String>,
    /// Polarity of the stripped emoticons and emoji.
    pub emotive: EmotiveCues,
    /// Number of `!` (and `¡`, `！`) outside URLs.
    pub exclamations: u32,
    /// Number of `?` (and `¿`, `？`) outside URLs.
    pub questions: u32,
}

impl NormalizedText {
    /// Normalises `raw`; see the module documentation.
    pub fn new(raw: &str) -> Self {
        normalize(raw)
    }

    /// Whether the post addresses someone with an `@mention`, which for a
    /// monitored brand usually means the brand itself.
    pub fn is_addressed(&self) -> bool {
        !self.mentions.is_empty()
    }

    /// Whether the whole text is written in capitals (at least two shouted
    /// words and no word in lower case); then capitals are the author's style
    /// rather than emphasis on one word.
    pub fn is_all_caps(&self) -> bool {
        let mut shouted = 0usize;
        for token in &self.tokens {
            if token.shouted {
                shouted += 1;
            } else if token.word.chars().any(char::is_alphabetic) {
                return false;
            }
        }
        shouted >= 2
    }
}

/// Normalises tweet noise out of `raw`: drops `@mentions`, URLs, emoji and
/// symbols, keeps hashtag words without `#`, collapses whitespace, then
/// tokenises the result.
pub fn normalize(raw: &str) -> NormalizedText {
    let mut normalized = NormalizedText::default();
    let mut clean = String::with_capacity(raw.len().min(1 << 16));
    let mut chunks = raw.split_whitespace().peekable();
    while let Some(chunk) = chunks.next() {
        // `RT @handle:` marks a repost; `RT` is not a word of the post.
        if chunk == "RT" && chunks.peek().is_some_and(|next| next.starts_with('@')) {
            continue;
        }
        normalize_chunk(chunk, &mut normalized, &mut clean);
        clean.push(' ');
    }
    normalized.clean = collapse_whitespace(&clean);
    for c in normalized.clean.chars() {
        match c {
            '!' | '¡' | '！' => normalized.exclamations += 1,
            '?' | '¿' | '？' => normalized.questions += 1,
            _ => {}
        }
    }
    normalized.tokens = tokenize(&normalized.clean);
    normalized
}

/// Splits `text` into lowercase words. Words are runs of letters, digits and
/// combining marks; an apostrophe inside a word is kept (`don't`), and French
/// or Italian elisions are split off (`l'avion` → `l`, `avion`) so that the
/// noun can be matched on its own.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut clause_start = true;
    for c in text.chars() {
        let c = fold_apostrophe(c);
        // An apostrophe only continues a word (`don't`); a leading or
        // trailing one is trimmed when the token is flushed.
        if is_word_char(c) || (c == '\'' && !current.is_empty()) {
            current.push(c);
        } else {
            flush_token(&mut current, &mut tokens, &mut clause_start);
            if is_clause_break(c) {
                clause_start = true;
            }
        }
    }
    flush_token(&mut current, &mut tokens, &mut clause_start);
    tokens
}

/// Handles one whitespace-free chunk of the raw text.
fn normalize_chunk(chunk: &str, normalized: &mut NormalizedText, clean: &mut String) {
    if looks_like_url(chunk) {
        return;
    }
    if let Some(polarity) = emoticon_polarity(chunk) {
        normalized.emotive.count(polarity);
        return;
    }
    let chunk = match strip_trailing_emoticon(chunk) {
        Some((rest, polarity)) => {
            normalized.emotive.count(polarity);
            rest
        }
        None => chunk,
    };

    let mut chars = chunk.chars().peekable();
    let mut previous_is_word = false;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        if matches!(c, '@' | '＠') && !previous_is_word && next.is_some_and(is_handle_char) {
            let mut handle = String::new();
            while let Some(&h) = chars.peek() {
                if !is_handle_char(h) {
                    break;
                }
                handle.push(h.to_ascii_lowercase());
                chars.next();
            }
            normalized.mentions.push(handle);
            previous_is_word = false;
            continue;
        }
        if matches!(c, '#' | '＃') && !previous_is_word && next.is_some_and(is_hashtag_char) {
            let mut tag = String::new();
            while let Some(&h) = chars.peek() {
                if !is_hashtag_char(h) {
                    break;
                }
                clean.push(h);
                tag.extend(h.to_lowercase());
                chars.next();
            }
            normalized.hashtags.push(tag);
            previous_is_word = true;
            continue;
        }
        if is_symbol(c) {
            if let Some(polarity) = emoji_polarity(c) {
                normalized.emotive.count(polarity);
            }
            clean.push(' ');
            previous_is_word = false;
            continue;
        }
        let c = fold_apostrophe(c);
        clean.push(c);
        previous_is_word = c.is_alphanumeric();
    }
}

/// Polarity of an emoticon or emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polarity {
    Positive,
    Negative,
}

impl EmotiveCues {
    fn count(&mut self, polarity: Polarity) {
        match polarity {
            Polarity::Positive => self.positive = self.positive.saturating_add(1),
            Polarity::Negative => self.negative = self.negative.saturating_add(1),
        }
    }
}

const POSITIVE_EMOTICONS: &[&str] = &[
    ":)", ":-)", ":]", "=)", ":D", ":-D", "=D", ";)", ";-)", ":P", ":-P", ":p", "xD", "XD", "<3", "^^",
    "^_^", ":o)", "(:",
];
const NEGATIVE_EMOTICONS: &[&str] =
    &[":(", ":-(", ":[", "=(", ":'(", ":/", ":-/", ">:(", "D:", "</3", ":|", ":-|", "-_-", "):"];

fn emoticon_polarity(chunk: &str) -> Option<Polarity> {
    if POSITIVE_EMOTICONS.contains(&chunk) {
        Some(Polarity::Positive)
    } else if NEGATIVE_EMOTICONS.contains(&chunk) {
        Some(Polarity::Negative)
    } else {
        None
    }
}

/// `thanks:)` → (`thanks`, positive). Only emoticons that start with `:` are
/// looked for at the end of a word, which keeps `http:` and `D:` safe.
fn strip_trailing_emoticon(chunk: &str) -> Option<(&str, Polarity)> {
    const TRAILING: &[(&str, Polarity)] = &[
        (":-)", Polarity::Positive),
        (":-(", Polarity::Negative),
        (":)", Polarity::Positive),
        (":(", Polarity::Negative),
        (":D", Polarity::Positive),
    ];
    TRAILING.iter().find_map(|(emoticon, polarity)| {
        let rest = chunk.strip_suffix(emoticon)?;
        rest.chars().last().is_some_and(char::is_alphanumeric).then_some((rest, *polarity))
    })
}

fn emoji_polarity(c: char) -> Option<Polarity> {
    const POSITIVE: &[char] = &[
        '😀', '😁', '😃', '😄', '😆', '😉', '😊', '😋', '😍', '😎', '😘', '😻', '🙂', '🙌', '👍', '👏', '💪',
        '🎉', '🥳', '🥰', '🤩', '❤', '💕', '💖', '💗', '💙', '💚', '💛', '💜', '🧡', '✨', '⭐', '🌟', '💯',
        '✅', '👌', '☺', '🙏', '🤗',
    ];
    const NEGATIVE: &[char] = &[
        '😞', '😟', '😠', '😡', '🤬', '😢', '😭', '😤', '😩', '😫', '😒', '🙄', '😣', '😖', '😔', '😕', '🙁',
        '☹', '👎', '💔', '🤮', '🤢', '😱', '😨', '😰', '😓', '🤦', '💩', '❌', '😑',
    ];
    if POSITIVE.contains(&c) {
        Some(Polarity::Positive)
    } else if NEGATIVE.contains(&c) {
        Some(Polarity::Negative)
    } else {
        None
    }
}

/// `https://…`, `www.…`, `t.co/…`, `bit.ly/…`: anything with a scheme, or a
/// dotted host name followed by a path.
fn looks_like_url(chunk: &str) -> bool {
    let chunk = chunk.trim_start_matches(['(', '[', '"', '\'', '<']);
    let starts_with_ignore_case =
        |prefix: &str| chunk.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    if starts_with_ignore_case("http://")
        || starts_with_ignore_case("https://")
        || starts_with_ignore_case("www.")
        || chunk.contains("://")
    {
        return true;
    }
    let Some((host, _path)) = chunk.split_once('/') else {
        return false;
    };
    let Some((name, top_level)) = host.rsplit_once('.') else {
        return false;
    };
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && top_level.len() >= 2
        && top_level.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(crate) fn is_hashtag_char(c: char) -> bool {
    c == '_' || (c.is_alphanumeric() && !is_symbol(c))
}

fn fold_apostrophe(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}' => '\'',
        other => other,
    }
}

/// Emoji, pictographs, dingbats, arrows, maths and box drawing, currency and
/// other symbols, invisible format characters and private-use code points:
/// the characters normalisation replaces with a space.
pub(crate) fn is_symbol(c: char) -> bool {
    if c.is_control() {
        return true;
    }
    if c.is_ascii() {
        return matches!(
            c,
            '$' | '%'
                | '^'
                | '&'
                | '*'
                | '+'
                | '='
                | '<'
                | '>'
                | '|'
                | '~'
                | '`'
                | '\\'
                | '/'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '@'
                | '#'
        );
    }
    matches!(
        c as u32,
        0x00A2..=0x00A9
            | 0x00AC..=0x00B1
            | 0x00B4
            | 0x00B6..=0x00B8
            | 0x00D7
            | 0x00F7
            | 0x02C2..=0x02C5
            | 0x02D2..=0x02DF
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x206F
            | 0x20A0..=0x20FF
            | 0x2100..=0x214F
            | 0x2190..=0x23FF
            | 0x2400..=0x24FF
            | 0x2500..=0x27BF
            | 0x27C0..=0x2BFF
            | 0x2E80..=0x2FFF
            | 0x3030
            | 0x303D
            | 0x3200..=0x33FF
            | 0xE000..=0xF8FF
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFF0..=0xFFFF
            | 0x1D000..=0x1D24F
            | 0x1F000..=0x1FAFF
            | 0xE0000..=0xE007F
            | 0xF0000..=0x10FFFF
    )
}

/// Punctuation of the scripts posts are usually written in.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c as u32,
            0x00A1
                | 0x00AB
                | 0x00BB
                | 0x00BF
                | 0x037E
                | 0x0387
                | 0x055A..=0x055F
                | 0x0589
                | 0x05BE
                | 0x05C0
                | 0x05C3
                | 0x05C6
                | 0x05F3
                | 0x05F4
                | 0x060C
                | 0x061B
                | 0x061F
                | 0x066A..=0x066D
                | 0x06D4
                | 0x0964
                | 0x0965
                | 0x0E4F
                | 0x0E5A
                | 0x0E5B
                | 0x1360..=0x1368
                | 0x2010..=0x2027
                | 0x2030..=0x205E
                | 0x3000..=0x303F
                | 0xFE10..=0xFE1F
                | 0xFE30..=0xFE4F
                | 0xFE50..=0xFE6F
                | 0xFF01..=0xFF0F
                | 0xFF1A..=0xFF20
                | 0xFF3B..=0xFF40
                | 0xFF5B..=0xFF65
        )
}

pub(crate) fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || is_punctuation(c) || is_symbol(c))
}

fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '¡'
            | '¿'
            | '('
            | ')'
            | '"'
            | '…'
            | '。'
            | '、'
            | '，'
            | '！'
            | '？'
            | '；'
            | '：'
            | '،'
            | '؟'
            | '।'
    )
}

/// French and Italian elided articles and pronouns that are written glued to
/// the next word with an apostrophe.
const ELISIONS: &[&str] = &[
    "l", "d", "j", "n", "m", "t", "s", "c", "qu", "lorsqu", "puisqu", "jusqu", "un", "dell", "nell", "sull",
    "dall", "all", "quest", "quell",
];

fn flush_token(current: &mut String, tokens: &mut Vec<Token>, clause_start: &mut bool) {
    let trimmed = current.trim_matches('\'');
    if trimmed.is_empty() {
        current.clear();
        return;
    }
    let (mut upper, mut lower) = (0usize, 0usize);
    for c in trimmed.chars() {
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lower += 1;
        }
    }
    let shouted = upper >= 2 && lower == 0;
    let word = trimmed.to_lowercase();
    let elided =
        word.split_once('\'').filter(|(head, tail)| ELISIONS.contains(head) && tail.chars().count() >= 2);
    match elided {
        Some((head, tail)) => {
            tokens.push(Token { word: head.to_owned(), shouted: false, clause_start: *clause_start });
            tokens.push(Token { word: tail.to_owned(), shouted, clause_start: false });
        }
        None => tokens.push(Token { word, shouted, clause_start: *clause_start }),
    }
    *clause_start = false;
    current.clear();
}

fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &NormalizedText) -> Vec<&str> {
        text.tokens.iter().map(|t| t.word.as_str()).collect()
    }

    #[test]
    fn strips_mentions_urls_and_hashtag_markers() {
        let text =
            normalize("@AcmeAir my flight #AA123 was cancelled again!! https://t.co/xYz12 cc @FAA_news");
        assert_eq!(text.clean, "my flight AA123 was cancelled again!! cc");
        assert_eq!(text.mentions, vec!["acmeair", "faa_news"]);
        assert_eq!(text.hashtags, vec!["aa123"]);
        assert_eq!(text.exclamations, 2);
        assert!(text.is_addressed());
        assert_eq!(words(&text), vec!["my", "flight", "aa123", "was", "cancelled", "again", "cc"]);
    }

    #[test]
    fn strips_the_repost_marker() {
        let text = normalize("RT @news: AcmeBank reports record profits");
        assert_eq!(text.clean, ": AcmeBank reports record profits");
        assert_eq!(normalize("RT is a word here").clean, "RT is a word here");
    }

    #[test]
    fn strips_shortened_links_and_bare_domains_with_paths() {
        let text = normalize("see bit.ly/3xYz and pic.twitter.com/abc (www.acme.com) and/or");
        assert_eq!(text.clean, "see and and or");
    }

    #[test]
    fn counts_emoji_and_emoticons_then_removes_them() {
        let text = normalize("Love it 😍😍 thanks:) but the app 👎 :(");
        assert_eq!(text.clean, "Love it thanks but the app");
        assert_eq!(text.emotive, EmotiveCues { positive: 3, negative: 2 });
    }

    #[test]
    fn keeps_accents_and_non_latin_scripts() {
        let text = normalize("¿Dónde está mi maleta? 我的行李丢了！ Привет, мир");
        assert_eq!(text.questions, 2);
        assert_eq!(text.exclamations, 1);
        assert_eq!(words(&text), vec!["dónde", "está", "mi", "maleta", "我的行李丢了", "привет", "мир"]);
    }

    #[test]
    fn tokens_record_capitals_and_clause_breaks() {
        let tokens = tokenize("This is the WORST, not great. I'm done");
        let worst = &tokens[3];
        assert_eq!(worst.word, "worst");
        assert!(worst.shouted);
        assert!(tokens[4].clause_start, "`not` follows a comma");
        assert!(tokens[6].clause_start);
        assert_eq!(tokens[6].word, "i'm");
        assert!(!tokens[0].shouted, "a capitalised word is not shouting");
    }

    #[test]
    fn splits_french_elisions_and_folds_curly_apostrophes() {
        let tokens: Vec<String> =
            tokenize("L’avion n'est pas arrivé, don’t").into_iter().map(|t| t.word).collect();
        assert_eq!(tokens, vec!["l", "avion", "n", "est", "pas", "arrivé", "don't"]);
    }

    #[test]
    fn all_caps_is_a_style_not_emphasis_of_one_word() {
        assert!(normalize("WHERE IS MY REFUND").is_all_caps());
        assert!(!normalize("where is my REFUND").is_all_caps());
        assert!(!normalize("OK").is_all_caps());
    }

    #[test]
    fn empty_and_symbol_only_inputs_yield_nothing() {
        for input in ["", "   ", "😀😀😀", "@a @b", "https://x.y/z", "#", "@", "::)", "\u{200b}"] {
            let text = normalize(input);
            assert!(text.tokens.is_empty(), "{input:?} gave {:?}", text.tokens);
        }
    }

    #[test]
    fn handles_one_megabyte_without_spaces_and_with() {
        let long_word = "é".repeat(500_000);
        let text = normalize(&long_word);
        assert_eq!(text.tokens.len(), 1);
        let many_words = "refund please @acme #late 😡 ".repeat(40_000);
        let text = normalize(&many_words);
        assert_eq!(text.mentions.len(), 40_000);
        assert_eq!(text.emotive.negative, 40_000);
    }
}
