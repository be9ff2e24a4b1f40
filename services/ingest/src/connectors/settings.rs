//! The settings connectors share, declared once and flattened into each
//! connector's config (`#[serde(flatten)]`), so a key is spelled, defaulted
//! and checked the same way in every `[[accounts.sources]]` entry.
//!
//! The defaults that differ per connector (how often a feed is worth
//! polling, how far back a YouTube poll may page) are const parameters, so
//! the connector's config type states them: `Polling<600>`.

use serde::Deserialize;
use smo_runtime::FieldError;

use super::check_positive;
use crate::IngestError;
use crate::credentials::Secret;
use crate::http::Rate;

/// `interval_secs` and `requests_per_minute`: how often a polled source is
/// asked for news and how fast its host may be asked, with
/// `DEFAULT_INTERVAL` seconds between polls unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Polling<const DEFAULT_INTERVAL: u64> {
    /// Seconds between polls.
    #[serde(default = "Polling::<DEFAULT_INTERVAL>::default_interval")]
    pub interval_secs: u64,
    /// Requests per minute to the source's host (shared by its sources).
    #[serde(default)]
    pub requests_per_minute: Option<f64>,
}

impl<const DEFAULT_INTERVAL: u64> Default for Polling<DEFAULT_INTERVAL> {
    fn default() -> Self {
        Self { interval_secs: DEFAULT_INTERVAL, requests_per_minute: None }
    }
}

impl<const DEFAULT_INTERVAL: u64> Polling<DEFAULT_INTERVAL> {
    fn default_interval() -> u64 {
        DEFAULT_INTERVAL
    }

    /// Every `interval_secs`, at any rate.
    pub fn every(interval_secs: u64) -> Self {
        Self { interval_secs, ..Self::default() }
    }

    /// Checks `interval_secs` and `requests_per_minute`.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_positive("interval_secs", self.interval_secs)?;
        match self.requests_per_minute {
            Some(rate) if !(rate.is_finite() && rate > 0.0) => {
                Err(FieldError::new("requests_per_minute", format!("{rate} is not a positive number")))
            }
            _ => Ok(()),
        }
    }

    /// The host's token bucket: the configured rate, with a burst of a
    /// twelfth of it (between 1 and 10 requests).
    pub(crate) fn rate(&self) -> Option<Rate> {
        self.requests_per_minute
            .map(|per_minute| Rate::new(per_minute, (per_minute / 12.0).clamp(1.0, 10.0) as u32))
    }
}

/// `initial_pages` and `max_pages` of newest-first (scanned) sources: how
/// much history a new source starts with, and how far a later poll pages
/// back to reach what it saw last, `DEFAULT_MAX_PAGES` unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ScanLimits<const DEFAULT_MAX_PAGES: u32 = 10> {
    /// Pages read by the very first scan (no mark yet).
    #[serde(default = "ScanLimits::<DEFAULT_MAX_PAGES>::default_initial_pages")]
    pub initial_pages: u32,
    /// Pages a later scan reads at most before giving up on reaching the mark.
    #[serde(default = "ScanLimits::<DEFAULT_MAX_PAGES>::default_max_pages")]
    pub max_pages: u32,
}

impl<const DEFAULT_MAX_PAGES: u32> Default for ScanLimits<DEFAULT_MAX_PAGES> {
    fn default() -> Self {
        Self { initial_pages: Self::default_initial_pages(), max_pages: DEFAULT_MAX_PAGES }
    }
}

impl<const DEFAULT_MAX_PAGES: u32> ScanLimits<DEFAULT_MAX_PAGES> {
    /// One page of history for a new source.
    fn default_initial_pages() -> u32 {
        1
    }

    fn default_max_pages() -> u32 {
        DEFAULT_MAX_PAGES
    }

    /// `initial_pages` pages for a new source, the default catch-up depth.
    pub fn starting_with(initial_pages: u32) -> Self {
        Self { initial_pages, ..Self::default() }
    }

    /// Checks `initial_pages` and `max_pages`.
    pub fn validate(&self) -> Result<(), FieldError> {
        check_positive("initial_pages", self.initial_pages.into())?;
        check_positive("max_pages", self.max_pages.into())
    }

    /// The page limit of the next scan: the first scan of a source reads
    /// `initial_pages`, a later one up to `max_pages`.
    pub(crate) fn pages(&self, first_scan: bool) -> u32 {
        if first_scan { self.initial_pages } else { self.max_pages }
    }
}

/// `token` / `token_env`: the bearer token of sources that send one,
/// inline or (preferably) from the environment variable named.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BearerToken {
    /// Access token inline (prefer `token_env`).
    #[serde(default)]
    pub token: Option<Secret>,
    /// Environment variable holding the access token.
    #[serde(default)]
    pub token_env: Option<String>,
}

impl BearerToken {
    /// The token read from the variable `token_env` names.
    pub fn from_env(variable: &str) -> Self {
        Self { token: None, token_env: Some(variable.to_owned()) }
    }

    /// Whether a token is configured at all (inline or by variable).
    pub fn is_configured(&self) -> bool {
        crate::credentials::is_configured(self.token.as_ref(), &self.token_env)
    }

    /// The token of `source_name`; `Ok(None)` when none is configured, an
    /// error naming `token_env` when its variable is unset or empty.
    pub fn resolve(&self, source_name: &str) -> Result<Option<Secret>, IngestError> {
        crate::credentials::resolve(source_name, self.token.as_ref(), "token_env", self.token_env.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Flattened {
        name: String,
        #[serde(flatten)]
        polling: Polling<600>,
        #[serde(flatten)]
        scan: ScanLimits<5>,
        #[serde(flatten)]
        auth: BearerToken,
    }

    #[test]
    fn flattened_keys_take_the_connectors_defaults_and_typos_are_still_refused() {
        let parsed: Flattened =
            serde_json::from_str(r#"{"name": "a", "max_pages": 3, "token_env": "X"}"#).expect("parses");
        assert_eq!(parsed.name, "a");
        assert_eq!(parsed.polling, Polling { interval_secs: 600, requests_per_minute: None });
        assert_eq!(parsed.scan, ScanLimits { initial_pages: 1, max_pages: 3 });
        assert_eq!(parsed.auth.token_env.as_deref(), Some("X"));
        assert!(parsed.auth.is_configured());
        let typo = serde_json::from_str::<Flattened>(r#"{"name": "a", "interval_sec": 3}"#)
            .expect_err("unknown key");
        assert!(typo.to_string().contains("interval_sec"), "{typo}");
    }

    #[test]
    fn checks_name_the_key() {
        assert_eq!(Polling::<60>::every(0).validate().unwrap_err().key, "interval_secs");
        let fast = Polling::<60> { requests_per_minute: Some(f64::NAN), ..Polling::default() };
        assert_eq!(fast.validate().unwrap_err().key, "requests_per_minute");
        assert_eq!(ScanLimits::<10>::starting_with(0).validate().unwrap_err().key, "initial_pages");
        assert!(!BearerToken { token: Some(Secret::new(" ")), token_env: Some(" ".into()) }.is_configured());
    }
}
