//! Reflective sessions (`/session`) end to end against the fake Discord: planning, with the brief
//! only the facilitator sees, starting in a thread, the question the bullying and harassment
//! session asks first (nothing posted until its facilitator answers Start), the facilitator's
//! buttons and a stranger's, ending with a summary, one session per channel, a restart
//! mid-session, an automatic session on the test's clock, a forgotten session ended after
//! `[sessions] archive_after`, and a missing thread permission. The clock only moves when a test
//! moves it.

use std::time::Duration;

use careprompt::clock::Clock;
use careprompt::config::OrgSupport;
use careprompt::domain::insights::{week_of, Measure};
use careprompt::domain::session::{CONCERN_POINTER, CONFIRM_WINDOW};
use careprompt::store::session_nonce;
use serde_json::{json, Value};

use crate::bot::assert_pings_nobody;
use crate::personal::{Backend, Scene};
use crate::support::{
    ButtonClick, CommandInvocation, FakeDiscord, Fault, InteractionReply, RouteMatch,
    ADMIN_PERMISSIONS, CHANNEL_ID,
};

pub(crate) const FACILITATOR: u64 = 555_000_000_000_000_555;
const STRANGER: u64 = 666_000_000_000_000_666;
const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn session_command(sub: &str) -> CommandInvocation {
    CommandInvocation::guild("session")
        .subcommand(sub)
        .permissions(ADMIN_PERMISSIONS)
        .user(FACILITATOR)
}

/// Everything a reply or message says, in its content and embeds.
pub(crate) fn text_of(message: &Value) -> String {
    let mut text = message["content"].as_str().unwrap_or_default().to_string();
    for embed in message["embeds"].as_array().into_iter().flatten() {
        text.push_str(embed["title"].as_str().unwrap_or_default());
        text.push_str(embed["description"].as_str().unwrap_or_default());
        for field in embed["fields"].as_array().into_iter().flatten() {
            text.push_str(field["name"].as_str().unwrap_or_default());
            text.push_str(field["value"].as_str().unwrap_or_default());
        }
    }
    text
}

fn reply_text(reply: &InteractionReply) -> String {
    text_of(&reply.data)
}

/// The custom id of the button labelled `label` on a message.
pub(crate) fn button(message: &Value, label: &str) -> String {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|button| button["label"] == label)
        .and_then(|button| button["custom_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("a {label} button on {message}"))
}

/// The one thread careprompt opened.
pub(crate) fn thread(fake: &FakeDiscord) -> u64 {
    let threads = fake.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    threads[0]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a thread id")
}

/// Waits until the thread holds `count` messages, and returns them oldest first.
pub(crate) async fn wait_stages(fake: &FakeDiscord, thread: u64, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut messages = fake.messages_in(thread);
        if messages.len() >= count {
            messages.sort_by_key(|message| {
                message["id"].as_str().and_then(|id| id.parse::<u64>().ok())
            });
            assert_eq!(messages.len(), count, "no stage is posted twice");
            return messages;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the thread has {} messages, not {count}",
            messages.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn click(fake: &FakeDiscord, user: u64, custom_id: &str) -> InteractionReply {
    let mut click = ButtonClick::guild(custom_id).user(user);
    click.permissions = ADMIN_PERMISSIONS;
    if let Some(message) = fake.message_with_button(custom_id) {
        click = click.message(message);
    }
    fake.click_button(click).await.expect("answered")
}

async fn start(scene: &Scene, theme: &str, auto: bool) -> InteractionReply {
    let reply = scene
        .command(
            session_command("start")
                .option_str("theme", theme)
                .option_bool("auto", auto),
        )
        .await;
    assert!(reply.ephemeral());
    reply
}

#[tokio::test]
async fn a_session_runs_from_plan_to_summary_on_sqlite() {
    a_session_runs_from_plan_to_summary(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_session_runs_from_plan_to_summary_on_postgres() {
    a_session_runs_from_plan_to_summary(Backend::Postgres).await;
}

async fn a_session_runs_from_plan_to_summary(backend: Backend) {
    let mut scene = Scene::start_on(backend, |_| {}).await;

    let plan = scene
        .command(session_command("plan").option_str("theme", "resilience"))
        .await;
    assert!(plan.ephemeral(), "the plan is private");
    let outline = reply_text(&plan);
    assert!(outline.contains("Welcome and ground rules"), "{outline}");
    assert!(outline.contains("What will you take with you"), "{outline}");
    assert!(scene.fake.threads().is_empty());

    let refused = scene
        .command(
            CommandInvocation::guild("session")
                .subcommand("start")
                .option_str("theme", "resilience")
                .user(STRANGER),
        )
        .await;
    assert!(refused.ephemeral());
    assert!(reply_text(&refused).contains("Manage Server"));
    assert!(scene.fake.threads().is_empty());

    let started = start(&scene, "resilience", false).await;
    let thread = thread(&scene.fake);
    assert!(reply_text(&started).contains(&format!("<#{thread}>")));
    let name = scene.fake.threads()[0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        name.contains("Resilience") && name.contains("2027"),
        "{name}"
    );
    assert_eq!(
        scene.fake.threads()[0]["thread_metadata"]["auto_archive_duration"],
        json!(1440),
        "the default four hours' session fits in Discord's day of quiet"
    );
    let stages = wait_stages(&scene.fake, thread, 1).await;
    assert!(text_of(&stages[0]).contains("Ground rules"));
    assert!(stages[0]["allowed_mentions"]["parse"]
        .as_array()
        .is_none_or(Vec::is_empty));

    let next = button(&stages[0], "Next");
    let stranger = click(&scene.fake, STRANGER, &next).await;
    assert!(stranger.ephemeral());
    assert!(reply_text(&stranger).contains("Only the person running this session can move it on"));
    assert_eq!(scene.fake.messages_in(thread).len(), 1);

    let moved = click(&scene.fake, FACILITATOR, &next).await;
    assert_eq!(moved.callback_type, 7, "the old card loses its controls");
    assert_pings_nobody(&moved);
    let stages = wait_stages(&scene.fake, thread, 2).await;
    assert!(text_of(&stages[1]).contains("The story"));

    let paused = click(&scene.fake, FACILITATOR, &button(&stages[1], "Pause")).await;
    assert_eq!(paused.callback_type, 7);
    let resume = paused
        .buttons()
        .iter()
        .find(|button| button["label"] == "Resume")
        .and_then(|button| button["custom_id"].as_str().map(str::to_string))
        .expect("a Resume button");
    let resumed = click(&scene.fake, FACILITATOR, &resume).await;
    assert!(resumed
        .buttons()
        .iter()
        .any(|button| button["label"] == "Pause"));

    let second = start(&scene, "compassion", false).await;
    let refusal = reply_text(&second);
    assert!(refusal.contains(&format!("<#{thread}>")), "{refusal}");
    assert_eq!(scene.fake.threads().len(), 1);

    let ended = click(&scene.fake, FACILITATOR, &button(&stages[1], "End")).await;
    assert!(ended.ephemeral());
    let summary = reply_text(&ended);
    assert!(summary.contains("stage 2 of 6"), "{summary}");
    assert_eq!(
        scene.fake.threads()[0]["thread_metadata"]["archived"],
        json!(true)
    );
    scene
        .wait_count("SELECT COUNT(*) FROM sessions WHERE state = 'ended'", 1)
        .await;
    let again = start(&scene, "compassion", false).await;
    assert!(reply_text(&again).contains("has started"));
    scene.finish().await;
}

/// A session moved on to its story card, which Discord took but careprompt did not record, as
/// when careprompt stopped between the two; returns the session's thread.
async fn story_card_unrecorded(scene: &mut Scene) -> u64 {
    start(scene, "compassion", false).await;
    let thread = thread(&scene.fake);
    let stages = wait_stages(&scene.fake, thread, 1).await;
    click(&scene.fake, FACILITATOR, &button(&stages[0], "Next")).await;
    wait_stages(&scene.fake, thread, 2).await;
    scene
        .execute("UPDATE session_posts SET message_id = NULL WHERE stage = 1")
        .await;
    thread
}

#[tokio::test]
async fn a_restart_mid_session_carries_on_without_posting_a_stage_twice() {
    let mut scene = Scene::start_on(Backend::Sqlite, |_| {}).await;
    let thread = story_card_unrecorded(&mut scene).await;
    // Long enough ago that the nonce no longer protects it, so it must look before sending.
    scene.restart_later(chrono::Duration::minutes(10)).await;
    scene
        .wait_count(
            "SELECT COUNT(*) FROM session_posts WHERE stage = 1 AND message_id IS NOT NULL",
            1,
        )
        .await;
    let stages = wait_stages(&scene.fake, thread, 2).await;
    click(&scene.fake, FACILITATOR, &button(&stages[1], "Next")).await;
    let stages = wait_stages(&scene.fake, thread, 3).await;
    assert!(text_of(&stages[2]).contains("question 1 of 3"));
    scene.finish().await;
}

#[tokio::test]
async fn a_thread_that_cannot_be_read_after_a_restart_is_looked_at_again_soon() {
    let mut scene = Scene::start_on(Backend::Sqlite, |_| {}).await;
    let thread = story_card_unrecorded(&mut scene).await;
    // Every attempt of the first look into the thread fails (the tests' REST client tries four
    // times); the next look would succeed. careprompt is stopped while the clock moves on past
    // the nonce window, so the restarted one is the first to look.
    let messages = format!("/channels/{thread}/messages");
    scene.fake.inject(Fault::ServerError {
        route: RouteMatch::new("GET", messages.clone()),
        status: 503,
        times: 4,
    });
    scene.restart_later(chrono::Duration::minutes(10)).await;
    let failed_looks = || {
        scene
            .fake
            .requests()
            .iter()
            .filter(|request| request.method == "GET" && request.path.ends_with(&messages))
            .count()
    };
    // A restart and four attempts spaced by the REST client's backoff: on two busy cores that
    // has taken longer than WAIT, so this wait is longer. Nothing here is timed by it.
    let deadline = std::time::Instant::now() + 3 * WAIT;
    while failed_looks() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "careprompt never looked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Well within the scheduler's five-minute poll: only a retry soon finds the card.
    scene.clock.advance(chrono::Duration::seconds(30));
    scene
        .wait_count(
            "SELECT COUNT(*) FROM session_posts WHERE stage = 1 AND message_id IS NOT NULL",
            1,
        )
        .await;
    wait_stages(&scene.fake, thread, 2).await;
    scene.finish().await;
}

/// Nothing careprompt could post has gone to Discord: no thread, and no message in any channel.
fn assert_nothing_posted(fake: &FakeDiscord) {
    assert!(fake.threads().is_empty(), "{:?}", fake.threads());
    let posted: Vec<String> = fake
        .requests()
        .iter()
        .filter(|request| request.method == "POST" && request.path.starts_with("/channels/"))
        .map(|request| request.path.clone())
        .collect();
    assert!(posted.is_empty(), "{posted:?}");
}

#[tokio::test]
async fn a_bullying_session_posts_nothing_until_its_facilitator_confirms_on_sqlite() {
    a_bullying_session_posts_nothing_until_its_facilitator_confirms(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_bullying_session_posts_nothing_until_its_facilitator_confirms_on_postgres() {
    a_bullying_session_posts_nothing_until_its_facilitator_confirms(Backend::Postgres).await;
}

async fn a_bullying_session_posts_nothing_until_its_facilitator_confirms(backend: Backend) {
    const THEME: &str = "bullying-and-harassment";
    let mut scene = Scene::start_on(backend, |_| {}).await;

    // Asked privately, saying what to confirm and why; nothing is stored or posted.
    let asked = start(&scene, THEME, false).await;
    let question = reply_text(&asked);
    for point in [
        "you do not manage this team",
        "no concern about anyone in it is being looked into",
        "People cannot speak freely about bullying in front of someone who manages them",
        "unfair to the person it is about",
        "Nothing is posted",
    ] {
        assert!(question.contains(point), "{point}: {question}");
    }
    assert_nothing_posted(&scene.fake);
    assert_eq!(scene.count("SELECT COUNT(*) FROM sessions").await, 0);

    // Only the facilitator can answer it.
    let start_button = button(&asked.data, "Start the session");
    let stranger = click(&scene.fake, STRANGER, &start_button).await;
    assert!(stranger.ephemeral());
    assert_nothing_posted(&scene.fake);

    // Cancel changes nothing, and the question gives way.
    let cancelled = click(&scene.fake, FACILITATOR, &button(&asked.data, "Cancel")).await;
    assert_eq!(
        cancelled.callback_type, 7,
        "the private question is replaced in place"
    );
    assert!(reply_text(&cancelled).contains("nothing was posted"));
    assert!(cancelled.buttons().is_empty());
    assert_nothing_posted(&scene.fake);
    assert_eq!(scene.count("SELECT COUNT(*) FROM sessions").await, 0);

    // A question left unanswered lapses: a late Start starts nothing.
    let asked = start(&scene, THEME, false).await;
    scene
        .clock
        .advance(CONFIRM_WINDOW + chrono::Duration::minutes(1));
    let late = click(
        &scene.fake,
        FACILITATOR,
        &button(&asked.data, "Start the session"),
    )
    .await;
    assert!(
        reply_text(&late).contains("lapsed"),
        "{}",
        reply_text(&late)
    );
    assert!(late.buttons().is_empty());
    assert_nothing_posted(&scene.fake);
    assert_eq!(scene.count("SELECT COUNT(*) FROM sessions").await, 0);

    // Answered in time, it starts, and only now is anything posted.
    let asked = start(&scene, THEME, false).await;
    scene.clock.advance(chrono::Duration::minutes(2));
    let start_button = button(&asked.data, "Start the session");
    let begun = click(&scene.fake, FACILITATOR, &start_button).await;
    assert_eq!(begun.callback_type, 7, "Start gives way at once");
    assert!(begun.buttons().is_empty(), "Start cannot be pressed twice");
    let answer = scene
        .fake
        .wait_followups(&begun.token, 1, WAIT)
        .await
        .expect("the question is answered");
    let thread = thread(&scene.fake);
    let answer = text_of(&answer[0]);
    assert!(
        answer.contains("has started") && answer.contains(&format!("<#{thread}>")),
        "{answer}"
    );
    let stages = wait_stages(&scene.fake, thread, 1).await;
    let welcome = text_of(&stages[0]);
    assert!(welcome.contains("Ground rules"), "{welcome}");
    assert!(
        welcome.contains("Freedom to Speak Up Guardian"),
        "{welcome}"
    );
    assert!(
        !welcome.contains("you do not manage this team"),
        "the question is the facilitator's alone"
    );
    assert_eq!(
        scene
            .count("SELECT COUNT(*) FROM sessions WHERE state = 'running'")
            .await,
        1
    );

    // The same Start again starts nothing more.
    let again = click(&scene.fake, FACILITATOR, &start_button).await;
    assert!(again.ephemeral());
    assert!(
        reply_text(&again).contains("already running"),
        "{}",
        reply_text(&again)
    );
    assert_eq!(scene.fake.threads().len(), 1);
    assert_eq!(scene.count("SELECT COUNT(*) FROM sessions").await, 1);
    scene.finish().await;
}

#[tokio::test]
async fn session_plan_shows_the_brief_to_the_facilitator_alone() {
    let scene = Scene::start_on(Backend::Sqlite, |config| {
        config.support.org = Some(OrgSupport {
            name: "Our wellbeing team".into(),
            how: "Call 01234 567890".into(),
            when: None,
            url: None,
        });
    })
    .await;
    let brief_of = |reply: &InteractionReply| -> String {
        let embeds = reply.embeds();
        assert_eq!(embeds.len(), 2, "the outline, then the brief");
        assert_eq!(embeds[1]["title"], "For you only: before you start");
        embeds[1]["description"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let plan = scene
        .command(session_command("plan").option_str("theme", "bullying-and-harassment"))
        .await;
    assert!(plan.ephemeral(), "only the facilitator sees the plan");
    assert_pings_nobody(&plan);
    let brief = brief_of(&plan);
    for point in [
        "check on anyone who becomes upset or steps out",
        "Stay on for a few minutes after the close",
        "Our wellbeing team, Call 01234 567890",
        "When not to run one",
        "you do not manage this team",
        "auto:true",
    ] {
        assert!(brief.contains(point), "{point}: {brief}");
    }
    assert_nothing_posted(&scene.fake);

    // A theme that asks nothing first starts at once; its cards carry none of the brief.
    let plan = scene
        .command(session_command("plan").option_str("theme", "compassion"))
        .await;
    assert!(plan.ephemeral());
    let brief = brief_of(&plan);
    assert!(!brief.contains("auto:true"), "{brief}");
    let started = start(&scene, "compassion", false).await;
    assert!(reply_text(&started).contains("has started"));
    assert!(reply_text(&started).contains("Stay on for a few minutes after the close"));
    let thread = thread(&scene.fake);
    let stages = wait_stages(&scene.fake, thread, 1).await;
    let welcome = text_of(&stages[0]);
    assert!(
        welcome.contains("Anyone may pass, or step out, at any time, without saying why."),
        "{welcome}"
    );
    assert!(
        welcome.contains("/support lists people who can help"),
        "{welcome}"
    );
    for private in ["For you only", "When not to run one", "Our wellbeing team"] {
        assert!(!welcome.contains(private), "{private} in {welcome}");
    }
    click(&scene.fake, FACILITATOR, &button(&stages[0], "End")).await;
    wait_archived(&scene.fake).await;

    // The equality session asks first too.
    let asked = start(&scene, "equality-and-diversity", false).await;
    assert!(
        reply_text(&asked).contains("someone outside its management"),
        "{}",
        reply_text(&asked)
    );
    button(&asked.data, "Start the session");
    assert_eq!(scene.fake.threads().len(), 1, "nothing new until Start");
    scene.finish().await;
}

#[tokio::test]
async fn an_automatic_session_moves_on_by_the_clock_and_speaks_up_on_every_stage() {
    let scene = Scene::start_on(Backend::Sqlite, |_| {}).await;
    let asked = start(&scene, "bullying-and-harassment", true).await;
    // Asked for auto, the question advises against it and offers both.
    button(&asked.data, "Start, moving it on myself");
    let begun = click(
        &scene.fake,
        FACILITATOR,
        &button(&asked.data, "Start with auto"),
    )
    .await;
    assert_eq!(begun.callback_type, 7);
    scene
        .fake
        .wait_followups(&begun.token, 1, WAIT)
        .await
        .expect("the question is answered");
    let thread = thread(&scene.fake);
    wait_stages(&scene.fake, thread, 1).await;
    // Welcome, story and three questions each move on when their time is up; the close waits
    // for the facilitator.
    for count in 2..=6 {
        scene.clock.advance(chrono::Duration::minutes(15));
        wait_stages(&scene.fake, thread, count).await;
    }
    scene.clock.advance(chrono::Duration::minutes(15));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stages = wait_stages(&scene.fake, thread, 6).await;
    // The routes in full on the first and last cards, which the facilitator reads out; one line
    // pointing to them on each card between.
    for (index, stage) in stages.iter().enumerate() {
        let text = text_of(stage);
        assert!(text.contains("Raising a concern"), "{text}");
        let full = text.contains("Freedom to Speak Up Guardian");
        let pointer = text.contains(CONCERN_POINTER);
        if index == 0 || index == 5 {
            assert!(full && !pointer, "stage {index}: {text}");
        } else {
            assert!(!full && pointer, "stage {index}: {text}");
        }
    }
    let summary = click(&scene.fake, FACILITATOR, &button(&stages[5], "End")).await;
    assert!(reply_text(&summary).contains("stage 6 of 6"));
    scene.finish().await;
}

/// Waits until the fake shows the session's thread archived.
pub(crate) async fn wait_archived(fake: &FakeDiscord) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while fake.threads()[0]["thread_metadata"]["archived"] != json!(true) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the thread was never archived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The stages of a session on a theme with a story: welcome, story, three questions, close.
const STAGES: usize = 6;

/// The facilitator clicks Next on each card from the `posted`th to the close, then End; returns
/// once the thread is archived, with End's answer.
pub(crate) async fn carry_on_to_the_end(
    fake: &FakeDiscord,
    thread: u64,
    posted: usize,
) -> InteractionReply {
    let mut stages = wait_stages(fake, thread, posted).await;
    for count in posted + 1..=STAGES {
        click(fake, FACILITATOR, &button(&stages[count - 2], "Next")).await;
        stages = wait_stages(fake, thread, count).await;
    }
    let ended = click(fake, FACILITATOR, &button(&stages[STAGES - 1], "End")).await;
    assert!(
        reply_text(&ended).contains(&format!("stage {STAGES} of {STAGES}")),
        "{}",
        reply_text(&ended)
    );
    wait_archived(fake).await;
    ended
}

/// The thread holds exactly one card of each of the session's stages, told apart by the nonce
/// each was sent with.
pub(crate) fn assert_each_stage_once(fake: &FakeDiscord, thread: u64, session: i64) {
    let mut nonces: Vec<String> = fake
        .messages_in(thread)
        .iter()
        .map(|message| message["nonce"].as_str().unwrap_or_default().to_string())
        .collect();
    nonces.sort();
    let every: Vec<String> = (0..STAGES)
        .map(|stage| session_nonce(session, u32::try_from(stage).expect("small")))
        .collect();
    assert_eq!(nonces, every, "each stage exactly once");
}

/// Waits until careprompt has sent (or is sending) the session's stage `stage` in its thread.
pub(crate) async fn wait_stage_sent(fake: &FakeDiscord, thread: u64, session: i64, stage: u32) {
    let nonce = session_nonce(session, stage);
    let in_thread = format!("/channels/{thread}/messages");
    fake.wait_request(
        |request| {
            request.is("POST", &in_thread)
                && request
                    .body
                    .as_ref()
                    .is_some_and(|body| body["nonce"] == nonce.as_str())
        },
        // Long enough for a careprompt process to start first.
        Duration::from_secs(60),
    )
    .await
    .unwrap_or_else(|err| panic!("stage {stage} was never sent: {err}"));
}

#[tokio::test]
async fn a_session_still_running_after_archive_after_is_ended_and_its_thread_archived() {
    let mut scene = Scene::start_on(Backend::Sqlite, |config| {
        config.sessions.archive_after = "2d".to_string();
    })
    .await;
    start(&scene, "compassion", false).await;
    let thread = thread(&scene.fake);
    assert_eq!(
        scene.fake.threads()[0]["thread_metadata"]["auto_archive_duration"],
        json!(4320),
        "Discord does not archive the thread by itself while the session may still run"
    );
    let stages = wait_stages(&scene.fake, thread, 1).await;

    // A minute short of two days, the session still runs and moves on.
    scene
        .clock
        .advance(chrono::Duration::days(2) - chrono::Duration::minutes(1));
    click(&scene.fake, FACILITATOR, &button(&stages[0], "Next")).await;
    let stages = wait_stages(&scene.fake, thread, 2).await;

    scene.clock.advance(chrono::Duration::minutes(1));
    scene
        .wait_count("SELECT COUNT(*) FROM sessions WHERE state = 'ended'", 1)
        .await;
    wait_archived(&scene.fake).await;
    // Ended as /session end ends it, with no summary, which nobody asked for.
    assert_eq!(scene.fake.messages_in(thread).len(), 2);
    assert_eq!(
        scene.fake.created_messages().len(),
        2,
        "nothing else posted"
    );
    let late = click(&scene.fake, FACILITATOR, &button(&stages[1], "Next")).await;
    assert!(late.ephemeral());
    assert!(reply_text(&late).contains("This session has ended"));
    assert_eq!(scene.fake.messages_in(thread).len(), 2);

    // The channel is free for the next session.
    let again = start(&scene, "compassion", false).await;
    assert!(reply_text(&again).contains("has started"));
    scene.finish().await;
}

#[tokio::test]
async fn a_missing_thread_permission_is_named_and_leaves_nothing_behind() {
    let mut scene = Scene::start_on(Backend::Sqlite, |_| {}).await;
    scene.fake.inject(Fault::Status {
        route: RouteMatch::new("POST", format!("/channels/{CHANNEL_ID}/threads")),
        status: 403,
        body: json!({"message": "Missing Permissions", "code": 50013}),
        times: 1,
    });
    let refused = start(&scene, "resilience", false).await;
    assert!(reply_text(&refused).contains("Create Public Threads"));
    assert_eq!(scene.count("SELECT COUNT(*) FROM sessions").await, 0);

    // The thread opens, but careprompt may not write in it: the empty thread is taken away.
    scene.fake.inject(Fault::Status {
        route: RouteMatch::new("POST", "/channels/{}/messages"),
        status: 403,
        body: json!({"message": "Missing Permissions", "code": 50013}),
        times: 1,
    });
    let refused = start(&scene, "resilience", false).await;
    assert!(reply_text(&refused).contains("Send Messages in Threads"));
    assert!(scene.fake.threads().is_empty());
    assert_eq!(scene.count("SELECT COUNT(*) FROM sessions").await, 0);

    let started = start(&scene, "resilience", false).await;
    assert!(reply_text(&started).contains("has started"));
    scene.finish().await;
}

#[tokio::test]
async fn members_of_the_facilitator_role_may_run_sessions_and_an_admin_may_end_one() {
    const ROLE: u64 = 444_000_000_000_000_444;
    let mut scene = Scene::start_on(Backend::Sqlite, |_| {}).await;
    // Only Manage Server chooses the role.
    let refused = scene
        .command(
            CommandInvocation::guild("session")
                .subcommand("role")
                .option_role("role", ROLE)
                .user(STRANGER),
        )
        .await;
    assert!(reply_text(&refused).contains("Manage Server"));
    let set = scene
        .command(session_command("role").option_role("role", ROLE))
        .await;
    assert!(set.ephemeral());
    assert!(reply_text(&set).contains(&format!("<@&{ROLE}>")));
    assert_pings_nobody(&set);

    // A member holding the role, without Manage Server, starts a session.
    let invocation = CommandInvocation::guild("session")
        .subcommand("start")
        .option_str("theme", "whole-self")
        .user(STRANGER);
    let mut interaction = scene.fake.command_interaction(&invocation);
    interaction["member"]["roles"] = json!([ROLE.to_string()]);
    let started = scene
        .fake
        .run_interaction(interaction, crate::support::INTERACTION_TIMEOUT)
        .await
        .expect("answered");
    assert!(
        reply_text(&started).contains("has started"),
        "{}",
        reply_text(&started)
    );
    let thread = thread(&scene.fake);
    wait_stages(&scene.fake, thread, 1).await;

    // The facilitator's session is theirs to move on, but an admin may end it.
    let ended = scene.command(session_command("end")).await;
    assert!(ended.ephemeral());
    assert!(reply_text(&ended).contains("has ended"));
    assert_eq!(
        scene
            .count("SELECT COUNT(*) FROM sessions WHERE state = 'running'")
            .await,
        0
    );

    // The role also shows /insights (private, and here too few people for figures), and the
    // session is counted there, once, in its theme and week.
    let invocation = CommandInvocation::guild("insights").user(STRANGER);
    let mut interaction = scene.fake.command_interaction(&invocation);
    interaction["member"]["roles"] = json!([ROLE.to_string()]);
    let insights = scene
        .fake
        .run_interaction(interaction, crate::support::INTERACTION_TIMEOUT)
        .await
        .expect("answered");
    assert!(insights.ephemeral());
    assert!(
        reply_text(&insights).contains("not enough people yet"),
        "{}",
        reply_text(&insights)
    );
    let refused = scene
        .command(CommandInvocation::guild("insights").user(STRANGER))
        .await;
    assert!(
        reply_text(&refused).contains("To see insights here you need the Manage Server"),
        "{}",
        reply_text(&refused)
    );
    let week = week_of(scene.clock.now().timestamp());
    let tallies = scene
        .store
        .insight_tallies(crate::support::GUILD_ID, week, 1)
        .await
        .expect("tallies");
    let sessions: Vec<_> = tallies
        .iter()
        .filter(|tally| tally.measure == Measure::Sessions)
        .map(|tally| (tally.week, tally.theme.as_deref(), tally.count))
        .collect();
    assert_eq!(sessions, vec![(Some(week), Some("whole-self"), 1)]);
    scene.finish().await;
}
