//! Typed configuration: built-in defaults, then `careprompt.toml`, then `CAREPROMPT_<SECTION>__<KEY>`
//! environment variables. Every mistake names the key and where it came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::content::{Location, Nation};
use crate::domain::settings::{ScheduleSettings, SettingsError};
use crate::library::{validate_url, ContentSource};

mod locate;
mod settings;

use locate::{key_at, locate_key};
pub use settings::{Insights, Privacy, Processes, Scheduling, Sessions, Settings};

pub const DEFAULT_CONFIG_FILE: &str = "careprompt.toml";
pub const ENV_PREFIX: &str = "CAREPROMPT_";
pub const TOKEN_ENV: &str = "DISCORD_TOKEN";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub discord: DiscordSettings,
    pub database: DatabaseSettings,
    pub schedule: ScheduleDefaults,
    pub content: ContentSettings,
    /// Per theme slug, links to an organisation's own copy of the facilitator pack.
    pub packs: BTreeMap<String, PackOverride>,
    pub support: SupportSettings,
    pub privacy: PrivacySettings,
    pub insights: InsightsSettings,
    pub sessions: SessionSettings,
    pub metrics: MetricsSettings,
    pub processes: ProcessSettings,
}

/// For several processes sharing one PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessSettings {
    /// A process not heard from for this long is taken to be dead, and another finishes the
    /// posts, DMs and session stage cards it had started, such as "1m".
    pub takeover_after: String,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            takeover_after: "1m".to_string(),
        }
    }
}

/// Shorter than this, a process busy for a moment would lose its claims to another.
const SHORTEST_TAKEOVER: chrono::Duration = chrono::Duration::seconds(1);

impl ProcessSettings {
    pub fn takeover_period(&self) -> Result<chrono::Duration, String> {
        let period = parse_duration(&self.takeover_after)?;
        if period < SHORTEST_TAKEOVER {
            return Err(format!(
                "\"{}\" is too short: a process must have at least a second to say it is alive",
                self.takeover_after
            ));
        }
        Ok(period)
    }
}

/// Reflective sessions (`/session`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A session still running this long after it started is ended and its thread archived, so
    /// a forgotten one does not hold its channel, such as "4h".
    pub archive_after: String,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            archive_after: humantime::format_duration(
                crate::domain::session::DEFAULT_ARCHIVE_AFTER
                    .to_std()
                    .unwrap_or_default(),
            )
            .to_string(),
        }
    }
}

impl SessionSettings {
    pub fn archive_period(&self) -> Result<chrono::Duration, String> {
        use crate::domain::session::{LONGEST_ARCHIVE_AFTER, SHORTEST_ARCHIVE_AFTER};
        let period = parse_duration(&self.archive_after)?;
        if period < SHORTEST_ARCHIVE_AFTER {
            return Err(format!(
                "\"{}\" is too short: a 60-minute session would be ended before its close; \
                 give at least \"1h\"",
                self.archive_after
            ));
        }
        if period > LONGEST_ARCHIVE_AFTER {
            return Err(format!(
                "\"{}\" is too long: Discord archives a quiet thread after a week at most, and a \
                 forgotten session would hold its channel after that; give at most \"7d\"",
                self.archive_after
            ));
        }
        Ok(period)
    }
}

/// The operator's listener for `/metrics`, `/healthz` and `/readyz`; off unless `listen` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Such as "127.0.0.1:9464". It carries no personal data, but keep it off the internet.
    pub listen: Option<String>,
}

impl MetricsSettings {
    pub fn address(&self) -> Result<Option<std::net::SocketAddr>, String> {
        self.listen
            .as_deref()
            .map(|text| {
                text.trim().parse().map_err(|_| {
                    format!("\"{text}\" is not an address to listen on; write it like \"127.0.0.1:9464\"")
                })
            })
            .transpose()
    }
}

/// `/insights`, the figures for OD leads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InsightsSettings {
    /// Counts of fewer people than this are shown as "fewer than N"; at least 3.
    pub min_people: u32,
}

impl Default for InsightsSettings {
    fn default() -> Self {
        InsightsSettings {
            min_people: crate::domain::insights::DEFAULT_MIN_PEOPLE,
        }
    }
}

impl InsightsSettings {
    pub fn checked_min_people(&self) -> Result<u32, String> {
        let least = crate::domain::insights::LEAST_MIN_PEOPLE;
        if self.min_people < least {
            return Err(format!(
                "{} is too few: with fewer than {least}, people who compare notes could tell who \
                 the others are",
                self.min_people
            ));
        }
        Ok(self.min_people)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacySettings {
    /// How long after careprompt is removed from a server its schedules and its members' DM
    /// opt-ins for it are kept (in case it is added back), such as "30d".
    pub retention: String,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            retention: "30d".to_string(),
        }
    }
}

impl PrivacySettings {
    pub fn retention_period(&self) -> Result<chrono::Duration, String> {
        parse_duration(&self.retention)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordSettings {
    /// Base URL that all REST calls go to instead of discord.com, such as a rate-limit proxy.
    pub proxy_url: Option<String>,
    /// Guilds to register commands in directly (instant), instead of globally.
    pub dev_guild_ids: Vec<u64>,
    /// A file holding the bot token, for secret stores that mount files.
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: String,
    /// PostgreSQL's pool size; SQLite always has one connection.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://careprompt.db?mode=rwc".to_string(),
            max_connections: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleDefaults {
    pub cron: String,
    pub timezone: String,
    /// How late a missed post may still go out after downtime, such as "6h"; older ones are
    /// recorded as missed instead.
    pub catch_up: String,
    /// "england-and-wales", "scotland", "northern-ireland" or "none".
    pub bank_holidays: String,
    /// One-off extra holidays to skip, such as a royal occasion.
    pub extra_holidays: Vec<NaiveDate>,
    /// Whether new schedules include the bullying and harassment theme in their rotation.
    pub include_bullying: bool,
}

impl Default for ScheduleDefaults {
    fn default() -> Self {
        ScheduleDefaults {
            cron: "0 9 * * MON".to_string(),
            timezone: "Europe/London".to_string(),
            catch_up: "6h".to_string(),
            bank_holidays: "england-and-wales".to_string(),
            extra_holidays: Vec::new(),
            include_bullying: false,
        }
    }
}

impl ScheduleDefaults {
    /// The defaults as the one typed value every schedule is, checked.
    pub fn settings(&self) -> Result<ScheduleSettings, SettingsError> {
        ScheduleSettings::parse(
            &self.cron,
            &self.timezone,
            &self.bank_holidays,
            self.include_bullying,
        )
    }

    pub fn catch_up_window(&self) -> Result<chrono::Duration, String> {
        parse_duration(&self.catch_up)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentSettings {
    /// An organisation's own copy of the library; without it, the library built into the binary.
    pub dir: Option<PathBuf>,
}

impl ContentSettings {
    pub fn source(&self) -> ContentSource {
        match &self.dir {
            Some(dir) => ContentSource::Dir(dir.clone()),
            None => ContentSource::BuiltIn,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackOverride {
    pub guide_url: Option<String>,
    pub presentation_url: Option<String>,
}

/// The organisation's own occupational health or employee assistance contact, shown first by
/// `/support`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSupport {
    pub name: String,
    pub how: String,
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// The `[support]` section: where the organisation works, and its own contact if it has one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSupportSettings", into = "RawSupportSettings")]
pub struct SupportSettings {
    /// Decides which national lines `/support` shows and where the bullying and harassment cards
    /// say to raise a concern.
    pub nation: Nation,
    pub org: Option<OrgSupport>,
}

/// `[support]` as written: one flat section, so configs from before `nation` existed still load.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupportSettings {
    #[serde(default)]
    nation: Nation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    how: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl TryFrom<RawSupportSettings> for SupportSettings {
    type Error = String;

    fn try_from(raw: RawSupportSettings) -> Result<Self, Self::Error> {
        let org = match (raw.name, raw.how) {
            (Some(name), Some(how)) => Some(OrgSupport {
                name,
                how,
                when: raw.when,
                url: raw.url,
            }),
            (None, None) if raw.when.is_none() && raw.url.is_none() => None,
            _ => return Err("your organisation's contact needs both `name` and `how`".to_string()),
        };
        Ok(SupportSettings {
            nation: raw.nation,
            org,
        })
    }
}

impl From<SupportSettings> for RawSupportSettings {
    fn from(settings: SupportSettings) -> Self {
        let org = settings.org;
        RawSupportSettings {
            nation: settings.nation,
            name: org.as_ref().map(|org| org.name.clone()),
            how: org.as_ref().map(|org| org.how.clone()),
            when: org.as_ref().and_then(|org| org.when.clone()),
            url: org.and_then(|org| org.url),
        }
    }
}

#[cfg(test)]
mod support_settings_tests {
    use super::*;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
        from_text(
            Some(PathBuf::from("careprompt.toml")),
            text.to_string(),
            env.iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        )
    }

    #[test]
    fn england_is_the_default_nation_and_there_is_no_org_contact() {
        let loaded = parse("", &[]).expect("defaults");
        assert_eq!(loaded.config.support, SupportSettings::default());
        assert_eq!(loaded.config.support.nation, Nation::England);
        assert!(loaded.config.support.org.is_none());
    }

    #[test]
    fn a_config_from_before_nation_existed_still_loads() {
        let loaded = parse(
            "[support]\nname = \"Wellbeing\"\nhow = \"Call 01234 567890\"\nwhen = \"Weekdays\"\n",
            &[],
        )
        .expect("old config");
        assert_eq!(loaded.config.support.nation, Nation::England);
        let org = loaded.config.support.org.expect("org contact");
        assert_eq!(
            (org.name.as_str(), org.how.as_str(), org.when.as_deref()),
            ("Wellbeing", "Call 01234 567890", Some("Weekdays"))
        );
    }

    #[test]
    fn the_nation_can_be_set_alone_or_by_environment() {
        let loaded = parse("[support]\nnation = \"northern-ireland\"\n", &[]).expect("nation");
        assert_eq!(loaded.config.support.nation, Nation::NorthernIreland);
        assert!(loaded.config.support.org.is_none());
        let loaded = parse(
            "[support]\nnation = \"wales\"\n",
            &[("CAREPROMPT_SUPPORT__NATION", "scotland")],
        )
        .expect("env");
        assert_eq!(loaded.config.support.nation, Nation::Scotland);
    }

    #[test]
    fn an_unknown_nation_is_an_error_at_its_line() {
        let err = parse("# ours\n[support]\nnation = \"cymru\"\n", &[]).expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.starts_with("careprompt.toml:3:") && text.contains("support.nation"),
            "{text}"
        );
        assert!(
            text.contains("northern-ireland") && text.contains("cymru"),
            "{text}"
        );
        let err =
            parse("", &[("CAREPROMPT_SUPPORT__NATION", "uk-wide")]).expect_err("not a nation");
        assert!(
            err.to_string().contains("CAREPROMPT_SUPPORT__NATION"),
            "{err}"
        );
    }

    #[test]
    fn half_an_org_contact_is_refused() {
        let err = parse("[support]\nnation = \"wales\"\nwhen = \"Weekdays\"\n", &[])
            .expect_err("when without name");
        assert!(err.to_string().contains("`name` and `how`"), "{err}");
    }
}

/// Parses a length of time such as "90s", "30m", "6h", "2d" or "1h 30m"; "0" is none at all.
pub fn parse_duration(value: &str) -> Result<chrono::Duration, String> {
    let value = value.trim();
    if value == "0" {
        return Ok(chrono::Duration::zero());
    }
    let parsed = humantime::parse_duration(value).map_err(|err| {
        format!(
            "\"{value}\" is not a length of time ({err}); write it like \"6h\", \"30m\" or \"2d\""
        )
    })?;
    chrono::Duration::from_std(parsed).map_err(|_| format!("\"{value}\" is too long"))
}

/// Where a setting's value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(Location),
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "built-in default"),
            Origin::File(location) => write!(f, "{location}"),
            Origin::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },
    #[error("{origin}: {message}")]
    Invalid {
        key: String,
        origin: Origin,
        message: String,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<ConfigError>),
    #[error(
        "no Discord token: set the {TOKEN_ENV} environment variable (or [discord] token_file)"
    )]
    MissingToken,
}

/// A loaded configuration and the text it came from, kept for locating later mistakes.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub file: Option<PathBuf>,
    text: String,
    env_keys: BTreeMap<String, String>,
}

impl LoadedConfig {
    /// A configuration built in code rather than read from a file.
    pub fn from_config(config: Config) -> LoadedConfig {
        LoadedConfig {
            config,
            file: None,
            text: String::new(),
            env_keys: BTreeMap::new(),
        }
    }

    /// Where `section.key` was set: an environment variable wins over the file.
    pub fn origin(&self, dotted_key: &str) -> Origin {
        if let Some(name) = self.env_keys.get(dotted_key) {
            return Origin::Env(name.clone());
        }
        match &self.file {
            Some(file) => match locate_key(&self.text, dotted_key) {
                Some(offset) => Origin::File(Location::from_offset(file, &self.text, offset)),
                None => Origin::Default,
            },
            None => Origin::Default,
        }
    }

    fn invalid(&self, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_string(),
            origin: self.origin(key),
            message: format!("{key}: {message}"),
        }
    }

    /// Checks every value that has a meaning beyond its type, and returns the settings typed.
    /// `theme_slugs` are the themes that `[packs]` may name.
    pub fn validate(&self, theme_slugs: &[&str]) -> Result<Settings, ConfigError> {
        let config = &self.config;
        let mut errors = Vec::new();
        let mut check = |key: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.push(self.invalid(key, message));
            }
        };
        let defaults = config
            .schedule
            .settings()
            .map_err(|err| self.invalid(&format!("schedule.{}", err.setting()), err.to_string()));
        let catch_up = config.schedule.catch_up_window();
        check("schedule.catch_up", catch_up.clone().map(drop));
        let retention = config.privacy.retention_period();
        check("privacy.retention", retention.clone().map(drop));
        let min_people = config.insights.checked_min_people();
        check("insights.min_people", min_people.clone().map(drop));
        let metrics_listen = config.metrics.address();
        check("metrics.listen", metrics_listen.clone().map(drop));
        let takeover_after = config.processes.takeover_period();
        check("processes.takeover_after", takeover_after.clone().map(drop));
        let archive_after = config.sessions.archive_period();
        check("sessions.archive_after", archive_after.clone().map(drop));
        if let Some(url) = &config.discord.proxy_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                check(
                    "discord.proxy_url",
                    Err("must start with http:// or https://".to_string()),
                );
            }
        }
        let url = &config.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            check(
                "database.url",
                Err(
                    "must start with sqlite: or postgres:// (the secret part is not shown here)"
                        .to_string(),
                ),
            );
        }
        if config.database.max_connections == 0 {
            check(
                "database.max_connections",
                Err("must be at least 1".to_string()),
            );
        }
        for (slug, pack) in &config.packs {
            if !theme_slugs.contains(&slug.as_str()) {
                check(
                    &format!("packs.{slug}"),
                    Err(format!(
                        "unknown theme \"{slug}\"; known themes: {}",
                        theme_slugs.join(", ")
                    )),
                );
            }
            for (name, value) in [
                ("guide_url", &pack.guide_url),
                ("presentation_url", &pack.presentation_url),
            ] {
                if let Some(result) = value.as_deref().map(validate_url) {
                    check(&format!("packs.{slug}.{name}"), result);
                }
            }
        }
        if let Some(support) = &config.support.org {
            if let Some(result) = support.url.as_deref().map(validate_url) {
                check("support.url", result);
            }
            if support.name.trim().is_empty() || support.how.trim().is_empty() {
                check("support", Err("needs both `name` and `how`".to_string()));
            }
        }
        // The schedule's own mistake comes first, as it did when it was checked first.
        if let Err(err) = &defaults {
            errors.insert(0, err.clone());
        }
        match (
            defaults,
            catch_up,
            retention,
            metrics_listen,
            takeover_after,
            archive_after,
        ) {
            (
                Ok(defaults),
                Ok(catch_up),
                Ok(retention),
                Ok(metrics_listen),
                Ok(takeover_after),
                Ok(archive_after),
            ) if errors.is_empty() => Ok(Settings {
                discord: config.discord.clone(),
                database: config.database.clone(),
                schedule: Scheduling {
                    defaults,
                    catch_up,
                    extra_holidays: config.schedule.extra_holidays.clone(),
                },
                content: config.content.clone(),
                packs: config.packs.clone(),
                support: config.support.clone(),
                privacy: Privacy { retention },
                insights: Insights {
                    min_people: min_people.unwrap_or(crate::domain::insights::DEFAULT_MIN_PEOPLE),
                },
                sessions: Sessions { archive_after },
                metrics_listen,
                processes: Processes {
                    takeover_after,
                    shards: None,
                },
            }),
            _ if errors.len() == 1 => Err(errors.remove(0)),
            _ => Err(ConfigError::Many(errors)),
        }
    }
}

/// Loads the configuration. `explicit` is a `--config` path, which must exist; without it,
/// `careprompt.toml` is read when present and the defaults apply when it is not.
pub fn load(
    explicit: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<LoadedConfig, ConfigError> {
    let (file, text) = match explicit {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => (Some(path.to_path_buf()), text),
            Err(err) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    reason: err.to_string(),
                })
            }
        },
        None => match std::fs::read_to_string(DEFAULT_CONFIG_FILE) {
            Ok(text) => (Some(PathBuf::from(DEFAULT_CONFIG_FILE)), text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => (None, String::new()),
            Err(err) => {
                return Err(ConfigError::Read {
                    path: PathBuf::from(DEFAULT_CONFIG_FILE),
                    reason: err.to_string(),
                })
            }
        },
    };
    from_text(file, text, env)
}

/// Parses configuration text (the contents of `file`, if any) and applies environment overrides.
pub fn from_text(
    file: Option<PathBuf>,
    text: String,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<LoadedConfig, ConfigError> {
    let label = file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
    let syntax_error = |err: toml::de::Error| {
        let offset = err.span().map_or(0, |span| span.start);
        let message = match key_at(&text, offset) {
            Some(key) => format!("{key}: {}", err.message().trim()),
            None => err.message().trim().to_string(),
        };
        ConfigError::Syntax {
            location: Location::from_offset(&label, &text, offset),
            message,
        }
    };
    let mut table: toml::Table = toml::from_str(&text).map_err(syntax_error)?;
    if table
        .get("discord")
        .and_then(|discord| discord.get("token"))
        .is_some()
    {
        let location = Location::from_offset(
            &label,
            &text,
            locate_key(&text, "discord.token").unwrap_or(0),
        );
        return Err(ConfigError::Syntax {
            location,
            message: format!("the bot token does not belong in the config file: set {TOKEN_ENV} or [discord] token_file"),
        });
    }
    // Parsing the file alone first keeps the file's own line numbers in type errors.
    toml::from_str::<Config>(&text).map_err(syntax_error)?;

    let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
    let mut env_keys = BTreeMap::new();
    let mut overrides: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect();
    overrides.sort();
    for (name, raw) in overrides {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !rest.contains("__") {
            continue;
        }
        let mut path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.len() >= 2 && path[0] == "packs" {
            path[1] = path[1].replace('_', "-");
        }
        let key = path.join(".");
        let invalid = |message: String| ConfigError::Invalid {
            key: key.clone(),
            origin: Origin::Env(name.clone()),
            message,
        };
        let value = env_value(&raw, lookup(&defaults, &path));
        insert_path(&mut table, &path, value).map_err(invalid)?;
        // Checking after each variable pins any mistake on the variable that made it.
        Config::deserialize(toml::Value::Table(table.clone()))
            .map_err(|err| invalid(format!("{key}: {}", err.to_string().trim())))?;
        env_keys.insert(key, name);
    }
    let config =
        Config::deserialize(toml::Value::Table(table)).map_err(|err| ConfigError::Invalid {
            key: String::new(),
            origin: Origin::Default,
            message: err.to_string().trim().to_string(),
        })?;
    Ok(LoadedConfig {
        config,
        file,
        text,
        env_keys,
    })
}

fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let value = table.get(first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        lookup(value.as_table()?, rest)
    }
}

/// Environment values are text; a setting whose default is text stays text, and anything else is
/// read as a TOML value (numbers, booleans, `[1, 2]`) where it parses as one.
fn env_value(raw: &str, default: Option<&toml::Value>) -> toml::Value {
    if matches!(default, Some(toml::Value::String(_))) {
        return toml::Value::String(raw.to_string());
    }
    toml::from_str::<toml::Table>(&format!("value = {raw}"))
        .ok()
        .and_then(|mut table| table.remove("value"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn insert_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Err("empty key".to_string());
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(());
    }
    let entry = table
        .entry(first.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(inner) => insert_path(inner, rest, value),
        _ => Err(format!("`{first}` is not a section")),
    }
}

/// The bot token, which never appears in logs or `Debug` output.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Reads the token from `DISCORD_TOKEN`, or else from `[discord] token_file`.
pub fn discord_token(
    discord: &DiscordSettings,
    env_token: Option<String>,
) -> Result<Token, ConfigError> {
    if let Some(token) = env_token
        .map(|token| token.trim().to_string())
        .filter(|token| !token.is_empty())
    {
        return Ok(Token(token));
    }
    if let Some(path) = &discord.token_file {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Read {
            path: path.clone(),
            reason: err.to_string(),
        })?;
        let token = text.trim();
        if !token.is_empty() {
            return Ok(Token(token.to_string()));
        }
    }
    Err(ConfigError::MissingToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse(text: &str, pairs: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
        from_text(
            Some(PathBuf::from("careprompt.toml")),
            text.to_string(),
            env(pairs),
        )
    }

    #[test]
    fn no_file_means_defaults() {
        let loaded = from_text(None, String::new(), env(&[])).expect("defaults load");
        assert_eq!(loaded.config, Config::default());
        assert_eq!(
            loaded.config.database.url,
            "sqlite://careprompt.db?mode=rwc"
        );
        assert_eq!(loaded.config.schedule.cron, "0 9 * * MON");
        loaded.validate(&[]).expect("defaults are valid");
    }

    #[test]
    fn example_config_parses_and_is_valid() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
                .expect("config.example.toml exists");
        let loaded = parse(&text, &[]).expect("example parses");
        let slugs = crate::domain::content::SHIPPED_THEMES;
        loaded.validate(&slugs).expect("example is valid");
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err =
            parse("[schedule]\ncron = \"0 9 * * MON\"\ntimezone = \n", &[]).expect_err("bad toml");
        let text = err.to_string();
        assert!(text.starts_with("careprompt.toml:3:"), "{text}");
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = parse("[schedule]\ncrom = \"0 9 * * MON\"\n", &[]).expect_err("unknown key");
        let text = err.to_string();
        assert!(
            text.contains("careprompt.toml:2:1") && text.contains("crom"),
            "{text}"
        );
    }

    #[test]
    fn wrong_type_names_the_place() {
        let err = parse("[database]\nmax_connections = \"lots\"\n", &[]).expect_err("bad type");
        let text = err.to_string();
        assert!(
            text.starts_with("careprompt.toml:2:19: database.max_connections: invalid type"),
            "{text}"
        );
    }

    #[test]
    fn each_environment_mistake_is_pinned_on_its_own_variable() {
        let err = parse(
            "",
            &[
                ("CAREPROMPT_DATABASE__URL", "sqlite://x.db"),
                (
                    "CAREPROMPT_PACKS__COMPASSION__GUIDE_URLL",
                    "https://example.org/g",
                ),
            ],
        )
        .expect_err("typo");
        let text = err.to_string();
        assert!(
            text.starts_with("environment variable CAREPROMPT_PACKS__COMPASSION__GUIDE_URLL"),
            "{text}"
        );
        let err = parse("", &[("CAREPROMPT_SUPPORT__NAME", "Wellbeing")]).expect_err("incomplete");
        let text = err.to_string();
        assert!(
            text.contains("CAREPROMPT_SUPPORT__NAME") && text.contains("how"),
            "{text}"
        );
    }

    #[test]
    fn keys_are_found_from_offsets() {
        let text = "top = 1\n[schedule]\ncron = \"x\"\n[packs.compassion]\nguide_url = \"y\"\n";
        assert_eq!(key_at(text, 0).as_deref(), Some("top"));
        assert_eq!(
            key_at(text, text.find("\"x\"").unwrap_or(0)).as_deref(),
            Some("schedule.cron")
        );
        let offset = text.find("\"y\"").unwrap_or(0);
        assert_eq!(
            key_at(text, offset).as_deref(),
            Some("packs.compassion.guide_url")
        );
    }

    #[test]
    fn mistakes_in_dotted_keys_and_inline_tables_point_at_their_key() {
        let loaded = parse(
            "# ours\npacks.compasion.guide_url = \"https://example.org/g\"\n",
            &[],
        )
        .expect("parses");
        let text = loaded
            .validate(&["compassion"])
            .expect_err("unknown theme")
            .to_string();
        assert!(
            text.starts_with("careprompt.toml:2:7: packs.compasion") && text.contains("compasion"),
            "{text}"
        );

        let loaded = parse(
            "[packs]\ncompassion = { presentation_url = \"https://example.org/p\", guide_url = \"ftp://example.org/g\" }\n",
            &[],
        )
        .expect("parses");
        let text = loaded
            .validate(&["compassion"])
            .expect_err("not a web link")
            .to_string();
        assert!(
            text.starts_with("careprompt.toml:2:60: packs.compassion.guide_url"),
            "{text}"
        );

        let err = parse("packs = { compassion = { guide_url = 5 } }\n", &[])
            .expect_err("a number is not a link");
        let text = err.to_string();
        assert!(
            text.starts_with("careprompt.toml:1:38: packs.compassion.guide_url"),
            "{text}"
        );
    }

    #[test]
    fn semantic_errors_point_at_the_key_line() {
        let loaded = parse(
            "# comment\n[schedule]\ntimezone = \"Europe/London\"\ncron = \"*/5 * * * *\"\n",
            &[],
        )
        .expect("parses");
        let err = loaded.validate(&[]).expect_err("too frequent");
        let text = err.to_string();
        assert!(
            text.starts_with("careprompt.toml:4:1: schedule.cron"),
            "{text}"
        );
    }

    #[test]
    fn takeover_defaults_to_a_minute_and_refuses_less_than_a_second() {
        let loaded = parse("", &[]).expect("parses");
        assert_eq!(
            loaded.config.processes.takeover_period(),
            Ok(chrono::Duration::minutes(1))
        );
        let loaded = parse("", &[("CAREPROMPT_PROCESSES__TAKEOVER_AFTER", "2s")]).expect("env");
        assert_eq!(
            loaded.config.processes.takeover_period(),
            Ok(chrono::Duration::seconds(2))
        );
        let loaded = parse("[processes]\ntakeover_after = \"100ms\"\n", &[]).expect("parses");
        let text = loaded.validate(&[]).expect_err("too short").to_string();
        assert!(text.contains("processes.takeover_after"), "{text}");
        assert!(text.contains("at least a second"), "{text}");
    }

    #[test]
    fn retention_defaults_to_30_days_and_a_bad_one_is_pinned_on_its_line() {
        let loaded = parse("", &[]).expect("parses");
        assert_eq!(
            loaded.config.privacy.retention_period(),
            Ok(chrono::Duration::days(30))
        );
        let loaded = parse("[privacy]\nretention = \"7d\"\n", &[]).expect("parses");
        assert_eq!(
            loaded.config.privacy.retention_period(),
            Ok(chrono::Duration::days(7))
        );
        let loaded = parse("\n[privacy]\nretention = \"a month\"\n", &[]).expect("parses");
        let text = loaded
            .validate(&[])
            .expect_err("not a duration")
            .to_string();
        assert!(
            text.starts_with("careprompt.toml:3:1: privacy.retention"),
            "{text}"
        );
    }

    #[test]
    fn archive_after_defaults_to_four_hours_within_an_hour_and_a_week() {
        let settings = parse("", &[])
            .expect("parses")
            .validate(&[])
            .expect("valid");
        assert_eq!(settings.sessions.archive_after, chrono::Duration::hours(4));
        let settings = parse("[sessions]\narchive_after = \"2d\"\n", &[])
            .expect("parses")
            .validate(&[])
            .expect("valid");
        assert_eq!(settings.sessions.archive_after, chrono::Duration::days(2));

        let loaded =
            parse("# ours\n[sessions]\narchive_after = \"all day\"\n", &[]).expect("parses");
        let text = loaded
            .validate(&[])
            .expect_err("not a duration")
            .to_string();
        assert!(
            text.starts_with("careprompt.toml:3:1: sessions.archive_after"),
            "{text}"
        );
        let loaded = parse("[sessions]\narchive_after = \"45m\"\n", &[]).expect("parses");
        let text = loaded.validate(&[]).expect_err("too short").to_string();
        assert!(
            text.starts_with("careprompt.toml:2:1: sessions.archive_after")
                && text.contains("at least \"1h\""),
            "{text}"
        );
        let loaded = parse("", &[("CAREPROMPT_SESSIONS__ARCHIVE_AFTER", "30d")]).expect("env");
        let text = loaded.validate(&[]).expect_err("too long").to_string();
        assert!(
            text.starts_with("environment variable CAREPROMPT_SESSIONS__ARCHIVE_AFTER")
                && text.contains("at most \"7d\""),
            "{text}"
        );
    }

    #[test]
    fn bad_timezone_suggests_the_nearest() {
        let loaded = parse("[schedule]\ntimezone = \"Europe/Londn\"\n", &[]).expect("parses");
        let text = loaded.validate(&[]).expect_err("bad zone").to_string();
        assert!(text.contains("Europe/London"), "{text}");
    }

    #[test]
    fn environment_overrides_the_file_and_is_named_in_errors() {
        let loaded = parse(
            "[database]\nurl = \"sqlite://a.db\"\n",
            &[
                (
                    "CAREPROMPT_DATABASE__URL",
                    "postgres://postgres@127.0.0.1/test",
                ),
                ("CAREPROMPT_DISCORD__DEV_GUILD_IDS", "[1, 2]"),
                ("CAREPROMPT_SCHEDULE__CRON", "0 8 * * 1"),
                (
                    "CAREPROMPT_PACKS__WHOLE_SELF__GUIDE_URL",
                    "https://intranet.example.nhs.uk/ws",
                ),
                ("UNRELATED", "x"),
            ],
        )
        .expect("parses");
        assert_eq!(
            loaded.config.database.url,
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(loaded.config.discord.dev_guild_ids, vec![1, 2]);
        assert_eq!(loaded.config.schedule.cron, "0 8 * * 1");
        assert_eq!(
            loaded.config.packs["whole-self"].guide_url.as_deref(),
            Some("https://intranet.example.nhs.uk/ws")
        );

        let loaded =
            parse("", &[("CAREPROMPT_SCHEDULE__TIMEZONE", "Mars/Olympus")]).expect("parses");
        let text = loaded.validate(&[]).expect_err("bad zone").to_string();
        assert!(text.contains("CAREPROMPT_SCHEDULE__TIMEZONE"), "{text}");
    }

    #[test]
    fn unknown_environment_key_is_an_error() {
        let err = parse("", &[("CAREPROMPT_SCHEDULE__CRONN", "0 9 * * 1")]).expect_err("unknown");
        assert!(err.to_string().contains("cronn"), "{err}");
    }

    #[test]
    fn token_in_the_file_is_refused() {
        let err = parse("[discord]\ntoken = \"abc\"\n", &[]).expect_err("token in file");
        let text = err.to_string();
        assert!(
            text.contains("DISCORD_TOKEN") && !text.contains("abc"),
            "{text}"
        );
    }

    #[test]
    fn unknown_pack_theme_is_refused() {
        let loaded = parse(
            "[packs.compasion]\nguide_url = \"https://example.org/g\"\n",
            &[],
        )
        .expect("parses");
        let text = loaded
            .validate(&["compassion"])
            .expect_err("unknown theme")
            .to_string();
        assert!(
            text.starts_with("careprompt.toml:1:1") && text.contains("compasion"),
            "{text}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("6h"), Ok(chrono::Duration::hours(6)));
        assert_eq!(parse_duration("30m"), Ok(chrono::Duration::minutes(30)));
        assert_eq!(parse_duration("0"), Ok(chrono::Duration::zero()));
        assert_eq!(parse_duration("1h 30m"), Ok(chrono::Duration::minutes(90)));
        assert!(parse_duration("6 fortnights").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }

    #[test]
    fn token_never_shows_in_debug() {
        let token = discord_token(&Config::default().discord, Some(" secret-value \n".into()))
            .expect("token");
        assert_eq!(token.expose(), "secret-value");
        assert!(!format!("{token:?}").contains("secret"));
        assert_eq!(
            discord_token(&Config::default().discord, None).err(),
            Some(ConfigError::MissingToken)
        );
    }
}
