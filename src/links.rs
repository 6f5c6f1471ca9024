//! `careprompt check --links`: fetches every link people could click, once each, and reports the
//! dead and the moved with the place each one is written, and the story pages that load but say
//! they need Flash or have moved, so a facilitator learns before a session that a story may not
//! play, not in front of the team.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::LoadedConfig;
use crate::library::{ContentSource, STORIES_FILE};

/// How many links are fetched at once: enough to finish in seconds, few enough not to look like
/// an attack on a small charity's web server.
pub const CONCURRENCY: usize = 4;
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// How much of a story page is read for what it says: far more than a page's text, and a bound
/// on what a wrong address (a video file, say) could make careprompt download.
const MOST_OF_A_PAGE: usize = 512 * 1024;

/// Words on a story page that mean its player needs Flash, which no current browser runs. The
/// Patient Voices template of 2023 says "You need Flash to play the stories"
/// (../shared/content-facts.md, F6).
const NEEDS_FLASH: [&str; 10] = [
    "need flash",
    "needs flash",
    "require flash",
    "requires flash",
    "flash player",
    "adobe flash",
    "install flash",
    "enable flash",
    "get flash",
    "flash plug",
];

/// Words on a page that mean what was there has gone elsewhere, though the server answered 200.
const HAS_MOVED: [&str; 7] = [
    "page has moved",
    "has moved to",
    "have moved to",
    "page has been moved",
    "has been moved to",
    "we have moved",
    "no longer available",
];

/// A link and where it is written, such as `prompts/stories.toml:20:7` or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub place: String,
    /// A story's page, whose words are read too: it can load and still not play.
    pub story: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Reached, but only after redirects to this address.
    Moved(String),
    /// A story page that loads but says why its story may not play.
    MayNotPlay(String),
    /// The site answered, but refused a robot (401, 403 or 429): a person has to look.
    Refused(u16),
    /// Not found, or a server error.
    Dead(String),
    /// No answer at all: the name did not resolve, the connection failed, or it timed out.
    Unreachable(String),
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Unique links fetched.
    pub checked: usize,
    pub dead: Vec<String>,
    pub moved: Vec<String>,
    /// Story pages that load but say they need Flash or have moved.
    pub may_not_play: Vec<String>,
    pub refused: Vec<String>,
    /// Unique links that gave no answer at all.
    pub unreachable: usize,
}

impl Report {
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .dead
            .iter()
            .chain(&self.moved)
            .chain(&self.may_not_play)
            .chain(&self.refused)
            .cloned()
            .collect();
        lines.push(format!(
            "links: {} checked, {} dead, {} moved, {} may not play, {} could not be checked automatically",
            self.checked,
            self.dead.len(),
            self.moved.len(),
            self.may_not_play.len(),
            self.refused.len()
        ));
        // A machine without internet access would otherwise call the whole library dead.
        if self.checked > 1 && self.unreachable == self.checked {
            lines.push("no link answered at all: check that this machine can reach the internet before trusting this list".to_string());
        }
        lines
    }
}

/// Every http(s) address in the non-comment lines of the library's `.toml` files. Comments hold
/// sources for people who maintain the library; the values are what the bot shows.
pub fn library_links(source: &ContentSource) -> Result<Vec<Link>, String> {
    let files = source.files().map_err(|err| {
        format!(
            "{}: cannot read the content folder: {err}",
            source.describe()
        )
    })?;
    let mut links = Vec::new();
    for path in files {
        let text = source
            .read(&path)
            .map_err(|err| format!("{}: cannot read the file: {err}", path.display()))?;
        links.extend(links_in(&path, &text));
    }
    Ok(links)
}

fn links_in(path: &Path, text: &str) -> Vec<Link> {
    let story = path.file_name().and_then(|name| name.to_str()) == Some(STORIES_FILE);
    let mut links = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut rest = line;
        while let Some(start) = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| rest.find(scheme))
            .min()
        {
            let from = &rest[start..];
            let end = from
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')'))
                .unwrap_or(from.len());
            // A link at the end of a sentence keeps its full stop in the text, not in the address.
            let url = from[..end].trim_end_matches(['.', ',', ';', ':']);
            let column = line[..line.len() - rest.len() + start].chars().count() + 1;
            links.push(Link {
                url: url.to_string(),
                place: format!("{}:{}:{column}", path.display(), index + 1),
                story,
            });
            rest = &from[end..];
        }
    }
    links
}

/// The links an organisation set in its configuration, placed at the key that set them.
pub fn config_links(loaded: &LoadedConfig) -> Vec<Link> {
    let config = &loaded.config;
    let mut links = Vec::new();
    for (slug, pack) in &config.packs {
        for (name, value) in [
            ("guide_url", &pack.guide_url),
            ("presentation_url", &pack.presentation_url),
        ] {
            if let Some(url) = value {
                links.push(Link {
                    url: url.clone(),
                    place: loaded.origin(&format!("packs.{slug}.{name}")).to_string(),
                    story: false,
                });
            }
        }
    }
    if let Some(url) = config.support.org.as_ref().and_then(|org| org.url.as_ref()) {
        links.push(Link {
            url: url.clone(),
            place: loaded.origin("support.url").to_string(),
            story: false,
        });
    }
    links
}

pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(10))
        .user_agent(concat!("careprompt-link-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| format!("cannot start the link checker: {err}"))
}

/// Fetches `url`; for a story page (`read_page`), also reads what the page says.
async fn fetch(client: &reqwest::Client, url: &str, read_page: bool) -> Outcome {
    match client.get(url).send().await {
        Ok(response) => {
            let status = response.status();
            let landed = response.url().as_str().to_string();
            if matches!(status.as_u16(), 401 | 403 | 429) {
                Outcome::Refused(status.as_u16())
            } else if status.is_client_error() || status.is_server_error() {
                Outcome::Dead(format!("HTTP {status}"))
            } else if let Some(why) = if read_page {
                page_says(&read_some(response).await)
            } else {
                None
            } {
                Outcome::MayNotPlay(why)
            } else if landed != url {
                Outcome::Moved(landed)
            } else {
                Outcome::Ok
            }
        }
        Err(err) if err.is_timeout() => Outcome::Unreachable("no answer in time".to_string()),
        Err(err) => Outcome::Unreachable(format!("cannot fetch it: {}", error_chain(&err))),
    }
}

/// Up to `MOST_OF_A_PAGE` bytes of a page, as text; what could not be read is left out.
async fn read_some(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < MOST_OF_A_PAGE {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MOST_OF_A_PAGE);
    String::from_utf8_lossy(&body).into_owned()
}

/// Why a story page's own words say its story may not play: it needs Flash, or it has moved
/// (in words, or by sending the browser elsewhere with a `refresh`). `None` for a page that says
/// neither.
pub fn page_says(html: &str) -> Option<String> {
    let lower = html.to_lowercase();
    let text = visible_words(&lower);
    if let Some(phrase) = NEEDS_FLASH.iter().find(|phrase| text.contains(*phrase)) {
        return Some(format!(
            "says it needs Flash (\"{phrase}\"), which no current browser plays"
        ));
    }
    if let Some(phrase) = HAS_MOVED.iter().find(|phrase| text.contains(*phrase)) {
        return Some(format!("says it has moved (\"{phrase}\")"));
    }
    let refreshes = lower.match_indices("<meta").any(|(at, _)| {
        let tag = &lower[at..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        tag.contains("http-equiv") && tag.contains("refresh") && tag.contains("url")
    });
    refreshes
        .then(|| "sends the browser to another page (a meta refresh), so it has moved".to_string())
}

/// The words of a page without its tags, one space between each, so "You need <b>Flash</b>"
/// reads as "you need flash".
fn visible_words(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if in_tag => {}
            _ => text.push(c),
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Fetches each distinct address once, `CONCURRENCY` at a time, and reports every place a dead,
/// moved or refused address is written.
pub async fn check(client: reqwest::Client, links: &[Link]) -> Report {
    let mut places: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for link in links {
        places
            .entry(link.url.as_str())
            .or_default()
            .push(link.place.as_str());
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for url in places.keys() {
        let read_page = links.iter().any(|link| link.story && link.url == *url);
        let url = url.to_string();
        let client = client.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = fetch(&client, &url, read_page).await;
            (url, outcome)
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((url, outcome)) => {
                outcomes.insert(url, outcome);
            }
            Err(err) => tracing::warn!("a link check task failed: {err}"),
        }
    }
    let mut report = Report {
        checked: places.len(),
        ..Report::default()
    };
    for (url, places) in places {
        let outcome = outcomes
            .get(url)
            .cloned()
            .unwrap_or_else(|| Outcome::Unreachable("the check did not finish".to_string()));
        if matches!(outcome, Outcome::Unreachable(_)) {
            report.unreachable += 1;
        }
        for place in places {
            match &outcome {
                Outcome::Ok => {}
                Outcome::Moved(to) => report
                    .moved
                    .push(format!("{place}: moved link {url} now goes to {to}")),
                Outcome::MayNotPlay(why) => report.may_not_play.push(format!(
                    "{place}: story page {url} {why}: open it on a phone before a session and check the story plays, or find where it has gone"
                )),
                Outcome::Refused(status) => report.refused.push(format!(
                    "{place}: could not check {url} (HTTP {status}: the site turns away automatic checks); open it in a browser"
                )),
                Outcome::Dead(why) | Outcome::Unreachable(why) => report
                    .dead
                    .push(format!("{place}: dead link {url} ({why})")),
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_values_with_their_place_and_comments_are_skipped() {
        let text = "# Source: https://example.org/source\nurl = \"https://example.org/a\"\ntext = \"See https://example.org/b. Or http://example.org/c, too\"\n";
        let links = links_in(Path::new("p/support.toml"), text);
        let found: Vec<(&str, &str)> = links
            .iter()
            .map(|link| (link.url.as_str(), link.place.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("https://example.org/a", "p/support.toml:2:8"),
                ("https://example.org/b", "p/support.toml:3:13"),
                ("http://example.org/c", "p/support.toml:3:39"),
            ]
        );
    }

    #[test]
    fn only_links_in_the_stories_file_are_story_pages() {
        let line = "url = \"https://example.org/a\"\n";
        assert!(links_in(Path::new("p/stories.toml"), line)[0].story);
        assert!(!links_in(Path::new("p/support.toml"), line)[0].story);
    }

    #[test]
    fn a_story_page_that_needs_flash_or_has_moved_says_so() {
        let flash = "<html><body><p>You need <b>Flash</b>\n to play the stories</p></body></html>";
        assert!(page_says(flash).is_some_and(|why| why.contains("needs Flash")));
        let player = "<div>Get the Adobe Flash Player</div>";
        assert!(page_says(player).is_some_and(|why| why.contains("needs Flash")));
        let moved = "<h1>Sorry</h1><p>This page has moved to our new site.</p>";
        assert!(page_says(moved).is_some_and(|why| why.contains("has moved")));
        let refresh =
            "<head><META HTTP-EQUIV=\"refresh\" content=\"0; URL=/new.htm\"></head><body></body>";
        assert!(page_says(refresh).is_some_and(|why| why.contains("meta refresh")));
        let plays = "<video src=\"story.mp4\" controls></video><p>Watch the story of a flash of insight.</p>";
        assert_eq!(page_says(plays), None);
        assert_eq!(page_says("<meta charset=\"utf-8\"><p>A story</p>"), None);
    }

    #[test]
    fn the_report_ends_with_a_count() {
        let report = Report {
            checked: 3,
            dead: vec!["a: dead link".to_string()],
            moved: vec![],
            may_not_play: vec!["b: story page".to_string()],
            refused: vec![],
            unreachable: 0,
        };
        assert_eq!(
            report.lines(),
            [
                "a: dead link".to_string(),
                "b: story page".to_string(),
                "links: 3 checked, 1 dead, 0 moved, 1 may not play, 0 could not be checked automatically"
                    .to_string()
            ]
        );
        let offline = Report {
            checked: 2,
            dead: vec!["a: dead link".to_string(), "b: dead link".to_string()],
            unreachable: 2,
            ..Report::default()
        };
        assert!(offline
            .lines()
            .last()
            .is_some_and(|line| line.contains("reach the internet")));
    }
}
