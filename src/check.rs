//! `careprompt check`: the content library and the configuration that refers to it, loaded as
//! the bot loads them, and every card the bot could build from them.

use crate::cards::{all_cards, all_posts};
use crate::config::{LoadedConfig, OrgSupport, Origin};
use crate::discord::{limits, render};
use crate::domain::content::{Library, Theme, DNA_OF_CARE_URL};
use crate::startup::{load_content, Loaded};
use crate::store;

/// Proves every message the bot could send from this library fits Discord's limits, checking
/// each scheduled post as the exact body the scheduler sends, with the longest nonce and a role
/// ping.
pub fn check_cards(library: &Library, org: Option<&OrgSupport>) -> Vec<String> {
    let replies = all_cards(library, org, DNA_OF_CARE_URL)
        .into_iter()
        .map(|(label, card)| (label, render::json(&card)));
    let longest_nonce = store::nonce_for(i64::MAX);
    let posts = all_posts(library).into_iter().map(|(label, card)| {
        (
            label,
            render::post_body(&card, &longest_nonce, Some(u64::MAX >> 1)),
        )
    });
    replies
        .chain(posts)
        .flat_map(|(label, body)| {
            limits::check_message(&body)
                .into_iter()
                .map(move |problem| {
                    format!("the {label} card would break a Discord limit: {problem}")
                })
        })
        .collect()
}

pub fn theme_summary(library: &Library, theme: &Theme) -> String {
    let stories = library.stories_for(&theme.slug).count();
    let resources = if theme.presentation_url.is_some() {
        "guide and presentation"
    } else {
        "guide"
    };
    let rotation = if theme.in_rotation {
        "in rotation"
    } else {
        "on request only"
    };
    format!(
        "{:<26} {:>2} prompts, {} stories, {resources}, {rotation}",
        theme.slug,
        theme.prompts.len(),
        stories
    )
}

/// A warning when `[support] nation` was left to its default: an organisation in Wales, Scotland
/// or Northern Ireland that never set it would show its staff England's lines and routes for
/// raising a concern, and none of its own.
pub fn nation_warning(loaded: &LoadedConfig) -> Option<String> {
    let nation = loaded.config.support.nation;
    (loaded.origin("support.nation") == Origin::Default).then(|| {
        format!(
            "warning: [support] nation is not set, so /support and the bullying and harassment cards show the lines and routes for {} (the default). Set it to the nation you work in: {}",
            nation.name(),
            crate::domain::content::Nation::ALL
                .map(|nation| format!("\"{}\"", nation.slug()))
                .join(", ")
        )
    })
}

/// The whole of `careprompt check`: a summary on success, every problem on failure.
pub fn run(loaded: &LoadedConfig) -> Result<Vec<String>, Vec<String>> {
    let Loaded { settings, library } = load_content(loaded)?;
    let mut problems = check_cards(&library, settings.org_support());
    problems.extend(
        limits::check_commands(&crate::bot::registration_payload(&library))
            .into_iter()
            .map(|problem| format!("the slash commands would break a Discord limit: {problem}")),
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut lines: Vec<String> = library
        .themes
        .iter()
        .map(|theme| theme_summary(&library, theme))
        .collect();
    lines.extend(
        library
            .warnings
            .iter()
            .map(|warning| format!("warning: {warning}")),
    );
    lines.extend(nation_warning(loaded));
    lines.push(format!(
        "ok: {}: {} themes, {} prompts, {} stories, {} support lines; every card and the slash commands fit Discord's limits",
        settings.content.source().describe(),
        library.themes.len(),
        library
            .themes
            .iter()
            .map(|theme| theme.prompts.len())
            .sum::<usize>(),
        library.stories.len(),
        library.support_lines.len()
    ));
    Ok(lines)
}
