//! careprompt: the NHS DNA of Care staff-wellbeing programme in team chat.
//!
//! Layers, from the bottom: pure logic (`content`, `schedule`, `holidays`, `rotation`,
//! `preview`, `cards`, `limits`), configuration (`config`), and the Discord bot on top.

pub mod bot;
pub mod cards;
pub mod check;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod content;
pub mod discord;
pub mod error;
pub mod holidays;
pub mod limits;
pub mod preview;
pub mod rotation;
pub mod schedule;
pub mod store;
pub mod telemetry;
