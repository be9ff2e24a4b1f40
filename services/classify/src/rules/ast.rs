//! The parsed form of a rule. It is public so that other consumers of the
//! rule language (search in the index, routing conditions) can translate a
//! rule into their own query types instead of re-parsing the text; its
//! [`Display`](std::fmt::Display) writes the rule back in canonical syntax,
//! which parses to the same tree.

use std::fmt;

/// A parsed boolean rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A single term.
    Term(Term),
    /// Every child matches (`a AND b`, `a NOT b`).
    And(Vec<Expr>),
    /// At least one child matches (`a OR b`).
    Or(Vec<Expr>),
    /// The child does not match (`NOT a`).
    Not(Box<Expr>),
    /// Two word groups close to each other (`a NEAR/3 b`, `a ONEAR/3 b`).
    Near(Near),
}

/// A leaf of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// One word, or a phrase: the words adjacent, in order, and not across
    /// punctuation. A bare term is one word (or a phrase when it splits into
    /// several words, as `e-mail` does); a quoted term is a phrase.
    Words(Vec<WordMatch>),
    /// `#tag`: one of the post's hashtags; [`WordMatch::Exact`] or
    /// [`WordMatch::Wildcard`] over the folded tag.
    Hashtag(WordMatch),
    /// `@handle`: one of the handles the post mentions; exact or wildcard
    /// over the lowercase handle.
    Mention(WordMatch),
    /// `author:`, `lang:`, `source:` or `url:` compared with the post's
    /// metadata.
    Field(FieldFilter),
}

/// How one word of a post is compared with a rule word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WordMatch {
    /// Equal after lowercasing and accent folding (the default).
    Exact(String),
    /// `deliver*`, `colo?r`: a wildcard over the folded word.
    Wildcard(Wildcard),
    /// `{Apple}`: equal as written, case and accents included.
    CaseSensitive(String),
}

/// A word pattern: literal characters (lowercase, accent-folded), `?` for
/// exactly one character and an optional trailing `*` for any number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wildcard {
    /// The characters before the trailing `*`, with `?` as placeholders.
    body: String,
    /// Whether the pattern ends with `*`.
    prefix: bool,
}

impl Wildcard {
    /// Builds a pattern from its body (without `*`) and whether a `*`
    /// followed; the parser has validated both.
    pub(crate) fn new(body: String, prefix: bool) -> Self {
        Self { body, prefix }
    }

    /// The characters before the first `?` or `*`: every matching word
    /// starts with them, which is how rule sets index wildcards.
    pub fn literal_prefix(&self) -> &str {
        match self.body.find('?') {
            Some(index) => self.body.get(..index).unwrap_or(""),
            None => &self.body,
        }
    }

    /// Whether the pattern ends with `*` (matches longer words).
    pub fn is_prefix(&self) -> bool {
        self.prefix
    }

    /// Whether `word` (lowercase, folded) matches the pattern.
    pub fn matches(&self, word: &str) -> bool {
        let mut chars = word.chars();
        for expected in self.body.chars() {
            match chars.next() {
                Some(actual) if expected == '?' || expected == actual => {}
                _ => return false,
            }
        }
        self.prefix || chars.next().is_none()
    }
}

impl fmt::Display for Wildcard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body)?;
        if self.prefix {
            f.write_str("*")?;
        }
        Ok(())
    }
}

/// `a NEAR/n b`: some alternative of `left` and some alternative of `right`
/// occur with at most `distance` other words between them; with `ordered`
/// (`ONEAR/n`, or Brandwatch's `NEAR/nf`) `left` must come first. Each
/// alternative is a word or phrase, as in [`Term::Words`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Near {
    /// Alternatives on the left of the operator.
    pub left: Vec<Vec<WordMatch>>,
    /// Alternatives on the right of the operator.
    pub right: Vec<Vec<WordMatch>>,
    /// Most words allowed between the two.
    pub distance: u32,
    /// Whether `left` must come before `right`.
    pub ordered: bool,
}

/// Which metadata a field filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `author:handle`: the author's handle, lowercase, without `@`.
    Author,
    /// `lang:es`: the detected language code.
    Lang,
    /// `source:twitter`: the source name, or its kind before `:`.
    Source,
    /// `url:acme.com`: a domain (and its subdomains) or a substring of the
    /// post's URL.
    Url,
    /// `tag:billing`: one of the tags classification gave the post; known
    /// once a post is classified (routing conditions, search), never while
    /// the tags themselves are being computed.
    Tag,
    /// `intent:complaint`: the classified intent. Known to topic tags too
    /// (classification decides it before tags), so a tag can be
    /// `intent:praise AND (staff OR crew)`.
    Intent,
    /// `sentiment:negative`: the classified sentiment label, like `intent:`.
    Sentiment,
    /// `urgency:legal`: one of the urgent situations the post raises
    /// (safety, legal, cancellation, outage, security), like `intent:`.
    Urgency,
}

impl Field {
    /// The field's name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            Field::Author => "author",
            Field::Lang => "lang",
            Field::Source => "source",
            Field::Url => "url",
            Field::Tag => "tag",
            Field::Intent => "intent",
            Field::Sentiment => "sentiment",
            Field::Urgency => "urgency",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "author" => Some(Field::Author),
            "lang" => Some(Field::Lang),
            "source" => Some(Field::Source),
            "url" => Some(Field::Url),
            "tag" => Some(Field::Tag),
            "intent" => Some(Field::Intent),
            "sentiment" => Some(Field::Sentiment),
            "urgency" => Some(Field::Urgency),
            _ => None,
        }
    }
}

/// `field:value`, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldFilter {
    /// The metadata looked at.
    pub field: Field,
    /// The value, lowercase; for `author:` without a leading `@`.
    pub value: String,
    /// A trailing `*` was written: the value is a prefix (not for `url:`).
    pub prefix: bool,
}

impl FieldFilter {
    /// Whether the post's metadata value `actual` (already lowercase)
    /// satisfies the filter.
    pub fn matches(&self, actual: &str) -> bool {
        if self.prefix {
            return actual.starts_with(self.value.as_str());
        }
        match self.field {
            Field::Author | Field::Tag | Field::Intent | Field::Sentiment | Field::Urgency => {
                actual == self.value
            }
            // `lang:pt` also accepts a regional code such as `pt-br`.
            Field::Lang => actual
                .strip_prefix(self.value.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-')),
            // `source:file` accepts `file:sample`: a connector kind.
            Field::Source => actual
                .strip_prefix(self.value.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(':')),
            Field::Url => url_matches(actual, &self.value),
        }
    }
}

/// A value with a dot and no `/` is a domain: it matches the URL's host and
/// its subdomains (`acme.com` matches `www.acme.com`, not `notacme.com`).
/// Anything else matches as a substring of the URL.
fn url_matches(url: &str, value: &str) -> bool {
    if value.contains('.') && !value.contains('/') {
        let host = url_host(url);
        host == value || host.strip_suffix(value).is_some_and(|rest| rest.ends_with('.'))
    } else {
        url.contains(value)
    }
}

/// The host of `url`: after any `scheme://` and `user@`, before any port,
/// path, query or fragment.
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    host.split(':').next().unwrap_or("")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(term) => write!(f, "{term}"),
            Expr::And(children) => write_joined(f, children, " AND "),
            Expr::Or(children) => write_joined(f, children, " OR "),
            Expr::Not(child) => {
                f.write_str("NOT ")?;
                write_operand(f, child)
            }
            Expr::Near(near) => {
                write_alternatives(f, &near.left)?;
                let operator = if near.ordered { "ONEAR" } else { "NEAR" };
                write!(f, " {operator}/{} ", near.distance)?;
                write_alternatives(f, &near.right)
            }
        }
    }
}

/// Writes children joined by an operator, bracketing those that would
/// otherwise mix AND and OR.
fn write_joined(f: &mut fmt::Formatter<'_>, children: &[Expr], operator: &str) -> fmt::Result {
    for (index, child) in children.iter().enumerate() {
        if index > 0 {
            // `a AND NOT b` reads better than `a AND (NOT b)`; both parse the same.
            f.write_str(operator)?;
        }
        write_operand(f, child)?;
    }
    Ok(())
}

fn write_operand(f: &mut fmt::Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr {
        Expr::And(_) | Expr::Or(_) => write!(f, "({expr})"),
        _ => write!(f, "{expr}"),
    }
}

fn write_alternatives(f: &mut fmt::Formatter<'_>, alternatives: &[Vec<WordMatch>]) -> fmt::Result {
    if let [words] = alternatives {
        return write_words(f, words);
    }
    f.write_str("(")?;
    for (index, words) in alternatives.iter().enumerate() {
        if index > 0 {
            f.write_str(" OR ")?;
        }
        write_words(f, words)?;
    }
    f.write_str(")")
}

/// One word is written bare, `{…}` when case-sensitive; several as a
/// quoted phrase, or braces when they are all case-sensitive.
fn write_words(f: &mut fmt::Formatter<'_>, words: &[WordMatch]) -> fmt::Result {
    let all_case = !words.is_empty() && words.iter().all(|w| matches!(w, WordMatch::CaseSensitive(_)));
    if all_case {
        f.write_str("{")?;
    } else if words.len() != 1 {
        f.write_str("\"")?;
    }
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            f.write_str(" ")?;
        }
        match word {
            WordMatch::Exact(word) | WordMatch::CaseSensitive(word) => f.write_str(word)?,
            WordMatch::Wildcard(pattern) => write!(f, "{pattern}")?,
        }
    }
    if all_case {
        f.write_str("}")
    } else if words.len() != 1 {
        f.write_str("\"")
    } else {
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Words(words) => write_words(f, words),
            Term::Hashtag(word) => {
                f.write_str("#")?;
                write_words(f, std::slice::from_ref(word))
            }
            Term::Mention(word) => {
                f.write_str("@")?;
                write_words(f, std::slice::from_ref(word))
            }
            Term::Field(filter) => {
                let star = if filter.prefix { "*" } else { "" };
                write!(f, "{}:\"{}{star}\"", filter.field.name(), filter.value)
            }
        }
    }
}
