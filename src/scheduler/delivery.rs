//! Sending one claimed post, and finishing a claim that an earlier attempt left open.

use super::Scheduler;
use crate::cards::{post_card, Card};
use crate::platform::{Failure, Lookup, Mark, SendKey, Unknown};
use crate::store::{nonce_for, Delivery, DeliveryKind, DeliveryState, Recorded, StoreError};

/// What sending a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent {
        message_id: u64,
    },
    /// The platform refused it; nothing was posted. The reason is shown in `/schedule list`.
    Failed {
        reason: String,
    },
    /// It may or may not have been posted, and careprompt will not risk a second copy.
    Uncertain {
        reason: String,
    },
    /// Too late to post by the time it could be.
    Missed,
    /// Not settled: the platform could not be reached. The claim stays open for the next step.
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

/// A claim that keeps failing this often is given up as failed rather than tried for ever.
const MAX_ATTEMPTS: i64 = 30;

/// What a lookup looks for, which the reasons it gives when it cannot tell are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sought {
    Post,
    Dm,
}

impl Sought {
    /// Why it is not sent again: in words for an admin (a post) or for the DM ledger.
    pub(super) fn unknown(self, unknown: &Unknown) -> String {
        match (self, unknown) {
            (Sought::Post, Unknown::Crowded) => "careprompt stopped while posting, and the channel has had too many messages since to tell whether the post went out, so it was not sent again".to_string(),
            (Sought::Post, Unknown::Unreadable(err)) => format!("careprompt stopped while posting and could not read the channel to check whether the post went out ({err}), so it was not sent again"),
            (Sought::Post, Unknown::NoWay) => "careprompt stopped while posting, and there is no way to check whether the post went out, so it was not sent again".to_string(),
            (Sought::Dm, Unknown::Crowded | Unknown::NoWay) => "could not tell whether the DM went out".to_string(),
            (Sought::Dm, Unknown::Unreadable(err)) => format!("could not read the DM channel ({err})"),
        }
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
            let reason = format!(
                "{} could not be reached for a long time, so the post was given up",
                self.outbox.name()
            );
            return self
                .settle(delivery, DeliveryState::Failed, &reason, false)
                .await;
        }
        let claimed_at = delivery.claimed_at.unwrap_or(delivery.slot_at);
        // Every send of this claim came after `claimed_at`, so inside the platform's repeat
        // window from it (Discord's nonce window) a second copy is dropped, whichever process
        // sent the first.
        if self.repeat_dropped(claimed_at, now) {
            return self.send(delivery).await;
        }
        let key = post_key(delivery);
        match self
            .outbox
            .look_for(delivery.channel_id, &key, claimed_at)
            .await
        {
            Lookup::Found(message_id) => self.record(delivery, message_id).await,
            Lookup::CannotTell(unknown) => {
                let reason = Sought::Post.unknown(&unknown);
                tracing::warn!(
                    schedule = delivery.schedule_id,
                    "cannot tell whether a post went out; it is recorded as uncertain and not sent again"
                );
                self.settle(delivery, DeliveryState::Uncertain, &reason, false)
                    .await
            }
            Lookup::NotFound => {
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
        let key = post_key(delivery);
        match self
            .outbox
            .send(delivery.channel_id, &card, delivery.role_ping, &key)
            .await
        {
            Ok(message_id) => {
                let recorded = self.record(delivery, message_id).await?;
                if delivery.thread && matches!(recorded, Delivered::Sent { .. }) {
                    self.open_thread(delivery, message_id).await;
                }
                Ok(recorded)
            }
            Err(err) if err.failure == Failure::NotNow => {
                tracing::warn!(schedule = delivery.schedule_id, error = %err, "a scheduled post could not be sent yet; it will be tried again");
                self.store
                    .note_failure(delivery.schedule_id, &err.reason, self.clock.now())
                    .await?;
                Ok(Delivered::LeftOpen { reason: err.reason })
            }
            Err(err) => {
                tracing::warn!(schedule = delivery.schedule_id, error = %err, "the platform refused a scheduled post");
                // A place that is gone will never take a post: the schedule stops until an admin
                // sets it again elsewhere.
                let disable = err.failure == Failure::Gone;
                self.settle(delivery, DeliveryState::Failed, &err.reason, disable)
                    .await
            }
        }
    }

    /// The delivery's card, for the post and its DMs alike: the one place it is built. `None`
    /// if its prompt or theme has left the library.
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

    async fn open_thread(&self, delivery: &Delivery, message_id: u64) {
        let title = delivery
            .pick
            .as_ref()
            .and_then(|pick| self.library.theme(&pick.theme))
            .map_or("this week's reflection", |theme| theme.title.as_str());
        let name: String = format!("Replies: {title}").chars().take(100).collect();
        if let Err(err) = self
            .outbox
            .open_replies(delivery.channel_id, message_id, &name)
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

/// The key of a post: the nonce its claim was given, and its buttons to look for it by.
fn post_key(delivery: &Delivery) -> SendKey {
    SendKey {
        token: delivery
            .nonce
            .clone()
            .unwrap_or_else(|| nonce_for(delivery.id)),
        mark: Mark::Delivery(delivery.id),
    }
}
