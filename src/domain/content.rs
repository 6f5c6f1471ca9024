//! The theme library in `prompts/`: loading, and validation that points at the exact place of
//! every mistake so a facilitator can fix it without reading Rust.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// Limits on what facilitators write, chosen so every card stays readable on a phone and well
/// inside Discord's own limits.
pub const MAX_PROMPT_CHARS: usize = 280;
pub const MAX_SUMMARY_CHARS: usize = 200;
pub const MAX_ABOUT_CHARS: usize = 600;
pub const MAX_TITLE_CHARS: usize = 100;
/// Discord's limit on a link button's URL.
pub const MAX_URL_CHARS: usize = 512;

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

/// The shipped library, built into the binary so `careprompt run` needs nothing beside it.
const BUILT_IN: [(&str, &str); 9] = [
    (
        "bullying-and-harassment.toml",
        include_str!("../../prompts/bullying-and-harassment.toml"),
    ),
    (
        "compassion.toml",
        include_str!("../../prompts/compassion.toml"),
    ),
    (
        "compassionate-leadership.toml",
        include_str!("../../prompts/compassionate-leadership.toml"),
    ),
    (
        "equality-and-diversity.toml",
        include_str!("../../prompts/equality-and-diversity.toml"),
    ),
    (
        "improvement-and-change.toml",
        include_str!("../../prompts/improvement-and-change.toml"),
    ),
    (
        "resilience.toml",
        include_str!("../../prompts/resilience.toml"),
    ),
    ("stories.toml", include_str!("../../prompts/stories.toml")),
    ("support.toml", include_str!("../../prompts/support.toml")),
    (
        "whole-self.toml",
        include_str!("../../prompts/whole-self.toml"),
    ),
];

/// Where a library's files come from: an organisation's own folder, or the library built in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSource {
    Dir(PathBuf),
    BuiltIn,
}

impl ContentSource {
    /// The folder that file names are shown in; `built-in` stands for the binary itself.
    fn base(&self) -> PathBuf {
        match self {
            ContentSource::Dir(dir) => dir.clone(),
            ContentSource::BuiltIn => PathBuf::from("built-in"),
        }
    }

    /// Which library this is, for `check` to say what it validated.
    pub fn describe(&self) -> String {
        match self {
            ContentSource::Dir(dir) => format!("the library in {}", dir.display()),
            ContentSource::BuiltIn => "the built-in library".to_string(),
        }
    }

    /// Every `.toml` file of the library, sorted.
    pub fn files(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = match self {
            ContentSource::Dir(dir) => std::fs::read_dir(dir)?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                .collect(),
            ContentSource::BuiltIn => BUILT_IN
                .iter()
                .map(|(name, _)| self.base().join(name))
                .collect(),
        };
        files.sort();
        Ok(files)
    }

    pub fn read(&self, path: &Path) -> std::io::Result<String> {
        match self {
            ContentSource::Dir(_) => std::fs::read_to_string(path),
            ContentSource::BuiltIn => BUILT_IN
                .iter()
                .find(|(name, _)| path.file_name().and_then(|file| file.to_str()) == Some(*name))
                .map(|(_, text)| (*text).to_string())
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }
}

/// NHS Employers' DNA of Care page: the default home of every facilitator pack.
// Source: issue 2 (careprompt foundation), from NHS Employers' staff experience guidance; the
// page lists every theme's guide and presentation (../shared/content-facts.md, "The
// facilitator packs").
pub const DNA_OF_CARE_URL: &str =
    "https://www.nhsemployers.org/retention-and-staff-experience/diversity-and-inclusion/policy-and-guidance/staff-experience";

pub const STORIES_FILE: &str = "stories.toml";
pub const SUPPORT_FILE: &str = "support.toml";

/// Themes whose every card says where to raise a concern: talking about bullying and harassment
/// can bring up something that is happening now, and the reader needs a safe next step.
pub const CONCERN_THEMES: [&str; 1] = ["bullying-and-harassment"];

/// The tag for a support line or concern route that serves all four nations.
pub const UK_WIDE: &str = "uk-wide";

/// Two prompts in one theme at least this alike (Sørensen–Dice over pairs of letters, 0 to 1) are
/// reported as near-duplicates. Distinct prompts in the shipped library stay below 0.6, while a
/// copied prompt with a few words changed scores above 0.7. Prompts that say the same thing in
/// quite different words are beyond any string measure: those still need a human reader.
pub const NEAR_DUPLICATE_SIMILARITY: f64 = 0.7;

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
}

impl Theme {
    pub fn prompt(&self, id: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|prompt| prompt.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub id: String,
    pub title: String,
    pub storyteller: String,
    pub url: String,
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportLine {
    pub name: String,
    pub how: String,
    pub when: String,
    pub url: Option<String>,
    /// The nations it serves; `uk-wide` in the file means all four.
    pub nations: Vec<Nation>,
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

    /// The support lines that serve `nation`, in file order.
    pub fn support_lines_for(&self, nation: Nation) -> Vec<SupportLine> {
        self.support_lines
            .iter()
            .filter(|line| line.nations.contains(&nation))
            .cloned()
            .collect()
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
    /// themes in `CONCERN_THEMES`.
    pub fn set_nation(&mut self, nation: Nation) {
        self.nation = nation;
        let concern = self.concern_for(nation);
        for theme in &mut self.themes {
            if CONCERN_THEMES.contains(&theme.slug.as_str()) && !concern.is_empty() {
                theme.concern = Some(concern.clone());
            } else {
                theme.concern = None;
            }
        }
    }

    /// Finds a prompt by its id in any theme.
    pub fn find_prompt(&self, id: &str) -> Option<(&Theme, &Prompt)> {
        self.themes
            .iter()
            .find_map(|theme| theme.prompt(id).map(|prompt| (theme, prompt)))
    }

    /// Loads and validates every file in `dir`, reporting all mistakes at once.
    pub fn load(dir: &Path) -> Result<Library, ContentErrors> {
        Library::load_from(&ContentSource::Dir(dir.to_path_buf()))
    }

    /// The library shipped in `prompts/`, as built into the binary.
    pub fn built_in() -> Result<Library, ContentErrors> {
        Library::load_from(&ContentSource::BuiltIn)
    }

    pub fn load_from(source: &ContentSource) -> Result<Library, ContentErrors> {
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

/// Every mistake found in one pass, so a facilitator fixes them all in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentErrors(pub Vec<ContentError>);

impl ContentErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push_plain(&mut self, file: &Path, message: String) {
        self.0.push(ContentError {
            file: file.to_path_buf(),
            location: None,
            message,
        });
    }

    fn push_at(&mut self, file: &Path, text: &str, offset: usize, message: String) {
        self.0.push(ContentError {
            file: file.to_path_buf(),
            location: Some(Location::from_offset(file, text, offset)),
            message,
        });
    }
}

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContentErrors {}

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    slug: Text,
    title: Text,
    summary: Text,
    about: Text,
    colour: Text,
    in_rotation: bool,
    order: Spanned<u32>,
    guide_url: Text,
    presentation_url: Option<Text>,
    #[serde(default, rename = "prompt")]
    prompts: Vec<RawPrompt>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrompt {
    id: Text,
    text: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStories {
    #[serde(default, rename = "story")]
    stories: Vec<RawStory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStory {
    id: Text,
    title: Text,
    storyteller: Text,
    url: Text,
    themes: Spanned<Vec<Text>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupport {
    #[serde(default, rename = "line")]
    lines: Vec<RawSupportLine>,
    #[serde(default, rename = "concern")]
    concerns: Vec<RawConcern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupportLine {
    name: Text,
    how: Text,
    when: Text,
    url: Option<Text>,
    nations: Option<Spanned<Vec<Text>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcern {
    text: Text,
    nations: Option<Spanned<Vec<Text>>>,
}

/// Reads and parses one file, recording a located error on failure.
fn parse_file<T: serde::de::DeserializeOwned>(
    source: &ContentSource,
    path: &Path,
    errors: &mut ContentErrors,
) -> Option<(T, String)> {
    let text = match source.read(path) {
        Ok(text) => text,
        Err(err) => {
            errors.push_plain(path, format!("cannot read the file: {err}"));
            return None;
        }
    };
    match toml::from_str::<T>(&text) {
        Ok(value) => Some((value, text)),
        Err(err) => {
            let offset = err.span().map_or(0, |span| span.start);
            errors.push_at(path, &text, offset, err.message().trim().to_string());
            None
        }
    }
}

/// Checks a piece of facilitator-written text: not blank, not too long, and free of mentions.
fn check_text(
    what: &str,
    value: &Text,
    max_chars: usize,
    path: &Path,
    text: &str,
    errors: &mut ContentErrors,
) {
    let chars = value.get_ref().chars().count();
    if value.get_ref().trim().is_empty() {
        errors.push_at(path, text, value.span().start, format!("{what} is empty"));
    } else if chars > max_chars {
        errors.push_at(
            path,
            text,
            value.span().start,
            format!("{what} is {chars} characters long; the limit is {max_chars}"),
        );
    }
    if value.get_ref().contains('@') {
        errors.push_at(
            path,
            text,
            value.span().start,
            format!("{what} contains '@', which Discord could turn into a mention"),
        );
    }
}

/// An http(s) URL that fits a Discord link button.
pub fn validate_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{url}\" is not an http(s) link"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || !host.contains('.') {
        return Err(format!("\"{url}\" has no valid host name"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("\"{url}\" contains spaces"));
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "the link is longer than Discord's {MAX_URL_CHARS} characters"
        ));
    }
    Ok(())
}

fn check_url(value: &Text, path: &Path, text: &str, errors: &mut ContentErrors) {
    if let Err(message) = validate_url(value.get_ref()) {
        errors.push_at(path, text, value.span().start, message);
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

fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn load_theme(
    source: &ContentSource,
    path: &Path,
    seen_prompt_ids: &mut HashMap<String, String>,
    seen_orders: &mut HashMap<u32, String>,
    errors: &mut ContentErrors,
    warnings: &mut Vec<ContentError>,
) -> Option<Theme> {
    let (raw, text) = parse_file::<RawTheme>(source, path, errors)?;
    let before = errors.0.len();
    let file_label = path.display().to_string();
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    let slug = raw.slug.get_ref();
    if !is_slug(slug) {
        errors.push_at(
            path,
            &text,
            raw.slug.span().start,
            format!("slug \"{slug}\" may use only a-z, 0-9 and '-'"),
        );
    } else if slug != stem {
        errors.push_at(
            path,
            &text,
            raw.slug.span().start,
            format!("slug \"{slug}\" must match the file name \"{stem}.toml\""),
        );
    }
    check_text("title", &raw.title, MAX_TITLE_CHARS, path, &text, errors);
    check_text(
        "summary",
        &raw.summary,
        MAX_SUMMARY_CHARS,
        path,
        &text,
        errors,
    );
    check_text("about", &raw.about, MAX_ABOUT_CHARS, path, &text, errors);
    let colour = parse_colour(raw.colour.get_ref());
    if colour.is_none() {
        errors.push_at(
            path,
            &text,
            raw.colour.span().start,
            format!(
                "colour \"{}\" should look like \"#005EB8\"",
                raw.colour.get_ref()
            ),
        );
    }
    if let Some(other) = seen_orders.insert(*raw.order.get_ref(), file_label.clone()) {
        errors.push_at(
            path,
            &text,
            raw.order.span().start,
            format!("order {} is already used by {other}", raw.order.get_ref()),
        );
    }
    check_url(&raw.guide_url, path, &text, errors);
    if let Some(url) = &raw.presentation_url {
        check_url(url, path, &text, errors);
    }
    if raw.prompts.is_empty() {
        errors.push_plain(
            path,
            "the theme has no prompts: add at least one [[prompt]]".to_string(),
        );
    }
    for prompt in &raw.prompts {
        let id = prompt.id.get_ref();
        if !is_slug(id) || id.len() > 32 {
            errors.push_at(
                path,
                &text,
                prompt.id.span().start,
                format!("prompt id \"{id}\" may use only a-z, 0-9 and '-', at most 32 characters"),
            );
        }
        if let Some(first) = seen_prompt_ids.insert(id.clone(), file_label.clone()) {
            let also = if first == file_label {
                String::new()
            } else {
                format!(" (first used in {first})")
            };
            errors.push_at(
                path,
                &text,
                prompt.id.span().start,
                format!("duplicate prompt id \"{id}\"{also}"),
            );
        }
        check_text(
            &format!("prompt \"{id}\""),
            &prompt.text,
            MAX_PROMPT_CHARS,
            path,
            &text,
            errors,
        );
    }
    if errors.0.len() != before {
        return None;
    }
    warnings.extend(near_duplicates(path, &text, &raw.prompts));
    Some(Theme {
        slug: raw.slug.into_inner(),
        title: raw.title.into_inner(),
        summary: raw.summary.into_inner(),
        about: raw.about.into_inner(),
        colour: colour.unwrap_or_default(),
        in_rotation: raw.in_rotation,
        order: raw.order.into_inner(),
        guide_url: raw.guide_url.into_inner(),
        presentation_url: raw.presentation_url.map(Spanned::into_inner),
        prompts: raw
            .prompts
            .into_iter()
            .map(|prompt| Prompt {
                id: prompt.id.into_inner(),
                text: prompt.text.into_inner(),
            })
            .collect(),
        concern: None,
    })
}

/// Letters and digits only, lower case, so punctuation and capitals do not hide a repeat.
fn comparable(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A warning, placed at the later prompt, for each pair of prompts in one theme that read almost
/// the same, so a facilitator who adds a prompt hears that the theme already asks it.
fn near_duplicates(path: &Path, text: &str, prompts: &[RawPrompt]) -> Vec<ContentError> {
    let comparable: Vec<String> = prompts
        .iter()
        .map(|prompt| comparable(prompt.text.get_ref()))
        .collect();
    let mut warnings = Vec::new();
    for (later, later_text) in comparable.iter().enumerate() {
        for (earlier, earlier_text) in comparable.iter().enumerate().take(later) {
            let similarity = strsim::sorensen_dice(earlier_text, later_text);
            if similarity >= NEAR_DUPLICATE_SIMILARITY {
                warnings.push(ContentError {
                    file: path.to_path_buf(),
                    location: Some(Location::from_offset(
                        path,
                        text,
                        prompts[later].id.span().start,
                    )),
                    message: format!(
                        "prompt \"{}\" reads almost the same as \"{}\" (similarity {similarity:.2}): merge them, or reword one so it asks something new",
                        prompts[later].id.get_ref(),
                        prompts[earlier].id.get_ref()
                    ),
                });
            }
        }
    }
    warnings
}

fn load_stories(
    source: &ContentSource,
    path: &Path,
    known_slugs: &[String],
    errors: &mut ContentErrors,
) -> Vec<Story> {
    let Some((raw, text)) = parse_file::<RawStories>(source, path, errors) else {
        return Vec::new();
    };
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut stories = Vec::new();
    for story in raw.stories {
        let before = errors.0.len();
        let id = story.id.get_ref();
        if !is_slug(id) {
            errors.push_at(
                path,
                &text,
                story.id.span().start,
                format!("story id \"{id}\" may use only a-z, 0-9 and '-'"),
            );
        }
        if seen.insert(id.clone(), ()).is_some() {
            errors.push_at(
                path,
                &text,
                story.id.span().start,
                format!("duplicate story id \"{id}\""),
            );
        }
        check_text("title", &story.title, MAX_TITLE_CHARS, path, &text, errors);
        check_text(
            "storyteller",
            &story.storyteller,
            MAX_TITLE_CHARS,
            path,
            &text,
            errors,
        );
        check_url(&story.url, path, &text, errors);
        if story.themes.get_ref().is_empty() {
            errors.push_at(
                path,
                &text,
                story.themes.span().start,
                "a story needs at least one theme".to_string(),
            );
        }
        for theme in story.themes.get_ref() {
            if !known_slugs.iter().any(|slug| slug == theme.get_ref()) {
                errors.push_at(
                    path,
                    &text,
                    theme.span().start,
                    format!(
                        "unknown theme \"{}\"; known themes: {}",
                        theme.get_ref(),
                        known_slugs.join(", ")
                    ),
                );
            }
        }
        if errors.0.len() == before {
            stories.push(Story {
                id: story.id.into_inner(),
                title: story.title.into_inner(),
                storyteller: story.storyteller.into_inner(),
                url: story.url.into_inner(),
                themes: story
                    .themes
                    .into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
            });
        }
    }
    stories
}

/// Reads a `nations = [...]` list, where `uk-wide` stands for all four nations.
fn parse_nations(
    what: &str,
    header: usize,
    nations: Option<&Spanned<Vec<Text>>>,
    path: &Path,
    text: &str,
    errors: &mut ContentErrors,
) -> Vec<Nation> {
    let known = format!("{}, {UK_WIDE}", Nation::ALL.map(Nation::slug).join(", "));
    let Some(nations) = nations else {
        errors.push_at(
            path,
            text,
            header,
            format!("{what} has no `nations`: say where it serves, such as nations = [\"{UK_WIDE}\"] (known: {known})"),
        );
        return Vec::new();
    };
    if nations.get_ref().is_empty() {
        errors.push_at(
            path,
            text,
            nations.span().start,
            format!("{what} needs at least one nation (known: {known})"),
        );
    }
    let mut parsed = Vec::new();
    for nation in nations.get_ref() {
        if nation.get_ref() == UK_WIDE {
            parsed.extend(Nation::ALL);
        } else if let Some(known) = Nation::from_slug(nation.get_ref()) {
            parsed.push(known);
        } else {
            errors.push_at(
                path,
                text,
                nation.span().start,
                format!("unknown nation \"{}\"; known: {known}", nation.get_ref()),
            );
        }
    }
    parsed.sort();
    parsed.dedup();
    parsed
}

/// The byte offsets of each `[[table]]` header in `text`, in file order, so each entry can be
/// matched with the comment written above it.
fn table_headers(text: &str, table: &str) -> Vec<usize> {
    let header = format!("[[{table}]]");
    let mut offsets = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == header {
            offsets.push(offset + (line.len() - line.trim_start().len()));
        }
        offset += line.len();
    }
    offsets
}

/// Whether the comment block directly above `offset` names a source. Facts people may act on in
/// a hard moment must say where they came from, so they can be checked again.
fn has_source_comment(text: &str, offset: usize) -> bool {
    text[..offset]
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|line| line.starts_with('#'))
        .any(|line| {
            line.trim_start_matches('#')
                .trim_start()
                .starts_with("Source:")
        })
}

/// The nations a `[[line]]` or `[[concern]]` serves, after checking it has a source comment.
/// `header` is where its `[[...]]` header is, from `table_headers`; `fallback` is used when the
/// header could not be found (a table written inline).
fn check_sourced_entry(
    what: &str,
    header: Option<usize>,
    fallback: usize,
    nations: Option<&Spanned<Vec<Text>>>,
    path: &Path,
    text: &str,
    errors: &mut ContentErrors,
) -> Vec<Nation> {
    let header = header.unwrap_or(fallback);
    let nations = parse_nations(what, header, nations, path, text, errors);
    if !has_source_comment(text, header) {
        errors.push_at(
            path,
            text,
            header,
            format!("{what} has no `# Source: ...` comment directly above it: say where its details were checked"),
        );
    }
    nations
}

/// Refuses a support file in which any nation's list does not open with the emergency line, the
/// one that gives 999: someone whose life is at risk must find it straight after the
/// organisation's own contact, not below four or five other lines. Judged only when every line
/// in `path` loaded, since a line with a mistake is left out and would make another look first.
fn check_emergency_first(lines: &[SupportLine], path: &Path, errors: &mut ContentErrors) {
    const EMERGENCY_NUMBER: &str = "999";
    if errors.0.iter().any(|error| error.file == path) {
        return;
    }
    for nation in Nation::ALL {
        let Some(first) = lines.iter().find(|line| line.nations.contains(&nation)) else {
            continue;
        };
        let gives_emergency_number = first
            .how
            .split(|c: char| !c.is_ascii_digit())
            .any(|number| number == EMERGENCY_NUMBER);
        if !gives_emergency_number {
            errors.push_plain(
                path,
                format!(
                    "the support list for {nation} opens with \"{}\", not the emergency line: put the [[line]] that gives {EMERGENCY_NUMBER} first, so it comes straight after the organisation's own contact",
                    first.name
                ),
            );
        }
    }
}

fn load_support(
    source: &ContentSource,
    path: &Path,
    errors: &mut ContentErrors,
) -> (Vec<SupportLine>, Vec<Concern>) {
    let Some((raw, text)) = parse_file::<RawSupport>(source, path, errors) else {
        return (Vec::new(), Vec::new());
    };
    if raw.lines.is_empty() {
        errors.push_plain(
            path,
            "no support lines: add at least one [[line]]".to_string(),
        );
    }
    let line_headers = table_headers(&text, "line");
    let mut lines = Vec::new();
    for (index, line) in raw.lines.into_iter().enumerate() {
        let before = errors.0.len();
        check_text("name", &line.name, MAX_TITLE_CHARS, path, &text, errors);
        check_text("how", &line.how, MAX_TITLE_CHARS, path, &text, errors);
        check_text("when", &line.when, MAX_SUMMARY_CHARS, path, &text, errors);
        if let Some(url) = &line.url {
            check_url(url, path, &text, errors);
        }
        let what = format!("support line \"{}\"", line.name.get_ref());
        let nations = check_sourced_entry(
            &what,
            line_headers.get(index).copied(),
            line.name.span().start,
            line.nations.as_ref(),
            path,
            &text,
            errors,
        );
        if errors.0.len() == before {
            lines.push(SupportLine {
                name: line.name.into_inner(),
                how: line.how.into_inner(),
                when: line.when.into_inner(),
                url: line.url.map(Spanned::into_inner),
                nations,
            });
        }
    }
    check_emergency_first(&lines, path, errors);
    let concern_headers = table_headers(&text, "concern");
    let mut concerns = Vec::new();
    for (index, concern) in raw.concerns.into_iter().enumerate() {
        let before = errors.0.len();
        check_text(
            "concern text",
            &concern.text,
            MAX_SUMMARY_CHARS,
            path,
            &text,
            errors,
        );
        let nations = check_sourced_entry(
            "a [[concern]]",
            concern_headers.get(index).copied(),
            concern.text.span().start,
            concern.nations.as_ref(),
            path,
            &text,
            errors,
        );
        if errors.0.len() == before {
            concerns.push(Concern {
                text: concern.text.into_inner(),
                nations,
            });
        }
    }
    (lines, concerns)
}

#[cfg(test)]
mod built_in_tests {
    use super::*;

    #[test]
    fn the_built_in_library_is_every_shipped_file_and_loads_like_the_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
        let on_disk: Vec<String> = ContentSource::Dir(dir.clone())
            .files()
            .expect("prompts/")
            .iter()
            .filter_map(|path| path.file_name()?.to_str().map(str::to_string))
            .collect();
        let built_in: Vec<&str> = BUILT_IN.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            on_disk, built_in,
            "a file added to prompts/ must be built in too"
        );
        let from_dir = Library::load(&dir).expect("folder");
        let embedded = Library::built_in().expect("built in");
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
    fn urls_must_be_http_links_that_fit_a_button() {
        assert!(validate_url("https://www.nhsemployers.org/x").is_ok());
        assert!(validate_url("http://www.patientvoices.org.uk/flv/1017pv384.htm").is_ok());
        assert!(validate_url("ftp://example.org").is_err());
        assert!(validate_url("https://").is_err());
        assert!(validate_url("https://localhost/x").is_err());
        assert!(validate_url("https://example.org/a b").is_err());
        assert!(validate_url(&format!("https://example.org/{}", "a".repeat(600))).is_err());
    }

    #[test]
    fn colours_are_hex() {
        assert_eq!(parse_colour("#005EB8"), Some(0x005EB8));
        assert_eq!(parse_colour("005EB8"), None);
        assert_eq!(parse_colour("#05EB8"), None);
        assert_eq!(parse_colour("#GGGGGG"), None);
    }

    fn shipped() -> Library {
        Library::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts"))
            .expect("shipped content is valid")
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
        let errors = Library::load(&dir).expect_err("three mistakes").to_string();
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
        let errors = Library::load(&dir)
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
        let errors = Library::load(&dir)
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
        let errors = Library::load(&dir)
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
        assert!(names(Nation::Scotland)
            .iter()
            .any(|line| line.contains("Workforce Specialist Service")));
        assert!(!names(Nation::NorthernIreland)
            .iter()
            .any(|line| line.contains("manager")));
    }

    #[test]
    fn a_reworded_copy_of_a_prompt_is_a_warning_at_the_copy() {
        let theme = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/resilience.toml"),
        )
        .expect("read");
        let copy = format!(
            "{theme}\n[[prompt]]\nid = \"res-99\"\ntext = \"What small thing helps you recharge, even for five minutes on a shift?\"\n"
        );
        let dir = scratch("nearcopy", &[("resilience.toml", &copy)]);
        let library = Library::load(&dir).expect("a warning is not an error");
        let _ = std::fs::remove_dir_all(&dir);
        let warnings: Vec<String> = library.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let line = copy.lines().count() - 1;
        assert!(
            warnings[0].contains(&format!(
                "resilience.toml:{line}:6: prompt \"res-99\" reads almost the same as \"res-03\""
            )),
            "{warnings:?}"
        );
    }
}
