//! Talking to Discord: the REST client with its retries, the cards careprompt sends, and the
//! limits every message must fit, the /insights report as attachments, and the cards of a
//! reflective session.

pub mod cards;
pub mod catalogue;
pub mod custom_id;
pub mod insights;
pub mod limits;
pub mod rest;
pub mod schedule_cards;
pub mod session_cards;

pub use rest::{Rest, RestError, RetryPolicy};

#[cfg(test)]
mod card_tests;
