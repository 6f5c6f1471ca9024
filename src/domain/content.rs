//! The content model: themes and their prompts, stories, support lines and routes for raising a
//! concern, and what the bot asks of them. Reading the files in `prompts/` and checking them is
//! `crate::library`'s work; this module does no I/O.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The shipped themes, in rotation order: the six DNA of Care themes, then bullying and
/// harassment, which is out of the rotation.
pub const SHIPPED_THEMES: [&str; 7] = [
    "whole-self",
    "compassion",
    "compassionate-leadership",
    "improvement-and-change",
    "resilience",
    "equality-and-diversity",
    "bullying-and-harassment",
];

/// NHS Employers' DNA of Care page: the default home of every facilitator pack.
// Source: issue 2 (careprompt foundation), from NHS Employers' staff experience guidance; the
// page lists every theme's guide and presentation (../shared/content-facts.md, "The
// facilitator packs").
pub const DNA_OF_CARE_URL: &str =
    "https://www.nhsemployers.org/retention-and-staff-experience/diversity-and-inclusion/policy-and-guidance/staff-experience";

/// Themes whose every card says where to raise a concern: talking about bullying and harassment
/// can bring up something that is happening now, and the reader needs a safe next step.
pub const CONCERN_THEMES: [&str; 1] = ["bullying-and-harassment"];

/// The UK nation an organisation works in, which decides the support lines and the routes for
/// raising a concern that careprompt shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nation {
    #[default]
    England,
    Wales,
    Scotland,
    NorthernIreland,
}

impl Nation {
    pub const ALL: [Nation; 4] = [
        Nation::England,
        Nation::Wales,
        Nation::Scotland,
        Nation::NorthernIreland,
    ];

    /// The spelling used in the config and in `nations = [...]`.
    pub fn slug(self) -> &'static str {
        match self {
            Nation::England => "england",
            Nation::Wales => "wales",
            Nation::Scotland => "scotland",
            Nation::NorthernIreland => "northern-ireland",
        }
    }

    pub fn from_slug(value: &str) -> Option<Nation> {
        Nation::ALL
            .into_iter()
            .find(|nation| nation.slug() == value)
    }

    /// The nation's name, as a reader would write it: the support card's title names the nation
    /// whose lines it shows, so staff can tell when careprompt was set up for the wrong one.
    pub fn name(self) -> &'static str {
        match self {
            Nation::England => "England",
            Nation::Wales => "Wales",
            Nation::Scotland => "Scotland",
            Nation::NorthernIreland => "Northern Ireland",
        }
    }
}

/// By hand, so a mistake in the config reads as plain words rather than serde's "variant".
impl<'de> Deserialize<'de> for Nation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Nation::from_slug(&value).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "\"{value}\" is not a nation careprompt knows; use {}",
                Nation::ALL.map(Nation::slug).join(", ")
            ))
        })
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub about: String,
    pub colour: u32,
    pub in_rotation: bool,
    pub order: u32,
    pub guide_url: String,
    pub presentation_url: Option<String>,
    pub prompts: Vec<Prompt>,
    /// Where to raise a concern in the library's nation, for the themes in `CONCERN_THEMES`;
    /// every card of the theme carries it.
    pub concern: Option<String>,
    /// What a facilitator says and asks in a reflective session on the theme (`/session`).
    pub session: SessionPart,
}

/// A theme's reflective session: the opening, three questions in the order they build (from
/// noticing, to meaning, to what we might do) and the closing question.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPart {
    pub opening: String,
    pub questions: Vec<String>,
    pub closing: String,
    /// What the facilitator must weigh before a session on this theme: shown in the private
    /// brief of `/session plan`, and asked, privately, before `/session start` posts anything.
    /// Themes without one start at once.
    pub before_you_start: Option<String>,
}

/// How many questions a session part holds: one each for noticing, meaning and doing.
pub const SESSION_QUESTIONS: usize = 3;

impl Theme {
    pub fn prompt(&self, id: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|prompt| prompt.id == id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Story {
    pub id: String,
    pub title: String,
    pub storyteller: String,
    pub url: String,
    pub themes: Vec<String>,
    /// Where to raise a concern in the library's nation, when the story is tagged for a theme in
    /// `CONCERN_THEMES`: a story about speaking up comes with the route to speak up on every card
    /// that shows it, whatever theme the card is for.
    pub concern: Option<String>,
}

/// When a support line answers, which decides its place in `/support`: someone reading at 4 a.m.
/// finds the lines that are open around the clock before those that may be closed, and those
/// before the ones they have to look up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Opening {
    /// Answered 24 hours a day (`open = "24-hours"`).
    AllHours,
    /// A number with opening hours, stated in `when` or not (`open = "hours"`, the default).
    #[default]
    Hours,
    /// No number: a website or a contact to look up (`open = "look-up"`).
    LookUp,
}

impl Opening {
    pub const ALL: [Opening; 3] = [Opening::AllHours, Opening::Hours, Opening::LookUp];

    /// The spelling in `support.toml`.
    pub fn slug(self) -> &'static str {
        match self {
            Opening::AllHours => "24-hours",
            Opening::Hours => "hours",
            Opening::LookUp => "look-up",
        }
    }

    pub fn from_slug(value: &str) -> Option<Opening> {
        Opening::ALL
            .into_iter()
            .find(|opening| opening.slug() == value)
    }
}

/// The number that comes first in every nation's support list.
pub const EMERGENCY_NUMBER: &str = "999";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportLine {
    pub name: String,
    pub how: String,
    pub when: String,
    pub url: Option<String>,
    /// The nations it serves; `uk-wide` in the file means all four.
    pub nations: Vec<Nation>,
    pub open: Opening,
}

impl SupportLine {
    /// Whether this is the emergency line: its `how` gives 999 as a number of its own.
    pub fn gives_emergency_number(&self) -> bool {
        self.how
            .split(|c: char| !c.is_ascii_digit())
            .any(|number| number == EMERGENCY_NUMBER)
    }
}

/// One part of what to do about bullying or harassment, for the nations it applies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concern {
    pub text: String,
    pub nations: Vec<Nation>,
}

/// Everything careprompt can say, loaded once at start and shared read-only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Library {
    /// Sorted by rotation order.
    pub themes: Vec<Theme>,
    pub stories: Vec<Story>,
    /// Every line for every nation; `support_lines_for` picks the ones to show.
    pub support_lines: Vec<SupportLine>,
    pub concerns: Vec<Concern>,
    /// The nation the cards speak to; set from the config with `set_nation`.
    pub nation: Nation,
    /// Things worth a facilitator's look that do not stop the library loading.
    pub warnings: Vec<ContentError>,
}

impl Library {
    pub fn theme(&self, slug: &str) -> Option<&Theme> {
        self.themes.iter().find(|theme| theme.slug == slug)
    }

    pub fn story(&self, id: &str) -> Option<&Story> {
        self.stories.iter().find(|story| story.id == id)
    }

    pub fn stories_for<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a Story> + 'a {
        self.stories
            .iter()
            .filter(move |story| story.themes.iter().any(|theme| theme == slug))
    }

    /// The themes a schedule rotates through, in order.
    pub fn rotation(&self, include_out_of_rotation: bool) -> Vec<&str> {
        self.themes
            .iter()
            .filter(|theme| theme.in_rotation || include_out_of_rotation)
            .map(|theme| theme.slug.as_str())
            .collect()
    }

    /// The support lines that serve `nation`, in the order `/support` shows them: the emergency
    /// line (999), then the lines answered around the clock, then those with hours, then those to
    /// look up; in file order within each.
    pub fn support_lines_for(&self, nation: Nation) -> Vec<SupportLine> {
        let mut lines: Vec<SupportLine> = self
            .support_lines
            .iter()
            .filter(|line| line.nations.contains(&nation))
            .cloned()
            .collect();
        lines.sort_by_key(|line| (!line.gives_emergency_number(), line.open));
        lines
    }

    /// What to do about bullying or harassment in `nation`, one part a line.
    pub fn concern_for(&self, nation: Nation) -> String {
        self.concerns
            .iter()
            .filter(|concern| concern.nations.contains(&nation))
            .map(|concern| concern.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Points the cards at `nation`: its raising-a-concern routes go on every card of the
    /// themes in `CONCERN_THEMES`, and on every card that shows a story tagged for one.
    pub fn set_nation(&mut self, nation: Nation) {
        self.nation = nation;
        let concern = self.concern_for(nation);
        let carries = |slug: &str| CONCERN_THEMES.contains(&slug) && !concern.is_empty();
        for theme in &mut self.themes {
            theme.concern = carries(&theme.slug).then(|| concern.clone());
        }
        for story in &mut self.stories {
            story.concern = story
                .themes
                .iter()
                .any(|slug| carries(slug))
                .then(|| concern.clone());
        }
    }

    /// Finds a prompt by its id in any theme.
    pub fn find_prompt(&self, id: &str) -> Option<(&Theme, &Prompt)> {
        self.themes
            .iter()
            .find_map(|theme| theme.prompt(id).map(|prompt| (theme, prompt)))
    }
}

/// Where a mistake is: `prompts/compassion.toml:14:3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn from_offset(file: &Path, text: &str, offset: usize) -> Location {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            file: file.to_path_buf(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A mistake or a warning in a library file, at its exact place when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub file: PathBuf,
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}", self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Parses `#RRGGBB`.
pub fn parse_colour(value: &str) -> Option<u32> {
    let hex = value.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let offset = text.find("\"x\"").expect("present");
        let location = Location::from_offset(Path::new("f.toml"), text, offset);
        assert_eq!((location.line, location.column), (2, 6));
        assert_eq!(location.to_string(), "f.toml:2:6");
        assert_eq!(
            Location::from_offset(Path::new("f"), text, 0).to_string(),
            "f:1:1"
        );
    }

    #[test]
    fn colours_are_hex() {
        assert_eq!(parse_colour("#005EB8"), Some(0x005EB8));
        assert_eq!(parse_colour("005EB8"), None);
        assert_eq!(parse_colour("#05EB8"), None);
        assert_eq!(parse_colour("#GGGGGG"), None);
    }
}
