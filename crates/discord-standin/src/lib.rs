//! A stand-in for Discord on 127.0.0.1: the gateway (websocket) and the REST routes a bot built
//! on serenity uses, answering as Discord does, and refusing what Discord refuses (a body over
//! Discord's limits, a bad component) with Discord's own error JSON. `careprompt try` runs
//! careprompt against it, and so do careprompt's tests; this crate knows nothing of careprompt
//! (it depends on nothing of it).
//!
//! The `test-controls` feature, which only tests switch on, adds what they need: faults to
//! inject into REST answers, gateway disturbances, HTTPS as `discord.com` for serenity's default
//! mode, serenity clients of the stand-in, and [`CheckedStandIn`], which also checks every
//! request against Discord's OpenAPI description (read from `../shared` beside the repository)
//! through the [`RequestChecker`] hook.
//!
//! ```ignore
//! let discord = StandIn::start().await;
//! // ... build careprompt with `discord.proxy_base_url()` as its proxy ...
//! discord.wait_ready(Duration::from_secs(10)).await?;
//! let reply = discord.run_command(CommandInvocation::guild("pack").option_str("theme", "compassion")).await?;
//! assert!(reply.ephemeral());
//! ```
//!
//! Its world starts with one guild ([`GUILD_ID`], channel [`CHANNEL_ID`]); `add_guild` adds
//! more. Clients may shard (`StandInConfig::shards` is what `/gateway/bot` recommends): each
//! session gets the guilds and events of its shard, `(guild_id >> 22) % num_shards`, DMs on
//! shard 0, and `CommandInvocation::guild(..).in_guild(guild, channel)` reaches that guild's
//! shard.

mod gateway;
pub mod limits;
#[cfg(feature = "test-controls")]
pub mod openapi;
pub mod payloads;
mod rest;
pub mod routes;
mod serve;
mod state;
#[cfg(feature = "test-controls")]
mod tls;

#[cfg(feature = "test-controls")]
pub use openapi::CheckedStandIn;
pub use payloads::{
    dm_channel_id, shard_of_guild, ButtonClick, CommandInvocation, FakeGuild, Place,
    ADMIN_PERMISSIONS, APP_ID, BAD_TOKEN, BOT_USER_ID, CHANNEL_ID, CHANNEL_NAME, GUILD_ID,
    GUILD_NAME, TOKEN, USER_ID,
};
pub use rest::form_error;
pub use routes::{Operation, RequestChecker, RouteLookup, SchemaError};
#[cfg(feature = "test-controls")]
pub use state::Fault;
pub use state::{
    discord_error, CallbackEvent, InteractionReply, RecordedRequest, RouteBuckets, RouteMatch,
    StandIn, StandInConfig, GATEWAY_WAIT, INTERACTION_TIMEOUT,
};
