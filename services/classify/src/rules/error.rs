//! Errors of the rule language. A rule is written by a person in a config
//! file or a web form, so an error says where (a character offset into the
//! rule), what the parser expected there and what it found instead.

use thiserror::Error;

/// Why a rule does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Error)]
#[error("at {position}: expected {expected} but found {found}")]
pub struct RuleError {
    /// Offset of the offending token, in characters (not bytes) from the
    /// start of the rule; the rule's length when the rule ended too soon.
    pub position: usize,
    /// What would have been valid there, e.g. `')'`.
    pub expected: String,
    /// What is there instead, e.g. `end of rule` or `word "pie"`.
    pub found: String,
}

impl RuleError {
    pub(crate) fn new(position: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self { position, expected: expected.into(), found: found.into() }
    }
}

/// Why a set of named rules does not compile: which rule, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Error)]
#[error("rule {rule:?}: {error}")]
pub struct RuleSetError {
    /// The name of the rule at fault.
    pub rule: String,
    /// What is wrong with it.
    pub error: RuleError,
}

/// Shortens text quoted in an error message to a readable length.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut chars = text.chars();
    let mut shown: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}
