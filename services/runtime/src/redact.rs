//! URLs made safe to print. Connection URLs carry passwords (`amqp://u:pw@…`,
//! `postgres://u:pw@…`) and API URLs carry keys in their query strings
//! (YouTube's `key=`, OAuth's `access_token=`); both end up in errors, logs
//! and the store's `last_error`. Every crate that prints a URL calls this one
//! function, so a new secret parameter is added once.

/// Query parameters whose values are credentials (compared ignoring case).
pub const SECRET_PARAMS: [&str; 12] = [
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

/// `url` with its password and the values of secret query parameters
/// replaced by `***`; everything else is kept byte for byte. Text without a
/// `scheme://` is not a URL: it is cut at its query string, which is where
/// credentials would be.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.split('?').next().unwrap_or_default().to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end =
        url[authority_start..].find(['/', '?', '#']).map_or(url.len(), |i| authority_start + i);
    let mut safe = String::with_capacity(url.len());
    safe.push_str(&url[..authority_start]);
    let authority = &url[authority_start..authority_end];
    match authority.rfind('@').and_then(|at| authority[..at].find(':').map(|colon| (colon, at))) {
        Some((colon, at)) => {
            safe.push_str(&authority[..colon]);
            safe.push_str(":***");
            safe.push_str(&authority[at..]);
        }
        None => safe.push_str(authority),
    }
    let rest = &url[authority_end..];
    let (before_fragment, fragment) = rest.find('#').map_or((rest, ""), |i| rest.split_at(i));
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            safe.push_str(path);
            safe.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    safe.push('&');
                }
                match pair.split_once('=') {
                    Some((name, _)) if SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s)) => {
                        safe.push_str(name);
                        safe.push_str("=***");
                    }
                    _ => safe.push_str(pair),
                }
            }
        }
        None => safe.push_str(before_fragment),
    }
    safe.push_str(fragment);
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        assert_eq!(redact_url("postgres://smo:s3cret@db:5432/smo"), "postgres://smo:***@db:5432/smo");
        assert_eq!(redact_url("amqp://guest:secret@host:5672/%2f"), "amqp://guest:***@host:5672/%2f");
        assert_eq!(redact_url("postgres://smo@db/smo"), "postgres://smo@db/smo");
        assert_eq!(redact_url("sqlite://data/smo.db"), "sqlite://data/smo.db");
        assert_eq!(redact_url("amqp://host"), "amqp://host");
        // An `@` in the path is not userinfo.
        assert_eq!(redact_url("https://h.example/a:b@c"), "https://h.example/a:b@c");
    }

    #[test]
    fn secret_parameters_are_hidden() {
        let safe = redact_url(
            "https://u:pw@www.googleapis.com/youtube/v3/commentThreads?part=snippet&key=AIzaSECRET&pageToken=abc#x",
        );
        assert_eq!(
            safe,
            "https://u:***@www.googleapis.com/youtube/v3/commentThreads?part=snippet&key=***&pageToken=abc#x"
        );
        assert_eq!(
            redact_url("https://m.example/api?ACCESS_TOKEN=abc&q=1"),
            "https://m.example/api?ACCESS_TOKEN=***&q=1"
        );
        assert_eq!(redact_url("not a url?access_token=x"), "not a url");
    }
}
