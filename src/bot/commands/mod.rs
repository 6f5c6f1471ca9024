//! Slash commands, one file per group.

pub mod content;
pub mod info;
pub mod insights;
pub mod optin;
pub mod personal;
pub mod schedule;
pub mod session;

use crate::bot::data::{Data, Error};

pub type Command = poise::Command<Data, Error>;

/// Every command careprompt registers.
pub fn all() -> Vec<Command> {
    let mut commands = content::commands();
    commands.extend(info::commands());
    commands.extend(schedule::commands());
    commands.extend(optin::commands());
    commands.extend(personal::commands());
    commands.extend(insights::commands());
    commands.extend(session::commands());
    commands
}
