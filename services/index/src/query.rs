//! The search query language: tantivy's query syntax, over the post text by
//! default (`refund late`, `"lost my bag"`, `refund -spam`, `a OR b`), with
//! field syntax for the keyword fields (`lang:es`, `tags:delivery`,
//! `intent:complaint`, `sentiment:negative`, `source:"file:sample"`,
//! `author_handle:janedoe`, all case-insensitive), ranges on `created_at`,
//! `priority` and `engagement` (`engagement:[100 TO *]`,
//! `created_at:[2025-01-01T00:00:00Z TO 2025-02-01T00:00:00Z}`). Terms are
//! combined with AND unless `OR` is written, which is what people searching a
//! monitoring feed expect.
//!
//! Two additions are rewritten into tantivy syntax before parsing:
//! - a trailing `*` makes a term a prefix (`delay*`, `tags:deliv*`), as in the
//!   account tag rules;
//! - friendly field aliases: `tag:` → `tags:`, `language:` → `lang:`,
//!   `author:` and `handle:` → `author_handle:`.
//!
//! Raw regular expressions (`/…/`) are refused: their cost is not bounded.

use tantivy::Index;
use tantivy::query::{AllQuery, Query, QueryParser};

use crate::error::IndexError;
use crate::schema::{PostFields, names};

/// Field aliases accepted in queries, with the field they stand for.
const FIELD_ALIASES: &[(&str, &str)] = &[
    ("tag", names::TAGS),
    ("language", names::LANG),
    ("author", names::AUTHOR_HANDLE),
    ("handle", names::AUTHOR_HANDLE),
];

/// Parses user queries for one account index.
pub(crate) struct PostQueryParser {
    parser: QueryParser,
}

impl PostQueryParser {
    pub(crate) fn new(index: &Index, fields: &PostFields) -> Self {
        let mut parser = QueryParser::for_index(index, vec![fields.text]);
        parser.set_conjunction_by_default();
        // Only for the prefix rewrite below; user-written regexes are refused.
        parser.allow_regexes();
        Self { parser }
    }

    /// Parses `query`; a blank query matches every post.
    pub(crate) fn parse(&self, query: &str) -> Result<Box<dyn Query>, IndexError> {
        if query.trim().is_empty() {
            return Ok(Box::new(AllQuery));
        }
        let invalid = |reason: String| IndexError::Query { query: query.to_owned(), reason };
        let rewritten = rewrite(query).map_err(|reason| invalid(reason.to_owned()))?;
        self.parser.parse_query(&rewritten).map_err(|err| invalid(err.to_string()))
    }
}

/// Expands aliases and prefix terms at the start of clauses, leaving quoted
/// phrases and range bounds alone.
fn rewrite(query: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(query.len() + 16);
    let mut in_quotes = false;
    let mut range_depth = 0usize;
    let mut at_clause_start = true;
    let mut rest = query;
    while let Some(c) = rest.chars().next() {
        if !in_quotes && range_depth == 0 && at_clause_start {
            let (replacement, consumed) = rewrite_clause(rest)?;
            if consumed > 0 {
                out.push_str(&replacement);
                rest = rest.get(consumed..).unwrap_or_default();
                at_clause_start = false;
                continue;
            }
        }
        match c {
            '"' => in_quotes = !in_quotes,
            '[' | '{' if !in_quotes => range_depth += 1,
            ']' | '}' if !in_quotes => range_depth = range_depth.saturating_sub(1),
            _ => {}
        }
        // `+` and `-` keep a clause start (`-tag:x`) but do not make one
        // inside a word (`e-mail`).
        let opens_clause = c.is_whitespace() || c == '(' || (at_clause_start && matches!(c, '+' | '-'));
        at_clause_start = !in_quotes && range_depth == 0 && opens_clause;
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    Ok(out)
}

/// Rewrites the clause starting `rest`: returns the replacement text and how
/// many bytes of `rest` it replaces (0: nothing to rewrite).
fn rewrite_clause(rest: &str) -> Result<(String, usize), &'static str> {
    let written_field = field_prefix(rest);
    let field = written_field.map(|(name, _)| resolve_alias(name));
    let field_len = written_field.map_or(0, |(_, len)| len);
    let body = rest.get(field_len..).unwrap_or_default();
    if body.starts_with('/') {
        return Err("regular expressions are not supported; use a trailing `*` for prefixes");
    }
    let term_len = body.find(|c: char| c.is_whitespace() || c == ')').unwrap_or(body.len());
    let term = body.get(..term_len).unwrap_or_default();
    if let Some(prefix) = term.strip_suffix('*')
        && !prefix.is_empty()
        && prefix.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        let field = field.unwrap_or(names::TEXT);
        // Text and keyword fields index lowercased terms; alphanumerics and
        // `_` need no escaping in a regex.
        return Ok((format!("{field}:/{}.*/", prefix.to_lowercase()), field_len + term_len));
    }
    match (field, written_field) {
        (Some(field), Some((name, _))) if field != name => Ok((format!("{field}:"), field_len)),
        _ => Ok((String::new(), 0)),
    }
}

/// `name:` at the start of `rest`, as (name, length including the colon).
fn field_prefix(rest: &str) -> Option<(&str, usize)> {
    let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    (name_len > 0 && rest.get(name_len..)?.starts_with(':'))
        .then(|| (rest.get(..name_len).unwrap_or_default(), name_len + 1))
}

fn resolve_alias(name: &str) -> &str {
    FIELD_ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, field)| field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_expanded_only_where_a_field_can_start() {
        assert_eq!(rewrite("tag:delivery").unwrap(), "tags:delivery");
        assert_eq!(
            rewrite("refund AND (tag:billing OR -language:es)").unwrap(),
            "refund AND (tags:billing OR -lang:es)"
        );
        assert_eq!(rewrite("\"tag:x\" hashtag:y").unwrap(), "\"tag:x\" hashtag:y");
        assert_eq!(rewrite("author:Jane").unwrap(), "author_handle:Jane");
        assert_eq!(rewrite("é tag:ü").unwrap(), "é tags:ü");
        assert_eq!(rewrite("source:file:sample").unwrap(), "source:file:sample");
    }

    #[test]
    fn trailing_star_is_a_prefix() {
        assert_eq!(rewrite("Delay* AND lang:en").unwrap(), "text:/delay.*/ AND lang:en");
        assert_eq!(rewrite("tag:Deliv* -(retour*)").unwrap(), "tags:/deliv.*/ -(text:/retour.*/)");
        assert_eq!(rewrite("\"big bad wo\"*").unwrap(), "\"big bad wo\"*");
        assert_eq!(rewrite("* lang:* engagement:[10 TO *]").unwrap(), "* lang:* engagement:[10 TO *]");
        assert_eq!(rewrite("e-mail*").unwrap(), "e-mail*");
        assert_eq!(rewrite("-refund*").unwrap(), "-text:/refund.*/");
    }

    #[test]
    fn user_regexes_are_refused() {
        assert!(rewrite("text:/a.*/").is_err());
        assert!(rewrite("x /(a+)+$/").is_err());
    }
}
