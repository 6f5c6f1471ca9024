//! Scheduled channel posts: the worker that finds what is due and posts each slot exactly once.
//!
//! One step, [`Scheduler::tick`], does all the work and can be called on its own; [`Scheduler::run`]
//! only repeats it and waits, on the clock the bot was given, for the next slot or a change.
//!
//! Every send goes through the platform's [`Outbox`] (`platform`), never its client directly.
//!
//! Exactly once, step by step: a due slot is claimed in the database (its ledger row, unique per
//! schedule and slot, with the card chosen), then sent with a key derived from that row (on
//! Discord, an enforced nonce), then recorded with its message id in the same transaction that
//! moves the rotation on. A claim left open (a crash, or the platform unreachable) is finished
//! later: inside the platform's repeat window by sending again with the same key, which the
//! platform drops as a duplicate; past it, or on a platform without one, by looking for the post
//! first. When that cannot tell, the slot is recorded as uncertain and not sent: at most once.
//!
//! Several processes: each looks after the servers of its own shards, says every few seconds
//! that it is alive, and finishes its own open claims and those of processes gone silent for the
//! takeover time. A claim is taken by compare and swap on its attempt count before anything is
//! sent, so however processes overlap, one of them goes on with it.

mod delivery;
mod dms;
pub mod retention;
mod sessions;

#[cfg(test)]
mod outbox_tests;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::clock::Clock;
use crate::domain::content::Library;
use crate::domain::planning::{next_pick, plan_due};
use crate::domain::shards::ShardRange;
use crate::platform::Outbox;
use crate::store::{
    Claim, ClaimOutcome, Delivery, DeliveryKind, DuePick, ScheduleRecord, Store,
    UnreadableSchedule, Worker,
};

pub use delivery::Delivered;
pub use sessions::{SessionsStep, StagePosted};

/// Tuning that production leaves at its defaults.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Names this process in the ledger's claims; unique to each start of each process.
    pub claimer: String,
    /// The shards whose servers this process schedules and delivers for.
    pub shards: ShardRange,
    /// A process not heard from for this long is taken to be dead, and its claims are finished
    /// by another. It says it is alive four times as often.
    pub takeover_after: chrono::Duration,
    /// A post older than this when its slot is reached is recorded as missed instead.
    pub catch_up: chrono::Duration,
    /// The organisation's one-off holidays, skipped by every schedule that skips holidays.
    pub extra_holidays: Vec<NaiveDate>,
    /// How many posts are sent at once. The platform's outbox paces them under its limits.
    pub concurrency: usize,
    /// The longest the worker sleeps before looking again, whatever is due.
    pub poll_every: chrono::Duration,
    /// How soon an open claim (the platform unreachable) is tried again.
    pub retry_every: chrono::Duration,
    /// Schedules claimed in one step at most; the rest are taken by the next.
    pub batch: u32,
    /// A reflective session still running this long after it started is ended.
    pub session_archive_after: chrono::Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            claimer: new_claimer(),
            shards: ShardRange::ALL,
            takeover_after: chrono::Duration::minutes(1),
            catch_up: chrono::Duration::hours(6),
            extra_holidays: Vec::new(),
            concurrency: 16,
            poll_every: chrono::Duration::minutes(5),
            retry_every: chrono::Duration::seconds(20),
            batch: 500,
            session_archive_after: crate::domain::session::DEFAULT_ARCHIVE_AFTER,
        }
    }
}

/// A name for this start of this process: its pid for an operator, and a random part because pids
/// repeat across machines and restarts.
fn new_claimer() -> String {
    format!(
        "careprompt-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// What one step did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub sent: usize,
    pub recovered: usize,
    pub failed: usize,
    pub uncertain: usize,
    pub missed: usize,
    pub holidays: usize,
    /// Claims left open to try again (the platform unreachable, or shutdown).
    pub left_open: usize,
    /// Cards sent by DM to people who opted in.
    pub dms: usize,
    /// Stage cards of reflective sessions posted by the step (after a restart, or by the clock).
    pub session_stages: usize,
    /// Reflective sessions ended because they were still running `session_archive_after` after
    /// they started.
    pub sessions_ended: usize,
}

#[derive(Debug)]
pub struct Scheduler {
    store: Store,
    outbox: Arc<dyn Outbox>,
    library: Arc<Library>,
    clock: Arc<dyn Clock>,
    options: SchedulerOptions,
    wake: Notify,
    /// Posts and DMs this process is sending right now, which a recovery must leave alone.
    in_flight: Arc<Mutex<HashSet<Work>>>,
    /// DMs this process has tried in the current second, with that second: on a platform without
    /// a repeat window, the DMs that are not first tries (`dms::first_dm_try`).
    dms_tried: Mutex<HashSet<(i64, i64)>>,
    /// Held from a claim until its send is marked in flight, and while open claims are looked
    /// for, so a claim just made by `/schedule post-now` is never taken for an abandoned one.
    claiming: tokio::sync::Mutex<()>,
    sending: Semaphore,
    /// Held while a session's stage card is claimed and sent.
    session_posting: tokio::sync::Mutex<()>,
}

/// What one post's send came to, and whether it finished an open claim rather than a fresh one.
struct PostSent {
    delivered: Delivered,
    recovering: bool,
}

/// What claiming a schedule's due slots came to: the slot to send, if one was claimed, and how
/// many slots were recorded as missed and as holidays.
#[derive(Default)]
struct ClaimedDue {
    delivery: Option<Delivery>,
    missed: usize,
    holidays: usize,
}

/// A send in flight: a channel post or a DM, by its ledger id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Work {
    Post(i64),
    Dm(i64),
}

/// What `/schedule post-now` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostNow {
    Posted {
        message_id: u64,
    },
    /// Another post of this schedule is being sent; nothing was claimed.
    Busy,
    /// Claimed but not (yet) posted; the worker finishes it.
    Pending {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

impl Scheduler {
    pub fn new(
        store: Store,
        outbox: Arc<dyn Outbox>,
        library: Arc<Library>,
        clock: Arc<dyn Clock>,
        options: SchedulerOptions,
    ) -> Scheduler {
        let sending = Semaphore::new(options.concurrency.max(1));
        Scheduler {
            store,
            outbox,
            library,
            clock,
            options,
            wake: Notify::new(),
            in_flight: Arc::new(Mutex::new(HashSet::new())),
            dms_tried: Mutex::default(),
            claiming: tokio::sync::Mutex::new(()),
            sending,
            session_posting: tokio::sync::Mutex::new(()),
        }
    }

    pub fn options(&self) -> &SchedulerOptions {
        &self.options
    }

    /// Asks the worker to look again now, after a schedule changed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Repeats [`Scheduler::tick`] until `shutdown` is cancelled. A step already running finishes
    /// the sends it began; no new one starts.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        tracing::info!(claimer = %self.options.claimer, shards = %self.options.shards, "scheduler started");
        tokio::join!(self.keep_alive(&shutdown), self.work(&shutdown));
        // Claims left open (the platform unreachable) may be finished by another process at once.
        if let Err(err) = self.store.retire(&self.options.claimer).await {
            tracing::warn!(error = %err, "could not tell other processes this one has stopped; they take over its claims after the takeover time");
        }
        tracing::info!("scheduler stopped");
    }

    /// Says this process is alive, so that no other process takes over its claims.
    async fn keep_alive(&self, shutdown: &CancellationToken) {
        let started_at = self.clock.now();
        let every = self.options.takeover_after / 4;
        while !shutdown.is_cancelled() {
            let now = self.clock.now();
            if let Err(err) = self
                .store
                .heartbeat(&self.options.claimer, &self.options.shards, started_at, now)
                .await
            {
                tracing::warn!(error = %err, "could not tell other processes this one is alive");
            }
            tokio::select! {
                () = self.clock.sleep_until(now + every) => {}
                () = shutdown.cancelled() => {}
            }
        }
    }

    /// This process, as the store's queries that share out work know it.
    fn worker(&self, now: DateTime<Utc>) -> Worker<'_> {
        Worker {
            claimer: &self.options.claimer,
            shards: self.options.shards,
            alive_since: now - self.options.takeover_after,
        }
    }

    async fn work(self: &Arc<Self>, shutdown: &CancellationToken) {
        let mut failures: u32 = 0;
        let mut steps: u64 = 0;
        while !shutdown.is_cancelled() {
            // Waits count from when the step began, so a step that ran long (the platform slow to
            // answer) does not push the retry of what it left open further away.
            let now = self.clock.now();
            steps += 1;
            // Numbered, so that one step's log lines can be told from another's.
            let step = tracing::info_span!("scheduler_step", step = steps);
            let report = self.tick(shutdown).instrument(step.clone()).await;
            let mut progress = false;
            let mut next = match report {
                Ok(report) => {
                    failures = 0;
                    progress = report.sent
                        + report.recovered
                        + report.failed
                        + report.uncertain
                        + report.missed
                        + report.holidays
                        + report.dms
                        + report.session_stages
                        + report.sessions_ended
                        > 0;
                    if progress {
                        crate::memory::note_activity();
                    }
                    if report != TickReport::default() {
                        step.in_scope(|| {
                            tracing::info!(
                                sent = report.sent,
                                recovered = report.recovered,
                                failed = report.failed,
                                uncertain = report.uncertain,
                                missed = report.missed,
                                holidays = report.holidays,
                                left_open = report.left_open,
                                dms = report.dms,
                                session_stages = report.session_stages,
                                sessions_ended = report.sessions_ended,
                                "scheduler step done"
                            )
                        });
                    }
                    let mut next = now + self.options.poll_every;
                    if report.left_open > 0 {
                        next = next.min(now + self.options.retry_every);
                    }
                    // Another process's claims become this one's if it has died: look again
                    // when they could.
                    match self.store.claims_held_elsewhere(&self.worker(now)).await {
                        Ok(true) => {
                            let recheck = self.options.retry_every.min(self.options.takeover_after);
                            next = next.min(now + recheck);
                        }
                        Ok(false) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "could not read whether other processes hold claims");
                        }
                    }
                    // An automatic session's stage that is up moves on at its time, and a session
                    // running too long is ended at its time.
                    match self
                        .store
                        .next_session_wake(&self.options.shards, self.options.session_archive_after)
                        .await
                    {
                        Ok(Some(due)) => next = next.min(due.max(now)),
                        Ok(None) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "could not read when a session moves on");
                        }
                    }
                    match self.store.next_wake(&self.options.shards).await {
                        Ok(Some(due)) => next.min(due.max(now)),
                        Ok(None) => next,
                        Err(err) => {
                            tracing::warn!(error = %err, "could not read when the next post is due");
                            next.min(now + self.options.retry_every)
                        }
                    }
                }
                Err(err) => {
                    metrics::counter!("careprompt_scheduler_step_failures_total").increment(1);
                    failures = failures.saturating_add(1);
                    let backoff =
                        self.options.retry_every * i32::try_from(failures.min(8)).unwrap_or(8);
                    step.in_scope(|| {
                        tracing::warn!(error = %format!("{err:#}"), retry_in_secs = backoff.num_seconds(), "scheduler step failed");
                    });
                    now + backoff
                }
            };
            if next <= now {
                if progress {
                    // More was due than one step takes (a large batch); go straight on.
                    tokio::task::yield_now().await;
                    continue;
                }
                // Due but not claimable yet (another process holds its claim): look again soon
                // rather than spin.
                next = now + self.options.retry_every;
            }
            tokio::select! {
                () = self.clock.sleep_until(next) => {}
                () = self.wake.notified() => {}
                () = shutdown.cancelled() => {}
            }
        }
    }

    /// One step: finish open claims, claim every due slot, and send what was claimed.
    pub async fn tick(
        self: &Arc<Self>,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<TickReport> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        let mut sends: JoinSet<PostSent> = JoinSet::new();

        let claiming = self.claiming.lock().await;
        for delivery in self.store.open_claims(&self.worker(now)).await? {
            if shutdown.is_cancelled() {
                break;
            }
            self.spawn_send(&mut sends, delivery, false);
        }

        drop(claiming);

        let due = self
            .store
            .due_schedules(now, self.options.batch, &self.options.shards)
            .await?;
        for schedule in &due.unreadable {
            self.switch_off_unreadable(schedule, now).await;
        }
        for schedule in due.due {
            if shutdown.is_cancelled() {
                break;
            }
            match self.claim_due(&schedule, now).await {
                Ok(claimed) => {
                    report.missed += claimed.missed;
                    report.holidays += claimed.holidays;
                    if let Some(delivery) = claimed.delivery {
                        self.spawn_send(&mut sends, delivery, true);
                    }
                }
                Err(err) => {
                    tracing::warn!(schedule = schedule.id, error = %format!("{err:#}"), "could not claim a due post");
                }
            }
        }

        while let Some(joined) = sends.join_next().await {
            match joined {
                Ok(PostSent {
                    delivered,
                    recovering,
                }) => {
                    metrics::counter!("careprompt_deliveries_total", "outcome" => delivered.label())
                        .increment(1);
                    match delivered {
                        Delivered::Sent { .. } => {
                            if recovering {
                                report.recovered += 1;
                            } else {
                                report.sent += 1;
                            }
                        }
                        Delivered::Failed { .. } => report.failed += 1,
                        Delivered::Uncertain { .. } => report.uncertain += 1,
                        Delivered::Missed => report.missed += 1,
                        Delivered::LeftOpen { .. } => report.left_open += 1,
                        Delivered::Gone => {}
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "a delivery task failed");
                    report.left_open += 1;
                }
            }
        }
        // DMs go after the channel posts, so a fan-out never holds up a team's post.
        let fanned_out = self.fan_out(shutdown).await?;
        report.dms += fanned_out.sent;
        report.left_open += fanned_out.left_open;
        // Sessions after posts and DMs; a failure here is the sessions' own and holds up nothing.
        match self.sessions_step().await {
            Ok(step) => {
                report.session_stages += step.posted;
                report.sessions_ended += step.ended;
                report.left_open += step.left_open;
            }
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "could not carry reflective sessions on");
            }
        }
        Ok(report)
    }

    /// Sends a claimed post (`fresh`) or finishes an open claim beside the step's other sends,
    /// unless this process is sending it already. The send's span goes under the step's.
    fn spawn_send(
        self: &Arc<Self>,
        sends: &mut JoinSet<PostSent>,
        delivery: Delivery,
        fresh: bool,
    ) {
        if let Some(guard) = self.begin(Work::Post(delivery.id)) {
            let task = Arc::clone(self);
            sends.spawn(
                async move {
                    let _guard = guard;
                    PostSent {
                        delivered: task.deliver(delivery, fresh).await,
                        recovering: !fresh,
                    }
                }
                .in_current_span(),
            );
        }
    }

    /// A schedule whose stored settings no longer parse is switched off with its reason, which
    /// `/schedule list` shows, instead of failing every other schedule in the batch.
    async fn switch_off_unreadable(&self, schedule: &UnreadableSchedule, now: DateTime<Utc>) {
        metrics::counter!("careprompt_schedules_unreadable_total").increment(1);
        tracing::warn!(
            schedule = schedule.id,
            reason = %schedule.reason,
            "a schedule can no longer be read; it is switched off until an admin sets it again"
        );
        if let Err(err) = self.store.switch_off_unreadable(schedule, now).await {
            tracing::warn!(schedule = schedule.id, error = %err, "could not switch off an unreadable schedule; it is tried again next time");
        }
    }

    /// Claims the schedule's due slot and records the slots that passed.
    async fn claim_due(
        &self,
        schedule: &ScheduleRecord,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ClaimedDue> {
        let Some(next_due) = schedule.next_due else {
            return Ok(ClaimedDue::default());
        };
        let resume_at = schedule.paused.then_some(schedule.paused_until).flatten();
        let plan = plan_due(
            &schedule.settings,
            &self.options.extra_holidays,
            next_due,
            resume_at,
            now,
            self.options.catch_up,
        );
        let post = match plan.post {
            Some(slot) => Some((slot, self.pick(schedule)?)),
            None => None,
        };
        let missed = plan.missed.len() + plan.missed_uncounted;
        if missed > 0 {
            tracing::warn!(
                schedule = schedule.id,
                missed,
                "posts were missed while careprompt could not send them; they are recorded, not sent late"
            );
        }
        let claim = Claim {
            schedule_id: schedule.id,
            version: schedule.version,
            kind: DeliveryKind::Scheduled,
            plan: Some(&plan),
            post,
            claimer: &self.options.claimer,
        };
        let recorded = |delivery| ClaimedDue {
            delivery,
            missed,
            holidays: plan.holidays.len(),
        };
        match self.store.claim(&claim, now).await? {
            ClaimOutcome::Claimed(delivery) => Ok(recorded(Some(*delivery))),
            ClaimOutcome::Recorded => Ok(recorded(None)),
            ClaimOutcome::Busy => Ok(ClaimedDue::default()),
        }
    }

    fn pick(&self, schedule: &ScheduleRecord) -> anyhow::Result<DuePick> {
        let (pick, rotation_after) =
            next_pick(&self.library, &schedule.settings, &schedule.rotation)?;
        Ok(DuePick {
            pick,
            rotation_after,
        })
    }

    /// `/schedule post-now`: posts the schedule's next card at once and moves its rotation on,
    /// through the same ledger as scheduled posts.
    pub async fn post_now(&self, schedule: &ScheduleRecord) -> anyhow::Result<PostNow> {
        let now = self.clock.now();
        let claim = Claim {
            schedule_id: schedule.id,
            version: schedule.version,
            kind: DeliveryKind::Manual,
            plan: None,
            post: Some((now, self.pick(schedule)?)),
            claimer: &self.options.claimer,
        };
        let claiming = self.claiming.lock().await;
        let delivery = match self.store.claim(&claim, now).await? {
            ClaimOutcome::Claimed(delivery) => *delivery,
            ClaimOutcome::Recorded | ClaimOutcome::Busy => return Ok(PostNow::Busy),
        };
        let Some(guard) = self.begin(Work::Post(delivery.id)) else {
            return Ok(PostNow::Busy);
        };
        drop(claiming);
        let outcome = self.deliver(delivery, true).await;
        drop(guard);
        Ok(match outcome {
            Delivered::Sent { message_id } => PostNow::Posted { message_id },
            Delivered::Failed { reason } | Delivered::Uncertain { reason } => {
                PostNow::Failed { reason }
            }
            Delivered::LeftOpen { reason } => PostNow::Pending { reason },
            Delivered::Missed | Delivered::Gone => PostNow::Failed {
                reason: "the schedule changed while posting".to_string(),
            },
        })
    }

    /// Whether a send claimed at `claimed_at` is still inside the platform's repeat window at
    /// `now`, so that sending it again with the same key cannot make a second copy.
    fn repeat_dropped(&self, claimed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.outbox
            .repeat_window()
            .is_some_and(|window| now - claimed_at <= window)
    }

    /// Marks a delivery as being sent by this process; `None` if it already is.
    fn begin(&self, work: Work) -> Option<InFlight> {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        in_flight.insert(work).then(|| InFlight {
            set: Arc::clone(&self.in_flight),
            work,
        })
    }
}

/// Removes a delivery from the in-flight set when its send ends, however it ends.
struct InFlight {
    set: Arc<Mutex<HashSet<Work>>>,
    work: Work,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&self.work);
    }
}
