//! The state every command, button and background task shares.

use std::sync::Arc;

use poise::serenity_prelude as serenity;

use crate::app::{self, Answer, Core, Person, Request, Rights};
use crate::cards::Card;
use crate::clock::Clock;
use crate::config::Settings;
use crate::discord::{Rest, RestError};
use crate::domain::content::Library;
use crate::domain::platform::Platform;
use crate::ops::Shards;
use crate::platform::Presence;
use crate::scheduler::Scheduler;
use crate::store::Store;

pub use crate::error::Error;

/// The answer to an interaction could not be delivered, so no other answer can be either.
#[derive(Debug, thiserror::Error)]
#[error("could not answer the interaction: {0}")]
pub struct ReplyFailed(#[from] pub RestError);

/// A click careprompt cannot act on: the person is told, and nothing changes.
#[derive(Debug, thiserror::Error)]
#[error("that button no longer works")]
pub struct StaleButton;

pub type AppContext<'a> = poise::ApplicationContext<'a, Data, Error>;

/// Shared state for every command, button and background task.
pub struct Data {
    pub library: Arc<Library>,
    pub settings: Arc<Settings>,
    pub rest: Rest,
    pub clock: Arc<dyn Clock>,
    pub store: Store,
    pub scheduler: Arc<Scheduler>,
    /// Which shards are connected, for `/readyz`.
    pub shards: Arc<Shards>,
    /// Departure: what the gateway says about the servers careprompt is in.
    pub presence: Presence,
}

/// Told once, privately, to someone whose DMs careprompt could not deliver.
const CLOSED_DM_NOTICE: &str = "I couldn't send you a card by DM: Discord says your DMs are closed to me. To get them, allow direct messages from server members (Server menu, Privacy Settings) and use /optin again; or use /optout to stop trying.";

impl Data {
    /// A private reply is the first chance to tell someone their DMs are closed; the notice is
    /// given once. A failure to check never holds up the reply itself.
    async fn add_closed_dm_notice(&self, ctx: &AppContext<'_>, card: &mut Card) {
        let user = ctx.interaction.user.id.get();
        match self
            .store
            .take_closed_dm_notice(user, self.clock.now())
            .await
        {
            Ok(true) => {
                card.note = Some(match card.note.take() {
                    Some(text) => format!("{text}\n\n{CLOSED_DM_NOTICE}"),
                    None => CLOSED_DM_NOTICE.to_string(),
                });
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not check for a closed-DM notice"),
        }
    }

    /// What the commands in `app` read and change.
    pub fn core(&self) -> Core<'_> {
        Core {
            library: &self.library,
            settings: &self.settings,
            store: &self.store,
            clock: self.clock.as_ref(),
            scheduler: &self.scheduler,
        }
    }

    /// Delivers a command's answer: its card, with its file if it has one, and then each
    /// follow-up. Discord takes one file with a first answer (see `Rest::respond_with_file`).
    pub async fn answer(&self, ctx: &AppContext<'_>, answer: Answer) -> Result<(), Error> {
        let Answer {
            card,
            private,
            files,
            follow_ups,
        } = answer;
        let mut files = files.into_iter();
        match (files.next(), files.next()) {
            (None, _) => self.reply(ctx, card, private).await?,
            (Some(file), None) => {
                self.rest
                    .respond_with_file(
                        ctx.interaction.id,
                        &ctx.interaction.token,
                        card,
                        private,
                        attachment(file),
                    )
                    .await
                    .map_err(ReplyFailed)?;
            }
            (Some(_), Some(_)) => {
                anyhow::bail!("an answer carries more than one file; send the rest as follow-ups")
            }
        }
        for follow_up in follow_ups {
            let Some(file) = follow_up.file else {
                anyhow::bail!("a follow-up without a file cannot be sent yet");
            };
            self.rest
                .followup_with_file(
                    ctx.interaction.application_id,
                    &ctx.interaction.token,
                    &follow_up.text,
                    follow_up.private,
                    attachment(file),
                )
                .await
                .map_err(ReplyFailed)?;
        }
        Ok(())
    }

    /// Gives a command's deferred answer (see `Rest::defer`) its card.
    pub async fn answer_deferred(&self, ctx: &AppContext<'_>, card: Card) -> Result<(), Error> {
        self.rest
            .edit_original(ctx.interaction.application_id, &ctx.interaction.token, card)
            .await
            .map_err(ReplyFailed)?;
        Ok(())
    }

    /// Answers the command with a card; `ephemeral` replies are seen only by the person who asked.
    pub async fn reply(
        &self,
        ctx: &AppContext<'_>,
        mut card: Card,
        ephemeral: bool,
    ) -> Result<(), Error> {
        if ephemeral {
            self.add_closed_dm_notice(ctx, &mut card).await;
        }
        self.rest
            .respond(ctx.interaction.id, &ctx.interaction.token, card, ephemeral)
            .await
            .map_err(ReplyFailed)?;
        Ok(())
    }
}

/// A file of an answer, as Discord takes it.
fn attachment(file: app::File) -> serenity::CreateAttachment {
    let mut attachment = serenity::CreateAttachment::bytes(file.bytes, file.name);
    attachment.description = file.description;
    attachment
}

/// What a member may do, as Discord reports it with the interaction: Manage Server (or
/// Administrator), and their roles. No member (a direct message) may do nothing.
pub fn rights(member: Option<&serenity::Member>) -> Rights {
    let permissions = member
        .and_then(|member| member.permissions)
        .unwrap_or_default();
    Rights {
        manage_server: permissions.administrator() || permissions.manage_guild(),
        roles: member.map_or_else(Vec::new, |member| {
            member.roles.iter().map(|role| role.get()).collect()
        }),
    }
}

/// A slash command as the commands in `app` see it.
pub fn request(ctx: &AppContext<'_>) -> Request {
    let interaction = ctx.interaction;
    Request {
        who: Person {
            id: interaction.user.id.get(),
            platform: Platform::Discord,
        },
        place: interaction.guild_id.map(|guild| guild.get()),
        channel: interaction.channel_id.get(),
        rights: rights(interaction.member.as_deref()),
    }
}
