//! `support.toml`: support lines for staff, and where to raise a concern, by nation.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::files::{ContentErrors, ContentSource, Text};
use super::validate::{FileChecker, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS};
use crate::domain::content::{Concern, Nation, Opening, SupportLine, EMERGENCY_NUMBER};

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
    /// "24-hours", "hours" (the default) or "look-up": decides the line's place in `/support`.
    open: Option<Text>,
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
        let checked = file.entry(|file| {
            file.text("name", &line.name, MAX_TITLE_CHARS);
            file.text("how", &line.how, MAX_TITLE_CHARS);
            file.text("when", &line.when, MAX_SUMMARY_CHARS);
            if let Some(url) = &line.url {
                file.url(url);
            }
            let open = match &line.open {
                None => Opening::default(),
                Some(open) => Opening::from_slug(open.get_ref()).unwrap_or_else(|| {
                    file.error_at(
                        open.span().start,
                        format!(
                            "open = \"{}\" is not one careprompt knows; use {}",
                            open.get_ref(),
                            Opening::ALL.map(Opening::slug).join(", ")
                        ),
                    );
                    Opening::default()
                }),
            };
            let nations = file.sourced_entry(
                &format!("support line \"{}\"", line.name.get_ref()),
                line_headers.get(index).copied(),
                line.name.span().start,
                line.nations.as_ref(),
            );
            (nations, open)
        });
        if let Some((nations, open)) = checked {
            lines.push(SupportLine {
                name: line.name.into_inner(),
                how: line.how.into_inner(),
                when: line.when.into_inner(),
                url: line.url.map(Spanned::into_inner),
                nations,
                open,
            });
        }
    }
    check_emergency_first(&lines, &mut file);
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

/// Refuses a support file in which any nation's list does not open with the emergency line, the
/// one that gives 999: someone whose life is at risk must find it straight after the
/// organisation's own contact, not below four or five other lines. Judged only when every line
/// loaded, since a line with a mistake is left out and would make another look first.
fn check_emergency_first(lines: &[SupportLine], file: &mut FileChecker<'_>) {
    if file.has_errors() {
        return;
    }
    for nation in Nation::ALL {
        let Some(first) = lines.iter().find(|line| line.nations.contains(&nation)) else {
            continue;
        };
        if !first.gives_emergency_number() {
            file.error(format!(
                "the support list for {nation} opens with \"{}\", not the emergency line: put the [[line]] that gives {EMERGENCY_NUMBER} first, so it comes straight after the organisation's own contact",
                first.name
            ));
        }
    }
}
