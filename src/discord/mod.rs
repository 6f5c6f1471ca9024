//! Talking to Discord: the REST client with its retries, Discord's outbox (`platform::Outbox`)
//! on it, cards (`crate::cards`) rendered as
//! embeds and buttons, what each button's custom id carries, the limits every message must fit,
//! and the /insights report as attachments.

pub mod custom_id;
pub mod insights;
pub mod limits;
pub mod outbox;
pub mod render;
pub mod rest;

pub use outbox::DiscordOutbox;
pub use rest::{Rest, RestError, RetryPolicy};
