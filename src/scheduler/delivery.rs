//! Sending one claimed post, and finishing a claim that an earlier attempt left open.

use chrono::{DateTime, Utc};

use super::Scheduler;
use crate::cards::{post_card, Act, Card};
use crate::discord::render::post_body;
use crate::discord::rest::{ChannelMessage, MessageComponent};
use crate::discord::RestError;
use crate::store::{nonce_for, Delivery, DeliveryKind, DeliveryState, Recorded, StoreError};

/// What sending a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent {
        message_id: u64,
    },
    /// Discord refused it; nothing was posted. The reason is shown in `/schedule list`.
    Failed {
        reason: String,
    },
    /// It may or may not have been posted, and careprompt will not risk a second copy.
    Uncertain {
        reason: String,
    },
    /// Too late to post by the time it could be.
    Missed,
    /// Not settled: Discord could not be reached. The claim stays open for the next step.
    LeftOpen {
        reason: String,
    },
    /// Settled elsewhere meanwhile (the schedule was removed, or another process finished it).
    Gone,
}

impl Delivered {
    /// The outcome's name in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Delivered::Sent { .. } => "sent",
            Delivered::Failed { .. } => "failed",
            Delivered::Uncertain { .. } => "uncertain",
            Delivered::Missed => "missed",
            Delivered::LeftOpen { .. } => "retried",
            Delivered::Gone => "gone",
        }
    }
}

/// Discord's epoch, the start of 2015, in unix milliseconds.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// Clocks differ between careprompt and Discord; a lookup starts this much before the claim.
pub(super) const LOOKUP_MARGIN: chrono::Duration = chrono::Duration::minutes(2);

/// Discord returns at most 100 messages a page; a full page means more may be hidden.
pub(super) const LOOKUP_PAGE: u8 = 100;

/// A claim that keeps failing this often is given up as failed rather than tried for ever.
const MAX_ATTEMPTS: i64 = 30;

/// The first snowflake Discord could give a message sent at `at`.
pub(super) fn snowflake_at(at: DateTime<Utc>) -> u64 {
    let millis = (at.timestamp_millis() - DISCORD_EPOCH_MS).max(0);
    u64::try_from(millis).unwrap_or(0) << 22
}

pub(super) enum Lookup {
    Found(u64),
    Absent,
    CannotTell(String),
}

/// What a lookup looks for, which the reasons it gives when it cannot tell are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sought {
    Post,
    Dm,
}

impl Sought {
    /// The lookup read a full page, so what it looks for may be among the messages it did not.
    fn crowded(self) -> &'static str {
        match self {
            Sought::Post => "careprompt stopped while posting, and the channel has had too many messages since to tell whether the post went out, so it was not sent again",
            Sought::Dm => "could not tell whether the DM went out",
        }
    }

    fn unreadable(self, err: &RestError) -> String {
        match self {
            Sought::Post => format!("careprompt stopped while posting and could not read the channel to check whether the post went out ({err}), so it was not sent again"),
            Sought::Dm => format!("could not read the DM channel ({err})"),
        }
    }
}

/// Whether the message carries a button of `delivery_id`.
fn carries_delivery(message: &ChannelMessage, delivery_id: i64) -> bool {
    fn walk(components: &[MessageComponent], delivery_id: i64) -> bool {
        components.iter().any(|component| {
            let own = component
                .custom_id
                .as_deref()
                .and_then(|id| Act::parse(id).ok())
                .is_some_and(|action| action.delivery() == Some(delivery_id));
            own || walk(&component.components, delivery_id)
        })
    }
    walk(&message.components, delivery_id)
}

/// Why Discord refused a post, in words for an admin, and whether the schedule should stop.
pub(super) fn refusal(err: &RestError) -> Option<(String, bool)> {
    let status = err.status()?;
    match (status, err.code()) {
        (404, _) | (_, Some(10003)) => Some((
            "the channel no longer exists, so the schedule is switched off; set it again in another channel".to_string(),
            true,
        )),
        (403, _) => Some((
            "careprompt is not allowed to post there: give it View Channel, Send Messages and Embed Links in that channel".to_string(),
            false,
        )),
        (429, _) => None,
        (400..=499, _) => Some((format!("Discord refused the post ({err})"), false)),
        _ => None,
    }
}

impl Scheduler {
    /// Sends a claimed post, or finishes an open claim (`fresh` is false), within a span naming
    /// its schedule, slot and attempt, so one post's log lines can be told from another's.
    #[tracing::instrument(name = "delivery", skip_all, fields(
        schedule = delivery.schedule_id,
        delivery = delivery.id,
        slot = %delivery.slot_at.format("%Y-%m-%dT%H:%MZ"),
        attempt = delivery.attempts + 1,
    ))]
    pub(super) async fn deliver(&self, delivery: Delivery, fresh: bool) -> Delivered {
        let Ok(_permit) = self.sending.acquire().await else {
            return Delivered::LeftOpen {
                reason: "careprompt is stopping".to_string(),
            };
        };
        match self.try_deliver(&delivery, fresh).await {
            Ok(outcome) => outcome,
            Err(err) => {
                tracing::warn!(delivery = delivery.id, error = %err, "the database failed while posting; the post will be finished later");
                Delivered::LeftOpen {
                    reason: "the database could not be reached".to_string(),
                }
            }
        }
    }

    async fn try_deliver(&self, delivery: &Delivery, fresh: bool) -> Result<Delivered, StoreError> {
        if fresh {
            return self.send(delivery).await;
        }
        // An open claim (this process's from an attempt that failed, or a dead process's) is
        // taken first, so that only one process ever goes on with it.
        if !self
            .store
            .take_claim(delivery, &self.options.claimer)
            .await?
        {
            return Ok(Delivered::Gone);
        }
        let now = self.clock.now();
        if delivery.attempts >= MAX_ATTEMPTS {
            let reason = "Discord could not be reached for a long time, so the post was given up";
            return self
                .settle(delivery, DeliveryState::Failed, reason, false)
                .await;
        }
        let claimed_at = delivery.claimed_at.unwrap_or(delivery.slot_at);
        // Every send of this claim came after `claimed_at`, so inside the nonce window from it
        // Discord drops a second copy, whichever process sent the first.
        if now - claimed_at <= self.options.nonce_window {
            return self.send(delivery).await;
        }
        match self
            .find_sent(delivery.channel_id, delivery.id, claimed_at, Sought::Post)
            .await
        {
            Lookup::Found(message_id) => self.record(delivery, message_id).await,
            Lookup::CannotTell(reason) => {
                self.settle(delivery, DeliveryState::Uncertain, &reason, false)
                    .await
            }
            Lookup::Absent => {
                let too_late = delivery.kind == DeliveryKind::Scheduled
                    && now - delivery.slot_at > self.options.catch_up;
                if too_late {
                    self.settle(
                        delivery,
                        DeliveryState::Missed,
                        "careprompt could not post it in time",
                        false,
                    )
                    .await?;
                    return Ok(Delivered::Missed);
                }
                if !self
                    .store
                    .resend_claim(delivery.id, &self.options.claimer, now)
                    .await?
                {
                    return Ok(Delivered::Gone);
                }
                self.send(delivery).await
            }
        }
    }

    async fn send(&self, delivery: &Delivery) -> Result<Delivered, StoreError> {
        let Some(card) = self.card_for(delivery) else {
            let reason = "its prompt or theme is no longer in the library";
            return self
                .settle(delivery, DeliveryState::Failed, reason, false)
                .await;
        };
        let nonce = delivery
            .nonce
            .clone()
            .unwrap_or_else(|| nonce_for(delivery.id));
        let body = post_body(&card, &nonce, delivery.role_ping);
        match self.rest.create_message(delivery.channel_id, &body).await {
            Ok(message_id) => {
                let recorded = self.record(delivery, message_id).await?;
                if delivery.thread && matches!(recorded, Delivered::Sent { .. }) {
                    self.open_thread(delivery, message_id).await;
                }
                Ok(recorded)
            }
            Err(err) => match refusal(&err) {
                Some((reason, disable)) => {
                    tracing::warn!(schedule = delivery.schedule_id, error = %err, "Discord refused a scheduled post");
                    self.settle(delivery, DeliveryState::Failed, &reason, disable)
                        .await
                }
                None => {
                    tracing::warn!(schedule = delivery.schedule_id, error = %err, "a scheduled post could not be sent yet; it will be tried again");
                    let reason = format!("Discord could not be reached; trying again ({err})");
                    self.store
                        .note_failure(delivery.schedule_id, &reason, self.clock.now())
                        .await?;
                    Ok(Delivered::LeftOpen { reason })
                }
            },
        }
    }

    pub(super) fn card_for(&self, delivery: &Delivery) -> Option<Card> {
        let pick = delivery.pick.as_ref()?;
        let theme = self.library.theme(&pick.theme)?;
        let prompt = theme.prompt(&pick.prompt_id)?;
        let story = pick
            .story_id
            .as_deref()
            .and_then(|id| self.library.story(id));
        Some(post_card(theme, prompt, story, Some(delivery.id)))
    }

    async fn record(&self, delivery: &Delivery, message_id: u64) -> Result<Delivered, StoreError> {
        match self.store.record_sent(delivery.id, message_id).await? {
            Recorded::Done => {
                tracing::info!(
                    schedule = delivery.schedule_id,
                    delivery = delivery.id,
                    "posted a scheduled card"
                );
                Ok(Delivered::Sent { message_id })
            }
            Recorded::AlreadySettled => Ok(Delivered::Gone),
        }
    }

    async fn settle(
        &self,
        delivery: &Delivery,
        state: DeliveryState,
        reason: &str,
        disable: bool,
    ) -> Result<Delivered, StoreError> {
        let settled = self
            .store
            .settle_unsent(delivery.id, state, reason, disable, self.clock.now())
            .await?;
        if settled == Recorded::AlreadySettled {
            return Ok(Delivered::Gone);
        }
        Ok(match state {
            DeliveryState::Uncertain => Delivered::Uncertain {
                reason: reason.to_string(),
            },
            DeliveryState::Missed => Delivered::Missed,
            _ => Delivered::Failed {
                reason: reason.to_string(),
            },
        })
    }

    /// Looks among the channel's messages since `since` for one carrying `delivery_id`'s
    /// buttons: the post itself, or a DM of its card.
    pub(super) async fn find_sent(
        &self,
        channel: u64,
        delivery_id: i64,
        since: DateTime<Utc>,
        sought: Sought,
    ) -> Lookup {
        let after = snowflake_at(since - LOOKUP_MARGIN);
        match self.rest.messages_after(channel, after, LOOKUP_PAGE).await {
            Ok(messages) => match messages
                .iter()
                .find(|message| carries_delivery(message, delivery_id))
                .map(|message| message.id.get())
            {
                Some(found) => Lookup::Found(found),
                None if messages.len() >= usize::from(LOOKUP_PAGE) => {
                    Lookup::CannotTell(sought.crowded().to_string())
                }
                None => Lookup::Absent,
            },
            Err(err) => Lookup::CannotTell(sought.unreadable(&err)),
        }
    }

    async fn open_thread(&self, delivery: &Delivery, message_id: u64) {
        let title = delivery
            .pick
            .as_ref()
            .and_then(|pick| self.library.theme(&pick.theme))
            .map_or("this week's reflection", |theme| theme.title.as_str());
        let name: String = format!("Replies: {title}").chars().take(100).collect();
        if let Err(err) = self
            .rest
            .start_thread(delivery.channel_id, message_id, &name)
            .await
        {
            tracing::warn!(schedule = delivery.schedule_id, error = %err, "could not open a thread on a post");
            let reason = format!("the post went out, but its thread could not be opened ({err})");
            if let Err(err) = self
                .store
                .note_failure(delivery.schedule_id, &reason, self.clock.now())
                .await
            {
                tracing::warn!(error = %err, "could not record a thread failure");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_start_at_discord_s_epoch() {
        let at: DateTime<Utc> = "2015-01-01T00:00:01Z".parse().expect("time");
        assert_eq!(snowflake_at(at), 1000 << 22);
        let before: DateTime<Utc> = "2014-01-01T00:00:00Z".parse().expect("time");
        assert_eq!(snowflake_at(before), 0);
    }

    #[test]
    fn a_post_is_recognised_by_its_buttons_only() {
        let message = |json| serde_json::from_value::<ChannelMessage>(json).expect("a message");
        let mine = message(
            serde_json::json!({"id": "5", "components": [{"type": 1, "components": [
            {"type": 2, "custom_id": "cp:save:42:com-01"}]}]}),
        );
        assert!(carries_delivery(&mine, 42));
        assert!(!carries_delivery(&mine, 4));
        let someone_else = message(serde_json::json!({"id": "6", "content": "cp:save:42:com-01"}));
        assert!(!carries_delivery(&someone_else, 42));
    }
}
