//! URLs made safe to print: API keys travel in query strings (YouTube's
//! `key=`, OAuth's `access_token=`), and URLs end up in errors, logs and the
//! store's `last_error`. Everything that prints a URL goes through here.

use reqwest::Url;

/// Query parameters whose values are credentials.
const SECRET_PARAMS: [&str; 12] = [
    "key",
    "api_key",
    "apikey",
    "access_token",
    "token",
    "client_secret",
    "secret",
    "password",
    "sig",
    "signature",
    "auth",
    "x-algolia-api-key",
];

/// `url` with the values of secret query parameters and any password
/// replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut safe = url.clone();
    if safe.password().is_some() {
        let _ = safe.set_password(Some("***"));
    }
    if safe.query().is_some() {
        let pairs: Vec<(String, String)> = safe
            .query_pairs()
            .map(|(name, value)| {
                let secret = SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s));
                (name.into_owned(), if secret { "***".to_owned() } else { value.into_owned() })
            })
            .collect();
        safe.query_pairs_mut().clear().extend_pairs(pairs);
    }
    safe.to_string()
}

/// Like [`redact_url`] for text that may not parse as a URL: unparsable text
/// is cut at its query string, which is where credentials would be.
pub fn redact_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => redact_url(&parsed),
        Err(_) => url.split('?').next().unwrap_or_default().to_owned(),
    }
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
