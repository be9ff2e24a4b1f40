use thiserror::Error;

/// Why classification could not be set up: an account's settings, a model
/// file or training data were rejected. Raised when a profile is compiled or
/// models are loaded (at start), never while classifying a post, so a bad
/// rule or model is reported once with its name instead of silently never
/// matching.
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
    /// A model file cannot be loaded: missing, damaged, for another task or
    /// from an incompatible build. Raised at start, so a bad model stops the
    /// process instead of classifying with garbage.
    #[error("model {path}: {error}")]
    Model {
        /// The model file.
        path: String,
        /// What is wrong with it.
        #[source]
        error: crate::model::ModelError,
    },
    /// A labelled training file cannot be read or has an unexpected shape.
    #[error("training data {path}: {reason}")]
    Dataset {
        /// The file, as given.
        path: String,
        /// What is wrong, naming the line when one is at fault.
        reason: String,
    },
    /// Training cannot proceed with these data or options.
    #[error("training failed: {reason}")]
    Training {
        /// Why.
        reason: String,
    },
}
