use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A client account: the unit of tenancy. It names queues, routing keys, index
/// directories and SQL rows, so it is restricted to a slug that is safe in all
/// of them (lowercase ASCII letters, digits and `-`, 1 to 63 characters, no dot
/// because dots separate routing-key words).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl JsonSchema for AccountId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AccountId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9-]{0,62}$",
            "description": "Client account slug: the unit of tenancy."
        })
    }
}

/// Why a string is not a valid account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid account id {value:?}: {reason}")]
pub struct AccountIdError {
    /// The rejected input.
    pub value: String,
    /// What rule it broke.
    pub reason: &'static str,
}

impl AccountId {
    /// Validates `value` as an account slug.
    pub fn new(value: impl Into<String>) -> Result<Self, AccountIdError> {
        let value = value.into();
        let reason = if value.is_empty() {
            Some("must not be empty")
        } else if value.len() > 63 {
            Some("must be at most 63 characters")
        } else if value.starts_with('-') {
            Some("must start with a letter or digit")
        } else if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            Some("only lowercase ASCII letters, digits and '-' are allowed")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(AccountIdError { value, reason }),
            None => Ok(Self(value)),
        }
    }

    /// The slug as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AccountId {
    type Err = AccountIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for AccountId {
    type Error = AccountIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<AccountId> for String {
    fn from(value: AccountId) -> Self {
        value.0
    }
}

impl AsRef<str> for AccountId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs_and_rejects_what_would_break_routing_keys() {
        assert!(AccountId::new("acme-air").is_ok());
        assert!(AccountId::new("a1").is_ok());
        for bad in ["", "Acme", "acme.air", "-acme", "acme air", "a#", &"a".repeat(64)] {
            assert!(AccountId::new(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn deserializing_validates() {
        let err = serde_json::from_str::<AccountId>("\"Bad.Id\"").unwrap_err();
        assert!(err.to_string().contains("invalid account id"));
        let ok: AccountId = serde_json::from_str("\"good\"").unwrap();
        assert_eq!(ok.as_str(), "good");
    }
}
