//! The running bot: start-up and shutdown, slash commands, buttons, and the one error handler.

pub mod app;
pub mod commands;
pub mod components;
pub mod data;
pub mod events;
pub mod gate;
pub mod on_error;
pub mod ops;
pub mod registration;

pub use app::{run, BotOptions};
pub use data::{AppContext, Data, Error};
pub use registration::{invite_url, registration_payload, INVITE_PERMISSIONS};
