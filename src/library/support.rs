//! `support.toml`: support lines for staff, and where to raise a concern, by nation.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::files::{parse_file, ContentErrors, ContentSource, Text};
use super::validate::{
    check_sourced_entry, check_text, check_url, table_headers, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};
use crate::domain::content::{Concern, SupportLine};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupport {
    #[serde(default, rename = "line")]
    lines: Vec<RawSupportLine>,
    #[serde(default, rename = "concern")]
    concerns: Vec<RawConcern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupportLine {
    name: Text,
    how: Text,
    when: Text,
    url: Option<Text>,
    nations: Option<Spanned<Vec<Text>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcern {
    text: Text,
    nations: Option<Spanned<Vec<Text>>>,
}

pub(super) fn load_support(
    source: &ContentSource,
    path: &Path,
    errors: &mut ContentErrors,
) -> (Vec<SupportLine>, Vec<Concern>) {
    let Some((raw, text)) = parse_file::<RawSupport>(source, path, errors) else {
        return (Vec::new(), Vec::new());
    };
    if raw.lines.is_empty() {
        errors.push_plain(
            path,
            "no support lines: add at least one [[line]]".to_string(),
        );
    }
    let line_headers = table_headers(&text, "line");
    let mut lines = Vec::new();
    for (index, line) in raw.lines.into_iter().enumerate() {
        let before = errors.0.len();
        check_text("name", &line.name, MAX_TITLE_CHARS, path, &text, errors);
        check_text("how", &line.how, MAX_TITLE_CHARS, path, &text, errors);
        check_text("when", &line.when, MAX_SUMMARY_CHARS, path, &text, errors);
        if let Some(url) = &line.url {
            check_url(url, path, &text, errors);
        }
        let what = format!("support line \"{}\"", line.name.get_ref());
        let nations = check_sourced_entry(
            &what,
            line_headers.get(index).copied(),
            line.name.span().start,
            line.nations.as_ref(),
            path,
            &text,
            errors,
        );
        if errors.0.len() == before {
            lines.push(SupportLine {
                name: line.name.into_inner(),
                how: line.how.into_inner(),
                when: line.when.into_inner(),
                url: line.url.map(Spanned::into_inner),
                nations,
            });
        }
    }
    let concern_headers = table_headers(&text, "concern");
    let mut concerns = Vec::new();
    for (index, concern) in raw.concerns.into_iter().enumerate() {
        let before = errors.0.len();
        check_text(
            "concern text",
            &concern.text,
            MAX_SUMMARY_CHARS,
            path,
            &text,
            errors,
        );
        let nations = check_sourced_entry(
            "a [[concern]]",
            concern_headers.get(index).copied(),
            concern.text.span().start,
            concern.nations.as_ref(),
            path,
            &text,
            errors,
        );
        if errors.0.len() == before {
            concerns.push(Concern {
                text: concern.text.into_inner(),
                nations,
            });
        }
    }
    (lines, concerns)
}
