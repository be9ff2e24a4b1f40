//! Canned responses: reply templates per account and language with
//! `{{variables}}`, so agents answer the common complaints consistently and
//! fast. A template is checked when it is saved (balanced braces, variable
//! names) and rendered when a reply uses it; a variable nobody supplied is
//! an error naming it, never an empty hole in a message to a customer.

use std::collections::BTreeMap;

use smo_store::{ANY_LANGUAGE, CannedResponse, CaseRow};

/// Why a canned response cannot be saved or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without its `}}`.
    #[error("at {at}: '{{{{' is not closed by '}}}}'")]
    Unclosed {
        /// Byte offset of the `{{`.
        at: usize,
    },
    /// A name with characters other than letters, digits, `_`, `-` and `.`.
    #[error("at {at}: {name:?} is not a variable name (letters, digits, '_', '-', '.')")]
    BadName {
        /// Byte offset of the `{{`.
        at: usize,
        /// The name as written.
        name: String,
    },
    /// Variables the template uses that the reply did not supply.
    #[error("missing variables: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// No version of the response in the case's language nor for any language.
    #[error("no canned response {name:?} in {language} or for any language")]
    NotFound {
        /// The response's name.
        name: String,
        /// The language looked for.
        language: String,
    },
}

/// One piece of a template.
enum Piece<'t> {
    Text(&'t str),
    Variable(&'t str),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(TemplateError::Unclosed { at: offset + open })?;
        let name = after[..close].trim();
        let valid =
            !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(TemplateError::BadName { at: offset + open, name: after[..close].to_owned() });
        }
        out.push(Piece::Variable(name));
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks a template's syntax; the variables it uses, sorted.
pub fn template_variables(template: &str) -> Result<Vec<String>, TemplateError> {
    let mut names: Vec<String> = pieces(template)?
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Variable(name) => Some(name.to_owned()),
            Piece::Text(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Fills in `template`; every variable it uses must be in `values`.
pub fn render(template: &str, values: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let pieces = pieces(template)?;
    let mut missing: Vec<String> = Vec::new();
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(name) => match values.get(name) {
                Some(value) => out.push_str(value),
                None if !missing.iter().any(|m| m == name) => missing.push(name.to_owned()),
                None => {}
            },
        }
    }
    if missing.is_empty() { Ok(out) } else { Err(TemplateError::Missing(missing)) }
}

/// The version of canned response `name` for a case in `language`: its own
/// language first (a regional code such as `es-mx` also takes `es`), then
/// the `any` version.
pub fn choose<'r>(
    responses: &'r [CannedResponse],
    name: &str,
    language: &str,
) -> Result<&'r CannedResponse, TemplateError> {
    let language = language.trim().to_lowercase();
    let base = language.split('-').next().unwrap_or_default();
    let find =
        |wanted: &str| responses.iter().find(|r| r.name == name && r.language.eq_ignore_ascii_case(wanted));
    find(&language)
        .or_else(|| find(base))
        .or_else(|| find(ANY_LANGUAGE))
        .ok_or_else(|| TemplateError::NotFound { name: name.to_owned(), language })
}

/// The variables every reply on `case` can use: `customer` (the handle with
/// `@`), `agent`, `case_id`, `account`; values the agent supplies override
/// them.
pub fn case_variables(
    case: &CaseRow,
    agent: &str,
    supplied: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let handle = case.author_handle.trim_start_matches('@');
    values.insert("customer".to_owned(), format!("@{handle}"));
    values.insert("agent".to_owned(), agent.to_owned());
    values.insert("case_id".to_owned(), case.id.to_string());
    values.insert("account".to_owned(), case.account.to_string());
    values.extend(supplied.iter().map(|(k, v)| (k.clone(), v.clone())));
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn renders_variables_and_names_the_missing_ones() {
        let template = "Hi {{customer}}, sorry about order {{ order }}. {{agent}} / {{order}}";
        let out = render(template, &values(&[("customer", "@ana"), ("order", "A1"), ("agent", "bo")]));
        assert_eq!(out.as_deref(), Ok("Hi @ana, sorry about order A1. bo / A1"));
        let error = render(template, &values(&[("customer", "@ana")])).expect_err("missing");
        assert_eq!(error, TemplateError::Missing(vec!["order".to_owned(), "agent".to_owned()]));
        assert_eq!(error.to_string(), "missing variables: order, agent");
        assert_eq!(template_variables(template), Ok(vec!["agent".into(), "customer".into(), "order".into()]));
    }

    #[test]
    fn syntax_errors_have_positions() {
        assert_eq!(render("Hi {{name", &BTreeMap::new()), Err(TemplateError::Unclosed { at: 3 }));
        assert_eq!(
            template_variables("a {{}} b"),
            Err(TemplateError::BadName { at: 2, name: String::new() })
        );
        assert!(matches!(template_variables("{{a b}}"), Err(TemplateError::BadName { at: 0, .. })));
        assert_eq!(
            render("no variables, {single} braces }}", &BTreeMap::new()).as_deref(),
            Ok("no variables, {single} braces }}")
        );
        // Multi-byte text before a variable: offsets are bytes, slicing stays on boundaries.
        assert_eq!(render("¡Hola {{x}}!", &values(&[("x", "ñ")])).as_deref(), Ok("¡Hola ñ!"));
    }

    #[test]
    fn chooses_the_case_language_then_any() {
        let canned = |language: &str, body: &str| CannedResponse {
            name: "delay".into(),
            language: language.into(),
            body: body.into(),
            updated_by: "sup".into(),
            updated_at: chrono::Utc::now(),
        };
        let all = [canned("any", "Sorry"), canned("es", "Lo sentimos")];
        assert_eq!(choose(&all, "delay", "es-MX").map(|c| c.body.as_str()), Ok("Lo sentimos"));
        assert_eq!(choose(&all, "delay", "fr").map(|c| c.body.as_str()), Ok("Sorry"));
        assert!(matches!(choose(&all[1..], "delay", "fr"), Err(TemplateError::NotFound { .. })));
        assert!(matches!(choose(&all, "refund", "es"), Err(TemplateError::NotFound { .. })));
    }
}
