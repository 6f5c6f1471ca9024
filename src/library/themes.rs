//! Theme files: one theme, its facilitator pack and its prompts.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::files::{ContentErrors, ContentSource, Text};
use super::validate::{
    is_slug, FileChecker, MAX_ABOUT_CHARS, MAX_BEFORE_YOU_START_CHARS, MAX_PROMPT_CHARS,
    MAX_SESSION_OPENING_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};
use crate::domain::content::{
    parse_colour, ContentError, Prompt, SessionPart, Theme, CONCERN_THEMES, SESSION_QUESTIONS,
};

/// Two prompts in one theme at least this alike (Sørensen–Dice over pairs of letters, 0 to 1) are
/// reported as near-duplicates. Distinct prompts in the shipped library stay below 0.6, while a
/// copied prompt with a few words changed scores above 0.7. Prompts that say the same thing in
/// quite different words are beyond any string measure: those still need a human reader.
pub const NEAR_DUPLICATE_SIMILARITY: f64 = 0.7;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    slug: Text,
    title: Text,
    summary: Text,
    about: Text,
    colour: Text,
    in_rotation: bool,
    order: Spanned<u32>,
    guide_url: Text,
    presentation_url: Option<Text>,
    #[serde(default, rename = "prompt")]
    prompts: Vec<RawPrompt>,
    /// Optional to the parser so that a missing part is reported in plain words, not serde's.
    session: Option<RawSession>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    opening: Text,
    questions: Spanned<Vec<Text>>,
    closing: Text,
    before_you_start: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrompt {
    id: Text,
    text: Text,
}

pub(super) fn load_theme(
    source: &ContentSource,
    path: &Path,
    seen_prompt_ids: &mut HashMap<String, String>,
    seen_orders: &mut HashMap<u32, String>,
    errors: &mut ContentErrors,
    warnings: &mut Vec<ContentError>,
) -> Option<Theme> {
    let (raw, mut file) = FileChecker::open::<RawTheme>(source, path, errors)?;
    let file_label = path.display().to_string();
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    let colour = file.entry(|file| {
        let slug = raw.slug.get_ref();
        if !is_slug(slug) {
            file.error_at(
                raw.slug.span().start,
                format!("slug \"{slug}\" may use only a-z, 0-9 and '-'"),
            );
        } else if slug != stem {
            file.error_at(
                raw.slug.span().start,
                format!("slug \"{slug}\" must match the file name \"{stem}.toml\""),
            );
        }
        file.text("title", &raw.title, MAX_TITLE_CHARS);
        file.text("summary", &raw.summary, MAX_SUMMARY_CHARS);
        file.text("about", &raw.about, MAX_ABOUT_CHARS);
        let colour = parse_colour(raw.colour.get_ref());
        if colour.is_none() {
            file.error_at(
                raw.colour.span().start,
                format!(
                    "colour \"{}\" should look like \"#005EB8\"",
                    raw.colour.get_ref()
                ),
            );
        }
        if let Some(other) = seen_orders.insert(*raw.order.get_ref(), file_label.clone()) {
            file.error_at(
                raw.order.span().start,
                format!("order {} is already used by {other}", raw.order.get_ref()),
            );
        }
        file.url(&raw.guide_url);
        if let Some(url) = &raw.presentation_url {
            file.url(url);
        }
        if raw.prompts.is_empty() {
            file.error("the theme has no prompts: add at least one [[prompt]]".to_string());
        }
        for prompt in &raw.prompts {
            let id = prompt.id.get_ref();
            if !is_slug(id) || id.len() > 32 {
                file.error_at(
                    prompt.id.span().start,
                    format!(
                        "prompt id \"{id}\" may use only a-z, 0-9 and '-', at most 32 characters"
                    ),
                );
            }
            if let Some(first) = seen_prompt_ids.insert(id.clone(), file_label.clone()) {
                let also = if first == file_label {
                    String::new()
                } else {
                    format!(" (first used in {first})")
                };
                file.error_at(
                    prompt.id.span().start,
                    format!("duplicate prompt id \"{id}\"{also}"),
                );
            }
            file.text(&format!("prompt \"{id}\""), &prompt.text, MAX_PROMPT_CHARS);
        }
        check_session(file, raw.session.as_ref(), stem);
        colour.unwrap_or_default()
    })?;
    warnings.extend(near_duplicates(&file, &raw.prompts));
    Some(Theme {
        slug: raw.slug.into_inner(),
        title: raw.title.into_inner(),
        summary: raw.summary.into_inner(),
        about: raw.about.into_inner(),
        colour,
        in_rotation: raw.in_rotation,
        order: raw.order.into_inner(),
        guide_url: raw.guide_url.into_inner(),
        presentation_url: raw.presentation_url.map(Spanned::into_inner),
        prompts: raw
            .prompts
            .into_iter()
            .map(|prompt| Prompt {
                id: prompt.id.into_inner(),
                text: prompt.text.into_inner(),
            })
            .collect(),
        concern: None,
        session: raw
            .session
            .map(|session| SessionPart {
                opening: session.opening.into_inner(),
                questions: session
                    .questions
                    .into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                closing: session.closing.into_inner(),
                before_you_start: session.before_you_start.map(Spanned::into_inner),
            })
            .unwrap_or_default(),
    })
}

/// A theme's `[session]`: present, with three questions and a closing question, each a
/// question and short enough for a stage card. A theme about bullying or harassment must say what
/// its facilitator is to confirm before anything is posted.
fn check_session(file: &mut FileChecker, session: Option<&RawSession>, slug: &str) {
    let Some(session) = session else {
        file.error(
            "the theme has no [session] part: add one with an opening, three questions and a closing question, for /session".to_string(),
        );
        return;
    };
    match &session.before_you_start {
        Some(before) => file.text("before_you_start", before, MAX_BEFORE_YOU_START_CHARS),
        None if CONCERN_THEMES.contains(&slug) => file.error(
            "the [session] part has no `before_you_start`: a session on this theme must ask its facilitator, before anything is posted, to confirm they do not manage the team and that no concern in the team is being looked into".to_string(),
        ),
        None => {}
    }
    file.text(
        "session opening",
        &session.opening,
        MAX_SESSION_OPENING_CHARS,
    );
    if session.questions.get_ref().len() != SESSION_QUESTIONS {
        file.error_at(
            session.questions.span().start,
            format!(
                "the session has {} questions; it needs {SESSION_QUESTIONS}: one on what we notice, one on what it means, one on what we might do",
                session.questions.get_ref().len()
            ),
        );
    }
    let numbered = session.questions.get_ref().iter().enumerate();
    let questions =
        numbered.map(|(index, question)| (format!("session question {}", index + 1), question));
    for (what, question) in questions.chain([("session closing".to_string(), &session.closing)]) {
        file.text(&what, question, MAX_PROMPT_CHARS);
        if !question.get_ref().trim_end().ends_with('?') {
            file.error_at(
                question.span().start,
                format!("{what} should be a question, ending with '?'"),
            );
        }
    }
}

/// Letters and digits only, lower case, so punctuation and capitals do not hide a repeat.
pub(super) fn comparable(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A warning, placed at the later prompt, for each pair of prompts in one theme that read almost
/// the same, so a facilitator who adds a prompt hears that the theme already asks it.
fn near_duplicates(file: &FileChecker, prompts: &[RawPrompt]) -> Vec<ContentError> {
    let comparable: Vec<String> = prompts
        .iter()
        .map(|prompt| comparable(prompt.text.get_ref()))
        .collect();
    let mut warnings = Vec::new();
    for (later, later_text) in comparable.iter().enumerate() {
        for (earlier, earlier_text) in comparable.iter().enumerate().take(later) {
            let similarity = strsim::sorensen_dice(earlier_text, later_text);
            if similarity >= NEAR_DUPLICATE_SIMILARITY {
                warnings.push(file.warning_at(
                    prompts[later].id.span().start,
                    format!(
                        "prompt \"{}\" reads almost the same as \"{}\" (similarity {similarity:.2}): merge them, or reword one so it asks something new",
                        prompts[later].id.get_ref(),
                        prompts[earlier].id.get_ref()
                    ),
                ));
            }
        }
    }
    warnings
}
