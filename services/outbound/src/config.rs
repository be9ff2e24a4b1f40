//! An account's outbound connector as configured in `smo.toml`
//! (`[accounts.<id>.outbound]`). The signing secret stays in config or the
//! environment, never in the database or a queued message.

use serde::Deserialize;
use smo_runtime::Secret;

/// Defaults: 10 s per attempt, 12 attempts (about a day with the default
/// retry policy's growth), so an outage of the client's system overnight
/// does not lose replies.
const DEFAULT_TIMEOUT_SECS: u64 = 10;
const DEFAULT_MAX_ATTEMPTS: u32 = 12;

/// Where an account's replies go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// The client's endpoint receiving replies (HTTPS in production).
    pub webhook_url: String,
    /// The signing secret inline (prefer `secret_env`).
    #[serde(default)]
    pub secret: Option<Secret>,
    /// The environment variable holding the signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Seconds one attempt may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts before a message is marked failed.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

fn default_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

/// A configuration mistake, naming the key under `outbound`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct OutboundConfigError {
    /// The key, e.g. `secret_env`.
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl OutboundConfig {
    /// Checks the values and resolves the signing secret.
    pub fn validate(&self) -> Result<Secret, OutboundConfigError> {
        let url = self.webhook_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(OutboundConfigError {
                key: "webhook_url",
                reason: format!("{url:?} is not an http(s) URL"),
            });
        }
        if self.timeout_secs == 0 {
            return Err(OutboundConfigError { key: "timeout_secs", reason: "must be at least 1".to_owned() });
        }
        if self.max_attempts == 0 {
            return Err(OutboundConfigError { key: "max_attempts", reason: "must be at least 1".to_owned() });
        }
        match Secret::resolve(self.secret.as_ref(), self.secret_env.as_deref()) {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err(OutboundConfigError {
                key: "secret_env",
                reason: "a signing secret is required (secret_env, or secret)".to_owned(),
            }),
            Err(unset) => Err(OutboundConfigError { key: "secret_env", reason: unset.to_string() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_key() {
        let config = |toml_text: &str| -> OutboundConfig { toml::from_str(toml_text).expect("parses") };
        let ok = config("webhook_url = \"https://crm.example/hook\"\nsecret = \"s3cret\"");
        assert_eq!(ok.validate().map(|s| s.expose().to_owned()), Ok("s3cret".to_owned()));
        assert_eq!((ok.timeout_secs, ok.max_attempts), (10, 12));
        let bad_url = config("webhook_url = \"crm.example\"\nsecret = \"s\"");
        assert_eq!(bad_url.validate().map_err(|e| e.key), Err("webhook_url"));
        let no_secret = config("webhook_url = \"https://crm.example\"");
        assert_eq!(no_secret.validate().map_err(|e| e.key), Err("secret_env"));
        let unset =
            config("webhook_url = \"https://crm.example\"\nsecret_env = \"SMO_TEST_UNSET_OUTBOUND_1\"");
        let error = unset.validate().expect_err("unset");
        assert!(error.to_string().contains("SMO_TEST_UNSET_OUTBOUND_1"), "{error}");
        assert!(format!("{ok:?}").contains("Secret(***)") && !format!("{ok:?}").contains("s3cret"));
        assert!(toml::from_str::<OutboundConfig>("webhook_url = \"https://x\"\nsecrt = \"s\"").is_err());
    }
}
