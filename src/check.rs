//! Loading and validating everything together: the content library, the configuration that
//! refers to it, and every card the bot could build from them.

use crate::config::{Config, LoadedConfig};
use crate::discord::cards;
use crate::discord::limits;
use crate::domain::content::{Library, Theme};
use crate::store;

pub use crate::domain::content::DNA_OF_CARE_URL;

/// Loads the library from the configured folder, checks the configuration against it, and
/// applies the organisation's own pack links. Every problem is returned, one per line.
pub fn load_content(loaded: &LoadedConfig) -> Result<Library, Vec<String>> {
    let mut library = crate::library::load(&loaded.config.content.source())
        .map_err(|errors| errors.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let slugs: Vec<&str> = library
        .themes
        .iter()
        .map(|theme| theme.slug.as_str())
        .collect();
    loaded.validate(&slugs).map_err(|err| {
        err.to_string()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    })?;
    apply_pack_overrides(&mut library, &loaded.config);
    library.set_nation(loaded.config.support.nation);
    Ok(library)
}

pub fn apply_pack_overrides(library: &mut Library, config: &Config) {
    for theme in &mut library.themes {
        if let Some(pack) = config.packs.get(&theme.slug) {
            if let Some(url) = &pack.guide_url {
                theme.guide_url = url.clone();
            }
            if let Some(url) = &pack.presentation_url {
                theme.presentation_url = Some(url.clone());
            }
        }
    }
}

/// Proves every message the bot could send from this library fits Discord's limits, checking
/// each scheduled post as the exact body the scheduler sends, with the longest nonce and a role
/// ping.
pub fn check_cards(library: &Library, config: &Config) -> Vec<String> {
    let replies = cards::all_cards(library, config.support.org.as_ref(), DNA_OF_CARE_URL)
        .into_iter()
        .map(|(label, card)| (label, card.to_json()));
    let longest_nonce = store::nonce_for(i64::MAX);
    let posts = cards::all_posts(library).into_iter().map(|(label, card)| {
        (
            label,
            cards::post_body(card, &longest_nonce, Some(u64::MAX >> 1)),
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

/// The whole of `careprompt check`: a summary on success, every problem on failure.
pub fn run(loaded: &LoadedConfig) -> Result<Vec<String>, Vec<String>> {
    let library = load_content(loaded)?;
    let mut problems = check_cards(&library, &loaded.config);
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
    lines.push(format!(
        "ok: {}: {} themes, {} prompts, {} stories, {} support lines; every card and the slash commands fit Discord's limits",
        loaded.config.content.source().describe(),
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
