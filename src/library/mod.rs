//! The theme library in `prompts/`: reading its files, from a folder or as built into the binary,
//! and validation that points at the exact place of every mistake so a facilitator can fix it
//! without reading Rust.

mod built_in;
mod files;
mod stories;
mod support;
mod themes;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;

pub use files::{ContentErrors, ContentSource};
pub use validate::validate_url;

use crate::domain::content::{Library, Nation, Story, Theme, CONCERN_THEMES};
use stories::load_stories;
use support::load_support;
use themes::load_theme;

pub const STORIES_FILE: &str = "stories.toml";
pub const SUPPORT_FILE: &str = "support.toml";

/// The library shipped in `prompts/`, as built into the binary.
pub fn built_in() -> Result<Library, ContentErrors> {
    load(&ContentSource::BuiltIn)
}

/// Loads and validates every file of `source`, reporting all mistakes at once.
pub fn load(source: &ContentSource) -> Result<Library, ContentErrors> {
    let mut errors = ContentErrors::default();
    let base = source.base();
    let dir = base.as_path();
    let entries = match source.files() {
        Ok(entries) => entries,
        Err(err) => {
            errors.push_plain(dir, format!("cannot read the content folder: {err}"));
            return Err(errors);
        }
    };
    let mut theme_files: Vec<PathBuf> = entries
        .into_iter()
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str());
            name != Some(STORIES_FILE) && name != Some(SUPPORT_FILE)
        })
        .collect();
    theme_files.sort();

    let mut themes = Vec::new();
    let mut warnings = Vec::new();
    let mut seen_prompt_ids: HashMap<String, String> = HashMap::new();
    let mut seen_orders: HashMap<u32, String> = HashMap::new();
    for path in &theme_files {
        if let Some(theme) = load_theme(
            source,
            path,
            &mut seen_prompt_ids,
            &mut seen_orders,
            &mut errors,
            &mut warnings,
        ) {
            themes.push(theme);
        }
    }
    if theme_files.is_empty() {
        errors.push_plain(dir, "no theme files (*.toml) found".to_string());
    }
    themes.sort_by_key(|theme| theme.order);
    if !themes.is_empty() && !themes.iter().any(|theme| theme.in_rotation) {
        errors.push_plain(
            dir,
            "no theme has `in_rotation = true`, so scheduled posts would have nothing to say"
                .to_string(),
        );
    }

    // File names, not loaded themes: a mistake inside a theme file must not also make every
    // story of that theme look wrong.
    let known_slugs: Vec<String> = theme_files
        .iter()
        .filter_map(|path| {
            path.file_stem()
                .and_then(|stem| stem.to_str())
                .map(str::to_string)
        })
        .collect();
    let stories = load_stories(source, &dir.join(STORIES_FILE), &known_slugs, &mut errors);
    if errors.is_empty() {
        check_story_questions(source, &theme_files, &themes, &stories, &mut errors);
    }
    let support_path = dir.join(SUPPORT_FILE);
    let before_support = errors.0.len();
    let (support_lines, concerns) = load_support(source, &support_path, &mut errors);
    // A card about bullying without somewhere safe to turn would do harm, so a library with
    // such a theme must say where to raise a concern in every nation.
    if known_slugs
        .iter()
        .any(|slug| CONCERN_THEMES.contains(&slug.as_str()))
        && errors.0.len() == before_support
    {
        for nation in Nation::ALL {
            if !concerns
                .iter()
                .any(|concern| concern.nations.contains(&nation))
            {
                errors.push_plain(
                    &support_path,
                    format!("no [[concern]] serves {nation}: the bullying and harassment cards need somewhere to raise a concern in every nation"),
                );
            }
        }
    }

    if errors.is_empty() {
        let mut library = Library {
            themes,
            stories,
            support_lines,
            concerns,
            nation: Nation::default(),
            warnings,
        };
        library.set_nation(Nation::default());
        Ok(library)
    } else {
        Err(errors)
    }
}

/// Refuses a session question about "the story" in a theme that has none: its session shows no
/// story, and the facilitator would read out a question about something nobody has seen.
fn check_story_questions(
    source: &ContentSource,
    theme_files: &[PathBuf],
    themes: &[Theme],
    stories: &[Story],
    errors: &mut ContentErrors,
) {
    for theme in themes {
        if stories
            .iter()
            .any(|story| story.themes.contains(&theme.slug))
        {
            continue;
        }
        let Some(path) = theme_files
            .iter()
            .find(|path| path.file_stem().and_then(|stem| stem.to_str()) == Some(&theme.slug))
        else {
            continue;
        };
        let text = source.read(path).unwrap_or_default();
        for (index, question) in theme.session.questions.iter().enumerate() {
            if !mentions_a_story(question) {
                continue;
            }
            let message = format!(
                "session question {} asks about a story, but no story in {STORIES_FILE} is tagged \"{}\", so its session shows none: ask about what people see at work, or tag a story for the theme",
                index + 1,
                theme.slug
            );
            match text.find(question.as_str()) {
                Some(offset) => errors.push_at(path, &text, offset, message),
                None => errors.push_plain(path, message),
            }
        }
    }
}

/// Whether a question speaks of a story ("the story", "stories").
fn mentions_a_story(question: &str) -> bool {
    themes::comparable(question)
        .split_whitespace()
        .any(|word| word == "story" || word == "stories")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::themes::comparable;
    use super::*;
    use crate::domain::content::SHIPPED_THEMES;

    #[test]
    fn the_built_in_library_is_every_shipped_file_and_loads_like_the_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
        let on_disk: Vec<String> = ContentSource::Dir(dir.clone())
            .files()
            .expect("prompts/")
            .iter()
            .filter_map(|path| path.file_name()?.to_str().map(str::to_string))
            .collect();
        let compiled_in: Vec<&str> = built_in::FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            on_disk, compiled_in,
            "a file added to prompts/ must be built in too"
        );
        let from_dir = load(&ContentSource::Dir(dir.clone())).expect("folder");
        let embedded = built_in().expect("built in");
        assert_eq!(embedded.themes.len(), from_dir.themes.len());
        assert_eq!(embedded.stories.len(), from_dir.stories.len());
        assert_eq!(
            embedded
                .themes
                .iter()
                .map(|theme| theme.prompts.len())
                .sum::<usize>(),
            from_dir
                .themes
                .iter()
                .map(|theme| theme.prompts.len())
                .sum::<usize>()
        );
    }

    fn shipped() -> Library {
        built_in().expect("shipped content is valid")
    }

    #[test]
    fn shipped_library_loads_with_the_seven_themes_in_order() {
        let library = shipped();
        let slugs: Vec<&str> = library
            .themes
            .iter()
            .map(|theme| theme.slug.as_str())
            .collect();
        assert_eq!(slugs, SHIPPED_THEMES);
        assert_eq!(library.rotation(false).len(), 6);
        let bullying = library.theme("bullying-and-harassment").expect("theme");
        assert!(!bullying.in_rotation && bullying.presentation_url.is_none());
        for theme in &library.themes {
            assert!(
                theme.prompts.len() >= 15,
                "{} has {} prompts",
                theme.slug,
                theme.prompts.len()
            );
            for prompt in &theme.prompts {
                assert!(prompt.text.contains('?'), "{} is not a question", prompt.id);
            }
        }
        assert!(library.stories.len() >= 9);
        assert!(library
            .support_lines
            .iter()
            .any(|line| line.how.contains("116 123")));
        assert_eq!(library.warnings, [], "no near-duplicate prompts ship");
    }

    #[test]
    fn shipped_prompts_avoid_words_that_talk_down_at_4am() {
        for theme in &shipped().themes {
            for prompt in &theme.prompts {
                let words: Vec<String> = comparable(&prompt.text)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                for word in ["just", "simply"] {
                    assert!(
                        !words.iter().any(|w| w == word),
                        "{} says \"{word}\"",
                        prompt.id
                    );
                }
            }
        }
    }

    #[test]
    fn every_nation_gets_its_own_lines_and_the_uk_wide_ones() {
        let library = shipped();
        let names = |nation| -> Vec<String> {
            library
                .support_lines_for(nation)
                .into_iter()
                .map(|line| line.name)
                .collect()
        };
        for nation in Nation::ALL {
            let names = names(nation);
            for uk_wide in ["Samaritans", "Shout", "Emergency"] {
                assert!(
                    names.iter().any(|name| name == uk_wide),
                    "{nation}: {names:?}"
                );
            }
        }
        let practitioner = |nation| {
            names(nation)
                .iter()
                .any(|name| name.contains("Practitioner Health"))
        };
        assert!(practitioner(Nation::England));
        for nation in [Nation::Wales, Nation::Scotland, Nation::NorthernIreland] {
            assert!(
                !practitioner(nation),
                "Practitioner Health serves England only"
            );
        }
        assert!(names(Nation::Wales).contains(&"Health for Health Professionals Wales".to_string()));
        assert!(names(Nation::Scotland).contains(&"Breathing Space".to_string()));
        assert!(names(Nation::NorthernIreland).contains(&"Lifeline".to_string()));
    }

    fn bullying_concern(library: &Library) -> String {
        library
            .theme("bullying-and-harassment")
            .and_then(|theme| theme.concern.clone())
            .expect("a concern part")
    }

    #[test]
    fn the_bullying_theme_says_where_to_raise_a_concern_in_the_chosen_nation() {
        let mut library = shipped();
        let expected = [
            (Nation::England, "Freedom to Speak Up Guardian", "Acas"),
            (Nation::Wales, "Speaking Up Safely", "Acas"),
            (Nation::Scotland, "Bullying and Harassment Policy", "Acas"),
            (
                Nation::NorthernIreland,
                "raising a concern policy",
                "Labour Relations Agency",
            ),
        ];
        for (nation, route, adviser) in expected {
            library.set_nation(nation);
            let text = bullying_concern(&library);
            assert!(
                text.contains(route) && text.contains(adviser),
                "{nation}: {text}"
            );
            assert!(text.contains("trade union rep"), "{nation}: {text}");
        }
        library.set_nation(Nation::NorthernIreland);
        assert!(
            !bullying_concern(&library).contains("Acas"),
            "Acas does not cover Northern Ireland"
        );
        assert!(library
            .theme("compassion")
            .is_some_and(|theme| theme.concern.is_none()));
    }

    /// A scratch library: the shipped one with `support.toml` and any theme file replaced.
    fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("careprompt-content-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
        for entry in std::fs::read_dir(&shipped).expect("prompts") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
        }
        for (file, text) in files {
            std::fs::write(dir.join(file), text).expect("write");
        }
        dir
    }

    const CONCERNS: &str =
        "# Source: test\n[[concern]]\ntext = \"Talk to someone.\"\nnations = [\"uk-wide\"]\n";

    #[test]
    fn a_support_line_needs_nations_and_a_source_comment() {
        let support = format!(
            "# Source: test\n[[line]]\nname = \"A\"\nhow = \"Call 1\"\nwhen = \"Any time\"\n\n[[line]]\nname = \"B\"\nhow = \"Call 2\"\nwhen = \"Any time\"\nnations = [\"wales\"]\n\n# Source: test\n[[line]]\nname = \"C\"\nhow = \"Call 3\"\nwhen = \"Any time\"\nnations = [\"cymru\"]\n\n{CONCERNS}"
        );
        let dir = scratch("support", &[(SUPPORT_FILE, &support)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("three mistakes")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join(SUPPORT_FILE).display().to_string();
        assert!(
            errors.contains(&format!("{file}:2:1: support line \"A\" has no `nations`")),
            "{errors}"
        );
        assert!(
            errors.contains(&format!(
                "{file}:7:1: support line \"B\" has no `# Source: ...` comment"
            )),
            "{errors}"
        );
        assert!(
            errors.contains(&format!("{file}:18:12: unknown nation \"cymru\"")),
            "{errors}"
        );
        assert_eq!(errors.lines().count(), 3, "{errors}");
    }

    #[test]
    fn a_library_with_the_bullying_theme_needs_a_concern_route_for_every_nation() {
        let support = "# Source: test\n[[line]]\nname = \"A\"\nhow = \"Call 999\"\nwhen = \"Any time\"\nnations = [\"uk-wide\"]\n\n# Source: test\n[[concern]]\ntext = \"Ask HR.\"\nnations = [\"england\"]\n";
        let dir = scratch("concerns", &[(SUPPORT_FILE, support)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("three nations uncovered")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        for nation in ["wales", "scotland", "northern-ireland"] {
            assert!(
                errors.contains(&format!("no [[concern]] serves {nation}")),
                "{errors}"
            );
        }
        assert!(!errors.contains("serves england"), "{errors}");
    }

    #[test]
    fn a_reworded_copy_of_a_prompt_is_a_warning_at_the_copy() {
        let theme = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/resilience.toml"),
        )
        .expect("read");
        let copy = format!(
            "{theme}\n[[prompt]]\nid = \"res-99\"\ntext = \"Where at work can you take a breath, even for a minute, and what makes it work for you?\"\n"
        );
        let dir = scratch("nearcopy", &[("resilience.toml", &copy)]);
        let library = load(&ContentSource::Dir(dir.clone())).expect("a warning is not an error");
        let _ = std::fs::remove_dir_all(&dir);
        let warnings: Vec<String> = library.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let line = copy.lines().count() - 1;
        assert!(
            warnings[0].contains(&format!(
                "resilience.toml:{line}:6: prompt \"res-99\" reads almost the same as \"res-05\""
            )),
            "{warnings:?}"
        );
    }
    #[test]
    fn every_shipped_theme_has_a_session_of_three_questions_and_a_closing_one() {
        for theme in &shipped().themes {
            let session = &theme.session;
            assert!(!session.opening.is_empty(), "{}", theme.slug);
            assert_eq!(session.questions.len(), 3, "{}", theme.slug);
            for question in session.questions.iter().chain([&session.closing]) {
                assert!(question.ends_with('?'), "{}: {question}", theme.slug);
            }
            assert!(
                !format!("{session:?}").contains("Schwartz"),
                "a Schwartz Round is a licensed name and a different format"
            );
        }
    }

    #[test]
    fn a_theme_without_a_session_or_with_a_long_or_unasked_one_is_refused() {
        let theme = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/resilience.toml"),
        )
        .expect("read");
        let cut = theme.find("[session]").expect("a session part");
        let dir = scratch("nosession", &[("resilience.toml", &theme[..cut])]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("no session")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(errors.contains("has no [session] part"), "{errors}");

        let long = format!(
            "{}[session]\nopening = \"{}\"\nquestions = [\"One?\", \"Two.\"]\nclosing = \"Bye?\"\n",
            &theme[..cut],
            "a".repeat(401)
        );
        let dir = scratch("badsession", &[("resilience.toml", &long)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("three mistakes")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            errors.contains("session opening is 401 characters long; the limit is 400"),
            "{errors}"
        );
        assert!(errors.contains("the session has 2 questions"), "{errors}");
        assert!(
            errors.contains("session question 2 should be a question"),
            "{errors}"
        );
    }

    #[test]
    fn the_shipped_support_lists_open_with_the_emergency_line() {
        let library = shipped();
        for nation in Nation::ALL {
            let lines = library.support_lines_for(nation);
            assert_eq!(lines[0].how, "Call 999", "{nation}: {lines:?}");
        }
    }

    #[test]
    fn a_support_list_that_does_not_open_with_the_emergency_line_is_refused() {
        let line = |name: &str, how: &str, nations: &str| {
            format!("# Source: test\n[[line]]\nname = \"{name}\"\nhow = \"{how}\"\nwhen = \"Any time\"\nnations = [{nations}]\n\n")
        };
        let support = format!(
            "{}{}{}{CONCERNS}",
            line("Samaritans", "Call 116 123", "\"uk-wide\""),
            line("Emergency", "Call 999", "\"uk-wide\""),
            line("Local line", "Call 0999 000", "\"wales\"")
        );
        let dir = scratch("emergency", &[(SUPPORT_FILE, &support)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("999 comes second")
            .to_string();
        for nation in Nation::ALL {
            assert!(
                errors.contains(&format!(
                    "the support list for {nation} opens with \"Samaritans\", not the emergency line"
                )),
                "{errors}"
            );
        }
        assert_eq!(errors.lines().count(), 4, "{errors}");

        // One nation's own line put above the UK-wide 999 is refused for that nation alone.
        let support = format!(
            "{}{}{CONCERNS}",
            line("Local line", "Call 0999 000", "\"wales\""),
            line("Emergency", "Call 999", "\"uk-wide\"")
        );
        std::fs::write(dir.join(SUPPORT_FILE), support).expect("write");
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("Wales opens with its own line")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            errors.contains("the support list for wales opens with \"Local line\""),
            "{errors}"
        );
        assert_eq!(errors.lines().count(), 1, "{errors}");
    }

    #[test]
    fn the_second_pass_routes_show_in_their_nations_only() {
        let mut library = shipped();
        let before = |text: &str, first: &str, then: &str| matches!((text.find(first), text.find(then)), (Some(a), Some(b)) if a < b);
        for nation in Nation::ALL {
            library.set_nation(nation);
            let text = bullying_concern(&library);
            assert_eq!(
                text.contains("Equality Act 2010"),
                nation != Nation::NorthernIreland,
                "{nation}: {text}"
            );
            assert_eq!(
                text.contains("Sexual Safety Charter"),
                nation == Nation::England,
                "{nation}: {text}"
            );
        }
        library.set_nation(Nation::Scotland);
        let text = bullying_concern(&library);
        assert!(
            before(
                &text,
                "Bullying and Harassment Policy",
                "Independent National Whistleblowing Officer"
            ) && text.contains("0800 008 6112"),
            "{text}"
        );
        library.set_nation(Nation::NorthernIreland);
        let text = bullying_concern(&library);
        assert!(
            before(&text, "dignity at work", "raising a concern policy") && text.contains("RQIA"),
            "{text}"
        );
        let names = |nation| -> Vec<String> {
            library
                .support_lines_for(nation)
                .into_iter()
                .map(|line| format!("{} {}", line.name, line.how))
                .collect()
        };
        // No contact route or current status is known: it stays out until a person confirms one
        // (content-facts.md, "Additions for the third content pass").
        assert!(!names(Nation::Scotland)
            .iter()
            .any(|line| line.contains("Workforce Specialist Service")));
        assert!(!names(Nation::NorthernIreland)
            .iter()
            .any(|line| line.contains("manager")));
    }

    #[test]
    fn support_lists_999_then_the_lines_open_around_the_clock_then_hours_then_look_ups() {
        use crate::domain::content::Opening;
        let library = shipped();
        let expected: [(Nation, &[&str]); 4] = [
            (
                Nation::England,
                &[
                    "Emergency",
                    "Samaritans",
                    "Shout",
                    "NHS 111 (England)",
                    "NHS Practitioner Health (England)",
                ],
            ),
            (
                Nation::Wales,
                &[
                    "Emergency",
                    "Samaritans",
                    "Shout",
                    "NHS 111 Wales",
                    "Health for Health Professionals Wales",
                ],
            ),
            (
                Nation::Scotland,
                &[
                    "Emergency",
                    "Samaritans",
                    "Shout",
                    "NHS 24 mental health hub",
                    "Breathing Space",
                ],
            ),
            (
                Nation::NorthernIreland,
                &[
                    "Emergency",
                    "Samaritans",
                    "Shout",
                    "Lifeline",
                    "Your Trust's occupational health service",
                ],
            ),
        ];
        for (nation, names) in expected {
            let lines = library.support_lines_for(nation);
            let shown: Vec<&str> = lines.iter().map(|line| line.name.as_str()).collect();
            assert_eq!(shown, names, "{nation}");
            assert!(lines[0].gives_emergency_number(), "{nation}");
            let opens: Vec<Opening> = lines.iter().map(|line| line.open).collect();
            let mut sorted = opens.clone();
            sorted.sort();
            assert_eq!(
                opens, sorted,
                "{nation}: 24 hours, then hours, then look-ups"
            );
            // A line is filed as answered around the clock only where its words say so.
            for line in lines.iter().filter(|line| line.open == Opening::AllHours) {
                assert!(
                    line.when.contains("24 hours") || line.gives_emergency_number(),
                    "{nation}: {}",
                    line.name
                );
            }
        }
        // At risk or unconfirmed (content-facts.md, third pass): not shown until a person checks.
        for nation in Nation::ALL {
            for line in library.support_lines_for(nation) {
                assert!(
                    !line.how.contains("0808 164 0123"),
                    "{nation}: {}",
                    line.name
                );
            }
        }
    }

    #[test]
    fn an_unknown_opening_is_refused_at_its_place() {
        let support = format!(
            "# Source: test\n[[line]]\nname = \"A\"\nhow = \"Call 999\"\nwhen = \"Any time\"\nnations = [\"uk-wide\"]\nopen = \"always\"\n\n{CONCERNS}"
        );
        let dir = scratch("opening", &[(SUPPORT_FILE, &support)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("unknown opening")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            errors.contains(&format!(
                "{}:7:8: open = \"always\" is not one careprompt knows; use 24-hours, hours, look-up",
                dir.join(SUPPORT_FILE).display()
            )),
            "{errors}"
        );
    }

    #[test]
    fn a_session_question_about_a_story_in_a_theme_without_one_is_refused() {
        let library = shipped();
        for theme in &library.themes {
            if library.stories_for(&theme.slug).next().is_none() {
                for question in &theme.session.questions {
                    assert!(!mentions_a_story(question), "{}: {question}", theme.slug);
                }
            }
        }
        let equality = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/equality-and-diversity.toml"),
        )
        .expect("read");
        let asked = "What did you notice in the story about who belongs?";
        let changed = equality.replace(
            "What do you notice at work about who seems to feel they belong here, and who may not?",
            asked,
        );
        assert_ne!(
            changed, equality,
            "the first question is where the test expects it"
        );
        let dir = scratch("storyless", &[("equality-and-diversity.toml", &changed)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("a question about a story nobody sees")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        let offset = changed.find(asked).expect("written");
        let line = changed[..offset].matches('\n').count() + 1;
        assert!(
            errors.contains(&format!(
                "equality-and-diversity.toml:{line}:4: session question 1 asks about a story, but no story in stories.toml is tagged \"equality-and-diversity\""
            )),
            "{errors}"
        );
    }

    #[test]
    fn the_bullying_session_cannot_lose_its_question_before_it_starts() {
        let bullying = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/bullying-and-harassment.toml"),
        )
        .expect("read");
        let without: String = bullying
            .lines()
            .filter(|line| !line.starts_with("before_you_start"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(without, bullying);
        let dir = scratch("noquestion", &[("bullying-and-harassment.toml", &without)]);
        let errors = load(&ContentSource::Dir(dir.clone()))
            .expect_err("no question")
            .to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            errors.contains("the [session] part has no `before_you_start`"),
            "{errors}"
        );
    }

    #[test]
    fn the_bullying_theme_believes_people_is_fair_to_the_accused_and_gives_no_defence() {
        let library = shipped();
        let bullying = library.theme("bullying-and-harassment").expect("theme");
        assert!(bullying.prompts.len() >= 15);
        for gone in ["bh-05", "bh-06"] {
            assert!(library.find_prompt(gone).is_none(), "{gone} is retired");
        }
        let texts: Vec<&str> = bullying.prompts.iter().map(|p| p.text.as_str()).collect();
        assert!(texts.iter().any(|text| text.contains("feel believed")));
        assert!(texts
            .iter()
            .any(|text| text.contains("everyone involved is treated fairly")));
        for word in ["feedback", "disagree"] {
            assert!(
                !texts.iter().any(|text| text.contains(word)),
                "no bullying prompt asks about {word}"
            );
        }
        let leadership = library.theme("compassionate-leadership").expect("theme");
        for id in ["cl-18", "cl-19"] {
            assert!(leadership.prompt(id).is_some(), "{id}");
        }
        // Every "Retired ids" note names the ids this pass retired.
        for (file, ids) in [
            ("bullying-and-harassment.toml", &["bh-05", "bh-06"][..]),
            ("compassionate-leadership.toml", &["cl-05"][..]),
            ("resilience.toml", &["res-03"][..]),
            ("whole-self.toml", &["ws-01"][..]),
            ("equality-and-diversity.toml", &["ed-16"][..]),
        ] {
            let text = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("prompts")
                    .join(file),
            )
            .expect("read");
            for id in ids {
                assert!(library.find_prompt(id).is_none(), "{id}");
                assert!(
                    text.contains(&format!("{id} (")) || text.contains(&format!("{id} and")),
                    "{file}: {id}"
                );
            }
        }
    }
}
