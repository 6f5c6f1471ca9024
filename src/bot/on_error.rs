//! The one place failures of commands and buttons become a private message and a log line.

use poise::serenity_prelude as serenity;

use crate::bot::data::{Data, Error, ReplyFailed, StaleButton};
use crate::cards;
use crate::error::{UserError, GENERIC_FAILURE};

/// The one place command failures are turned into a private message and a log line. Log lines
/// name the command and the kind of failure, never what anyone typed.
pub async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    metrics::counter!("careprompt_interaction_failures_total", "kind" => failure_kind(&error))
        .increment(1);
    use poise::FrameworkError as E;
    let (ctx, message) = match error {
        E::Command { error, ctx, .. } => {
            let command = ctx.command().qualified_name.clone();
            if let Some(failed) = error.downcast_ref::<ReplyFailed>() {
                // The token cannot take another answer either; trying would only delay shutdown.
                tracing::error!(command = %command, error = %failed, "command failed");
                return;
            }
            match error.downcast_ref::<UserError>() {
                Some(user_error) => {
                    tracing::info!(command = %command, kind = user_error.kind(), "command refused");
                    (ctx, user_error.to_string())
                }
                None => {
                    tracing::error!(command = %command, error = %error, "command failed");
                    (ctx, unexpected_failure(&error).to_string())
                }
            }
        }
        E::ArgumentParse { ctx, error, .. } => {
            tracing::info!(command = %ctx.command().qualified_name, "command had bad options");
            let reason =
                if error.is::<poise::TooManyArguments>() || error.is::<poise::TooFewArguments>() {
                    "an option was missing or extra".to_string()
                } else {
                    "an option had a value I could not use".to_string()
                };
            (ctx, UserError::BadInput(reason).to_string())
        }
        E::GuildOnly { ctx, .. } => (ctx, UserError::GuildOnly.to_string()),
        E::DmOnly { ctx, .. } => (ctx, UserError::DmOnly.to_string()),
        E::MissingUserPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            let needed = missing_permissions.map_or_else(
                || "right".to_string(),
                |permissions| permissions.to_string(),
            );
            (ctx, UserError::MissingPermission(needed).to_string())
        }
        E::MissingBotPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            tracing::warn!(command = %ctx.command().qualified_name, missing = %missing_permissions, "careprompt lacks a permission here");
            let text = format!(
                "I need the {missing_permissions} permission in this channel to do that. Please ask a server admin."
            );
            (ctx, text)
        }
        E::SubcommandRequired { ctx, .. } => (
            ctx,
            UserError::BadInput("that command needs a subcommand".to_string()).to_string(),
        ),
        E::CommandCheckFailed {
            error: Some(error),
            ctx,
            ..
        } => match error.downcast_ref::<UserError>() {
            Some(user_error) => (ctx, user_error.to_string()),
            None => {
                tracing::error!(command = %ctx.command().qualified_name, error = %error, "command check failed");
                (ctx, GENERIC_FAILURE.to_string())
            }
        },
        E::CommandCheckFailed { ctx, .. }
        | E::CooldownHit { ctx, .. }
        | E::NotAnOwner { ctx, .. }
        | E::NsfwOnly { ctx, .. }
        | E::PermissionFetchFailed { ctx, .. } => {
            tracing::info!(command = %ctx.command().qualified_name, "command not allowed here");
            (ctx, GENERIC_FAILURE.to_string())
        }
        E::CommandPanic { ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, "command panicked");
            (ctx, GENERIC_FAILURE.to_string())
        }
        E::CommandStructureMismatch {
            ctx, description, ..
        } => {
            tracing::warn!(command = %ctx.command().qualified_name, description, "a command arrived with options that do not match its definition");
            let reason = "its options did not match the command; if Discord shows an old version, reopen the app and try again";
            (
                poise::Context::Application(ctx),
                UserError::BadInput(reason.to_string()).to_string(),
            )
        }
        E::UnknownInteraction {
            interaction,
            framework,
            ..
        } => {
            tracing::warn!(command = %interaction.data.name, "received a command careprompt does not have");
            let rest = &framework.user_data().await.rest;
            let card =
                cards::text_card("I don't have that command any more. /help lists what I can do.");
            if let Err(err) = rest
                .respond(interaction.id, &interaction.token, card, true)
                .await
            {
                tracing::warn!(error = %err, "could not answer an unknown command");
            }
            return;
        }
        E::Setup { error, .. } => {
            tracing::error!(error = %error, "setting up the bot failed");
            return;
        }
        E::EventHandler {
            error,
            event,
            framework,
            ..
        } => {
            let serenity::FullEvent::InteractionCreate {
                interaction: serenity::Interaction::Component(click),
            } = event
            else {
                tracing::error!(error = %error, "an event handler failed");
                return;
            };
            let message = if error.downcast_ref::<ReplyFailed>().is_some() {
                tracing::error!(error = %error, "a button click could not be answered");
                return;
            } else if let Some(user_error) = error.downcast_ref::<UserError>() {
                tracing::info!(kind = user_error.kind(), "button click refused");
                user_error.to_string()
            } else if error.downcast_ref::<StaleButton>().is_some() {
                tracing::info!("a button careprompt does not recognise was clicked");
                "That button no longer works. /help lists what I can do.".to_string()
            } else {
                tracing::error!(error = %error, "a button click failed");
                unexpected_failure(&error).to_string()
            };
            let rest = &framework.user_data().await.rest;
            if let Err(err) = rest
                .respond(click.id, &click.token, cards::text_card(&message), true)
                .await
            {
                tracing::warn!(error = %err, "could not send an error reply to a button click");
            }
            return;
        }
        other => {
            let _ = other;
            tracing::warn!("a framework event careprompt does not use went unhandled");
            return;
        }
    };
    let poise::Context::Application(app) = ctx else {
        return;
    };
    let card = cards::text_card(&message);
    if let Err(err) = app
        .data()
        .rest
        .respond(app.interaction.id, &app.interaction.token, card, true)
        .await
    {
        tracing::warn!(command = %app.command().qualified_name, error = %err, "could not send an error reply");
    }
}

/// A name for the kind of failure, for metrics: never the command's input.
fn failure_kind(error: &poise::FrameworkError<'_, Data, Error>) -> &'static str {
    use poise::FrameworkError as E;
    let is_database = |error: &Error| error.downcast_ref::<crate::store::StoreError>().is_some();
    match error {
        E::Command { error, .. } | E::EventHandler { error, .. } if is_database(error) => {
            metrics::counter!("careprompt_database_errors_total").increment(1);
            "database"
        }
        E::Command { error, .. } | E::EventHandler { error, .. } => {
            match error.downcast_ref::<UserError>() {
                Some(user_error) => user_error.kind(),
                None => "error",
            }
        }
        E::ArgumentParse { .. } | E::CommandStructureMismatch { .. } => "bad options",
        E::MissingUserPermissions { .. } | E::GuildOnly { .. } | E::DmOnly { .. } => "not allowed",
        _ => "other",
    }
}

/// A database that does not answer (restarting, or busy) usually answers again shortly, and
/// saying so is kinder than a general apology.
fn unexpected_failure(error: &Error) -> &'static str {
    if error.downcast_ref::<crate::store::StoreError>().is_some() {
        DATABASE_UNAVAILABLE
    } else {
        GENERIC_FAILURE
    }
}

const DATABASE_UNAVAILABLE: &str = "I can't reach my database just now, so I couldn't do that. Please try again shortly; commands that don't need it, such as /support, still work.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_failure_says_to_try_again_shortly() {
        let database: Error = crate::store::StoreError::Query(sqlx::Error::PoolTimedOut).into();
        assert_eq!(unexpected_failure(&database), DATABASE_UNAVAILABLE);
        let other = anyhow::anyhow!("something else");
        assert_eq!(unexpected_failure(&other), GENERIC_FAILURE);
    }
}
