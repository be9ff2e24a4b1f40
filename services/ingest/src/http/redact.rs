//! URLs made safe to print: API keys travel in query strings (YouTube's
//! `key=`, OAuth's `access_token=`), and URLs end up in errors, logs and the
//! store's `last_error`. The rules live in [`smo_runtime::redact`]; this
//! module adapts them to parsed URLs.

use reqwest::Url;

/// `url` with the values of secret query parameters and any password
/// replaced by `***` (see [`smo_runtime::redact`]).
pub fn redact_url(url: &Url) -> String {
    smo_runtime::redact::redact_url(url.as_str())
}

/// Like [`redact_url`] for text that may not parse as a URL: unparsable text
/// is cut at its query string, which is where credentials would be.
pub fn redact_str(url: &str) -> String {
    smo_runtime::redact::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_parameters_and_passwords_are_hidden() {
        let url = Url::parse(
            "https://u:pw@www.googleapis.com/youtube/v3/commentThreads?part=snippet&key=AIzaSECRET&pageToken=abc",
        )
        .expect("url");
        let safe = redact_url(&url);
        assert!(!safe.contains("SECRET") && !safe.contains("pw"), "{safe}");
        assert!(safe.contains("key=***") && safe.contains("pageToken=abc"), "{safe}");
        assert_eq!(redact_str("not a url?access_token=x"), "not a url");
        assert_eq!(
            redact_str("https://m.example/api?access_token=abc&q=1"),
            "https://m.example/api?access_token=***&q=1"
        );
    }
}
