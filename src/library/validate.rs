//! The checks every library file shares: text a facilitator wrote, links, ids, and the nations
//! and sources of support details.

use std::path::Path;

use toml::Spanned;

use super::files::{ContentErrors, Text};
use crate::domain::content::Nation;

/// Limits on what facilitators write, chosen so every card stays readable on a phone and well
/// inside Discord's own limits.
pub const MAX_PROMPT_CHARS: usize = 280;
pub const MAX_SUMMARY_CHARS: usize = 200;
pub const MAX_ABOUT_CHARS: usize = 600;
pub const MAX_TITLE_CHARS: usize = 100;
/// Discord's limit on a link button's URL.
pub const MAX_URL_CHARS: usize = 512;

/// The tag for a support line or concern route that serves all four nations.
pub const UK_WIDE: &str = "uk-wide";

/// Checks a piece of facilitator-written text: not blank, not too long, and free of mentions.
pub(super) fn check_text(
    what: &str,
    value: &Text,
    max_chars: usize,
    path: &Path,
    text: &str,
    errors: &mut ContentErrors,
) {
    let chars = value.get_ref().chars().count();
    if value.get_ref().trim().is_empty() {
        errors.push_at(path, text, value.span().start, format!("{what} is empty"));
    } else if chars > max_chars {
        errors.push_at(
            path,
            text,
            value.span().start,
            format!("{what} is {chars} characters long; the limit is {max_chars}"),
        );
    }
    if value.get_ref().contains('@') {
        errors.push_at(
            path,
            text,
            value.span().start,
            format!("{what} contains '@', which Discord could turn into a mention"),
        );
    }
}

/// An http(s) URL that fits a Discord link button.
pub fn validate_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{url}\" is not an http(s) link"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || !host.contains('.') {
        return Err(format!("\"{url}\" has no valid host name"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("\"{url}\" contains spaces"));
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "the link is longer than Discord's {MAX_URL_CHARS} characters"
        ));
    }
    Ok(())
}

pub(super) fn check_url(value: &Text, path: &Path, text: &str, errors: &mut ContentErrors) {
    if let Err(message) = validate_url(value.get_ref()) {
        errors.push_at(path, text, value.span().start, message);
    }
}

pub(super) fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Reads a `nations = [...]` list, where `uk-wide` stands for all four nations.
pub(super) fn parse_nations(
    what: &str,
    header: usize,
    nations: Option<&Spanned<Vec<Text>>>,
    path: &Path,
    text: &str,
    errors: &mut ContentErrors,
) -> Vec<Nation> {
    let known = format!("{}, {UK_WIDE}", Nation::ALL.map(Nation::slug).join(", "));
    let Some(nations) = nations else {
        errors.push_at(
            path,
            text,
            header,
            format!("{what} has no `nations`: say where it serves, such as nations = [\"{UK_WIDE}\"] (known: {known})"),
        );
        return Vec::new();
    };
    if nations.get_ref().is_empty() {
        errors.push_at(
            path,
            text,
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
            errors.push_at(
                path,
                text,
                nation.span().start,
                format!("unknown nation \"{}\"; known: {known}", nation.get_ref()),
            );
        }
    }
    parsed.sort();
    parsed.dedup();
    parsed
}

/// The byte offsets of each `[[table]]` header in `text`, in file order, so each entry can be
/// matched with the comment written above it.
pub(super) fn table_headers(text: &str, table: &str) -> Vec<usize> {
    let header = format!("[[{table}]]");
    let mut offsets = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == header {
            offsets.push(offset + (line.len() - line.trim_start().len()));
        }
        offset += line.len();
    }
    offsets
}

/// Whether the comment block directly above `offset` names a source. Facts people may act on in
/// a hard moment must say where they came from, so they can be checked again.
pub(super) fn has_source_comment(text: &str, offset: usize) -> bool {
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

/// The nations a `[[line]]` or `[[concern]]` serves, after checking it has a source comment.
/// `header` is where its `[[...]]` header is, from `table_headers`; `fallback` is used when the
/// header could not be found (a table written inline).
pub(super) fn check_sourced_entry(
    what: &str,
    header: Option<usize>,
    fallback: usize,
    nations: Option<&Spanned<Vec<Text>>>,
    path: &Path,
    text: &str,
    errors: &mut ContentErrors,
) -> Vec<Nation> {
    let header = header.unwrap_or(fallback);
    let nations = parse_nations(what, header, nations, path, text, errors);
    if !has_source_comment(text, header) {
        errors.push_at(
            path,
            text,
            header,
            format!("{what} has no `# Source: ...` comment directly above it: say where its details were checked"),
        );
    }
    nations
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
}
