//! Commands written once: what each command answers, and who may run it, as a function of the
//! request (who asked, where, with which rights) and what careprompt keeps. A platform's adapter
//! (`bot` for Discord) reads its own interaction into a [`Request`], calls the command here, and
//! delivers the [`Answer`] its own way; it keeps only what is its platform's (options, deferral,
//! how a private answer is made private, attachments).

pub mod checks;
pub mod content;
pub mod insights;
pub mod optin;
pub mod personal;
pub mod schedule;
pub mod session;

use crate::cards::Card;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::content::Library;
use crate::domain::platform::Platform;
use crate::scheduler::Scheduler;
use crate::store::Store;

/// What a command reads and changes: borrowed from the one `Data` the adapter holds, so a
/// command needs nothing of the platform's.
#[derive(Clone, Copy)]
pub struct Core<'a> {
    pub library: &'a Library,
    pub settings: &'a Settings,
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub scheduler: &'a Scheduler,
}

/// The person who asked: their key as careprompt's tables hold it (for Discord the snowflake,
/// for another platform the number careprompt gave them), and whose key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub id: u64,
    pub platform: Platform,
}

/// What the platform says the person may do where they asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    /// They may manage the server or team (on Discord: Manage Server, or Administrator).
    pub manage_server: bool,
    /// The roles they hold there, as keys of the same platform.
    pub roles: Vec<u64>,
}

impl Rights {
    pub fn holds(&self, role: u64) -> bool {
        self.roles.contains(&role)
    }
}

/// A command as careprompt sees it, whatever platform it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub who: Person,
    /// The server or team it was asked in; none in a direct message.
    pub place: Option<u64>,
    /// The channel (or conversation) it was asked in.
    pub channel: u64,
    pub rights: Rights,
}

/// A file to go with an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
    /// What it shows, for people who cannot see it.
    pub description: Option<String>,
}

/// A further message after the first answer, as a platform allows only so much in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub text: String,
    pub file: Option<File>,
    pub private: bool,
}

/// What a command answers: a card, seen only by the person who asked if `private`, with any
/// files and further messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub card: Card,
    pub private: bool,
    pub files: Vec<File>,
    pub follow_ups: Vec<FollowUp>,
}

impl Answer {
    pub fn new(card: Card, private: bool) -> Answer {
        Answer {
            card,
            private,
            files: Vec::new(),
            follow_ups: Vec::new(),
        }
    }

    /// Seen only by the person who asked.
    pub fn private(card: Card) -> Answer {
        Answer::new(card, true)
    }

    pub fn with_file(mut self, file: File) -> Answer {
        self.files.push(file);
        self
    }

    pub fn with_follow_up(mut self, follow_up: FollowUp) -> Answer {
        self.follow_ups.push(follow_up);
        self
    }
}
