//! Talking to Discord: the REST client with its retries, the cards careprompt sends, and the
//! limits every message must fit.

pub mod cards;
pub mod limits;
pub mod rest;

pub use rest::{Rest, RestError, RetryPolicy};

#[cfg(test)]
mod card_tests;
