//! What a button does when it is pressed, and who may press it. Everything needed to answer a
//! press is here, so a press is answered after a restart, and a post can be recognised later by
//! the delivery it carries; each platform writes an `Act` into its buttons in its own way
//! (`crate::discord::custom_id` for Discord).

use crate::domain::bookmark::BookmarkKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Bookmark a prompt, story or pack for whoever clicks.
    Save {
        delivery: Option<i64>,
        kind: BookmarkKind,
        item_id: String,
    },
    /// The theme's facilitator pack, privately.
    Pack {
        delivery: Option<i64>,
        theme: String,
    },
    /// Where to get support, privately.
    Support {
        delivery: Option<i64>,
    },
    /// A page (from 0) of the clicker's own bookmarks, in place of the one shown.
    BookmarksPage {
        page: u32,
    },
    /// Erase everything about the clicker, who is always the one erased: the act names nobody.
    ForgetConfirm,
    ForgetCancel,
    /// The facilitator's controls on a session's stage card: the session and the stage the card
    /// shows, so a click on an older card does not move the session on twice.
    Session {
        session: i64,
        stage: u32,
        control: SessionControl,
    },
    /// The facilitator's yes to the private question a sensitive theme asks before its session
    /// starts. Nothing is stored until this click.
    SessionBegin(SessionBegin),
    /// The facilitator's no to that question: nothing is posted.
    SessionCancel,
}

/// What a Start button carries: everything `/session start` was given, and when it asked (Unix
/// seconds), so a late answer starts nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBegin {
    pub asked_at: i64,
    pub minutes: u32,
    pub auto: bool,
    pub theme: String,
    pub story: Option<String>,
}

/// What a button on a stage card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionControl {
    Next,
    Pause,
    Resume,
    End,
}

/// Who may press a button. A press always acts for the person who pressed: no act names a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anyone,
    /// The facilitator running the session.
    Facilitator,
    /// The person the card answered: paging their bookmarks, erasing their data, answering the
    /// question asked before their session.
    Asker,
}

impl Act {
    pub fn who(&self) -> Who {
        match self {
            Act::Save { .. } | Act::Pack { .. } | Act::Support { .. } => Who::Anyone,
            Act::Session { .. } => Who::Facilitator,
            Act::BookmarksPage { .. }
            | Act::ForgetConfirm
            | Act::ForgetCancel
            | Act::SessionBegin(_)
            | Act::SessionCancel => Who::Asker,
        }
    }

    /// What the button does, for logs: never what it acts on, nor for whom.
    pub fn name(&self) -> &'static str {
        match self {
            Act::Save { .. } => "save",
            Act::Pack { .. } => "pack",
            Act::Support { .. } => "support",
            Act::BookmarksPage { .. } => "bookmarks page",
            Act::ForgetConfirm => "forget-me erase",
            Act::ForgetCancel => "forget-me cancel",
            Act::Session { control, .. } => match control {
                SessionControl::Next => "session next",
                SessionControl::Pause => "session pause",
                SessionControl::Resume => "session resume",
                SessionControl::End => "session end",
            },
            Act::SessionBegin(_) => "session start",
            Act::SessionCancel => "session cancel",
        }
    }

    /// The delivery a button belongs to, when it is on a scheduled post.
    pub fn delivery(&self) -> Option<i64> {
        match self {
            Act::Save { delivery, .. } | Act::Pack { delivery, .. } | Act::Support { delivery } => {
                *delivery
            }
            Act::BookmarksPage { .. }
            | Act::ForgetConfirm
            | Act::ForgetCancel
            | Act::Session { .. }
            | Act::SessionBegin(_)
            | Act::SessionCancel => None,
        }
    }
}
