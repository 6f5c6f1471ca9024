//! The work behind each subcommand, kept out of `main.rs` so tests can call it directly.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::check;
use crate::config::{self, LoadedConfig};
use crate::domain::content::Library;
use crate::domain::planning::{plan, PreviewRequest, Slot};
use crate::domain::rotation::RotationState;
use crate::domain::settings::{parse_bank_holidays, SettingsChange, SettingsError};
use crate::domain::shards::ShardRange;
use crate::startup::{load_content, Application, Loaded, StartOptions};

/// Exit codes: 1 when the configuration or content is wrong, 2 when the command line is.
pub const EXIT_INVALID: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_INVALID,
            message: message.into(),
        }
    }

    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

pub fn load_config(path: Option<&std::path::Path>) -> Result<LoadedConfig, Failure> {
    config::load(path, std::env::vars()).map_err(|err| Failure::invalid(err.to_string()))
}

/// The configuration and the library, checked together, as the bot loads them.
fn load(path: Option<&std::path::Path>) -> Result<Loaded, Failure> {
    let loaded = load_config(path)?;
    load_content(&loaded).map_err(|problems| Failure::invalid(problems.join("\n")))
}

/// `careprompt check`.
pub fn check(config_path: Option<PathBuf>, out: &mut impl Write) -> Result<(), Failure> {
    let loaded = load_config(config_path.as_deref())?;
    match check::run(&loaded) {
        Ok(lines) => {
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            Ok(())
        }
        Err(problems) => Err(Failure::invalid(problems.join("\n"))),
    }
}

/// `careprompt check --links`: run after `check` has passed, since it goes online.
pub fn check_links(config_path: Option<PathBuf>, out: &mut impl Write) -> Result<(), Failure> {
    let loaded = load_config(config_path.as_deref())?;
    let mut links =
        crate::links::library_links(&loaded.config.content.source()).map_err(Failure::invalid)?;
    links.extend(crate::links::config_links(&loaded));
    let client = crate::links::client(crate::links::TIMEOUT).map_err(Failure::invalid)?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| Failure::invalid(format!("cannot start the runtime: {err}")))?;
    let report = runtime.block_on(crate::links::check(client, &links));
    if report.dead.is_empty() {
        for line in report.lines() {
            let _ = writeln!(out, "{line}");
        }
        Ok(())
    } else {
        Err(Failure::invalid(report.lines().join("\n")))
    }
}

/// `careprompt preview`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct PreviewArgs {
    /// A crontab line: minute hour day-of-month month day-of-week.
    #[arg(long)]
    pub cron: Option<String>,
    /// An IANA time zone such as Europe/London.
    #[arg(long)]
    pub tz: Option<String>,
    /// How many posts to show.
    #[arg(long, default_value_t = 6)]
    pub count: usize,
    /// Start after this time (RFC 3339); default now.
    #[arg(long)]
    pub from: Option<String>,
    /// Shuffle seed: the same seed and start give the same posts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// england-and-wales, scotland, northern-ireland or none.
    #[arg(long)]
    pub bank_holidays: Option<String>,
    /// Include the bullying and harassment theme in the rotation.
    #[arg(long)]
    pub include_bullying: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Print the outline of a theme's reflective session (/session) instead.
    #[arg(long, value_name = "THEME")]
    pub session: Option<String>,
    /// With --session: 30, 45 or 60 minutes.
    #[arg(long, default_value_t = 30)]
    pub minutes: u32,
}

/// `careprompt preview`: command-line values win over the configured schedule defaults.
pub fn preview(
    config_path: Option<PathBuf>,
    args: &PreviewArgs,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if args.count == 0 {
        return Err(Failure::usage("--count must be at least 1"));
    }
    let Loaded { settings, library } = load(config_path.as_deref())?;
    if let Some(theme) = &args.session {
        return session_outline(&library, &settings, theme, args.minutes, out);
    }
    let defaults = &settings.schedule;
    let bank_holidays = args
        .bank_holidays
        .as_deref()
        .map(parse_bank_holidays)
        .transpose()
        .map_err(SettingsError::from);
    let settings = bank_holidays
        .and_then(|bank_holidays| {
            defaults.defaults.changed(&SettingsChange {
                cron: args.cron.as_deref(),
                timezone: args.tz.as_deref(),
                bank_holidays,
                include_bullying: args.include_bullying.then_some(true),
            })
        })
        .map_err(|err| {
            let flag = match err.setting() {
                "timezone" => "--tz",
                "bank_holidays" => "--bank-holidays",
                _ => "--cron",
            };
            Failure::usage(format!("{flag}: {err}"))
        })?;
    let from = match &args.from {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|err| Failure::usage(format!("--from: \"{text}\" is not an RFC 3339 time ({err}); write it like 2027-01-04T08:00:00Z")))?,
        None => now,
    };
    let request = PreviewRequest {
        settings,
        extra_holidays: defaults.extra_holidays.clone(),
        from,
        count: args.count,
        state: RotationState::new(args.seed),
    };
    let slots = plan(&library, &request).map_err(|err| Failure::invalid(err.to_string()))?;
    let posts = slots
        .iter()
        .filter(|slot| matches!(slot, Slot::Post(_)))
        .count();
    if posts == 0 {
        return Err(Failure::usage(format!(
            "\"{}\" posts nothing after {}: every slot falls on a skipped holiday, or after 2100",
            request.settings.cron(),
            from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    for slot in &slots {
        let text = if args.json {
            json_line(&library, slot)
        } else {
            text_lines(&library, slot)
        };
        if let Some(text) = text {
            let _ = writeln!(out, "{text}");
        }
    }
    Ok(())
}

/// `careprompt preview --session THEME`: the session's stages with their timings and words, as a
/// facilitator prepares with them.
fn session_outline(
    library: &Library,
    settings: &crate::config::Settings,
    slug: &str,
    minutes: u32,
    out: &mut impl Write,
) -> Result<(), Failure> {
    use crate::domain::session::{facilitator_brief, length, stages, starts, StageKind};
    let theme = library.theme(slug).ok_or_else(|| {
        Failure::usage(format!(
            "--session: no theme \"{slug}\"; use one of {}",
            library.rotation(true).join(", ")
        ))
    })?;
    let minutes = length(Some(minutes))
        .ok_or_else(|| Failure::usage("--minutes: a session lasts 30, 45 or 60 minutes"))?;
    let story = library.stories_for(&theme.slug).next();
    let stages = stages(minutes, story.is_some());
    let _ = writeln!(
        out,
        "{}: a {minutes}-minute reflective session",
        theme.title
    );
    for (stage, start) in stages.iter().zip(starts(&stages)) {
        let what = match stage.kind {
            StageKind::Welcome => format!("welcome and ground rules: {}", theme.session.opening),
            StageKind::Story => story.map_or_else(String::new, |story| {
                format!("the story: {} ({})", story.title, story.url)
            }),
            StageKind::Question(index) => format!(
                "question {}: {}",
                index + 1,
                theme
                    .session
                    .questions
                    .get(index)
                    .map_or("", String::as_str)
            ),
            StageKind::Close => format!("close: {}", theme.session.closing),
        };
        let end = start + stage.minutes;
        let _ = writeln!(out, "minutes {start:>2} to {end:<2}  {what}");
    }
    let own_support = settings
        .org_support()
        .map(|org| format!("{}, {}", org.name, org.how));
    let _ = writeln!(out, "for you only, before you start:");
    for point in facilitator_brief(&theme.session, own_support.as_deref()) {
        let _ = writeln!(out, "- {point}");
    }
    Ok(())
}

fn json_line(library: &Library, slot: &Slot) -> Option<String> {
    let Slot::Post(post) = slot else { return None };
    let prompt = library
        .find_prompt(&post.pick.prompt_id)
        .map(|(_, prompt)| prompt.text.clone());
    let story = post
        .pick
        .story_id
        .as_deref()
        .and_then(|id| library.story(id));
    let value = serde_json::json!({
        "at_local": post.at_local.to_rfc3339(),
        "at_utc": post.at_utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "theme": post.pick.theme,
        "prompt_id": post.pick.prompt_id,
        "prompt": prompt,
        "story_id": post.pick.story_id,
        "story_title": story.map(|story| story.title.clone()),
        "story_url": story.map(|story| story.url.clone()),
    });
    Some(value.to_string())
}

fn text_lines(library: &Library, slot: &Slot) -> Option<String> {
    match slot {
        Slot::Skipped { at_local, holiday } => Some(format!(
            "{}  skipped: {}",
            at_local.format("%a %Y-%m-%d %H:%M %Z"),
            holiday.name
        )),
        Slot::Post(post) => {
            let theme = library
                .theme(&post.pick.theme)
                .map_or(post.pick.theme.as_str(), |theme| theme.title.as_str());
            let prompt = library
                .find_prompt(&post.pick.prompt_id)
                .map_or("", |(_, prompt)| prompt.text.as_str());
            let mut text = format!(
                "{} ({})  {theme} [{}]\n    {prompt}",
                post.at_local.format("%a %Y-%m-%d %H:%M %Z"),
                post.at_utc.format("%Y-%m-%dT%H:%MZ"),
                post.pick.prompt_id
            );
            if let Some(story) = post
                .pick
                .story_id
                .as_deref()
                .and_then(|id| library.story(id))
            {
                text.push_str(&format!(
                    "\n    Story: {} ({}) {}",
                    story.title, story.storyteller, story.url
                ));
            }
            Some(text)
        }
    }
}

/// `careprompt migrate`: brings the database's tables up to date without starting the bot, for an
/// upgrade before several processes start.
pub fn migrate(config_path: Option<PathBuf>, out: &mut impl Write) -> Result<(), Failure> {
    let loaded = load_config(config_path.as_deref())?;
    let database = &loaded.config.database;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| Failure::invalid(format!("cannot start the runtime: {err}")))?;
    runtime.block_on(async {
        let store = crate::store::Store::connect(&database.url, 1)
            .await
            .map_err(|err| Failure::invalid(err.to_string()))?;
        store.close().await;
        let _ = writeln!(
            out,
            "ok: the {} database at {} is up to date",
            store.backend(),
            crate::store::redact_url(&database.url)
        );
        Ok(())
    })
}

/// `careprompt insights`: a server's `/insights` chart and CSV, written into `out_dir` as
/// careprompt-insights.png and careprompt-insights.csv, for a lead who runs careprompt
/// themselves. `weeks` is one of 4, 12, 26 or 52.
pub fn insights(
    config_path: Option<PathBuf>,
    guild_id: u64,
    weeks: u32,
    out_dir: &std::path::Path,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    use crate::domain::insights::{View, NOT_ENOUGH_PEOPLE, PERIODS};
    use crate::insights::{report, CHART_FILE, CSV_FILE};

    if !PERIODS.contains(&weeks) {
        return Err(Failure::usage(format!(
            "--weeks must be 4, 12, 26 or 52, not {weeks}"
        )));
    }
    let loaded = load(config_path.as_deref())?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| Failure::invalid(format!("cannot start the runtime: {err}")))?;
    let report = runtime.block_on(async {
        // Read only: a report changes nothing, not even the tables' version.
        let url = &loaded.settings.database.url;
        let store = crate::store::Store::open_read_only(url)
            .await
            .map_err(|err| Failure::invalid(err.to_string()))?
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "there is no database at {}: careprompt has not run with this configuration",
                    crate::store::redact_url(url)
                ))
            })?;
        if let Err(err) = store.ensure_up_to_date().await {
            store.close().await;
            return Err(Failure::invalid(err.to_string()));
        }
        let made = report(
            &store,
            &loaded.library,
            guild_id,
            weeks,
            loaded.settings.insights.min_people,
            now,
        )
        .await
        .map_err(|err| Failure::invalid(err.to_string()));
        store.close().await;
        made
    })?;
    let files = match (&report.view, report.files) {
        (View::Figures(_), Some(files)) => files,
        _ => {
            return Err(Failure::invalid(format!(
                "server {guild_id}: {NOT_ENOUGH_PEOPLE}; nothing written"
            )))
        }
    };
    std::fs::create_dir_all(out_dir)
        .map_err(|err| Failure::invalid(format!("cannot make {}: {err}", out_dir.display())))?;
    for (name, bytes) in [
        (CHART_FILE, files.png.as_slice()),
        (CSV_FILE, files.csv.as_bytes()),
    ] {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|err| Failure::invalid(format!("cannot write {}: {err}", path.display())))?;
        let _ = writeln!(out, "wrote {}", path.display());
    }
    let _ = writeln!(out, "{}", files.summary);
    Ok(())
}

/// `careprompt run`: loads everything, refusing to start on any mistake, then runs the bot until
/// SIGINT or SIGTERM. `shards` and `total_shards` come together, from `--shards A-B
/// --total-shards N`.
pub fn run_bot(
    config_path: Option<PathBuf>,
    shards: Option<&str>,
    total_shards: Option<u32>,
) -> Result<(), Failure> {
    let shards = match (shards, total_shards) {
        (Some(range), Some(total)) => Some(
            ShardRange::parse(range, total)
                .map_err(|err| Failure::invalid(format!("--shards: {err}")))?,
        ),
        (None, None) => None,
        _ => {
            return Err(Failure::invalid(
                "--shards and --total-shards go together".to_string(),
            ))
        }
    };
    let Loaded {
        mut settings,
        library,
    } = load(config_path.as_deref())?;
    settings.processes.shards = shards;
    let token = config::discord_token(&settings.discord, std::env::var(config::TOKEN_ENV).ok())
        .map_err(|err| Failure::invalid(err.to_string()))?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| Failure::invalid(format!("cannot start the runtime: {err}")))?;
    runtime.block_on(async {
        // Listening before anything else means a signal during start-up is not lost.
        let shutdown = shutdown_signal()
            .map_err(|err| Failure::invalid(format!("cannot listen for signals: {err}")))?;
        let application = Application::build(settings, library, token, StartOptions::default())
            .await
            .map_err(|err| Failure::invalid(format!("{err:#}")))?;
        // A database `try` made is a real careprompt's from now on: `try` will not use it again.
        application
            .store()
            .unmark_made_by_try()
            .await
            .map_err(|err| Failure::invalid(err.to_string()))?;
        application
            .run_until_stopped(shutdown)
            .await
            .map_err(|err| Failure::invalid(format!("{err:#}")))
    })
}

/// `careprompt try`: careprompt against the stand-in for Discord, with its page, until Ctrl-C.
pub fn try_out(listen: std::net::SocketAddr, database: Option<String>) -> Result<(), Failure> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| Failure::invalid(format!("cannot start the runtime: {err}")))?;
    runtime.block_on(async {
        let shutdown = shutdown_signal()
            .map_err(|err| Failure::invalid(format!("cannot listen for signals: {err}")))?;
        crate::tryout::run(
            crate::tryout::TryOptions {
                listen,
                database,
                starts_at: None,
            },
            shutdown,
        )
        .await
        .map_err(
            |err| match err.downcast_ref::<crate::tryout::ForeignDatabase>() {
                // The --database given is the mistake, and nothing was changed.
                Some(refused) => Failure::usage(refused.to_string()),
                None => Failure::invalid(format!("{err:#}")),
            },
        )
    })
}

/// Starts listening for SIGINT (Ctrl-C) and SIGTERM (what service managers send) at once, and
/// returns a future that completes on the first of them.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static>
{
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("received SIGINT"),
            _ = terminate.recv() => tracing::info!("received SIGTERM"),
        }
    })
}

#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static>
{
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
