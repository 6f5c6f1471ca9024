//! Test bed: a fake Discord (REST + gateway) for end-to-end tests of the bot with the real
//! serenity / poise client. See `fake_discord.rs` for the API.
//!
//! ```ignore
//! let fake = FakeDiscord::start().await;            // before building the serenity Client
//! let http = fake.proxy_http(TOKEN);                // or HttpBuilder::new(TOKEN).client(fake.default_mode_client())
//! // ... build and start the bot's Client with that Http ...
//! fake.wait_ready(Duration::from_secs(10)).await?;
//! let reply = fake.run_command(CommandInvocation::guild("pack").option_str("theme", "compassion")).await?;
//! assert!(reply.ephemeral());
//! fake.assert_no_violations();
//! ```
//!
//! The fake's world starts with one guild ([`GUILD_ID`], channel [`CHANNEL_ID`]); `add_guild`
//! adds more. Clients may shard (`FakeConfig::shards` is what `/gateway/bot` recommends): each
//! session gets the guilds and events of its shard, `(guild_id >> 22) % num_shards`, DMs on
//! shard 0, and `CommandInvocation::guild(..).in_guild(guild, channel)` reaches that guild's
//! shard.
#![allow(dead_code)]

pub mod fake_discord;
pub mod gateway;
pub mod limits;
pub mod outage;
pub mod payloads;
pub mod rest;
pub mod schema;
pub mod tls;

#[allow(unused_imports)]
pub use fake_discord::{
    discord_error, CallbackEvent, FakeConfig, FakeDiscord, Fault, InteractionReply,
    RecordedRequest, RouteBuckets, RouteMatch, GATEWAY_WAIT, INTERACTION_TIMEOUT,
};
#[allow(unused_imports)]
pub use payloads::{
    dm_channel_id, shard_of_guild, ButtonClick, CommandInvocation, FakeGuild, Place,
    ADMIN_PERMISSIONS, APP_ID, BAD_TOKEN, BOT_USER_ID, CHANNEL_ID, GUILD_ID, GUILD_NAME, TOKEN,
    USER_ID,
};
