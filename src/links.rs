//! `careprompt check --links`: fetches every link people could click, once each, and reports the
//! dead and the moved with the place each one is written.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::LoadedConfig;
use crate::library::ContentSource;

/// How many links are fetched at once: enough to finish in seconds, few enough not to look like
/// an attack on a small charity's web server.
pub const CONCURRENCY: usize = 4;
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A link and where it is written, such as `prompts/stories.toml:20:7` or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub place: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Reached, but only after redirects to this address.
    Moved(String),
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
            .chain(&self.refused)
            .cloned()
            .collect();
        lines.push(format!(
            "links: {} checked, {} dead, {} moved, {} could not be checked automatically",
            self.checked,
            self.dead.len(),
            self.moved.len(),
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
                });
            }
        }
    }
    if let Some(url) = config.support.org.as_ref().and_then(|org| org.url.as_ref()) {
        links.push(Link {
            url: url.clone(),
            place: loaded.origin("support.url").to_string(),
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

async fn fetch(client: &reqwest::Client, url: &str) -> Outcome {
    match client.get(url).send().await {
        Ok(response) => {
            let status = response.status();
            let landed = response.url().as_str().to_string();
            if matches!(status.as_u16(), 401 | 403 | 429) {
                Outcome::Refused(status.as_u16())
            } else if status.is_client_error() || status.is_server_error() {
                Outcome::Dead(format!("HTTP {status}"))
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
        let url = url.to_string();
        let client = client.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = fetch(&client, &url).await;
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
    fn the_report_ends_with_a_count() {
        let report = Report {
            checked: 3,
            dead: vec!["a: dead link".to_string()],
            moved: vec![],
            refused: vec![],
            unreachable: 0,
        };
        assert_eq!(
            report.lines(),
            [
                "a: dead link".to_string(),
                "links: 3 checked, 1 dead, 0 moved, 0 could not be checked automatically"
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
