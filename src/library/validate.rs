//! Checking one library file: every mistake goes on one list at the exact place it was written,
//! and an entry with a mistake stays out of the library. The checks every kind of file shares
//! are here: text a facilitator wrote, links, ids, and the nations and sources of support details.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use url::Url;

use super::files::{ContentErrors, ContentSource, Text};
use crate::domain::content::{ContentError, Location, Nation};

/// Limits on what facilitators write, chosen so every card stays readable on a phone and well
/// inside Discord's own limits.
pub const MAX_PROMPT_CHARS: usize = 280;
/// A session's opening, which heads the welcome card above the ground rules. Kept short enough
/// that, with the rules, the story and a concern part, every stage card stays inside Discord's
/// limits (`check` proves it on the cards themselves).
pub const MAX_SESSION_OPENING_CHARS: usize = 400;
pub const MAX_SUMMARY_CHARS: usize = 200;
/// What a facilitator is asked before a session on a sensitive theme starts, and reads in the
/// brief: room for what to confirm and why, short enough to read before choosing.
pub const MAX_BEFORE_YOU_START_CHARS: usize = 600;
pub const MAX_ABOUT_CHARS: usize = 600;
pub const MAX_TITLE_CHARS: usize = 100;
/// Discord's limit on a link button's URL.
pub const MAX_URL_CHARS: usize = 512;

/// The tag for a support line or concern route that serves all four nations.
pub const UK_WIDE: &str = "uk-wide";

/// One file being checked: its text, to place each mistake, and the list mistakes go on.
pub(super) struct FileChecker<'a> {
    path: &'a Path,
    text: String,
    errors: &'a mut ContentErrors,
}

impl<'a> FileChecker<'a> {
    /// Reads and parses one file, or records why it could not be and gives `None`.
    pub(super) fn open<T: DeserializeOwned>(
        source: &ContentSource,
        path: &'a Path,
        errors: &'a mut ContentErrors,
    ) -> Option<(T, FileChecker<'a>)> {
        let text = match source.read(path) {
            Ok(text) => text,
            Err(err) => {
                errors.push_plain(path, format!("cannot read the file: {err}"));
                return None;
            }
        };
        match toml::from_str::<T>(&text) {
            Ok(value) => Some((value, FileChecker { path, text, errors })),
            Err(err) => {
                let offset = err.span().map_or(0, |span| span.start);
                errors.push_at(path, &text, offset, err.message().trim().to_string());
                None
            }
        }
    }

    /// Runs the checks of one entry, and gives back what they worked out only when they found
    /// no mistake, so a half-valid entry never reaches the cards.
    pub(super) fn entry<T>(&mut self, check: impl FnOnce(&mut Self) -> T) -> Option<T> {
        let before = self.errors.0.len();
        let checked = check(self);
        (self.errors.0.len() == before).then_some(checked)
    }

    /// Whether any mistake has been found in this file so far.
    pub(super) fn has_errors(&self) -> bool {
        self.errors.0.iter().any(|error| error.file == self.path)
    }

    /// A mistake in the file as a whole.
    pub(super) fn error(&mut self, message: String) {
        self.errors.push_plain(self.path, message);
    }

    /// A mistake at byte `offset` of the file.
    pub(super) fn error_at(&mut self, offset: usize, message: String) {
        self.errors.push_at(self.path, &self.text, offset, message);
    }

    /// Something worth a facilitator's look at byte `offset`, which does not stop the library
    /// loading.
    pub(super) fn warning_at(&self, offset: usize, message: String) -> ContentError {
        ContentError {
            file: self.path.to_path_buf(),
            location: Some(Location::from_offset(self.path, &self.text, offset)),
            message,
        }
    }

    /// Checks a piece of facilitator-written text: not blank, not too long, and free of
    /// mentions.
    pub(super) fn text(&mut self, what: &str, value: &Text, max_chars: usize) {
        let at = value.span().start;
        let chars = value.get_ref().chars().count();
        if value.get_ref().trim().is_empty() {
            self.error_at(at, format!("{what} is empty"));
        } else if chars > max_chars {
            self.error_at(
                at,
                format!("{what} is {chars} characters long; the limit is {max_chars}"),
            );
        }
        if value.get_ref().contains('@') {
            self.error_at(
                at,
                format!("{what} contains '@', which Discord could turn into a mention"),
            );
        }
    }

    pub(super) fn url(&mut self, value: &Text) {
        if let Err(message) = validate_url(value.get_ref()) {
            self.error_at(value.span().start, message);
        }
    }

    /// The byte offsets of each `[[table]]` header, in file order, so each entry can be matched
    /// with the comment written above it.
    pub(super) fn table_headers(&self, table: &str) -> Vec<usize> {
        let header = format!("[[{table}]]");
        let mut offsets = Vec::new();
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            if line.trim() == header {
                offsets.push(offset + (line.len() - line.trim_start().len()));
            }
            offset += line.len();
        }
        offsets
    }

    /// The nations a `[[line]]` or `[[concern]]` serves, after checking it has a source comment.
    /// `header` is where its `[[...]]` header is, from `table_headers`; `fallback` is used when
    /// the header could not be found (a table written inline).
    pub(super) fn sourced_entry(
        &mut self,
        what: &str,
        header: Option<usize>,
        fallback: usize,
        nations: Option<&Spanned<Vec<Text>>>,
    ) -> Vec<Nation> {
        let header = header.unwrap_or(fallback);
        let nations = self.nations(what, header, nations);
        if !has_source_comment(&self.text, header) {
            self.error_at(
                header,
                format!("{what} has no `# Source: ...` comment directly above it: say where its details were checked"),
            );
        }
        nations
    }

    /// Reads a `nations = [...]` list, where `uk-wide` stands for all four nations.
    fn nations(
        &mut self,
        what: &str,
        header: usize,
        nations: Option<&Spanned<Vec<Text>>>,
    ) -> Vec<Nation> {
        let known = format!("{}, {UK_WIDE}", Nation::ALL.map(Nation::slug).join(", "));
        let Some(nations) = nations else {
            self.error_at(
                header,
                format!("{what} has no `nations`: say where it serves, such as nations = [\"{UK_WIDE}\"] (known: {known})"),
            );
            return Vec::new();
        };
        if nations.get_ref().is_empty() {
            self.error_at(
                nations.span().start,
                format!("{what} needs at least one nation (known: {known})"),
            );
        }
        let mut parsed = Vec::new();
        for nation in nations.get_ref() {
            if nation.get_ref() == UK_WIDE {
                parsed.extend(Nation::ALL);
            } else if let Some(known) = Nation::from_slug(nation.get_ref()) {
                parsed.push(known);
            } else {
                self.error_at(
                    nation.span().start,
                    format!("unknown nation \"{}\"; known: {known}", nation.get_ref()),
                );
            }
        }
        parsed.sort();
        parsed.dedup();
        parsed
    }
}

/// Whether the comment block directly above `offset` names a source. Facts people may act on in
/// a hard moment must say where they came from, so they can be checked again.
fn has_source_comment(text: &str, offset: usize) -> bool {
    text[..offset]
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|line| line.starts_with('#'))
        .any(|line| {
            line.trim_start_matches('#')
                .trim_start()
                .starts_with("Source:")
        })
}

/// An http(s) link to a host with a dot in its name, short enough for a Discord link button. The
/// host is the one the `url` crate reads, as a browser would: in `https://www.nhs.uk@localhost`
/// it is `localhost`, and everything before the `@` is a user name.
pub fn validate_url(url: &str) -> Result<(), String> {
    // The written prefix, not the parsed scheme: `check --links` finds links by it, and the
    // parser would also take `HTTPS:example.org`.
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(format!("\"{url}\" is not an http(s) link"));
    }
    let has_space = url.chars().any(|c| c.is_whitespace() || c.is_control());
    let host = match Url::parse(url) {
        Ok(parsed) => parsed.host_str().map(str::to_string),
        // The parser refuses a space in the host; the space is the mistake to name.
        Err(_) if has_space => return Err(format!("\"{url}\" contains spaces")),
        Err(url::ParseError::InvalidPort) => {
            return Err(format!("\"{url}\" has an invalid port number"));
        }
        Err(_) => None,
    };
    if !host.is_some_and(|host| host.contains('.')) {
        return Err(format!("\"{url}\" has no valid host name"));
    }
    // Checked on the text as written: the parser quietly drops tabs and line breaks.
    if has_space {
        return Err(format!("\"{url}\" contains spaces"));
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "the link is longer than Discord's {MAX_URL_CHARS} characters"
        ));
    }
    Ok(())
}

pub(super) fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_links_that_fit_a_button() {
        assert!(validate_url("https://www.nhsemployers.org/x").is_ok());
        assert!(validate_url("http://www.patientvoices.org.uk/flv/1017pv384.htm").is_ok());
        assert!(validate_url("ftp://example.org").is_err());
        assert!(validate_url("https://").is_err());
        assert!(validate_url("https://localhost/x").is_err());
        assert!(validate_url("https://example.org/a b").is_err());
        assert!(validate_url(&format!("https://example.org/{}", "a".repeat(600))).is_err());
    }

    /// Asserts each of `urls` is refused with the message that quotes it and says `why`.
    fn refused(urls: &[&str], why: &str) {
        for url in urls {
            assert_eq!(validate_url(url), Err(format!("\"{url}\" {why}")));
        }
    }

    #[test]
    fn the_host_is_after_any_user_name() {
        refused(
            &[
                "https://www.nhs.uk@localhost/x",
                "https://user@host",
                "https://user:pass.word@intranet/",
            ],
            "has no valid host name",
        );
        assert_eq!(validate_url("https://user@www.nhs.uk/x"), Ok(()));
        assert_eq!(validate_url("https://www.nhs.uk/people/@someone"), Ok(()));
    }

    #[test]
    fn only_links_written_as_http_or_https_count() {
        refused(
            &[
                "ftp://example.org",
                "www.nhs.uk",
                "HTTPS://www.nhs.uk",
                "https:www.nhs.uk",
                "",
            ],
            "is not an http(s) link",
        );
    }

    #[test]
    fn a_host_needs_a_dot_and_a_valid_port() {
        refused(
            &[
                "https://",
                "https://localhost/x",
                "https:///x",
                "https://[::1]/x",
            ],
            "has no valid host name",
        );
        refused(&["https://www.nhs.uk:port/x"], "has an invalid port number");
        assert_eq!(validate_url("https://www.nhs.uk:8443/x"), Ok(()));
    }

    #[test]
    fn spaces_are_refused_wherever_they_are() {
        refused(
            &[
                "https://example.org/a b",
                "https://exa mple.org/",
                "https://example.org/\tx",
                "https://example.org/x\n",
            ],
            "contains spaces",
        );
    }

    #[test]
    fn a_link_fits_a_discord_button() {
        let fits = format!("https://example.org/{}", "a".repeat(MAX_URL_CHARS - 20));
        assert_eq!(fits.chars().count(), MAX_URL_CHARS);
        assert_eq!(validate_url(&fits), Ok(()));
        assert_eq!(
            validate_url(&format!("{fits}a")),
            Err(format!(
                "the link is longer than Discord's {MAX_URL_CHARS} characters"
            ))
        );
    }
}
