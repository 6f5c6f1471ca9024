//! Database URLs in logs and error messages, with their passwords hidden.

use percent_encoding::percent_decode_str;
use url::Url;

const HIDDEN: &str = "***";

fn is_password_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("password")
}

/// The URL with any password (`user:PASSWORD@host` or `?password=...`) replaced by `***`, for
/// logs and error messages. A URL that cannot be read at all shows only its scheme, since the
/// secret could be anywhere in it.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        let scheme = raw.split(':').next().unwrap_or_default();
        return format!("{scheme}:(a URL careprompt could not read)");
    };
    let mut changed = false;
    if url.password().is_some_and(|password| !password.is_empty()) {
        changed |= url.set_password(Some(HIDDEN)).is_ok();
    }
    if url
        .query_pairs()
        .any(|(key, value)| is_password_key(&key) && !value.is_empty())
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if is_password_key(&key) {
                    HIDDEN.to_string()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        url.to_string()
    } else {
        raw.to_string()
    }
}

/// Every password in `raw`, as written and percent-decoded.
fn secrets(raw: &str) -> Vec<String> {
    let Ok(url) = Url::parse(raw) else {
        return Vec::new();
    };
    let mut written: Vec<String> = url.password().map(str::to_string).into_iter().collect();
    written.extend(url.query().into_iter().flat_map(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(key, value)| is_password_key(key) && !value.is_empty())
            .map(|(_, value)| value.to_string())
            .collect::<Vec<_>>()
    }));
    let mut all = Vec::new();
    for secret in written {
        let decoded = percent_decode_str(&secret).decode_utf8_lossy().into_owned();
        all.push(secret);
        all.push(decoded);
    }
    all.retain(|secret| !secret.is_empty());
    all
}

/// `text` with every password from `url` (as written, and percent-decoded) replaced by `***`.
pub(super) fn scrub(url: &str, text: &str) -> String {
    let mut scrubbed = text.to_string();
    for secret in secrets(url) {
        scrubbed = scrubbed.replace(&secret, HIDDEN);
    }
    scrubbed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://postgres:sekrit@127.0.0.1:1/x"),
            "postgres://postgres:***@127.0.0.1:1/x"
        );
        assert_eq!(
            redact_url("postgres://me@db/x?sslmode=require&password=p%40ss&x=1"),
            "postgres://me@db/x?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            redact_url("postgresql://a:b@c@host/db?Password=z#frag"),
            "postgresql://a:***@host/db?Password=***#frag"
        );
        assert_eq!(redact_url("postgres://me@db/x"), "postgres://me@db/x");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("sqlite://data/careprompt.db?mode=rwc"),
            "sqlite://data/careprompt.db?mode=rwc"
        );
        assert!(!redact_url("postgres://u:se cret@[bad").contains("cret"));
    }

    #[test]
    fn scrub_hides_encoded_and_decoded_passwords() {
        let url = "postgres://u:p%40ss@host/db";
        assert_eq!(
            scrub(url, "failed for p@ss and p%40ss"),
            "failed for *** and ***"
        );
        assert_eq!(scrub("postgres://u@host/db", "nothing"), "nothing");
        assert_eq!(
            scrub("postgres://u@host/db?password=a%2Bb", "a+b or a%2Bb"),
            "*** or ***"
        );
    }
}
