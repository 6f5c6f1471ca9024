//! The scheduler against a platform of the tests' own making: what it does when the platform has
//! no repeat window (no nonce, as on Teams) and can or cannot tell whether a send went out. On
//! Discord the same paths are covered end to end against the fake Discord (tests/it).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{Scheduler, SchedulerOptions, StagePosted};
use crate::cards::Card;
use crate::clock::ManualClock;
use crate::domain::settings::ScheduleSettings;
use crate::platform::{Failure, Lookup, Mark, Outbox, SendError, SendKey, Unknown};
use crate::store::{DeliveryState, NewSchedule, NewSession, SessionRecord, SessionStart, Store};

const GUILD: u64 = 10;
const CHANNEL: u64 = 20;
const PERSON: u64 = 30;
/// The private place the fake opens for a person.
const PRIVATE: u64 = 40;
const THREAD: u64 = 50;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

/// A platform without a repeat window, whose sends answer as the test says, in turn (then with a
/// new message's id), and whose looks answer `lookup`.
#[derive(Debug)]
struct Fake {
    /// `None` answers with a new message's id.
    answers: Mutex<VecDeque<Option<Failure>>>,
    lookup: Lookup,
    /// Every send asked of it, answered or not: the place and the key.
    sends: Mutex<Vec<(u64, SendKey)>>,
    looks: Mutex<Vec<(u64, Mark)>>,
}

impl Fake {
    fn new(answers: &[Option<Failure>], lookup: Lookup) -> Arc<Fake> {
        Arc::new(Fake {
            answers: Mutex::new(answers.iter().copied().collect()),
            lookup,
            sends: Mutex::default(),
            looks: Mutex::default(),
        })
    }

    fn sends_to(&self, place: u64) -> Vec<SendKey> {
        let sends = self.sends.lock().expect("sends");
        sends
            .iter()
            .filter(|(to, _)| *to == place)
            .map(|(_, key)| key.clone())
            .collect()
    }

    fn looks(&self) -> Vec<(u64, Mark)> {
        self.looks.lock().expect("looks").clone()
    }
}

#[async_trait::async_trait]
impl Outbox for Fake {
    fn name(&self) -> &'static str {
        "the fake"
    }

    fn repeat_window(&self) -> Option<chrono::Duration> {
        None
    }

    async fn send(
        &self,
        place: u64,
        _card: &Card,
        _ping: Option<u64>,
        key: &SendKey,
    ) -> Result<u64, SendError> {
        let count = {
            let mut sends = self.sends.lock().expect("sends");
            sends.push((place, key.clone()));
            sends.len()
        };
        match self.answers.lock().expect("answers").pop_front().flatten() {
            Some(failure) => Err(SendError {
                failure,
                reason: format!("the fake answered {failure:?}"),
                detail: format!("the fake answered {failure:?}"),
            }),
            None => Ok(1000 + u64::try_from(count).expect("a count")),
        }
    }

    async fn look_for(&self, place: u64, key: &SendKey, _since: DateTime<Utc>) -> Lookup {
        self.looks.lock().expect("looks").push((place, key.mark));
        self.lookup.clone()
    }

    async fn private_place(&self, _person: u64) -> Result<u64, SendError> {
        Ok(PRIVATE)
    }

    async fn open_replies(&self, _place: u64, _message: u64, _name: &str) -> Result<(), SendError> {
        Ok(())
    }

    async fn close(&self, _place: u64) -> Result<(), SendError> {
        Ok(())
    }
}

struct Scene {
    store: Store,
    clock: ManualClock,
    scheduler: Arc<Scheduler>,
}

async fn scene(fake: &Arc<Fake>, now: DateTime<Utc>) -> Scene {
    let store = Store::connect("sqlite::memory:", 1).await.expect("a store");
    let library = Arc::new(crate::library::built_in().expect("the built-in library"));
    let clock = ManualClock::new(now);
    let outbox: Arc<dyn Outbox> = fake.clone();
    let scheduler = Arc::new(Scheduler::new(
        store.clone(),
        outbox,
        library,
        Arc::new(clock.clone()),
        SchedulerOptions::default(),
    ));
    Scene {
        store,
        clock,
        scheduler,
    }
}

/// A weekly schedule of the channel (09:00 on Mondays, London time), next due at `due`; its id.
async fn schedule_weekly(store: &Store, due: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let settings = ScheduleSettings::parse("0 9 * * MON", "Europe/London", "none", false)
        .expect("valid settings");
    let schedule = NewSchedule {
        guild_id: GUILD,
        channel_id: CHANNEL,
        settings,
        role_ping: None,
        thread: false,
        created_by: PERSON,
        seed: 7,
        next_due: Some(due),
    };
    store
        .upsert_schedule(&schedule, now)
        .await
        .expect("scheduled")
        .id
}

/// A scene at 08:00 on a Monday with the channel's weekly post due at 09:00, and the person
/// opted in to its DMs if `opted_in`; the clock is then set to 09:00. The schedule's id with it.
async fn due_at_nine(fake: &Arc<Fake>, opted_in: bool) -> (Scene, i64) {
    let before = at("2027-01-04T08:00:00Z");
    let scene = scene(fake, before).await;
    let schedule = schedule_weekly(&scene.store, at("2027-01-04T09:00:00Z"), before).await;
    if opted_in {
        scene
            .store
            .set_dm_optin(PERSON, GUILD, true, before)
            .await
            .expect("opted in");
    }
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    (scene, schedule)
}

async fn tick(scene: &Scene) -> super::TickReport {
    scene
        .scheduler
        .tick(&CancellationToken::new())
        .await
        .expect("a step")
}

#[tokio::test]
async fn a_post_that_may_have_gone_out_is_never_sent_again_and_is_recorded_uncertain() {
    // The first send's answer never came: on a platform without a nonce it may have gone out.
    let fake = Fake::new(&[Some(Failure::NotNow)], Lookup::CannotTell(Unknown::NoWay));
    let (scene, schedule) = due_at_nine(&fake, false).await;

    let first = tick(&scene).await;
    assert_eq!((first.sent, first.left_open), (0, 1), "{first:?}");

    // The claim is finished by looking, not by sending again: the platform cannot tell.
    scene.clock.advance(chrono::Duration::seconds(20));
    let second = tick(&scene).await;
    assert_eq!((second.sent, second.uncertain), (0, 1), "{second:?}");
    assert_eq!(second.left_open, 0, "settled, not left to try again");
    assert_eq!(fake.looks(), vec![(CHANNEL, Mark::Delivery(1))]);

    scene.clock.advance(chrono::Duration::hours(1));
    let later = tick(&scene).await;
    assert_eq!(later, super::TickReport::default());
    assert_eq!(fake.sends_to(CHANNEL).len(), 1, "sent once only");

    let ledger = scene
        .store
        .recent_deliveries(schedule, 5)
        .await
        .expect("the ledger");
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].state, DeliveryState::Uncertain);
    let detail = ledger[0].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("no way to check"), "{detail}");
}

#[tokio::test]
async fn a_post_that_surely_did_not_go_out_is_sent_again_once_after_looking() {
    let fake = Fake::new(&[Some(Failure::NotNow)], Lookup::NotFound);
    let (scene, schedule) = due_at_nine(&fake, false).await;

    assert_eq!(tick(&scene).await.left_open, 1);
    scene.clock.advance(chrono::Duration::seconds(20));
    let second = tick(&scene).await;
    assert_eq!((second.recovered, second.uncertain), (1, 0), "{second:?}");
    assert_eq!(fake.looks().len(), 1, "looked before sending again");

    let sends = fake.sends_to(CHANNEL);
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0], sends[1], "the second try is the same send");
    let ledger = scene
        .store
        .recent_deliveries(schedule, 5)
        .await
        .expect("the ledger");
    assert_eq!(ledger[0].state, DeliveryState::Sent);
}

#[tokio::test]
async fn a_dm_is_sent_on_its_first_try_without_looking() {
    let fake = Fake::new(&[], Lookup::CannotTell(Unknown::NoWay));
    let (scene, _) = due_at_nine(&fake, true).await;

    let step = tick(&scene).await;
    assert_eq!((step.sent, step.dms, step.left_open), (1, 1, 0), "{step:?}");
    assert!(
        fake.looks().is_empty(),
        "a first try is sent without looking"
    );
    let dms = fake.sends_to(PRIVATE);
    assert_eq!(dms.len(), 1);
    assert_eq!(dms[0].mark, Mark::Delivery(1));
    assert_ne!(dms[0].token, fake.sends_to(CHANNEL)[0].token);
}

#[tokio::test]
async fn a_dm_that_may_have_gone_out_is_not_tried_again_even_within_the_same_second() {
    // The channel's post goes out; the DM's answer never comes.
    let fake = Fake::new(
        &[None, Some(Failure::NotNow)],
        Lookup::CannotTell(Unknown::NoWay),
    );
    let (scene, _) = due_at_nine(&fake, true).await;

    let first = tick(&scene).await;
    assert_eq!(
        (first.sent, first.dms, first.left_open),
        (1, 0, 1),
        "{first:?}"
    );

    // The clock has not moved: the ledger's time cannot tell this try from the first.
    let second = tick(&scene).await;
    assert_eq!((second.dms, second.left_open), (0, 0), "{second:?}");
    assert_eq!(fake.looks(), vec![(PRIVATE, Mark::Delivery(1))]);

    scene.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(tick(&scene).await, super::TickReport::default());
    assert_eq!(fake.sends_to(PRIVATE).len(), 1, "tried once only");
}

#[tokio::test]
async fn a_stage_card_that_may_have_gone_out_is_not_posted_twice() {
    let fake = Fake::new(&[Some(Failure::NotNow)], Lookup::CannotTell(Unknown::NoWay));
    let now = at("2027-01-04T09:00:00Z");
    let scene = scene(&fake, now).await;
    let library = crate::library::built_in().expect("the built-in library");
    let theme = &library.themes[0];
    let new = NewSession {
        guild_id: GUILD,
        channel_id: CHANNEL,
        facilitator_id: PERSON,
        theme: &theme.slug,
        story_id: None,
        minutes: 30,
        auto: false,
    };
    let SessionStart::Started(session) = scene
        .store
        .start_session(&new, None, now)
        .await
        .expect("started")
    else {
        panic!("the channel had a session running");
    };
    scene
        .store
        .set_session_thread(session.id, THREAD)
        .await
        .expect("a thread");
    let session = SessionRecord {
        thread_id: Some(THREAD),
        ..*session
    };

    let post = |session: SessionRecord| {
        let scheduler = Arc::clone(&scene.scheduler);
        async move { scheduler.post_stage(&session).await.expect("posting") }
    };
    assert_eq!(post(session.clone()).await, StagePosted::NotNow);
    scene.clock.advance(chrono::Duration::seconds(20));
    assert_eq!(post(session.clone()).await, StagePosted::Uncertain);
    scene.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(post(session).await, StagePosted::Uncertain);
    assert_eq!(fake.sends_to(THREAD).len(), 1, "sent once only");
    let stage = Mark::Stage {
        session: 1,
        stage: 0,
    };
    assert_eq!(fake.looks(), vec![(THREAD, stage), (THREAD, stage)]);
}
