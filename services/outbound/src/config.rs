//! An account's outbound connector as configured in `smo.toml`
//! (`[accounts.<id>.outbound]`). The signing secret stays in config or the
//! environment, never in the database or a queued message.

use serde::Deserialize;
use smo_runtime::FieldError;
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

impl OutboundConfig {
    /// Checks the values and resolves the signing secret: [`Self::check`],
    /// then [`Self::resolve_secret`].
    pub fn validate(&self) -> Result<Secret, FieldError> {
        self.check()?;
        self.resolve_secret()
    }

    /// Checks the values without reading the environment: the URL, the
    /// limits, and that a secret (or the variable holding it) is named.
    pub fn check(&self) -> Result<(), FieldError> {
        let url = self.webhook_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(FieldError::new("webhook_url", format!("{url:?} is not an http(s) URL")));
        }
        if self.timeout_secs == 0 {
            return Err(FieldError::new("timeout_secs", "must be at least 1"));
        }
        if self.max_attempts == 0 {
            return Err(FieldError::new("max_attempts", "must be at least 1"));
        }
        let named = self.secret.as_ref().is_some_and(|s| !s.is_blank())
            || self.secret_env.as_deref().is_some_and(|v| !v.trim().is_empty());
        if !named {
            return Err(FieldError::new(
                "secret_env",
                "a signing secret is required (secret_env, or secret)",
            ));
        }
        Ok(())
    }

    /// The signing secret, read from the config or the environment.
    pub fn resolve_secret(&self) -> Result<Secret, FieldError> {
        match Secret::resolve(self.secret.as_ref(), self.secret_env.as_deref()) {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => {
                Err(FieldError::new("secret_env", "a signing secret is required (secret_env, or secret)"))
            }
            Err(unset) => Err(FieldError::new("secret_env", unset.to_string())),
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
        assert_eq!(bad_url.validate().map_err(|e| e.key), Err("webhook_url".to_owned()));
        let no_secret = config("webhook_url = \"https://crm.example\"");
        assert_eq!(no_secret.validate().map_err(|e| e.key), Err("secret_env".to_owned()));
        let unset =
            config("webhook_url = \"https://crm.example\"\nsecret_env = \"SMO_TEST_UNSET_OUTBOUND_1\"");
        let error = unset.validate().expect_err("unset");
        assert!(error.to_string().contains("SMO_TEST_UNSET_OUTBOUND_1"), "{error}");
        assert!(format!("{ok:?}").contains("Secret(***)") && !format!("{ok:?}").contains("s3cret"));
        assert!(toml::from_str::<OutboundConfig>("webhook_url = \"https://x\"\nsecrt = \"s\"").is_err());
    }
}
