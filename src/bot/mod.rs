//! The bot: the poise framework with its slash commands, buttons, gateway
//! events and the one error handler. `startup` builds it and runs it.

pub mod commands;
pub mod components;
pub mod data;
pub mod events;
pub mod framework;
pub mod on_error;
pub mod registration;

pub use data::{AppContext, Data, Error};
pub use registration::{invite_url, registration_payload, INVITE_PERMISSIONS};
