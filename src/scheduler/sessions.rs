//! Reflective sessions (`/session`): posting each stage card exactly once, by the same rules as
//! scheduled posts (claim, nonce, record, look before sending again, and take over another
//! process's claim only once it has gone unheard for the takeover time), and the step that
//! carries running sessions on: after a restart from their current stage, for automatic
//! sessions when a stage's time is up, and ending a session still running `[sessions]
//! archive_after` after it started.

use chrono::{DateTime, Utc};

use super::Scheduler;
use crate::cards::{stage_card, CardState, SessionView};
use crate::domain::session::{deadline, StageKind};
use crate::platform::{Failure, Lookup, Mark, SendKey, Unknown};
use crate::store::{session_nonce, SessionRecord, StagePost};

/// A session whose thread was never recorded this long after it started was cut short while
/// starting (careprompt stopped between the two), and is ended so the channel is free again.
const HALF_MADE_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// What posting a stage card came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StagePosted {
    Sent(u64),
    /// It had been posted already; nothing was sent.
    Already(u64),
    /// Not posted now (the platform could not take it, or the thread is not open yet); the next
    /// step tries again soon.
    NotNow,
    /// Claimed earlier and perhaps posted, which careprompt cannot tell from the thread: not
    /// risked twice. A later step looks again, at its usual pace, as retrying sooner would not
    /// tell it more.
    Uncertain,
    /// Another process that is alive is posting it.
    Elsewhere,
    /// The platform refused it: [`Failure::Forbidden`] (a missing permission) or
    /// [`Failure::Gone`] (the thread is gone).
    Refused(Failure),
}

impl Scheduler {
    /// The view the session's cards are drawn from; `None` if its theme has left the library.
    pub fn session_view<'a>(&'a self, session: &SessionRecord) -> Option<SessionView<'a>> {
        let theme = self.library.theme(&session.theme)?;
        let story = session
            .story_id
            .as_deref()
            .and_then(|id| self.library.story(id));
        Some(SessionView {
            id: session.id,
            theme,
            story,
            minutes: session.minutes,
            auto: session.auto,
        })
    }

    /// Posts the session's current stage in its thread, once: a stage already recorded is not
    /// sent again, and one claimed but not recorded (careprompt stopped while sending) is sent
    /// again with the same key inside the platform's repeat window (Discord's nonce window), and
    /// looked for first after it or on a platform without one.
    #[tracing::instrument(name = "session_stage", skip_all, fields(session = session.id, stage = session.stage))]
    pub async fn post_stage(&self, session: &SessionRecord) -> anyhow::Result<StagePosted> {
        let Some(thread) = session.thread_id else {
            return Ok(StagePosted::NotNow);
        };
        let Some(view) = self.session_view(session) else {
            anyhow::bail!("the session's theme is no longer in the library");
        };
        let state = if session.paused_left.is_some() {
            CardState::Paused
        } else {
            CardState::Live
        };
        let Some(card) = stage_card(&view, session.stage, state) else {
            anyhow::bail!("the session is at a stage it does not have");
        };
        let key = SendKey {
            token: session_nonce(session.id, session.stage),
            mark: Mark::Stage {
                session: session.id,
                stage: session.stage,
            },
        };
        // One stage card at a time in this process, so a click and the worker's step never both
        // send the same one.
        let _posting = self.session_posting.lock().await;
        let now = self.clock.now();
        let worker = self.worker(now);
        let send = match self
            .store
            .claim_stage_post(session.id, session.stage, &worker, now)
            .await?
        {
            StagePost::Posted(message) => return Ok(StagePosted::Already(message)),
            StagePost::Held => return Ok(StagePosted::Elsewhere),
            StagePost::Fresh => true,
            StagePost::Taken(claimed_at) if self.repeat_dropped(claimed_at, now) => true,
            StagePost::Taken(claimed_at) => {
                match self.outbox.look_for(thread, &key, claimed_at).await {
                    Lookup::Found(message) => {
                        self.store
                            .record_stage_post(session.id, session.stage, message)
                            .await?;
                        return Ok(StagePosted::Already(message));
                    }
                    Lookup::NotFound => {
                        self.store
                            .reclaim_stage_post(session.id, session.stage, worker.claimer, now)
                            .await?
                    }
                    // The platform did not answer the look: a look soon may, as for a failed
                    // send.
                    Lookup::CannotTell(Unknown::Unreadable(err)) => {
                        tracing::warn!(session = session.id, error = %err, "could not read a session's thread");
                        return Ok(StagePosted::NotNow);
                    }
                    Lookup::CannotTell(Unknown::Crowded | Unknown::NoWay) => {
                        tracing::warn!(
                            session = session.id,
                            "cannot tell whether a session stage was posted; it is not sent again"
                        );
                        false
                    }
                }
            }
        };
        if !send {
            return Ok(StagePosted::Uncertain);
        }
        match self.outbox.send(thread, &card, None, &key).await {
            Ok(message) => {
                self.store
                    .record_stage_post(session.id, session.stage, message)
                    .await?;
                tracing::info!(
                    session = session.id,
                    stage = session.stage,
                    "posted a session stage"
                );
                Ok(StagePosted::Sent(message))
            }
            Err(err) => {
                tracing::warn!(session = session.id, error = %err, "a session stage could not be posted yet; it will be tried again");
                Ok(match err.failure {
                    failure @ (Failure::Forbidden | Failure::Gone) => StagePosted::Refused(failure),
                    Failure::Refused | Failure::NotNow => StagePosted::NotNow,
                })
            }
        }
    }

    /// Moves a session on from `from` to the next stage and posts it; false if it had moved on
    /// already (another click, or the clock), or there is no next stage.
    pub async fn next_stage(&self, session: &SessionRecord, from: u32) -> anyhow::Result<bool> {
        let Some(view) = self.session_view(session) else {
            anyhow::bail!("the session's theme is no longer in the library");
        };
        let stages = view.stages();
        let to = from + 1;
        let Some(stage) = stages.get(usize::try_from(to).unwrap_or(usize::MAX)) else {
            return Ok(false);
        };
        let now = self.clock.now();
        let until = (session.auto && stage.kind != StageKind::Close).then(|| deadline(stage, now));
        if !self
            .store
            .move_session(session.id, from, to, until, now)
            .await?
        {
            return Ok(false);
        }
        let moved = SessionRecord {
            stage: to,
            stage_started_at: now,
            stage_deadline: until,
            paused_left: None,
            ..session.clone()
        };
        self.post_stage(&moved).await?;
        self.wake();
        Ok(true)
    }

    /// Ends a running session as `/session end` does: recorded as ended, and its thread
    /// archived, which keeps what was said but closes it to new replies. False if it had ended
    /// already.
    pub async fn end_session(
        &self,
        session: &SessionRecord,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        if !self.store.end_session(session.id, now).await? {
            return Ok(false);
        }
        if let Some(thread) = session.thread_id {
            if let Err(err) = self.outbox.close(thread).await {
                tracing::warn!(session = session.id, error = %err, "could not archive a session's thread");
            }
        }
        Ok(true)
    }

    /// One step over the running sessions of this process's servers: ends sessions running for
    /// longer than `session_archive_after` and those that never got their thread, posts any
    /// current stage not yet posted (after a restart, or a process that died), and moves
    /// automatic sessions on whose time is up.
    pub async fn sessions_step(&self) -> anyhow::Result<SessionsStep> {
        let now = self.clock.now();
        let mut step = SessionsStep::default();
        for session in self.store.running_sessions().await? {
            if !self.options.shards.owns(session.guild_id) {
                continue;
            }
            if session.thread_id.is_none() {
                if now - session.started_at > HALF_MADE_AFTER {
                    self.store.end_session(session.id, now).await?;
                }
                continue;
            }
            if now - session.started_at >= self.options.session_archive_after {
                // Nobody asked for this end, so there is nobody to give the summary to.
                match self.end_session(&session, now).await {
                    Ok(true) => {
                        tracing::info!(
                            session = session.id,
                            "a reflective session was still running long after it started; it is ended and its thread archived"
                        );
                        step.ended += 1;
                    }
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(session = session.id, error = %format!("{err:#}"), "could not end a session that ran too long");
                    }
                }
                continue;
            }
            let outcome = self.post_stage(&session).await;
            match outcome {
                Ok(StagePosted::Sent(_)) => step.posted += 1,
                Ok(StagePosted::Refused(Failure::Gone)) => {
                    // The thread was deleted: there is nowhere left to run the session.
                    tracing::info!(
                        session = session.id,
                        "a session's thread is gone; the session is ended"
                    );
                    self.store.end_session(session.id, now).await?;
                    continue;
                }
                Ok(StagePosted::NotNow) => step.left_open += 1,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(session = session.id, error = %format!("{err:#}"), "could not carry a session on");
                    continue;
                }
            }
            let due = session
                .stage_deadline
                .is_some_and(|deadline| deadline <= now);
            let is_close = self
                .session_view(&session)
                .and_then(|view| {
                    view.stages()
                        .get(usize::try_from(session.stage).ok()?)
                        .map(|stage| stage.kind == StageKind::Close)
                })
                .unwrap_or(true);
            // The close waits for the facilitator, who gets the summary when they end it.
            if session.auto && due && session.paused_left.is_none() && !is_close {
                match self.next_stage(&session, session.stage).await {
                    Ok(true) => step.posted += 1,
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(session = session.id, error = %format!("{err:#}"), "could not move a session on");
                    }
                }
            }
        }
        Ok(step)
    }
}

/// What one step over the running sessions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionsStep {
    /// Stage cards posted.
    pub posted: usize,
    /// Sessions ended for running longer than `session_archive_after`.
    pub ended: usize,
    /// Stage cards claimed but not posted (the platform unreachable), to try again soon.
    pub left_open: usize,
}
