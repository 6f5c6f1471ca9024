//! Talking to Discord: the REST client with its retries, the cards careprompt sends, and the
//! limits every message must fit, and the /insights chart attached to one.

pub mod cards;
pub mod chart;
pub mod custom_id;
pub mod insights;
pub mod limits;
pub mod rest;
pub mod schedule_cards;

pub use rest::{Rest, RestError, RetryPolicy};

#[cfg(test)]
mod card_tests;
