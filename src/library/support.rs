//! `support.toml`: support lines for staff, and where to raise a concern, by nation.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::files::{ContentErrors, ContentSource, Text};
use super::validate::{FileChecker, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS};
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
    let Some((raw, mut file)) = FileChecker::open::<RawSupport>(source, path, errors) else {
        return (Vec::new(), Vec::new());
    };
    if raw.lines.is_empty() {
        file.error("no support lines: add at least one [[line]]".to_string());
    }
    let line_headers = file.table_headers("line");
    let mut lines = Vec::new();
    for (index, line) in raw.lines.into_iter().enumerate() {
        let nations = file.entry(|file| {
            file.text("name", &line.name, MAX_TITLE_CHARS);
            file.text("how", &line.how, MAX_TITLE_CHARS);
            file.text("when", &line.when, MAX_SUMMARY_CHARS);
            if let Some(url) = &line.url {
                file.url(url);
            }
            file.sourced_entry(
                &format!("support line \"{}\"", line.name.get_ref()),
                line_headers.get(index).copied(),
                line.name.span().start,
                line.nations.as_ref(),
            )
        });
        if let Some(nations) = nations {
            lines.push(SupportLine {
                name: line.name.into_inner(),
                how: line.how.into_inner(),
                when: line.when.into_inner(),
                url: line.url.map(Spanned::into_inner),
                nations,
            });
        }
    }
    let concern_headers = file.table_headers("concern");
    let mut concerns = Vec::new();
    for (index, concern) in raw.concerns.into_iter().enumerate() {
        let nations = file.entry(|file| {
            file.text("concern text", &concern.text, MAX_SUMMARY_CHARS);
            file.sourced_entry(
                "a [[concern]]",
                concern_headers.get(index).copied(),
                concern.text.span().start,
                concern.nations.as_ref(),
            )
        });
        if let Some(nations) = nations {
            concerns.push(Concern {
                text: concern.text.into_inner(),
                nations,
            });
        }
    }
    (lines, concerns)
}
