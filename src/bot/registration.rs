//! What careprompt tells Discord about itself: its slash commands and the invite link.

use anyhow::Context as _;
use poise::serenity_prelude as serenity;

use crate::bot::commands;
use crate::discord::Rest;
use crate::domain::content::Library;

/// What scheduled posts need; slash command replies need no permission at all. Each is
/// explained in the README's setup steps.
/// - View Channel, Send Messages, Embed Links: to post the card.
/// - Read Message History: after a crash, to look for a post before sending it again.
/// - Create Public Threads, Send Messages in Threads: for a thread of replies on each post,
///   when an admin asks for one, and for the thread a reflective session runs in (/session).
pub const INVITE_PERMISSIONS: u64 = VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | READ_MESSAGE_HISTORY
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS;

// Discord's permission bits: https://discord.com/developers/docs/topics/permissions
const VIEW_CHANNEL: u64 = 1 << 10;
const SEND_MESSAGES: u64 = 1 << 11;
const EMBED_LINKS: u64 = 1 << 14;
const READ_MESSAGE_HISTORY: u64 = 1 << 16;
const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

/// The command list as Discord receives it, with each `theme` option offering the library's
/// themes as choices.
pub fn registration_payload(library: &Library) -> Vec<serde_json::Value> {
    let commands = commands::all();
    let choices: Vec<serde_json::Value> = library
        .themes
        .iter()
        .map(|theme| serde_json::json!({"name": theme.title, "value": theme.slug}))
        .collect();
    poise::builtins::create_application_commands(&commands)
        .iter()
        .filter_map(|command| serde_json::to_value(command).ok())
        .map(|mut command| {
            if let Some(options) = command
                .get_mut("options")
                .and_then(serde_json::Value::as_array_mut)
            {
                offer_themes(options, &choices);
            }
            command
        })
        .collect()
}

/// Gives every `theme` option the themes as choices, in subcommands (`/session start`) too.
fn offer_themes(options: &mut [serde_json::Value], choices: &[serde_json::Value]) {
    for option in options {
        if option.get("name").and_then(serde_json::Value::as_str) == Some("theme") {
            option["choices"] = serde_json::Value::Array(choices.to_vec());
        }
        if let Some(nested) = option
            .get_mut("options")
            .and_then(serde_json::Value::as_array_mut)
        {
            offer_themes(nested, choices);
        }
    }
}

/// Registers the commands, retrying within the policy; a registration that never succeeds ends
/// the process, since a bot that cannot register answers nothing.
pub async fn register(
    rest: &Rest,
    application_id: serenity::ApplicationId,
    dev_guild_ids: &[u64],
    payload: &[serde_json::Value],
) -> anyhow::Result<()> {
    if dev_guild_ids.is_empty() {
        rest.register_commands(application_id, None, payload)
            .await
            .context("registering slash commands globally failed")?;
        tracing::info!(
            commands = payload.len(),
            "registered slash commands globally (they can take up to an hour to appear)"
        );
    } else {
        for guild in dev_guild_ids {
            rest.register_commands(
                application_id,
                Some(serenity::GuildId::new(*guild)),
                payload,
            )
            .await
            .with_context(|| format!("registering slash commands in guild {guild} failed"))?;
        }
        tracing::info!(
            commands = payload.len(),
            guilds = dev_guild_ids.len(),
            "registered slash commands in the development guilds"
        );
    }
    Ok(())
}

pub fn invite_url(application_id: serenity::ApplicationId) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot%20applications.commands&permissions={INVITE_PERMISSIONS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Library {
        crate::library::built_in().expect("shipped content")
    }

    #[test]
    fn registration_offers_every_theme_as_a_choice() {
        let library = shipped();
        let payload = registration_payload(&library);
        let names: Vec<&str> = payload
            .iter()
            .filter_map(|command| command["name"].as_str())
            .collect();
        for expected in [
            "themes", "pack", "prompt", "story", "support", "help", "about", "upcoming",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let pack = payload
            .iter()
            .find(|command| command["name"] == "pack")
            .expect("pack");
        let theme = &pack["options"][0];
        assert_eq!(theme["name"], "theme");
        assert_eq!(theme["type"], 3);
        assert_eq!(theme["required"], true);
        let choices = theme["choices"].as_array().expect("choices");
        assert_eq!(choices.len(), 7);
        assert_eq!(choices[1]["value"], "compassion");
        for command in &payload {
            let description = command["description"].as_str().expect("description");
            assert!(
                (1..=100).contains(&description.chars().count()),
                "{description}"
            );
        }
        let upcoming = payload
            .iter()
            .find(|command| command["name"] == "upcoming")
            .expect("upcoming");
        assert_eq!(upcoming["default_member_permissions"], "16");
    }

    #[test]
    fn invite_asks_for_posting_history_and_threads_only() {
        let url = invite_url(serenity::ApplicationId::new(42));
        assert!(
            url.contains("client_id=42") && url.contains("permissions=309237730304"),
            "{url}"
        );
        assert!(url.contains("applications.commands"));
    }
}
