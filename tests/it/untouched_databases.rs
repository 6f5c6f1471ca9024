//! Databases that a try-out or a report did not make are left exactly as they were, through the
//! real binary. `careprompt try --database` with a database a real careprompt uses, on both
//! backends: it refuses with exit status 2 and says why, and the database is untouched (the
//! SQLite file's bytes and the files beside it; every row of every PostgreSQL table). A new or
//! empty database, or one `try` made, it uses. `careprompt insights` reads without writing: it
//! neither creates a database nor brings one up to date.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::process::{careprompt_command, send_sigterm, stderr_lines};
use crate::scheduler::{drop_postgres, temp_postgres_url, text_of};
use crate::support::{
    ButtonClick, CommandInvocation, FakeDiscord, ADMIN_PERMISSIONS, CHANNEL_ID, GATEWAY_WAIT,
    GUILD_ID, TOKEN, USER_ID,
};

/// How long a refusal may take: it comes before anything starts.
const REFUSAL_WAIT: Duration = Duration::from_secs(30);

async fn wait_exit(child: Child, within: Duration) -> Output {
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    tokio::time::timeout(within, waiting)
        .await
        .expect("careprompt exits in time")
        .expect("join")
        .expect("output")
}

/// `careprompt run` against the stand-in on `url`, where it sets a schedule, opts a person in to
/// DMs and saves a bookmark with its usage record, then stops cleanly.
async fn run_careprompt_on(url: &str) {
    let fake = FakeDiscord::start().await;
    let child = careprompt_command(&fake, TOKEN, url, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("careprompt runs");
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    fake.run_command(
        CommandInvocation::guild("schedule")
            .subcommand("set")
            .option_channel("channel", CHANNEL_ID, 0)
            .option_str("cron", "0 9 * * MON")
            .permissions(ADMIN_PERMISSIONS)
            .user(USER_ID),
    )
    .await
    .expect("answered");
    let opted_in = fake
        .run_command(CommandInvocation::guild("optin").user(USER_ID))
        .await
        .expect("answered");
    assert!(
        text_of(&opted_in).contains("From now on"),
        "{}",
        text_of(&opted_in)
    );
    let saved = fake
        .click_button(ButtonClick::guild("cp:save:-:p.com-01").user(USER_ID))
        .await
        .expect("answered");
    assert!(
        text_of(&saved).contains("Saved to your bookmarks"),
        "{}",
        text_of(&saved)
    );
    send_sigterm(&child);
    let output = wait_exit(child, Duration::from_secs(30)).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn try_command(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_careprompt"));
    command
        .args(["try", "--listen", "127.0.0.1:0", "--database", url])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// `careprompt try --database url`, expected to refuse at once: its exit status and error.
async fn try_refused(url: &str) -> (Option<i32>, String) {
    let child = try_command(url).spawn().expect("careprompt try starts");
    let output = wait_exit(child, REFUSAL_WAIT).await;
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// `careprompt try --database url` runs: its page answers; then it stops with SIGTERM.
async fn try_runs(url: &str) {
    let mut child = try_command(url).spawn().expect("careprompt try starts");
    let mut lines = stderr_lines(&mut child);
    let first = tokio::time::timeout(GATEWAY_WAIT, lines.recv())
        .await
        .expect("try says something in time")
        .unwrap_or_default();
    assert!(first.contains("open http://"), "try runs: {first}");
    send_sigterm(&child);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("status");
    assert_eq!(status.code(), Some(0));
}

fn assert_refusal_says_why(code: Option<i32>, stderr: &str) {
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("careprompt try will not use the database"),
        "{stderr}"
    );
    assert!(
        stderr.contains("it holds data that careprompt try did not make"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("server {GUILD_ID}")), "{stderr}");
    for table in [
        "schedules (1)",
        "dm_optins (1)",
        "bookmarks (1)",
        "usage_events (2)",
    ] {
        assert!(stderr.contains(table), "names {table}: {stderr}");
    }
}

/// A folder of its own for a SQLite database, so that every file beside it is seen.
fn sqlite_folder(name: &str) -> (PathBuf, String) {
    let dir = empty_folder(name);
    let url = format!("sqlite://{}?mode=rwc", dir.join("careprompt.db").display());
    (dir, url)
}

/// Every file in the folder, with its bytes.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("the folder")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .to_string();
            (name, std::fs::read(&path).expect("the file"))
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn try_refuses_the_sqlite_database_of_a_real_careprompt_and_leaves_it_byte_for_byte() {
    let (dir, url) = sqlite_folder("run");
    run_careprompt_on(&url).await;
    let before = files_in(&dir);
    assert_eq!(
        before
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        ["careprompt.db"],
        "careprompt leaves its database whole when it stops"
    );
    let (code, stderr) = try_refused(&url).await;
    assert_refusal_says_why(code, &stderr);
    assert!(files_in(&dir) == before, "the database changed");

    // A report reads it and changes nothing either.
    let out = empty_folder("insights-out");
    let report = insights(&url, &out, GUILD_ID);
    assert_eq!(report.status.code(), Some(1), "{report:?}");
    assert!(
        String::from_utf8_lossy(&report.stderr).contains("not enough people yet"),
        "{report:?}"
    );
    assert!(files_in(&dir) == before, "insights changed the database");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&out);
}

/// A folder of its own in the temporary folder, empty.
fn empty_folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "careprompt-untouched-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder");
    dir
}

/// `careprompt insights` on the database at `url`, from a folder with no configuration.
fn insights(url: &str, out: &Path, guild: u64) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_careprompt"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CAREPROMPT_") {
            command.env_remove(name);
        }
    }
    command
        .args([
            "insights",
            "--guild",
            &guild.to_string(),
            "--weeks",
            "4",
            "--out",
        ])
        .arg(out)
        .current_dir(out)
        .env("CAREPROMPT_DATABASE__URL", url)
        .env("RUST_LOG", "off")
        .output()
        .expect("careprompt insights runs")
}

/// `careprompt insights` makes no database where there is none, and does not bring one up to
/// date: it says to run `careprompt migrate`.
#[tokio::test]
async fn insights_neither_creates_a_database_nor_migrates_one() {
    let (dir, url) = sqlite_folder("insights");
    let out = empty_folder("insights-none");
    let report = insights(&url, &out, GUILD_ID);
    assert_eq!(report.status.code(), Some(1), "{report:?}");
    assert!(
        String::from_utf8_lossy(&report.stderr).contains("there is no database"),
        "{report:?}"
    );
    assert!(files_in(&dir).is_empty(), "a database was made");

    // A database from before the newest change, as an older careprompt left it.
    let store = careprompt::store::Store::connect(&url, 1)
        .await
        .expect("a database");
    store.close().await;
    let mut raw = sqlx::SqliteConnection::connect(&url).await.expect("opens");
    for statement in [
        "DROP TABLE made_by_try",
        "DELETE FROM _sqlx_migrations WHERE version = 9",
    ] {
        sqlx::query(statement)
            .execute(&mut raw)
            .await
            .expect(statement);
    }
    raw.close().await.expect("closes");
    let before = files_in(&dir);
    let report = insights(&url, &out, GUILD_ID);
    assert_eq!(report.status.code(), Some(1), "{report:?}");
    assert!(
        String::from_utf8_lossy(&report.stderr).contains("run `careprompt migrate` first"),
        "{report:?}"
    );
    assert!(files_in(&dir) == before, "insights changed the database");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&out);
}

/// `try` uses a new file, and the file it made again; once `careprompt run` has used it, it is a
/// real careprompt's, and `try` refuses it.
#[tokio::test]
async fn try_uses_a_database_it_made_until_careprompt_runs_on_it() {
    let (dir, url) = sqlite_folder("made");
    try_runs(&url).await;
    try_runs(&url).await;
    run_careprompt_on(&url).await;
    let before = files_in(&dir);
    let (code, stderr) = try_refused(&url).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(files_in(&dir) == before, "the database changed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every row of every table in the database, as text, table by table.
async fn every_row(url: &str) -> Vec<(String, Vec<String>)> {
    let mut connection = PgConnection::connect(url).await.expect("connects");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .fetch_all(&mut connection)
    .await
    .expect("tables");
    let mut rows = Vec::new();
    for table in tables {
        let text: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::TEXT FROM {table} t ORDER BY 1"))
                .fetch_all(&mut connection)
                .await
                .expect("rows");
        rows.push((table, text));
    }
    let _ = connection.close().await;
    rows
}

#[tokio::test]
async fn try_refuses_the_postgres_database_of_a_real_careprompt_and_leaves_every_row() {
    let (url, name) = temp_postgres_url().await;
    run_careprompt_on(&url).await;
    let before = every_row(&url).await;
    assert!(
        before
            .iter()
            .any(|(table, rows)| table.ends_with(".bookmarks") && rows.len() == 1),
        "{before:?}"
    );
    let (code, stderr) = try_refused(&url).await;
    assert_refusal_says_why(code, &stderr);
    assert_eq!(every_row(&url).await, before, "the database changed");
    drop_postgres(&name).await;
}

#[tokio::test]
async fn try_uses_an_empty_postgres_database() {
    let (url, name) = temp_postgres_url().await;
    try_runs(&url).await;
    try_runs(&url).await;
    drop_postgres(&name).await;
}
