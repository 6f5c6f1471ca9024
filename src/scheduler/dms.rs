//! After a channel post, its card by DM to each member who opted in on that server, exactly once
//! per person and card, at the platform's pace.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::delivery::Sought;
use super::{Scheduler, Work};
use crate::platform::{Failure, Lookup, Mark, SendKey};
use crate::store::{dm_nonce_for, Delivery, DmDelivery, DmState, StoreError};

/// What one DM came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DmOutcome {
    Sent,
    /// Their DMs are closed; they are paused and told once.
    Closed,
    /// Refused for another reason, or not sent because it could not be told whether it was.
    NotSent,
    /// The platform could not be reached; tried again at the next step.
    LeftOpen,
}

/// What one round of DMs came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct FannedOut {
    pub sent: usize,
    /// DMs not settled (the platform unreachable, or shutdown), tried again at the next step.
    pub left_open: usize,
}

impl Scheduler {
    /// Sends every DM still owed by recent channel posts.
    pub(super) async fn fan_out(
        self: &Arc<Self>,
        shutdown: &CancellationToken,
    ) -> Result<FannedOut, StoreError> {
        let mut sent = 0;
        let mut left_open = 0;
        for post in self
            .store
            .pending_fan_outs(self.options.batch, &self.options.shards)
            .await?
        {
            if shutdown.is_cancelled() {
                break;
            }
            let Some(delivery) = self.store.delivery(post.delivery_id).await? else {
                continue;
            };
            let now = self.clock.now();
            let dms = self.store.claim_dms(&post, &self.worker(now), now).await?;
            let mut sends = JoinSet::new();
            for dm in dms {
                if shutdown.is_cancelled() {
                    left_open += 1;
                    continue;
                }
                let Some(guard) = self.begin(Work::Dm(dm.id)) else {
                    left_open += 1;
                    continue;
                };
                let task = Arc::clone(self);
                let delivery = delivery.clone();
                sends.spawn(
                    async move {
                        let _guard = guard;
                        task.send_dm(&delivery, dm, now).await
                    }
                    .in_current_span(),
                );
            }
            let mut open_here = 0;
            while let Some(joined) = sends.join_next().await {
                let label = match &joined {
                    Ok(Ok(DmOutcome::Sent)) => "sent",
                    Ok(Ok(DmOutcome::Closed)) => "closed",
                    Ok(Ok(DmOutcome::NotSent)) => "failed",
                    _ => "retried",
                };
                metrics::counter!("careprompt_dms_total", "outcome" => label).increment(1);
                match joined {
                    Ok(Ok(DmOutcome::Sent)) => sent += 1,
                    Ok(Ok(DmOutcome::LeftOpen)) | Ok(Err(_)) | Err(_) => open_here += 1,
                    Ok(Ok(_)) => {}
                }
            }
            if open_here == 0 {
                self.store.fan_out_done(post.delivery_id).await?;
            }
            left_open += open_here;
        }
        Ok(FannedOut { sent, left_open })
    }

    /// Sends one person the post's card by DM, within a span naming the post and the DM's
    /// ledger row (never the person). `claimed` is when this step claimed its DMs.
    #[tracing::instrument(name = "dm", skip_all, fields(delivery = delivery.id, dm = dm.id))]
    async fn send_dm(
        &self,
        delivery: &Delivery,
        dm: DmDelivery,
        claimed: DateTime<Utc>,
    ) -> Result<DmOutcome, StoreError> {
        let Ok(_permit) = self.sending.acquire().await else {
            return Ok(DmOutcome::LeftOpen);
        };
        let channel = match dm.channel_id {
            Some(channel) => channel,
            None => match self.outbox.private_place(dm.user_id).await {
                Ok(channel) => {
                    self.store.remember_dm_channel(dm.user_id, channel).await?;
                    channel
                }
                Err(err) if err.failure == Failure::NotNow => {
                    tracing::warn!(error = %err, "a DM channel could not be opened yet");
                    return Ok(DmOutcome::LeftOpen);
                }
                Err(err) => {
                    tracing::info!(error = %err, "a DM channel could not be opened");
                    self.store
                        .settle_dm(
                            dm.id,
                            DmState::Failed,
                            None,
                            Some("the DM channel could not be opened"),
                        )
                        .await?;
                    return Ok(DmOutcome::NotSent);
                }
            },
        };
        let now = self.clock.now();
        let key = SendKey {
            token: dm_nonce_for(dm.id),
            mark: Mark::Delivery(delivery.id),
        };
        let look_first = match self.outbox.repeat_window() {
            // Past Discord's nonce window a re-send could arrive twice.
            Some(window) => now - dm.claimed_at > window,
            // Without a window any second try could: only a first one goes without looking.
            None => !self.first_dm_try(&dm, claimed),
        };
        if look_first {
            match self.outbox.look_for(channel, &key, dm.claimed_at).await {
                Lookup::Found(message_id) => {
                    self.store
                        .settle_dm(dm.id, DmState::Sent, Some(message_id), None)
                        .await?;
                    return Ok(DmOutcome::Sent);
                }
                Lookup::CannotTell(unknown) => {
                    tracing::info!(
                        dm = dm.id,
                        "cannot tell whether a DM went out; it is not sent again"
                    );
                    self.store
                        .settle_dm(
                            dm.id,
                            DmState::Skipped,
                            None,
                            Some(&Sought::Dm.unknown(&unknown)),
                        )
                        .await?;
                    return Ok(DmOutcome::NotSent);
                }
                Lookup::NotFound => {}
            }
        }
        let Some(card) = self.card_for(delivery) else {
            self.store
                .settle_dm(
                    dm.id,
                    DmState::Skipped,
                    None,
                    Some("the card is no longer in the library"),
                )
                .await?;
            return Ok(DmOutcome::NotSent);
        };
        // A DM mentions nobody, whatever the post did.
        match self.outbox.send(channel, &card, None, &key).await {
            Ok(message_id) => {
                self.store
                    .settle_dm(dm.id, DmState::Sent, Some(message_id), None)
                    .await?;
                Ok(DmOutcome::Sent)
            }
            Err(err) if err.failure == Failure::Forbidden => {
                // Discord's 50007: they share no server with DMs allowed, or blocked the bot.
                self.store
                    .settle_dm(dm.id, DmState::Failed, None, Some("their DMs are closed"))
                    .await?;
                self.store.dms_closed(dm.user_id, now).await?;
                Ok(DmOutcome::Closed)
            }
            Err(err) if err.failure == Failure::NotNow => {
                tracing::warn!(error = %err, "a DM could not be sent yet; it will be tried again");
                Ok(DmOutcome::LeftOpen)
            }
            Err(err) => {
                self.store
                    .settle_dm(dm.id, DmState::Failed, None, Some(&err.reason))
                    .await?;
                Ok(DmOutcome::NotSent)
            }
        }
    }

    /// Whether this is the DM's first try: claimed by this step, and not yet tried by this
    /// process in that second. The DM ledger keeps times in whole seconds and no count of tries,
    /// so a DM claimed in an earlier second (by this process, or one that died) may have gone
    /// out already.
    fn first_dm_try(&self, dm: &DmDelivery, claimed: DateTime<Utc>) -> bool {
        let second = claimed.timestamp();
        let mut tried = self
            .dms_tried
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tried.retain(|&(_, at)| at == second);
        dm.claimed_at.timestamp() == second && tried.insert((dm.id, second))
    }
}
