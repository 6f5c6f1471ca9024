//! Short answers: a confirmation in a neutral box, or a few plain words.

use crate::cards::model::{Card, Colour, Panel};

/// The longest plain note a card carries, and the longest text of a box: Discord's limits (2,000
/// and 4,096 characters), the tightest of the platforms careprompt serves, so an answer is cut
/// to fit rather than refused, which would leave the person with no answer at all.
pub const LONGEST_NOTE: usize = 2000;
pub const LONGEST_TEXT: usize = 4096;

/// Cuts `text` to at most `max` characters, marking the cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// A short confirmation in a neutral box, such as "Paused posts in #wellbeing", cut to fit.
pub fn note_card(text: String) -> Card {
    let text = shorten(&text, LONGEST_TEXT);
    Card::new(Panel::untitled(text, Colour::Neutral), Vec::new())
}

/// A short private message in plain words: what went wrong and what to do, or a confirmation,
/// cut to fit.
pub fn text_card(message: &str) -> Card {
    Card {
        note: Some(shorten(message, LONGEST_NOTE)),
        ..Card::default()
    }
}
