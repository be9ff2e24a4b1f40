//! Credentials of sources (API keys, bearer tokens, webhook secrets): read
//! from the config or, preferably, from an environment variable the config
//! names (`token_env = "SMO_MASTODON_TOKEN"`), and kept in a type whose
//! `Debug` never shows the value, so they cannot leak into logs or messages.

use std::fmt;

use crate::IngestError;

/// A credential. Its value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The credential of `source` given inline (`key`) or through the
    /// environment variable named by `env_key`; `Ok(None)` when neither is
    /// configured, an error naming the key when the variable is unset or empty.
    pub fn resolve(
        source_name: &str,
        inline: Option<&str>,
        env_key: &str,
        env_name: Option<&str>,
    ) -> Result<Option<Self>, IngestError> {
        if let Some(value) = inline.map(str::trim).filter(|v| !v.is_empty()) {
            return Ok(Some(Self::new(value)));
        }
        let Some(variable) = env_name.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => Ok(Some(Self::new(value.trim()))),
            _ => Err(IngestError::Config {
                source_name: source_name.to_owned(),
                key: env_key.to_owned(),
                reason: format!("environment variable {variable} is not set"),
            }),
        }
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
    fn secrets_never_print_and_missing_variables_name_the_key() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(
            Secret::resolve("s", Some("inline"), "token_env", None).expect("ok"),
            Some(Secret::new("inline"))
        );
        assert_eq!(Secret::resolve("s", None, "token_env", None).expect("ok"), None);
        let err = Secret::resolve("s", None, "token_env", Some("SMO_TEST_SURELY_UNSET_VAR_1234"))
            .expect_err("unset");
        assert!(err.to_string().contains("token_env") && err.to_string().contains("SMO_TEST_SURELY_UNSET"));
    }
}
