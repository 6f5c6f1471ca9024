//! careprompt: the NHS DNA of Care staff-wellbeing programme in team chat.
//!
//! Layers, from the bottom; no layer imports one above it (`tests/it/layers.rs` checks):
//! - `domain`: pure logic (content, crontab schedules, bank holidays, rotation, planning).
//! - `library`: reading the content library's files, built in or from a folder, and checking them.
//! - `config`, `clock`, `error`, `memory`, `serve`, `telemetry`: settings and cross-cutting
//!   plumbing (`serve`: how each of careprompt's HTTP servers, an axum router, is served).
//! - `store`: everything careprompt keeps, on SQLite or PostgreSQL.
//! - `insights`: the `/insights` report (view, chart and CSV) made from the store's tallies.
//! - `cards`: every card careprompt sends, as a model no platform owns: its words, links and
//!   buttons, what each button does and who may press it.
//! - `platform`: the small interfaces a chat platform implements for the core (`Outbox`: sending
//!   exactly once, looking before sending again, what a refusal means; `Presence`: departure).
//! - `discord`: talking to Discord's REST API (Discord's `Outbox`), and cards rendered as Discord
//!   messages.
//! - `scheduler`: the worker that posts each scheduled card exactly once through the platform's
//!   `Outbox`, and retention.
//! - `app`: each command written once, for any platform: what it answers from the request (who,
//!   where, with which rights) and the store, and every check of who may run it.
//! - `ops`: the operators' listener (`/metrics`, `/healthz`, `/readyz`).
//! - `bot`: the poise framework: commands, buttons, gateway events and errors.
//! - `startup`: one builder that makes all of the above from the settings, and runs it.
//! - `tryout`: `careprompt try`, careprompt against the stand-in for Discord with a web page for a
//!   person. The stand-in is a crate of its own (`crates/discord-standin`), which knows nothing of
//!   careprompt; `tryout` is the only module that uses it (`tests/it/layers.rs` checks).
//! - `check`, `links` and `cli`: the command-line entry points.

pub mod domain;

pub mod library;

pub mod clock;
pub mod config;
pub mod error;
pub mod memory;
pub mod serve;
pub mod telemetry;

pub mod store;

pub mod insights;

pub mod cards;

pub mod platform;

pub mod discord;

pub mod scheduler;

pub mod app;

pub mod ops;

pub mod bot;

pub mod startup;

pub mod tryout;

pub mod check;
pub mod cli;
pub mod links;
