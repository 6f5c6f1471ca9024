//! The checks commands and buttons share: who may act (Manage Server, or the server's
//! facilitator role), and what they named (a theme). Each is checked here on every command and
//! button, not left to Discord's command permissions, which cannot name careprompt's
//! facilitator role.

use poise::serenity_prelude as serenity;

use crate::bot::data::{AppContext, Data, Error};
use crate::domain::content::{Library, Theme};
use crate::error::UserError;

/// The server, once the member is known to hold Manage Server (or Administrator) there.
pub fn require_admin(ctx: &AppContext<'_>) -> Result<u64, UserError> {
    let guild = ctx.interaction.guild_id.ok_or(UserError::GuildOnly)?;
    let permissions = ctx
        .interaction
        .member
        .as_ref()
        .and_then(|member| member.permissions)
        .unwrap_or_default();
    if permissions.administrator() || permissions.manage_guild() {
        Ok(guild.get())
    } else {
        Err(UserError::MissingPermission("Manage Server".to_string()))
    }
}

/// Whether a member may run sessions (and see `/insights`) in `guild`: Manage Server (or
/// Administrator), or the server's facilitator role. `refusal` words the answer to anyone else.
pub async fn may_facilitate(
    data: &Data,
    guild: u64,
    member: Option<&serenity::Member>,
    refusal: fn(String) -> UserError,
) -> Result<(), Error> {
    let permissions = member
        .and_then(|member| member.permissions)
        .unwrap_or_default();
    if permissions.administrator() || permissions.manage_guild() {
        return Ok(());
    }
    let role = data.store.facilitator_role(guild).await?;
    let holds_role = role.is_some_and(|role| {
        member.is_some_and(|member| member.roles.iter().any(|held| held.get() == role))
    });
    if holds_role {
        return Ok(());
    }
    let or_role = role.map_or_else(String::new, |role| format!(" or the <@&{role}> role"));
    Err(refusal(or_role).into())
}

/// The server, once the member who used the command is known to be allowed to run sessions
/// (and see `/insights`) there; `refusal` words the answer to anyone else.
pub async fn require_facilitator(
    ctx: &AppContext<'_>,
    refusal: fn(String) -> UserError,
) -> Result<u64, Error> {
    let guild = ctx.interaction.guild_id.ok_or(UserError::GuildOnly)?.get();
    may_facilitate(
        ctx.data(),
        guild,
        ctx.interaction.member.as_deref(),
        refusal,
    )
    .await?;
    Ok(guild)
}

/// Finds a theme by the slug Discord sends from the choice list; typed input is forgiven its
/// case and spaces.
pub fn find_theme<'a>(library: &'a Library, given: &str) -> Result<&'a Theme, UserError> {
    let wanted = given.trim().to_lowercase().replace(' ', "-");
    library
        .themes
        .iter()
        .find(|theme| theme.slug == wanted || theme.title.eq_ignore_ascii_case(given.trim()))
        .ok_or_else(|| UserError::UnknownTheme {
            given: crate::domain::excerpt(given),
            known: library
                .themes
                .iter()
                .map(|theme| theme.slug.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn themes_are_found_by_slug_or_title_forgivingly() {
        let library = crate::library::built_in().expect("shipped");
        assert_eq!(
            find_theme(&library, "Compassionate Leadership").map(|t| t.slug.as_str()),
            Ok("compassionate-leadership")
        );
        assert_eq!(
            find_theme(&library, " resilience ").map(|t| t.slug.as_str()),
            Ok("resilience")
        );
        let err = find_theme(&library, &"x".repeat(500)).expect_err("unknown");
        assert!(
            err.to_string().len() < 400,
            "the echo of what was typed is cut short"
        );
    }
}
