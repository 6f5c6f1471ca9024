//! Test bed: careprompt's stand-in for Discord (`careprompt::standin`), with every request also
//! checked against Discord's OpenAPI file (`schema.rs`), for end-to-end tests of the bot with the
//! real serenity / poise client.
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

pub mod outage;
pub mod schema;

use std::ops::Deref;
use std::sync::Arc;

use careprompt::standin::StandIn;

#[allow(unused_imports)]
pub use careprompt::standin::{
    discord_error, dm_channel_id, shard_of_guild, ButtonClick, CallbackEvent, CommandInvocation,
    FakeGuild, Fault, InteractionReply, Place, RecordedRequest, RouteBuckets, RouteMatch,
    ADMIN_PERMISSIONS, APP_ID, BAD_TOKEN, BOT_USER_ID, CHANNEL_ID, GATEWAY_WAIT, GUILD_ID,
    GUILD_NAME, INTERACTION_TIMEOUT, TOKEN, USER_ID,
};
#[allow(unused_imports)]
pub use careprompt::standin::{limits, payloads};

/// The stand-in's knobs; the tests' [`FakeDiscord`] adds the OpenAPI check to them.
pub type FakeConfig = careprompt::standin::StandInConfig;

/// careprompt's stand-in for Discord, checking every request against Discord's OpenAPI file
/// too; clones share it.
#[derive(Clone)]
pub struct FakeDiscord(StandIn);

impl FakeDiscord {
    /// Starts the stand-in with Discord's default behaviour.
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_with(FakeConfig::default()).await
    }

    pub async fn start_with(mut cfg: FakeConfig) -> FakeDiscord {
        cfg.checker = Some(Arc::new(schema::SpecChecker));
        FakeDiscord(StandIn::start_with(cfg).await)
    }
}

impl Deref for FakeDiscord {
    type Target = StandIn;

    fn deref(&self) -> &StandIn {
        &self.0
    }
}
