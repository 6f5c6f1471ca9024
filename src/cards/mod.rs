//! The cards careprompt sends, on any platform: what each says and offers (its boxes of words,
//! its links and buttons, what each button does and who may press it), built from the library and
//! the store and knowing nothing of Discord. A platform's adapter renders a `Card` in its own
//! form (`crate::discord::render`).
//!
//! - `model`: a card, its boxes and its buttons.
//! - `act`: what a button does, and who may press it.
//! - `content`: the library's cards: a scheduled post, a pack, a prompt, a story, the themes,
//!   support, help and about.
//! - `session`: a reflective session's plan, question, stage cards and summary.
//! - `schedule`: a channel's schedule, saved, previewed and listed.
//! - `personal`: a person's bookmarks, `/forget-me` and `/mydata`.
//! - `answers`: short notes and plain words.
//! - `catalogue`: every card a library can make, for `check`.

pub mod act;
pub mod answers;
pub mod catalogue;
pub mod content;
pub mod model;
pub mod personal;
pub mod schedule;
pub mod session;

pub use act::{Act, SessionBegin, SessionControl, Who};
pub use answers::{note_card, text_card};
pub use catalogue::{all_cards, all_posts};
pub use content::{
    about_card, help_card, no_story_card, pack_card, post_card, prompt_card, story_card,
    support_card, themes_card, OPTIONAL_AND_SUPPORT, PATIENT_VOICES_DNA_OF_CARE_URL, STORY_CREDIT,
};
pub use model::{Action, Card, Colour, Field, Panel, Style};
pub use personal::{
    bookmark_name, bookmarks_card, forget_me_card, forgotten_card, my_data_card, BOOKMARKS_PER_PAGE,
};
pub use schedule::{schedule_list_card, schedule_preview_card, schedule_saved_card};
pub use session::{
    confirm_card, plan_card, stage_card, summary_card, CardState, SessionRequest, SessionView,
};

#[cfg(test)]
mod card_tests;
