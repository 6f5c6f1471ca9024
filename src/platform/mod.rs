//! What a chat platform does for careprompt's core, behind small interfaces each platform
//! implements (Discord's in `discord/`, Microsoft Teams' later), so that the scheduler and the
//! rest of the core never call a platform's client directly.
//!
//! - [`Outbox`]: sending a card to a place with a key that makes a second try the same send,
//!   looking for an earlier send before trying again, opening a person's private place, and
//!   replies under a post. What the platform's refusals mean comes back as a [`Failure`], so a
//!   place careprompt can no longer write to is told apart from one that is out of reach for
//!   now. Rate limits stay inside the platform's side: each call waits its turn and waits out a
//!   limit itself, and answers [`Failure::NotNow`] only when it gave up.
//! - [`Presence`]: what a platform's own events say about the places careprompt is in (removed,
//!   back again, or the whole list after a reconnect), and what the core makes of it.
//!
//! Places and people are named by their keys in careprompt's tables: a Discord snowflake, or for
//! another platform the id the database gave it.

mod outbox;
mod presence;

pub use outbox::{Failure, Lookup, Mark, Outbox, SendError, SendKey, Unknown};
pub use presence::Presence;
