//! careprompt: the NHS DNA of Care staff-wellbeing programme in team chat.
//!
//! Layers, from the bottom; no layer imports one above it:
//! - `domain`: pure logic (content, crontab schedules, bank holidays, rotation, planning).
//! - `library`: reading the content library's files, built in or from a folder, and checking them.
//! - `config`, `clock`, `error`, `telemetry`: settings and cross-cutting plumbing.
//! - `store`: everything careprompt keeps, on SQLite or PostgreSQL.
//! - `discord`: talking to Discord's REST API, and the messages (cards) careprompt sends.
//! - `scheduler`: the worker that posts each scheduled card exactly once.
//! - `bot`: the running bot: start-up, commands, buttons, errors and shutdown.
//! - `check`, `links` and `cli`: the command-line entry points.

pub mod bot;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod discord;
pub mod domain;
pub mod error;
pub mod library;
pub mod links;
pub mod scheduler;
pub mod store;
pub mod telemetry;
