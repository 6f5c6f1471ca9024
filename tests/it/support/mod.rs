//! Test bed: careprompt's stand-in for Discord (the `discord-standin` crate, with its test
//! controls), checking every request against Discord's OpenAPI file too, for end-to-end tests of
//! the bot with the real serenity / poise client.
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
#![allow(dead_code)]

pub mod databases;
pub mod outage;

#[allow(unused_imports)]
pub use discord_standin::{
    discord_error, dm_channel_id, shard_of_guild, ButtonClick, CallbackEvent, CommandInvocation,
    FakeGuild, Fault, InteractionReply, Place, RecordedRequest, RouteBuckets, RouteMatch,
    ADMIN_PERMISSIONS, APP_ID, BAD_TOKEN, BOT_USER_ID, CHANNEL_ID, GATEWAY_WAIT, GUILD_ID,
    GUILD_NAME, INTERACTION_TIMEOUT, TOKEN, USER_ID,
};
#[allow(unused_imports)]
pub use discord_standin::{limits, payloads};

/// The stand-in, checking every request against Discord's OpenAPI file too; clones share it.
pub use discord_standin::CheckedStandIn as FakeDiscord;

/// The stand-in's knobs.
pub type FakeConfig = discord_standin::StandInConfig;
