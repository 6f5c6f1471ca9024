//! Sending to a place, exactly once: the platform's half of the delivery ledger.
//!
//! The scheduler claims a send in the database before it calls [`Outbox::send`] and records the
//! message id after it. A claim left open (a crash, or the platform out of reach) is finished
//! later: inside the platform's [`Outbox::repeat_window`] by sending again with the same key,
//! which the platform drops as a repeat; past it, or on a platform that has no such window, only
//! after [`Outbox::look_for`] says the first send is surely not there. A platform that cannot
//! tell answers [`Lookup::CannotTell`], and the send is then recorded as uncertain, never sent a
//! second time.

use chrono::{DateTime, Utc};

use crate::cards::Card;

/// What makes a second try of a send the same send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendKey {
    /// Unique to this send (a post, one person's DM of it, a session's stage). A platform that
    /// drops a repeat carrying the same token (Discord's nonce) is given it with every try.
    pub token: String,
    /// What the sent message is recognised by when it is looked for.
    pub mark: Mark,
}

/// What a message careprompt sent carries that tells which send it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A card of the delivery ledger's row: the post itself, or a DM of its card.
    Delivery(i64),
    /// A reflective session's stage card.
    Stage { session: i64, stage: u32 },
}

/// What looking for an earlier send found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// It was sent, as this message.
    Found(u64),
    /// Surely not there: sending it now cannot make a second copy.
    NotFound,
    /// Whether it went out cannot be told; it must not be sent again.
    CannotTell(Unknown),
}

/// Why a look could not tell whether a send went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// More was written in the place since than the platform lets careprompt read back.
    Crowded,
    /// The place could not be read now; a later look may tell.
    Unreadable(SendError),
    /// The platform gives careprompt no way to look (Teams has no nonce and no listing of what
    /// a bot sent), so a send that may have gone out is never tried again.
    NoWay,
}

/// What a platform's refusal or silence means for careprompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The place no longer exists (deleted, or careprompt was removed from it): nothing sent
    /// there will arrive, now or later.
    Gone,
    /// careprompt may not write there: a permission it lacks, or for a person's private place,
    /// that they do not take messages from it.
    Forbidden,
    /// The platform refused this message for another reason, and would refuse it again.
    Refused,
    /// Not settled: the platform could not be reached, failed, or kept limiting careprompt past
    /// the platform side's patience. It may have gone out; the send's key decides a second try.
    NotNow,
}

/// A call to the platform that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct SendError {
    pub failure: Failure,
    /// What an admin is told when this was a scheduled post, in the platform's words (which
    /// permission to give, for instance); `/schedule list` shows it.
    pub reason: String,
    /// The platform's own account, for logs and longer reasons: never a message's content, a
    /// token or a person's id.
    pub detail: String,
}

/// Sending to places on one platform. Pacing under the platform's limits and waiting out its
/// rate limits happen inside each call; a call that gave up answers [`Failure::NotNow`].
#[async_trait::async_trait]
pub trait Outbox: std::fmt::Debug + Send + Sync {
    /// The platform's name as admins know it ("Discord"), for the reasons careprompt gives.
    fn name(&self) -> &'static str;

    /// How long after a send the platform drops a repeat with the same [`SendKey::token`]
    /// (Discord: its nonce window). `None` when it never does (Teams): then a send that may
    /// have gone out is tried again only after [`Outbox::look_for`] finds it is not there.
    fn repeat_window(&self) -> Option<chrono::Duration>;

    /// Sends `card` to `place`, rendered in the platform's own form, and returns the id the
    /// platform gave the message. `ping` is the one role it may mention (a schedule's, when an
    /// admin set one); without it, it mentions nobody.
    async fn send(
        &self,
        place: u64,
        card: &Card,
        ping: Option<u64>,
        key: &SendKey,
    ) -> Result<u64, SendError>;

    /// Looks in `place` for a message sent with `key` since `since` (the claim's time; the
    /// platform allows for clocks that differ).
    async fn look_for(&self, place: u64, key: &SendKey, since: DateTime<Utc>) -> Lookup;

    /// The place where careprompt writes to `person` privately (Discord: the DM channel),
    /// opened if it is not yet.
    async fn private_place(&self, person: u64) -> Result<u64, SendError>;

    /// Opens a place for replies under `message` in `place`, named `name` (Discord: a thread on
    /// the post).
    async fn open_replies(&self, place: u64, message: u64, name: &str) -> Result<(), SendError>;

    /// Closes a place careprompt opened to new replies, keeping what was said in it (Discord:
    /// archives the thread).
    async fn close(&self, place: u64) -> Result<(), SendError>;
}
