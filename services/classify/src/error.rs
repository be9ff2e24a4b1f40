use thiserror::Error;

/// Why an account's classification settings were rejected. Raised when a
/// profile is compiled (at config load), never while classifying a post, so a
/// bad rule is reported once with its name instead of silently never matching.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClassifyError {
    /// A topic tag rule cannot be compiled.
    #[error("invalid tag rule {rule:?}: {reason}")]
    InvalidTagRule {
        /// The rule's name as configured.
        rule: String,
        /// What is wrong with it, naming the keyword when one is at fault.
        reason: String,
    },
    /// A language code in an account's allowlist is not one the detector knows.
    #[error("unknown language code {code:?}: expected an ISO 639-1 or 639-3 code the detector supports")]
    UnknownLanguage {
        /// The rejected code.
        code: String,
    },
}
