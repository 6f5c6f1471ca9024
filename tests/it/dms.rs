//! Prompts by DM end to end: opting in and out, muting a theme, closed DMs, and one DM per
//! person and card.

use careprompt::store::DeliveryState;
use serde_json::Value;

use crate::scheduler::{at, Scene, WAIT};
use crate::support::{dm_channel_id, CommandInvocation, FakeDiscord, CHANNEL_ID, USER_ID};

const BOB: u64 = 5001;
const CAROL: u64 = 5002;
const DAN: u64 = 5003;

fn dms_to(fake: &FakeDiscord, user: u64) -> Vec<Value> {
    let channel = dm_channel_id(user).to_string();
    fake.created_messages()
        .into_iter()
        .filter(|message| message["channel_id"].as_str() == Some(channel.as_str()))
        .collect()
}

async fn command_as(scene: &Scene, user: u64, invocation: CommandInvocation) -> String {
    let reply = scene
        .fake
        .run_command(invocation.user(user))
        .await
        .expect("answered");
    assert!(reply.ephemeral(), "personal replies are private");
    let mut text = reply.content().unwrap_or_default();
    for embed in reply.embeds() {
        text.push_str(embed["description"].as_str().unwrap_or(""));
    }
    text
}

#[tokio::test]
async fn opted_in_members_get_each_card_by_dm_once_and_nobody_else_does() {
    dms_reach_exactly_the_opted_in(Scene::start("2027-01-04T08:30:00Z", |_| {}).await).await;
}

#[tokio::test]
async fn on_postgres_dms_reach_exactly_the_opted_in() {
    dms_reach_exactly_the_opted_in(Scene::start_on_postgres("2027-01-04T08:30:00Z").await).await;
}

async fn dms_reach_exactly_the_opted_in(scene: Scene) {
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    let library = crate::bot::shipped_library();
    let first_theme = library.rotation(false)[0].to_string();

    let joined = command_as(&scene, USER_ID, CommandInvocation::guild("optin")).await;
    assert!(joined.contains("From now on"), "{joined}");
    let again = command_as(&scene, USER_ID, CommandInvocation::guild("optin")).await;
    assert!(again.contains("already"), "{again}");
    command_as(&scene, BOB, CommandInvocation::guild("optin")).await;
    let left = command_as(&scene, BOB, CommandInvocation::guild("optout")).await;
    assert!(left.contains("no more DMs"), "{left}");
    command_as(&scene, DAN, CommandInvocation::guild("optin")).await;
    let muted = command_as(
        &scene,
        DAN,
        CommandInvocation::guild("mute").option_str("theme", &first_theme),
    )
    .await;
    assert!(muted.contains("left out of your DMs"), "{muted}");
    let dm_only = scene
        .fake
        .run_command(CommandInvocation::dm("optin").user(CAROL))
        .await
        .expect("answered");
    assert!(dm_only.ephemeral());

    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene.wait_posts(CHANNEL_ID, 1).await;
    scene
        .fake
        .wait_posts(Some(dm_channel_id(USER_ID)), 1, WAIT)
        .await
        .expect("the opted-in member gets a DM");
    scene
        .wait_state(CHANNEL_ID, at("2027-01-04T09:00:00Z"), DeliveryState::Sent)
        .await;
    // A second week proves the first one's DMs were all settled: DMs go out in order.
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    scene
        .fake
        .wait_posts(Some(dm_channel_id(USER_ID)), 2, WAIT)
        .await
        .expect("the second card by DM");
    scene
        .fake
        .wait_posts(Some(dm_channel_id(DAN)), 1, WAIT)
        .await
        .expect("the unmuted theme reaches Dan");
    let dm = &dms_to(&scene.fake, USER_ID)[0];
    let post = &scene.posts_in(CHANNEL_ID)[0];
    assert_eq!(
        dm["embeds"], post["embeds"],
        "the same card as the channel's"
    );
    assert_eq!(dms_to(&scene.fake, USER_ID).len(), 2);
    assert!(dms_to(&scene.fake, BOB).is_empty(), "opted out");
    assert!(dms_to(&scene.fake, CAROL).is_empty(), "never opted in");
    assert_eq!(
        dms_to(&scene.fake, DAN).len(),
        1,
        "the muted theme was left out"
    );
    let opened = scene
        .fake
        .requests()
        .iter()
        .filter(|request| request.is("POST", "/users/@me/channels"))
        .count();
    assert_eq!(opened, 2, "each DM channel is opened once and remembered");
    scene.finish().await;
}

#[tokio::test]
async fn closed_dms_pause_and_the_person_is_told_once() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    command_as(&scene, USER_ID, CommandInvocation::guild("optin")).await;
    scene.fake.block_dms(USER_ID);
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    let dm_posts = format!("/channels/{}/messages", dm_channel_id(USER_ID));
    scene
        .fake
        .wait_request(|r| r.is("POST", &dm_posts) && r.status == 403, WAIT)
        .await
        .expect("Discord refused the DM");
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    scene.wait_posts(CHANNEL_ID, 2).await;
    scene
        .wait_state(CHANNEL_ID, at("2027-01-11T09:00:00Z"), DeliveryState::Sent)
        .await;
    let tried = || {
        scene
            .fake
            .requests()
            .iter()
            .filter(|r| r.is("POST", &dm_posts))
            .count()
    };
    let told = command_as(&scene, USER_ID, CommandInvocation::guild("themes")).await;
    assert!(
        told.contains("DMs are closed"),
        "told at the next command: {told}"
    );
    let quiet = command_as(&scene, USER_ID, CommandInvocation::guild("themes")).await;
    assert!(!quiet.contains("DMs are closed"), "told once: {quiet}");
    assert_eq!(tried(), 1, "not retried every week");
    scene.finish().await;
}

#[tokio::test]
async fn the_same_card_from_two_servers_at_once_is_one_dm() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    let other_guild = 2999;
    for (guild, channel) in [
        (crate::support::GUILD_ID, CHANNEL_ID),
        (other_guild, crate::scheduler::OTHER_CHANNEL),
    ] {
        // The same seed draws the same card.
        let (due, now) = (at("2027-01-04T09:00:00Z"), at("2027-01-04T08:30:00Z"));
        crate::scheduler::schedule_weekly(&scene.store, (guild, channel), 7, due, now).await;
        scene
            .store
            .set_dm_optin(USER_ID, guild, true, at("2027-01-04T08:30:00Z"))
            .await
            .expect("opted in");
    }
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene
        .fake
        .wait_posts(None, 3, WAIT)
        .await
        .expect("two posts and a DM");
    scene
        .wait_state(
            crate::scheduler::OTHER_CHANNEL,
            at("2027-01-04T09:00:00Z"),
            DeliveryState::Sent,
        )
        .await;
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    scene
        .fake
        .wait_posts(None, 6, WAIT)
        .await
        .expect("the next week too");
    assert_eq!(
        dms_to(&scene.fake, USER_ID).len(),
        2,
        "one DM per card, not per server"
    );
    scene.finish().await;
}
