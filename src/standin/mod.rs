//! A stand-in for Discord on 127.0.0.1: the gateway (websocket) and the REST routes careprompt
//! uses, answering as Discord does, and refusing what Discord refuses (a body over Discord's
//! limits, a bad component) with Discord's own error JSON. `careprompt try` runs careprompt
//! against it, and so do the tests, which add a check against Discord's OpenAPI file through
//! [`RequestChecker`]; faults to inject and TLS for serenity's default mode are behind the
//! `standin-faults` feature, which only the tests switch on.
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
pub mod payloads;
mod rest;
pub mod routes;
mod state;
#[cfg(feature = "standin-faults")]
mod tls;

pub use payloads::{
    dm_channel_id, shard_of_guild, ButtonClick, CommandInvocation, FakeGuild, Place,
    ADMIN_PERMISSIONS, APP_ID, BAD_TOKEN, BOT_USER_ID, CHANNEL_ID, CHANNEL_NAME, GUILD_ID,
    GUILD_NAME, TOKEN, USER_ID,
};
pub use rest::form_error;
pub use routes::{Operation, RequestChecker, RouteLookup, SchemaError};
#[cfg(feature = "standin-faults")]
pub use state::Fault;
pub use state::{
    discord_error, CallbackEvent, InteractionReply, RecordedRequest, RouteBuckets, RouteMatch,
    StandIn, StandInConfig, GATEWAY_WAIT, INTERACTION_TIMEOUT,
};
