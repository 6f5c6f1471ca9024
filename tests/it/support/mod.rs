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
#![allow(dead_code)]

pub mod fake_discord;
pub mod gateway;
pub mod limits;
pub mod payloads;
pub mod rest;
pub mod schema;
pub mod tls;

#[allow(unused_imports)]
pub use fake_discord::{
    discord_error, FakeConfig, FakeDiscord, Fault, InteractionReply, RecordedRequest, RouteMatch,
    GATEWAY_WAIT, INTERACTION_TIMEOUT,
};
#[allow(unused_imports)]
pub use payloads::{
    dm_channel_id, ButtonClick, CommandInvocation, Place, ADMIN_PERMISSIONS, APP_ID, BAD_TOKEN,
    BOT_USER_ID, CHANNEL_ID, GUILD_ID, TOKEN, USER_ID,
};
