//! Credentials (API keys, bearer tokens, webhook signing secrets) in a type
//! whose `Debug` never shows the value, so printing a config or an error
//! cannot leak one into logs. Values come from the config or, preferably,
//! from an environment variable the config names (`secret_env = "…"`).

use std::fmt;

/// A credential. Its value is only reachable through [`Secret::expose`].
/// It deserializes from a plain string, so config fields can hold one.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

/// The environment variable a config names for a credential is unset or blank.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {variable} is not set")]
pub struct UnsetVariable {
    /// The variable's name.
    pub variable: String,
}

impl Secret {
    /// Wraps a credential value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty or blank (an unset inline credential).
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The credential given inline or through the environment variable
    /// `env_name`; the inline value wins. `Ok(None)` when neither is
    /// configured; an error when the named variable is unset or blank (a
    /// deployment mistake, not a reason to run without the credential).
    pub fn resolve(inline: Option<&Secret>, env_name: Option<&str>) -> Result<Option<Self>, UnsetVariable> {
        if let Some(value) = inline.map(|s| s.expose().trim()).filter(|v| !v.is_empty()) {
            return Ok(Some(Self::new(value)));
        }
        let Some(variable) = env_name.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => Ok(Some(Self::new(value.trim()))),
            _ => Err(UnsetVariable { variable: variable.to_owned() }),
        }
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_and_unset_variables_are_errors() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(Secret::resolve(Some(&Secret::new(" inline ")), None), Ok(Some(Secret::new("inline"))));
        assert_eq!(Secret::resolve(None, None), Ok(None));
        assert!(Secret::from("  ").is_blank() && !secret.is_blank());
        let err = Secret::resolve(None, Some("SMO_TEST_SURELY_UNSET_VAR_5678")).expect_err("unset");
        assert_eq!(err.variable, "SMO_TEST_SURELY_UNSET_VAR_5678");
    }
}
