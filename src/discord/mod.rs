//! Talking to Discord: the REST client with its retries, the cards careprompt sends, and the
//! limits every message must fit.

pub mod cards;
pub mod custom_id;
pub mod limits;
pub mod rest;
pub mod schedule_cards;

pub use rest::{Rest, RestError, RetryPolicy};

#[cfg(test)]
mod card_tests;
