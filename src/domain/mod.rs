//! Pure logic with no I/O: the content model and what a bookmark keeps of it, crontab
//! schedules, bank holidays, the rotation of themes and prompts, planning which post goes out
//! when, the chat platforms and which of their places a process looks after, and the insights figures with the rule that keeps them
//! from identifying anyone, and the stages and timings of a reflective session.

pub mod bookmark;
pub mod content;
pub mod holidays;
pub mod insights;
pub mod planning;
pub mod platform;
pub mod rotation;
pub mod schedule;
pub mod session;
pub mod settings;
pub mod shards;
pub mod suppression;

/// The longest stretch of what someone typed that an error quotes back to them.
const MAX_EXCERPT: usize = 40;

/// What someone typed, as an error quotes it back: cut short, so that a reply about a mistake
/// still fits in a message however much was typed.
pub fn excerpt(typed: &str) -> String {
    if typed.chars().count() <= MAX_EXCERPT {
        return typed.to_string();
    }
    let kept: String = typed.chars().take(MAX_EXCERPT - 1).collect();
    format!("{kept}…")
}
