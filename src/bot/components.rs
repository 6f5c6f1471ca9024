//! Buttons on careprompt's messages. Each click is answered privately, from what its custom id
//! carries, so a click works the same after a restart. A click always acts for the person who
//! clicked: no custom id names a person. The buttons of a private answer (paging bookmarks,
//! confirming an erasure) work only for the person it answered.

use poise::serenity_prelude as serenity;

use crate::app::checks::{may_facilitate, may_press, require_session_facilitator};
use crate::app::session::finish;
use crate::bot::commands::session::answer_question;
use crate::bot::data::rights;
use crate::bot::data::{Data, Error, ReplyFailed, StaleButton};
use crate::cards::{self, stage_card, Act, Card, CardState, SessionControl};
use crate::domain::bookmark::{snapshot, BookmarkKind};
use crate::domain::content::Library;
use crate::domain::insights::UsageKind;
use crate::error::UserError;
use crate::store::{Saved, Usage, BOOKMARK_LIMIT};

pub async fn handle(data: &Data, click: &serenity::ComponentInteraction) -> Result<(), Error> {
    let action = Act::parse(&click.data.custom_id).map_err(|_| StaleButton)?;
    may_press(action.who(), shown_to(click), click.user.id.get())?;
    let card = match action {
        Act::Save {
            kind,
            item_id,
            delivery,
        } => save(data, click, kind, &item_id, delivery).await?,
        Act::Pack { theme, .. } => {
            let theme = data.library.theme(&theme).ok_or(StaleButton)?;
            cards::pack_card(&data.library, theme)
        }
        Act::Support { .. } => crate::app::content::support_card(data.core()),
        Act::BookmarksPage { page } => {
            let card = crate::app::personal::bookmarks_page(&data.store, click.user.id.get(), page)
                .await?;
            return update(data, click, card).await;
        }
        Act::ForgetConfirm => {
            let erased = data.store.erase_user(click.user.id.get()).await?;
            return update(data, click, cards::forgotten_card(&erased)).await;
        }
        Act::ForgetCancel => {
            let card = cards::text_card("Nothing was erased. Only you can see this.");
            return update(data, click, card).await;
        }
        Act::Session {
            session,
            stage,
            control,
        } => return session_click(data, click, session, stage, control).await,
        Act::SessionBegin(begin) => {
            return answer_question(data, click, Some(begin)).await;
        }
        Act::SessionCancel => return answer_question(data, click, None).await,
    };
    data.rest
        .respond(click.id, &click.token, card, true)
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}

/// The facilitator's Next, Pause, Resume and End on a stage card. Anyone else is told privately;
/// a click on a card whose stage is over, or after the session ended, changes nothing.
async fn session_click(
    data: &Data,
    click: &serenity::ComponentInteraction,
    id: i64,
    stage: u32,
    control: SessionControl,
) -> Result<(), Error> {
    let session = data.store.session(id).await?.ok_or(StaleButton)?;
    require_session_facilitator(session.facilitator_id, click.user.id.get())?;
    may_facilitate(
        &data.store,
        session.guild_id,
        &rights(click.member.as_ref()),
        UserError::NotAllowedToFacilitate,
    )
    .await?;
    let private = |text: &str| cards::text_card(&format!("{text} Only you can see this."));
    let answer = if !session.running {
        private("This session has ended.")
    } else if session.stage != stage {
        private("The session has moved on from this card: use the buttons on the latest one.")
    } else {
        let view = data.scheduler.session_view(&session).ok_or(StaleButton)?;
        let last = view.stages().len().saturating_sub(1);
        let now = data.clock.now();
        let card = |state| stage_card(&view, stage, state).ok_or(StaleButton);
        match control {
            SessionControl::Next if usize::try_from(stage).unwrap_or(usize::MAX) < last => {
                // The answer takes the old card's controls away, so it cannot move the session
                // on twice; the next stage follows in the thread.
                replace_card(data, click, card(CardState::Done)?).await?;
                data.scheduler.next_stage(&session, stage).await?;
                return Ok(());
            }
            SessionControl::Next | SessionControl::End => finish(data.core(), &session)
                .await?
                .unwrap_or_else(|| private("This session has ended.")),
            SessionControl::Pause if session.paused_left.is_none() => {
                let left = session
                    .stage_deadline
                    .map_or(0, |deadline| (deadline - now).num_seconds().max(0));
                if data
                    .store
                    .pause_session(id, stage, Some(left), None)
                    .await?
                {
                    return replace_card(data, click, card(CardState::Paused)?).await;
                }
                private("The session had just changed; try again.")
            }
            SessionControl::Resume if session.paused_left.is_some() => {
                let deadline = session.auto.then(|| {
                    now + chrono::Duration::seconds(session.paused_left.unwrap_or_default())
                });
                if data.store.pause_session(id, stage, None, deadline).await? {
                    data.scheduler.wake();
                    return replace_card(data, click, card(CardState::Live)?).await;
                }
                private("The session had just changed; try again.")
            }
            SessionControl::Pause => private("The session is already paused."),
            SessionControl::Resume => private("The session is not paused."),
        }
    };
    data.rest
        .respond(click.id, &click.token, answer, true)
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}

/// Answers a click on a stage card (a public message) by replacing the card in place.
async fn replace_card(
    data: &Data,
    click: &serenity::ComponentInteraction,
    card: Card,
) -> Result<(), Error> {
    data.rest
        .update_message(click.id, &click.token, card)
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}

/// The person the message the button is on answered, for `may_press`. Discord shows a private
/// answer only to its person, but a click is checked all the same: a button that reached someone
/// else must neither page through nor erase anything as if they had asked for it. A message that
/// names nobody (older messages) is left to the custom id, which acts on the clicker alone.
fn shown_to(click: &serenity::ComponentInteraction) -> Option<u64> {
    use serenity::MessageInteractionMetadata as Metadata;
    let asker = match click.message.interaction_metadata.as_deref() {
        Some(Metadata::Command(metadata)) => Some(metadata.user.id),
        Some(Metadata::Component(metadata)) => Some(metadata.user.id),
        Some(Metadata::ModalSubmit(metadata)) => Some(metadata.user.id),
        // A kind of interaction careprompt does not know names nobody it can check.
        Some(_) | None => None,
    };
    asker.map(|asker| asker.get())
}

/// Replaces the (private) message the button is on, so paging and confirming happen in place.
/// careprompt puts these buttons on private messages only; should one be clicked on a message
/// others can see, the answer comes as a new private message, so nothing of the clicker's is
/// written where others can read it.
async fn update(
    data: &Data,
    click: &serenity::ComponentInteraction,
    card: Card,
) -> Result<(), Error> {
    let private = click
        .message
        .flags
        .is_some_and(|flags| flags.contains(serenity::MessageFlags::EPHEMERAL));
    let answered = if private {
        data.rest.update_message(click.id, &click.token, card).await
    } else {
        data.rest.respond(click.id, &click.token, card, true).await
    };
    answered.map_err(ReplyFailed)?;
    Ok(())
}

async fn save(
    data: &Data,
    click: &serenity::ComponentInteraction,
    kind: BookmarkKind,
    item_id: &str,
    delivery: Option<i64>,
) -> Result<Card, Error> {
    let Some(item) = snapshot(&data.library, kind, item_id) else {
        return Err(UserError::Conflict(
            "That is no longer in the library, so it can't be saved. Anything you saved before stays in /bookmarks list.".to_string(),
        )
        .into());
    };
    let user = click.user.id.get();
    let now = data.clock.now();
    let themes = themes_of(&data.library, kind, item_id);
    // An item of no theme counts in none.
    let guild = if themes.is_empty() {
        None
    } else {
        server_of_save(data, click, delivery).await
    };
    let usage = guild.map(|guild_id| Usage {
        guild_id,
        user_id: user,
        themes: &themes,
        kind: UsageKind::Saved,
        at: now,
    });
    let saved = data
        .store
        .save_bookmark(user, &item, now, BOOKMARK_LIMIT, usage.as_ref())
        .await?;
    let text = match saved {
        Saved::Added => format!(
            "Saved to your bookmarks: {}. /bookmarks list shows them. Only you can see this.",
            cards::bookmark_name(item.kind, &item.title, item.body.as_deref())
        ),
        Saved::AlreadySaved => "You had already saved this one, so it is still in your bookmarks once. Only you can see this.".to_string(),
        Saved::Full => format!(
            "You have {BOOKMARK_LIMIT} bookmarks, which is as many as careprompt keeps for one person, so this one was not saved. Remove some with /bookmarks remove, then try again. Only you can see this."
        ),
    };
    Ok(cards::text_card(&text))
}

/// The server a Save is counted in for `/insights`: the one clicked in, or for a card sent by
/// DM, the server whose post it was. A Save with neither (a DM answer to `/prompt`) is in no
/// server and is not counted; nor is one whose server cannot be found, which is logged, and the
/// Save stands. The bookmark and its count are written together (`Store::save_bookmark`).
async fn server_of_save(
    data: &Data,
    click: &serenity::ComponentInteraction,
    delivery: Option<i64>,
) -> Option<u64> {
    match (click.guild_id, delivery) {
        (Some(guild), _) => Some(guild.get()),
        (None, Some(delivery)) => match data.store.guild_of_delivery(delivery).await {
            Ok(guild) => guild,
            Err(err) => {
                tracing::warn!(error = %err, "could not find the server of a saved card");
                None
            }
        },
        (None, None) => None,
    }
}

/// The themes a saved item belongs to: a prompt's or pack's one, a story's each.
fn themes_of(library: &Library, kind: BookmarkKind, item_id: &str) -> Vec<String> {
    match kind {
        BookmarkKind::Prompt => library
            .find_prompt(item_id)
            .map(|(theme, _)| vec![theme.slug.clone()])
            .unwrap_or_default(),
        BookmarkKind::Story => library
            .story(item_id)
            .map(|story| story.themes.clone())
            .unwrap_or_default(),
        BookmarkKind::Pack => library
            .theme(item_id)
            .map(|theme| vec![theme.slug.clone()])
            .unwrap_or_default(),
    }
}
