//! Credentials of sources (API keys, bearer tokens, webhook secrets): read
//! from the config or, preferably, from an environment variable the config
//! names (`token_env = "SMO_MASTODON_TOKEN"`), and kept in the runtime's
//! [`Secret`], whose `Debug` never shows the value, so they cannot leak into
//! logs or messages. Inline credentials in source configs are [`Secret`]s
//! from the moment they are read, so printing a config (`{:?}`) cannot show
//! them either.

pub use smo_runtime::Secret;

use crate::IngestError;

/// Whether a credential is configured at all: inline (not blank) or by the
/// name of a variable (not blank; whether it is set is checked when the
/// source is built).
pub fn is_configured(inline: Option<&Secret>, env_name: &Option<String>) -> bool {
    inline.is_some_and(|secret| !secret.is_blank())
        || env_name.as_deref().is_some_and(|name| !name.trim().is_empty())
}

/// The credential of `source_name` given inline or through the environment
/// variable named by its `env_key` setting; `Ok(None)` when neither is
/// configured, an error naming the key when the variable is unset or empty.
pub fn resolve(
    source_name: &str,
    inline: Option<&Secret>,
    env_key: &str,
    env_name: Option<&str>,
) -> Result<Option<Secret>, IngestError> {
    Secret::resolve(inline, env_name).map_err(|unset| IngestError::Config {
        source_name: source_name.to_owned(),
        key: env_key.to_owned(),
        reason: unset.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variables_name_the_key() {
        assert_eq!(
            resolve("s", Some(&Secret::new(" inline ")), "token_env", None).expect("ok"),
            Some(Secret::new("inline"))
        );
        assert_eq!(resolve("s", None, "token_env", None).expect("ok"), None);
        let parsed: Secret = serde_json::from_str("\"hunter2\"").expect("a string");
        assert_eq!(format!("{parsed:?}"), "Secret(***)");
        let err = resolve("s", None, "token_env", Some("SMO_TEST_SURELY_UNSET_VAR_1234")).expect_err("unset");
        assert!(err.to_string().contains("token_env") && err.to_string().contains("SMO_TEST_SURELY_UNSET"));
    }
}
