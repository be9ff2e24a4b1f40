//! Lexer and recursive-descent parser of the rule language; the grammar is
//! in the [module documentation](super). Recursion depth is bounded by
//! [`MAX_NESTING`], so no input can overflow the stack, and every error
//! carries the character offset where parsing stopped.

use std::borrow::Cow;

use super::ast::{Expr, Field, FieldFilter, Near, Term, Wildcard, WordMatch};
use super::error::{RuleError, excerpt};
use super::fold::{fold_apostrophe, fold_word, lower_fold, original_words};
use crate::text::{is_hashtag_char, is_word_char, tokenize};

/// Deepest nesting of parentheses and `NOT`s accepted. Real rules nest a
/// handful of levels; the limit keeps parsing and evaluation recursion far
/// from the stack's end whatever is pasted into a rule field.
pub const MAX_NESTING: usize = 64;

/// Largest `n` accepted in `NEAR/n`; beyond it "near" means little, and a
/// bound keeps a typo (`NEAR/30000`) from silently matching whole posts.
pub const MAX_NEAR_DISTANCE: u32 = 100;

/// Fewest literal characters before a trailing `*`: `a*` would match a
/// large part of the language and make every post a candidate.
pub const MIN_WILDCARD_PREFIX: usize = 3;

/// Longest rule accepted, in characters; a guard against pasting a
/// document into a rule field, far above any real rule.
pub const MAX_RULE_CHARS: usize = 32_768;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Near { distance: u32, ordered: bool, text: String },
    Quoted(String),
    Braced(String),
    Bare(String),
    FieldQuoted { name: String, value: String },
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// Character offset of the token's first character.
    start: usize,
}

/// Parses `expression` into its syntax tree; see the module documentation
/// for the grammar.
pub fn parse(expression: &str) -> Result<Expr, RuleError> {
    let length = expression.chars().count();
    if length > MAX_RULE_CHARS {
        return Err(RuleError::new(
            MAX_RULE_CHARS,
            format!("a rule of at most {MAX_RULE_CHARS} characters"),
            format!("{length} characters"),
        ));
    }
    let chars: Vec<char> = expression.chars().collect();
    let tokens = lex(&chars)?;
    if tokens.is_empty() {
        return Err(RuleError::new(0, "a term", "an empty rule"));
    }
    let mut parser = Parser { tokens, index: 0, end: chars.len() };
    let expr = parser.expression(0)?;
    if let Some(token) = parser.peek() {
        return Err(RuleError::new(
            token.start,
            "AND, OR, NOT, NEAR/n or end of rule",
            "')' without a matching '('",
        ));
    }
    Ok(expr)
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„')
}

fn ends_bare_token(c: char) -> bool {
    c.is_whitespace() || is_quote(c) || matches!(c, '(' | ')' | '{' | '}')
}

/// Reads from `from` up to the first char satisfying `closes`; returns the
/// text read and the index after the closing char, or `None` at the end.
fn read_until(chars: &[char], from: usize, closes: impl Fn(char) -> bool) -> Option<(String, usize)> {
    let rest = chars.get(from..)?;
    let length = rest.iter().position(|&c| closes(c))?;
    Some((rest.iter().take(length).collect(), from + length + 1))
}

fn lex(chars: &[char]) -> Result<Vec<Token>, RuleError> {
    let mut tokens = Vec::new();
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        let start = index;
        if c.is_whitespace() {
            index += 1;
            continue;
        }
        let kind = match c {
            '(' => {
                index += 1;
                Kind::LParen
            }
            ')' => {
                index += 1;
                Kind::RParen
            }
            '}' => return Err(RuleError::new(start, "a term", "'}' without a matching '{'")),
            '{' => {
                let (text, next) = read_until(chars, index + 1, |c| c == '}').ok_or_else(|| {
                    RuleError::new(
                        chars.len(),
                        format!("'}}' to close the case-sensitive term opened at {start}"),
                        "end of rule",
                    )
                })?;
                index = next;
                Kind::Braced(text)
            }
            c if is_quote(c) => {
                let (text, next) = read_until(chars, index + 1, is_quote).ok_or_else(|| {
                    RuleError::new(
                        chars.len(),
                        format!("'\"' to close the phrase opened at {start}"),
                        "end of rule",
                    )
                })?;
                index = next;
                Kind::Quoted(text)
            }
            _ => {
                let mut text = String::new();
                while let Some(&c) = chars.get(index) {
                    if ends_bare_token(c) {
                        break;
                    }
                    text.push(c);
                    index += 1;
                }
                match (text.strip_suffix(':'), chars.get(index)) {
                    (Some(name), Some(&quote)) if is_quote(quote) && !name.is_empty() => {
                        let (value, next) = read_until(chars, index + 1, is_quote).ok_or_else(|| {
                            RuleError::new(
                                chars.len(),
                                format!("'\"' to close the value opened at {index}"),
                                "end of rule",
                            )
                        })?;
                        index = next;
                        Kind::FieldQuoted { name: name.to_owned(), value }
                    }
                    _ => operator_or_bare(text, start)?,
                }
            }
        };
        tokens.push(Token { kind, start });
    }
    Ok(tokens)
}

/// Operators are recognised in capitals only; anything else is a term.
fn operator_or_bare(text: String, start: usize) -> Result<Kind, RuleError> {
    Ok(match text.as_str() {
        "AND" => Kind::And,
        "OR" => Kind::Or,
        "NOT" => Kind::Not,
        "NEAR" | "ONEAR" => {
            return Err(RuleError::new(
                start + text.chars().count(),
                format!("'/' and a distance after {text}, as in {text}/3"),
                "nothing",
            ));
        }
        _ => {
            if let Some(rest) = text.strip_prefix("NEAR/") {
                near(rest, false, start + 5, &text)?
            } else if let Some(rest) = text.strip_prefix("ONEAR/") {
                near(rest, true, start + 6, &text)?
            } else {
                Kind::Bare(text)
            }
        }
    })
}

/// `NEAR/3`, Brandwatch's ordered `NEAR/3f`, or `ONEAR/3`.
fn near(rest: &str, ordered: bool, position: usize, text: &str) -> Result<Kind, RuleError> {
    let (digits, ordered) = match rest.strip_suffix('f') {
        Some(digits) if !ordered => (digits, true),
        _ => (rest, ordered),
    };
    let expected = || format!("a distance from 0 to {MAX_NEAR_DISTANCE}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let found = if rest.is_empty() { "nothing".to_owned() } else { format!("{:?}", excerpt(rest)) };
        return Err(RuleError::new(position, expected(), found));
    }
    match digits.parse::<u32>() {
        Ok(distance) if distance <= MAX_NEAR_DISTANCE => {
            Ok(Kind::Near { distance, ordered, text: text.to_owned() })
        }
        _ => Err(RuleError::new(position, expected(), excerpt(digits))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joiner {
    And,
    Or,
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    /// Length of the rule in characters: the position of "end of rule".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.index)
    }

    fn peek_start(&self) -> usize {
        self.peek().map_or(self.end, |token| token.start)
    }

    fn found(&self) -> String {
        self.peek().map_or_else(|| "end of rule".to_owned(), |token| describe(&token.kind))
    }

    /// `unary { AND unary | NOT unary }` or `unary { OR unary }`.
    fn expression(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let first = self.unary(depth)?;
        let mut joiner: Option<Joiner> = None;
        let mut items = vec![first];
        while let Some(token) = self.peek() {
            let (start, kind) = (token.start, token.kind.clone());
            let this = match kind {
                Kind::RParen => break,
                Kind::And | Kind::Not => Joiner::And,
                Kind::Or => Joiner::Or,
                Kind::Near { .. } => {
                    return Err(RuleError::new(
                        start,
                        "AND, OR or NOT (NEAR joins two words, phrases or OR-groups and cannot be chained)",
                        describe(&kind),
                    ));
                }
                other => {
                    let end = if depth > 0 { "')'" } else { "end of rule" };
                    return Err(RuleError::new(
                        start,
                        format!("AND, OR, NOT, NEAR/n or {end} (terms need an operator between them)"),
                        describe(&other),
                    ));
                }
            };
            if joiner.is_some_and(|j| j != this) {
                let (expected, found) = match this {
                    Joiner::And => ("OR", describe(&kind)),
                    Joiner::Or => ("AND or NOT", describe(&kind)),
                };
                return Err(RuleError::new(
                    start,
                    format!("{expected} (mixing AND and OR needs parentheses)"),
                    found,
                ));
            }
            joiner = Some(this);
            self.index += 1;
            let operand = self.unary(depth)?;
            items.push(if kind == Kind::Not { Expr::Not(Box::new(operand)) } else { operand });
        }
        Ok(match joiner {
            None => items.pop().unwrap_or(Expr::Or(Vec::new())),
            Some(Joiner::And) => Expr::And(flatten(items, |e| matches!(e, Expr::And(_)))),
            Some(Joiner::Or) => Expr::Or(flatten(items, |e| matches!(e, Expr::Or(_)))),
        })
    }

    /// `NOT unary | proximity`.
    fn unary(&mut self, depth: usize) -> Result<Expr, RuleError> {
        match self.peek() {
            Some(Token { kind: Kind::Not, start }) => {
                let start = *start;
                check_depth(depth, start)?;
                self.index += 1;
                Ok(Expr::Not(Box::new(self.unary(depth + 1)?)))
            }
            _ => self.proximity(depth),
        }
    }

    /// `primary [ NEAR/n primary ]`.
    fn proximity(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let left_start = self.peek_start();
        let left = self.primary(depth)?;
        let Some(Token { kind: Kind::Near { distance, ordered, .. }, .. }) = self.peek() else {
            return Ok(left);
        };
        let (distance, ordered) = (*distance, *ordered);
        self.index += 1;
        let right_start = self.peek_start();
        let right = self.primary(depth)?;
        Ok(Expr::Near(Near {
            left: alternatives(left, left_start)?,
            right: alternatives(right, right_start)?,
            distance,
            ordered,
        }))
    }

    /// `( expression ) | term`.
    fn primary(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let Some(token) = self.peek().cloned() else {
            return Err(RuleError::new(self.end, "a term or '('", "end of rule"));
        };
        let start = token.start;
        let term = match token.kind {
            Kind::LParen => {
                check_depth(depth, start)?;
                self.index += 1;
                let inner = self.expression(depth + 1)?;
                return match self.peek() {
                    Some(Token { kind: Kind::RParen, .. }) => {
                        self.index += 1;
                        Ok(inner)
                    }
                    _ => Err(RuleError::new(
                        self.peek_start(),
                        format!("')' to close the '(' at {start}"),
                        self.found(),
                    )),
                };
            }
            Kind::Quoted(text) => phrase_term(&text, start)?,
            Kind::Braced(text) => case_sensitive_term(&text, start)?,
            Kind::Bare(text) => bare_term(&text, start)?,
            Kind::FieldQuoted { name, value } => field_term(&name, &value, start)?,
            other => return Err(RuleError::new(start, "a term or '('", describe(&other))),
        };
        self.index += 1;
        Ok(Expr::Term(term))
    }
}

fn check_depth(depth: usize, start: usize) -> Result<(), RuleError> {
    if depth >= MAX_NESTING {
        Err(RuleError::new(
            start,
            format!("at most {MAX_NESTING} nested parentheses or NOTs"),
            "deeper nesting",
        ))
    } else {
        Ok(())
    }
}

/// `(a OR b) OR c` is `a OR b OR c`: merge children of the same operator.
fn flatten(items: Vec<Expr>, same: impl Fn(&Expr) -> bool) -> Vec<Expr> {
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        if same(&item) {
            match item {
                Expr::And(children) | Expr::Or(children) => flat.extend(children),
                other => flat.push(other),
            }
        } else {
            flat.push(item);
        }
    }
    flat
}

/// The word or phrase alternatives of a NEAR operand.
fn alternatives(expr: Expr, start: usize) -> Result<Vec<Vec<WordMatch>>, RuleError> {
    match expr {
        Expr::Term(Term::Words(words)) => Ok(vec![words]),
        Expr::Or(children) => {
            let mut all = Vec::with_capacity(children.len());
            for child in children {
                all.extend(alternatives(child, start)?);
            }
            Ok(all)
        }
        other => {
            let found = match other {
                Expr::And(_) => "an AND group",
                Expr::Not(_) => "a NOT",
                Expr::Near(_) => "a NEAR group (NEAR cannot be nested)",
                Expr::Term(Term::Hashtag(_)) => "a hashtag",
                Expr::Term(Term::Mention(_)) => "a mention",
                _ => "a field filter",
            };
            Err(RuleError::new(start, "a word, phrase or (… OR …) group of them beside NEAR", found))
        }
    }
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::LParen => "'('".to_owned(),
        Kind::RParen => "')'".to_owned(),
        Kind::And => "AND".to_owned(),
        Kind::Or => "OR".to_owned(),
        Kind::Not => "NOT".to_owned(),
        Kind::Near { text, .. } => text.clone(),
        Kind::Quoted(text) => format!("phrase \"{}\"", excerpt(text)),
        Kind::Braced(text) => format!("{{{}}}", excerpt(text)),
        Kind::FieldQuoted { name, value } => format!("{}:\"{}\"", excerpt(name), excerpt(value)),
        Kind::Bare(text) => {
            let upper = text.to_uppercase();
            let looks_like_operator = matches!(upper.as_str(), "AND" | "OR" | "NOT")
                || upper.starts_with("NEAR/")
                || upper.starts_with("ONEAR/");
            if looks_like_operator {
                format!("word \"{}\" (operators are written in capitals: {})", excerpt(text), excerpt(&upper))
            } else {
                format!("word \"{}\"", excerpt(text))
            }
        }
    }
}

/// A bare term: `#tag`, `@handle`, `field:value`, or a word (a phrase when
/// the tokeniser splits it, as it does `e-mail`).
fn bare_term(text: &str, start: usize) -> Result<Term, RuleError> {
    let mut chars = text.chars();
    let first = chars.next();
    let rest = chars.as_str();
    match first {
        Some('#' | '＃') => return Ok(Term::Hashtag(tag_match(rest, start, '#')?)),
        Some('@' | '＠') => return Ok(Term::Mention(tag_match(rest, start, '@')?)),
        Some('-') if rest.chars().next().is_some_and(is_word_char) => {
            return Err(RuleError::new(
                start,
                "a term (write NOT before a term to exclude it)",
                format!("word \"{}\"", excerpt(text)),
            ));
        }
        _ => {}
    }
    if let Some((name, value)) = text.split_once(':')
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphabetic())
    {
        return field_term(name, value, start);
    }
    Ok(Term::Words(words_of(text, start)?))
}

/// One whitespace-free chunk: a wildcard word, or the words the tokeniser
/// finds in it, lowercased and accent-folded like a post's words.
fn words_of(chunk: &str, start: usize) -> Result<Vec<WordMatch>, RuleError> {
    if chunk.contains(['*', '?']) {
        let word_char = |c: char| is_word_char(c) || c == '\'';
        return Ok(vec![WordMatch::Wildcard(wildcard(chunk, start, word_char)?)]);
    }
    let mut words = Vec::new();
    for token in tokenize(chunk) {
        match fold_word(&token.word) {
            Cow::Borrowed(word) => words.push(WordMatch::Exact(word.to_owned())),
            // Folding can leave text the tokeniser would split differently
            // (`d\u{301}'un` → `d'un` → `d`, `un`): re-split it, so a rule
            // written back by `Display` parses to the same words.
            Cow::Owned(folded) => words.extend(
                tokenize(&folded)
                    .into_iter()
                    .map(|token| fold_word(&token.word).into_owned())
                    .filter(|word| !word.is_empty())
                    .map(WordMatch::Exact),
            ),
        }
    }
    if words.is_empty() {
        return Err(RuleError::new(
            start,
            "a word",
            format!("\"{}\" (no letters or digits)", excerpt(chunk)),
        ));
    }
    Ok(words)
}

/// A pattern with `?` (one character) and an optional trailing `*`.
fn wildcard(chunk: &str, start: usize, allowed: impl Fn(char) -> bool) -> Result<Wildcard, RuleError> {
    let shown = || format!("\"{}\"", excerpt(chunk));
    if let Some(star) = chunk.chars().position(|c| c == '*')
        && star + 1 != chunk.chars().count()
    {
        return Err(RuleError::new(start + star, "'*' only at the end of a word", shown()));
    }
    let folded: String = lower_fold(chunk).chars().map(fold_apostrophe).collect();
    let (body, prefix) = match folded.strip_suffix('*') {
        Some(body) => (body, true),
        None => (folded.as_str(), false),
    };
    if body.starts_with('?') || body.is_empty() {
        return Err(RuleError::new(
            start,
            "a letter before the wildcard (a word cannot start with one)",
            shown(),
        ));
    }
    if let Some(bad) = chunk.chars().position(|c| c != '?' && c != '*' && !allowed(fold_apostrophe(c))) {
        return Err(RuleError::new(start + bad, "a single word around '*' or '?'", shown()));
    }
    let literal = body.chars().filter(|&c| c != '?').count();
    if prefix && literal < MIN_WILDCARD_PREFIX {
        return Err(RuleError::new(
            start,
            format!("at least {MIN_WILDCARD_PREFIX} letters before '*'"),
            shown(),
        ));
    }
    Ok(Wildcard::new(body.to_owned(), prefix))
}

/// The name after `#` or `@` (`rest`), exact or a wildcard.
fn tag_match(rest: &str, start: usize, marker: char) -> Result<WordMatch, RuleError> {
    let (what, allowed): (&str, fn(char) -> bool) = match marker {
        '#' => ("a hashtag name (letters, digits or '_') after '#'", is_hashtag_char),
        _ => ("a handle (letters, digits or '_') after '@'", |c: char| c.is_ascii_alphanumeric() || c == '_'),
    };
    if rest.is_empty() {
        return Err(RuleError::new(start + 1, what, "nothing"));
    }
    if rest.contains(['*', '?']) {
        return Ok(WordMatch::Wildcard(wildcard(rest, start + 1, allowed)?));
    }
    if let Some(bad) = rest.chars().position(|c| !allowed(c)) {
        return Err(RuleError::new(start + 1 + bad, what, format!("\"{marker}{}\"", excerpt(rest))));
    }
    Ok(WordMatch::Exact(lower_fold(rest)))
}

/// `"…"`: words (or wildcards) that must be adjacent and in order.
fn phrase_term(text: &str, start: usize) -> Result<Term, RuleError> {
    let mut words = Vec::new();
    let mut chunk = String::new();
    let mut chunk_start = 0;
    for (offset, c) in text.chars().chain(std::iter::once(' ')).enumerate() {
        if c.is_whitespace() {
            if !chunk.is_empty() {
                words.extend(words_of(&chunk, start + 1 + chunk_start)?);
                chunk.clear();
            }
        } else {
            if chunk.is_empty() {
                chunk_start = offset;
            }
            chunk.push(c);
        }
    }
    if words.is_empty() {
        return Err(RuleError::new(start, "words inside the quotes", "an empty phrase"));
    }
    Ok(Term::Words(words))
}

/// `{Apple}`: words compared as written.
fn case_sensitive_term(text: &str, start: usize) -> Result<Term, RuleError> {
    if let Some(bad) = text.chars().position(|c| matches!(c, '*' | '?')) {
        return Err(RuleError::new(
            start + 1 + bad,
            "plain words inside { } (no wildcards in case-sensitive terms)",
            format!("{{{}}}", excerpt(text)),
        ));
    }
    let tokens = tokenize(text);
    let mut words = Vec::with_capacity(tokens.len());
    for original in original_words(text, &tokens) {
        match original {
            Some(word) => words.push(WordMatch::CaseSensitive(word.into_string())),
            None => {
                return Err(RuleError::new(
                    start,
                    "words the tokeniser can split",
                    format!("{{{}}}", excerpt(text)),
                ));
            }
        }
    }
    if words.is_empty() {
        return Err(RuleError::new(start, "words inside { }", format!("{{{}}}", excerpt(text))));
    }
    Ok(Term::Words(words))
}

/// A field filter (`author:`, `lang:`, `url:`, `tag:`, …) and its value.
fn field_term(name: &str, value: &str, start: usize) -> Result<Term, RuleError> {
    let Some(field) = Field::from_name(name) else {
        return Err(RuleError::new(
            start,
            "a term or a field author:, lang:, source:, url:, tag:, intent: or sentiment: (quote text containing ':')",
            format!("unknown field \"{}:\"", excerpt(name)),
        ));
    };
    let value_start = start + name.chars().count() + 1;
    let mut value = value.trim().to_lowercase();
    let mut prefix = false;
    if field != Field::Url {
        if let Some(body) = value.strip_suffix('*') {
            value = body.to_owned();
            prefix = true;
        }
        if field == Field::Author {
            value = value.trim_start_matches(['@', '＠']).to_owned();
        }
        if let Some(star) = value.chars().position(|c| c == '*') {
            return Err(RuleError::new(
                value_start + star,
                "'*' only at the end of a value",
                excerpt(&value),
            ));
        }
        if prefix && value.chars().count() < MIN_WILDCARD_PREFIX {
            return Err(RuleError::new(
                value_start,
                format!("at least {MIN_WILDCARD_PREFIX} characters before '*'"),
                format!("\"{}*\"", excerpt(&value)),
            ));
        }
    }
    if value.is_empty() {
        return Err(RuleError::new(value_start, format!("a value after {}:", field.name()), "nothing"));
    }
    Ok(Term::Field(FieldFilter { field, value, prefix }))
}
