//! `careprompt check` and `careprompt preview`, run as the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use careprompt::domain::content::SHIPPED_THEMES;
use chrono::NaiveDate;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary in `dir` with no stray careprompt settings from the environment.
pub(crate) fn careprompt_in(dir: &Path, args: &[&str]) -> Output {
    careprompt_in_with(dir, args, &[])
}

/// As `careprompt_in`, with `env` set on top, as a container's environment would set it.
fn careprompt_in_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_careprompt"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DISCORD_TOKEN")
        .env("RUST_LOG", "off");
    for (name, _) in std::env::vars() {
        if name.starts_with("CAREPROMPT_") {
            command.env_remove(name);
        }
    }
    // Tests that break a copy of the library on purpose keep it in `prompts/` beside them.
    if dir.join("prompts").is_dir() {
        command.env("CAREPROMPT_CONTENT__DIR", "prompts");
    }
    command.envs(env.iter().copied());
    command.output().expect("the careprompt binary runs")
}

fn careprompt(args: &[&str]) -> Output {
    careprompt_in(&repo(), args)
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch copy of the shipped prompts, for breaking on purpose.
pub(crate) struct ContentCopy {
    pub(crate) dir: PathBuf,
}

impl ContentCopy {
    pub(crate) fn new(name: &str) -> ContentCopy {
        let dir =
            std::env::temp_dir().join(format!("careprompt-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("prompts")).expect("temp dir");
        for entry in std::fs::read_dir(repo().join("prompts")).expect("prompts dir") {
            let path = entry.expect("entry").path();
            std::fs::copy(
                &path,
                dir.join("prompts").join(path.file_name().expect("name")),
            )
            .expect("copy");
        }
        ContentCopy { dir }
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.join("prompts").join(name)
    }

    pub(crate) fn edit(&self, name: &str, change: impl FnOnce(String) -> String) {
        let path = self.file(name);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, change(text)).expect("write");
    }

    pub(crate) fn check(&self) -> Output {
        careprompt_in(&self.dir, &["check"])
    }
}

impl Drop for ContentCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// 1-based line and column of the `occurrence`-th (0-based) match of `needle` in `text`.
fn line_col(text: &str, needle: &str, occurrence: usize) -> (usize, usize) {
    let offset = text
        .match_indices(needle)
        .nth(occurrence)
        .expect("needle present")
        .0;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |index| index + 1) + 1;
    (line, column)
}

#[test]
fn check_passes_on_the_shipped_content() {
    let output = careprompt(&["check"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    for slug in SHIPPED_THEMES {
        let line = text
            .lines()
            .find(|line| line.starts_with(slug))
            .unwrap_or_else(|| panic!("no summary for {slug}: {text}"));
        let prompts: usize = line
            .split_whitespace()
            .nth(1)
            .and_then(|count| count.parse().ok())
            .expect("prompt count");
        assert!(prompts >= 15, "{slug} has only {prompts} prompts");
    }
    assert!(
        text.contains("every card and the slash commands fit Discord's limits"),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|line| line.starts_with("warning: prompts/")),
        "the shipped library has no warnings: {text}"
    );
    // Without a configuration, the nation is England's by default, and check says so.
    let nation: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert_eq!(nation.len(), 1, "{text}");
    assert!(
        nation[0].contains("[support] nation is not set")
            && nation[0].contains("England")
            && nation[0].contains("\"northern-ireland\""),
        "{text}"
    );
}

#[test]
fn check_is_quiet_about_the_nation_once_it_is_set() {
    let copy = ContentCopy::new("nation");
    std::fs::write(
        copy.dir.join("careprompt.toml"),
        "[support]\nnation = \"wales\"\n",
    )
    .expect("write");
    let output = copy.check();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains("warning:"), "{}", stdout(&output));
    // Set by the environment, as a container would, it counts as set too.
    std::fs::remove_file(copy.dir.join("careprompt.toml")).expect("remove");
    let output = careprompt_in_with(
        &copy.dir,
        &["check"],
        &[("CAREPROMPT_SUPPORT__NATION", "scotland")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains("warning:"), "{}", stdout(&output));
}

#[test]
fn check_names_the_place_of_a_duplicate_prompt_id() {
    let copy = ContentCopy::new("duplicate");
    copy.edit("compassion.toml", |text| {
        text.replacen("id = \"com-02\"", "id = \"com-01\"", 1)
    });
    let text = std::fs::read_to_string(copy.file("compassion.toml")).expect("read");
    let (line, column) = line_col(&text, "\"com-01\"", 1);
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let expected =
        format!("prompts/compassion.toml:{line}:{column}: duplicate prompt id \"com-01\"");
    assert!(
        stderr(&output).contains(&expected),
        "wanted {expected} in:\n{}",
        stderr(&output)
    );
}

#[test]
fn check_names_the_place_of_a_duplicate_across_files() {
    let copy = ContentCopy::new("crossdup");
    copy.edit("resilience.toml", |text| {
        text.replacen("id = \"res-04\"", "id = \"com-01\"", 1)
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(copy.file("resilience.toml")).expect("read");
    let (line, column) = line_col(&text, "\"com-01\"", 0);
    let expected = format!("prompts/resilience.toml:{line}:{column}: duplicate prompt id \"com-01\" (first used in prompts/compassion.toml)");
    assert!(
        stderr(&output).contains(&expected),
        "wanted {expected} in:\n{}",
        stderr(&output)
    );
}

#[test]
fn check_reports_every_kind_of_mistake_with_its_place() {
    let copy = ContentCopy::new("many");
    copy.edit("whole-self.toml", |text| {
        let text = text.replacen("guide_url = \"https://", "guide_url = \"ftp://", 1);
        text.replacen("colour = \"#", "colour = \"nhs-blue", 1)
    });
    copy.edit("stories.toml", |text| {
        text.replacen("\"compassion\"", "\"compasion\"", 1)
    });
    copy.edit("resilience.toml", |text| {
        text.replacen(
            "[[prompt]]\nid = \"res-01\"\ntext = \"",
            "[[prompt]]\nid = \"res-01\"\ntext = \"ask @everyone ",
            1,
        )
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    let ws = std::fs::read_to_string(copy.file("whole-self.toml")).expect("read");
    let (line, column) = line_col(&ws, "\"ftp://", 0);
    assert!(
        errors.contains(&format!(
            "prompts/whole-self.toml:{line}:{column}: \"ftp://"
        )),
        "{errors}"
    );
    assert!(errors.contains("is not an http(s) link"), "{errors}");
    let (line, column) = line_col(&ws, "\"nhs-blue", 0);
    assert!(
        errors.contains(&format!("prompts/whole-self.toml:{line}:{column}: colour")),
        "{errors}"
    );
    let stories = std::fs::read_to_string(copy.file("stories.toml")).expect("read");
    let (line, column) = line_col(&stories, "\"compasion\"", 0);
    assert!(
        errors.contains(&format!(
            "prompts/stories.toml:{line}:{column}: unknown theme \"compasion\""
        )),
        "{errors}"
    );
    assert!(
        errors.contains("prompts/resilience.toml:") && errors.contains("contains '@'"),
        "{errors}"
    );
}

#[test]
fn check_points_at_broken_toml() {
    let copy = ContentCopy::new("syntax");
    copy.edit("compassion.toml", |text| {
        text.replacen(
            "[[prompt]]\nid = \"com-03\"",
            "[[prompt]\nid = \"com-03\"",
            1,
        )
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(copy.file("compassion.toml")).expect("read");
    let (line, _) = line_col(&text, "[[prompt]\nid = \"com-03\"", 0);
    assert!(
        stderr(&output).contains(&format!("prompts/compassion.toml:{line}:")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_catches_a_card_that_breaks_discord_limits() {
    let copy = ContentCopy::new("limits");
    // A support line's text can only push a card past its limits through sheer numbers of lines.
    copy.edit("support.toml", |text| {
        let block = "\n# Source: a test\n[[line]]\nname = \"Extra line\"\nhow = \"Call 0000\"\nwhen = \"Any time\"\nnations = [\"wales\"]\n";
        format!("{text}{}", block.repeat(30))
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("the support (wales) card would break a Discord limit")
            && !stderr(&output).contains("support (england)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_reports_a_bad_config_with_its_line() {
    let copy = ContentCopy::new("config");
    std::fs::write(
        copy.dir.join("careprompt.toml"),
        "[schedule]\ntimezone = \"Europe/Londn\"\n",
    )
    .expect("write");
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains("careprompt.toml:2:1: schedule.timezone")
            && errors.contains("Europe/London"),
        "{errors}"
    );
}

fn preview_json(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["preview", "--json"];
    all.extend_from_slice(args);
    let output = careprompt(&all);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

/// The UTC times of a schedule's next posts in London, with no holidays skipped.
fn london_utc_times(cron: &str, from: &str, count: &str) -> Vec<String> {
    let args = [
        "--cron",
        cron,
        "--tz",
        "Europe/London",
        "--from",
        from,
        "--count",
        count,
        "--bank-holidays",
        "none",
    ];
    preview_json(&args)
        .iter()
        .map(|post| field(post, "at_utc").to_string())
        .collect()
}

fn field<'a>(post: &'a Value, key: &str) -> &'a str {
    post.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} missing in {post}"))
}

#[test]
fn preview_is_local_time_across_the_2027_clock_changes() {
    let posts = preview_json(&[
        "--cron",
        "0 9 * * MON",
        "--tz",
        "Europe/London",
        "--from",
        "2027-03-15T00:00:00Z",
        "--count",
        "3",
        "--bank-holidays",
        "none",
    ]);
    let utc: Vec<&str> = posts.iter().map(|post| field(post, "at_utc")).collect();
    assert_eq!(
        utc,
        [
            "2027-03-15T09:00:00Z",
            "2027-03-22T09:00:00Z",
            "2027-03-29T08:00:00Z"
        ]
    );
    let local: Vec<&str> = posts.iter().map(|post| field(post, "at_local")).collect();
    assert_eq!(
        local,
        [
            "2027-03-15T09:00:00+00:00",
            "2027-03-22T09:00:00+00:00",
            "2027-03-29T09:00:00+01:00"
        ]
    );

    assert_eq!(
        london_utc_times("0 9 * * MON", "2027-10-20T00:00:00Z", "2"),
        ["2027-10-25T08:00:00Z", "2027-11-01T09:00:00Z"]
    );
}

#[test]
fn preview_handles_the_missing_and_repeated_hours() {
    // 01:30 does not exist on 28 March 2027 and happens twice on 31 October 2027.
    assert_eq!(
        london_utc_times("30 1 * * *", "2027-03-27T12:00:00Z", "2"),
        ["2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"]
    );
    assert_eq!(
        london_utc_times("30 1 * * *", "2027-10-30T12:00:00Z", "2"),
        ["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]
    );
}

#[test]
fn preview_skips_easter_monday_without_using_up_a_theme() {
    let posts = preview_json(&[
        "--cron",
        "0 9 * * MON",
        "--from",
        "2027-03-20T00:00:00Z",
        "--count",
        "2",
    ]);
    let utc: Vec<&str> = posts.iter().map(|post| field(post, "at_utc")).collect();
    assert_eq!(utc, ["2027-03-22T09:00:00Z", "2027-04-05T08:00:00Z"]);
    let themes: Vec<&str> = posts.iter().map(|post| field(post, "theme")).collect();
    assert_eq!(themes, ["whole-self", "compassion"]);
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// Runs a daily schedule over 2026 to 2028 and returns the weekdays it did not post on.
fn skipped_weekdays(region: &str) -> Vec<NaiveDate> {
    let posts = preview_json(&[
        "--cron",
        "0 12 * * 1-5",
        "--from",
        "2026-01-01T00:00:00Z",
        "--count",
        "790",
        "--bank-holidays",
        region,
    ]);
    let posted: std::collections::BTreeSet<NaiveDate> = posts
        .iter()
        .map(|post| date(&field(post, "at_local")[..10]))
        .collect();
    let last = *posted.iter().next_back().expect("posts");
    assert!(
        last >= date("2028-12-29"),
        "preview should reach the end of 2028, got {last}"
    );
    date("2026-01-01")
        .iter_days()
        .take_while(|day| *day <= date("2028-12-31"))
        .filter(|day| chrono::Datelike::weekday(day).number_from_monday() <= 5)
        .filter(|day| !posted.contains(day))
        .collect()
}

fn dates(list: &[&str]) -> Vec<NaiveDate> {
    list.iter().map(|text| date(text)).collect()
}

// Expected dates: GOV.UK's published bank holidays for 2026 and 2027, and the same rules for 2028.
#[test]
fn preview_skips_england_and_wales_bank_holidays_2026_to_2028() {
    assert_eq!(
        skipped_weekdays("england-and-wales"),
        dates(&[
            "2026-01-01",
            "2026-04-03",
            "2026-04-06",
            "2026-05-04",
            "2026-05-25",
            "2026-08-31",
            "2026-12-25",
            "2026-12-28",
            "2027-01-01",
            "2027-03-26",
            "2027-03-29",
            "2027-05-03",
            "2027-05-31",
            "2027-08-30",
            "2027-12-27",
            "2027-12-28",
            "2028-01-03",
            "2028-04-14",
            "2028-04-17",
            "2028-05-01",
            "2028-05-29",
            "2028-08-28",
            "2028-12-25",
            "2028-12-26",
        ])
    );
}

#[test]
fn preview_skips_scotland_bank_holidays_2026_to_2028() {
    assert_eq!(
        skipped_weekdays("scotland"),
        dates(&[
            "2026-01-01",
            "2026-01-02",
            "2026-04-03",
            "2026-05-04",
            "2026-05-25",
            "2026-08-03",
            "2026-11-30",
            "2026-12-25",
            "2026-12-28",
            "2027-01-01",
            "2027-01-04",
            "2027-03-26",
            "2027-05-03",
            "2027-05-31",
            "2027-08-02",
            "2027-11-30",
            "2027-12-27",
            "2027-12-28",
            "2028-01-03",
            "2028-01-04",
            "2028-04-14",
            "2028-05-01",
            "2028-05-29",
            "2028-08-07",
            "2028-11-30",
            "2028-12-25",
            "2028-12-26",
        ])
    );
}

#[test]
fn preview_skips_northern_ireland_bank_holidays_2026_to_2028() {
    assert_eq!(
        skipped_weekdays("northern-ireland"),
        dates(&[
            "2026-01-01",
            "2026-03-17",
            "2026-04-03",
            "2026-04-06",
            "2026-05-04",
            "2026-05-25",
            "2026-07-13",
            "2026-08-31",
            "2026-12-25",
            "2026-12-28",
            "2027-01-01",
            "2027-03-17",
            "2027-03-26",
            "2027-03-29",
            "2027-05-03",
            "2027-05-31",
            "2027-07-12",
            "2027-08-30",
            "2027-12-27",
            "2027-12-28",
            "2028-01-03",
            "2028-03-17",
            "2028-04-14",
            "2028-04-17",
            "2028-05-01",
            "2028-05-29",
            "2028-07-12",
            "2028-08-28",
            "2028-12-25",
            "2028-12-26",
        ])
    );
}

#[test]
fn preview_with_no_holidays_posts_every_weekday() {
    assert_eq!(skipped_weekdays("none"), Vec::<NaiveDate>::new());
}

#[test]
fn preview_is_repeatable_for_a_seed_and_has_the_documented_keys() {
    let args = [
        "--from",
        "2027-01-01T00:00:00Z",
        "--count",
        "12",
        "--seed",
        "7",
    ];
    let first = preview_json(&args);
    assert_eq!(first, preview_json(&args));
    for post in &first {
        for key in ["at_local", "at_utc", "theme", "prompt_id", "story_url"] {
            assert!(post.get(key).is_some(), "{key} missing in {post}");
        }
    }
    let other = preview_json(&[
        "--from",
        "2027-01-01T00:00:00Z",
        "--count",
        "12",
        "--seed",
        "8",
    ]);
    assert_ne!(
        first, other,
        "another seed shuffles the prompts differently"
    );
    let themes: Vec<&str> = first
        .iter()
        .take(6)
        .map(|post| field(post, "theme"))
        .collect();
    assert_eq!(
        themes,
        [
            "whole-self",
            "compassion",
            "compassionate-leadership",
            "improvement-and-change",
            "resilience",
            "equality-and-diversity"
        ]
    );
}

#[test]
fn preview_includes_bullying_and_harassment_only_when_asked() {
    let without = preview_json(&["--from", "2027-01-01T00:00:00Z", "--count", "14"]);
    assert!(without
        .iter()
        .all(|post| field(post, "theme") != "bullying-and-harassment"));
    let with = preview_json(&[
        "--from",
        "2027-01-01T00:00:00Z",
        "--count",
        "14",
        "--include-bullying",
    ]);
    assert_eq!(field(&with[6], "theme"), "bullying-and-harassment");
}

#[test]
fn preview_refuses_bad_input_with_usage_exit_code() {
    let cases: [(&[&str], &str); 5] = [
        (&["--tz", "Europe/Londn"], "Europe/London"),
        (&["--cron", "0 9 * *"], "5 fields"),
        (&["--cron", "0 25 * * *"], "hour"),
        (&["--cron", "*/5 * * * *"], "once an hour"),
        (&["--from", "next tuesday"], "RFC 3339"),
    ];
    for (args, hint) in cases {
        let mut all = vec!["preview"];
        all.extend_from_slice(args);
        let output = careprompt(&all);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(hint),
            "{args:?}: wanted {hint} in {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty());
    }
    let output = careprompt(&["preview", "--bank-holidays", "wales"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = careprompt(&["preview", "--count", "lots"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn run_without_a_token_says_what_to_do() {
    let output = careprompt(&["run"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("DISCORD_TOKEN"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn preview_that_would_post_nothing_says_so() {
    let output = careprompt(&["preview", "--count", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--count"), "{}", stderr(&output));
    // New Year's Day is always a holiday (or has its substitute on a weekday), and the schedule
    // library stops at 2100.
    let output = careprompt(&[
        "preview",
        "--cron",
        "0 9 1 1 *",
        "--from",
        "2099-06-01T00:00:00Z",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).contains("posts nothing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_mistake_in_a_theme_does_not_make_its_stories_look_wrong() {
    let copy = ContentCopy::new("cascade");
    copy.edit("compassion.toml", |text| {
        text.replacen("colour = \"#", "colour = \"oops", 1)
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert_eq!(
        errors.lines().count(),
        1,
        "only the real mistake:\n{errors}"
    );
    assert!(
        errors.contains("prompts/compassion.toml:") && errors.contains("colour"),
        "{errors}"
    );
}

#[test]
fn check_catches_more_themes_than_discord_can_offer_as_choices() {
    let copy = ContentCopy::new("toomany");
    // A theme with no story of its own, whose session asks about none, so the extra themes are
    // valid but for their number.
    let template = std::fs::read_to_string(copy.file("equality-and-diversity.toml")).expect("read");
    for n in 0..19 {
        let slug = format!("extra-theme-{n:02}");
        let text = template
            .replacen(
                "slug = \"equality-and-diversity\"",
                &format!("slug = \"{slug}\""),
                1,
            )
            .replacen("order = 6", &format!("order = {}", 100 + n), 1)
            .replace("id = \"ed-", &format!("id = \"x{n:02}-"));
        std::fs::write(copy.file(&format!("{slug}.toml")), text).expect("write");
    }
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains("the slash commands would break a Discord limit")
            && errors.contains("26 choices"),
        "{errors}"
    );
}

#[test]
fn check_warns_about_a_near_duplicate_prompt_but_passes() {
    let copy = ContentCopy::new("nearduplicate");
    copy.edit("compassion.toml", |text| {
        format!("{text}\n[[prompt]]\nid = \"com-99\"\ntext = \"Think of a small kindness someone showed you at work lately. What difference did it make?\"\n")
    });
    let output = copy.check();
    assert!(
        output.status.success(),
        "a warning is not a failure: {}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(copy.file("compassion.toml")).expect("read");
    let (line, column) = line_col(&text, "\"com-99\"", 0);
    let expected = format!(
        "warning: prompts/compassion.toml:{line}:{column}: prompt \"com-99\" reads almost the same as \"com-01\""
    );
    assert!(
        stdout(&output).contains(&expected),
        "wanted {expected} in:\n{}",
        stdout(&output)
    );
}

#[test]
fn check_refuses_an_unknown_nation_with_its_line() {
    let copy = ContentCopy::new("nation");
    std::fs::write(
        copy.dir.join("careprompt.toml"),
        "[support]\nname = \"Wellbeing\"\nhow = \"Call 01234 567890\"\nnation = \"cornwall\"\n",
    )
    .expect("write");
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains("careprompt.toml:4:")
            && errors.contains("support.nation")
            && errors.contains("cornwall"),
        "{errors}"
    );
}

#[test]
fn check_refuses_a_support_line_without_a_source_or_nations() {
    let copy = ContentCopy::new("nosource");
    copy.edit("support.toml", |text| {
        format!(
            "{text}\n[[line]]\nname = \"Unsourced\"\nhow = \"Call 0000\"\nwhen = \"Any time\"\n"
        )
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(copy.file("support.toml")).expect("read");
    let (line, _) = line_col(&text, "[[line]]\nname = \"Unsourced\"", 0);
    let errors = stderr(&output);
    for problem in ["has no `nations`", "has no `# Source: ...` comment"] {
        let expected =
            format!("prompts/support.toml:{line}:1: support line \"Unsourced\" {problem}");
        assert!(
            errors.contains(&expected),
            "wanted {expected} in:\n{errors}"
        );
    }
}

/// A web server on 127.0.0.1 for `check --links`: `/ok/...` answers 200, `/moved/...` redirects to
/// `/ok/moved-here`, `/flash/...` answers 200 with a page that says it needs Flash, `/gone/...`
/// 200 with a page that says it has moved, and anything else is 404. It counts the requests for
/// each path.
struct LinkServer {
    port: u16,
    hits: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, usize>>>,
}

impl LinkServer {
    fn start() -> LinkServer {
        use axum::http::{header, StatusCode, Uri};
        use axum::response::IntoResponse;

        let hits = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        let counted = hits.clone();
        let answer = move |uri: Uri| {
            let path = uri.path().to_string();
            *counted
                .lock()
                .expect("lock")
                .entry(path.clone())
                .or_insert(0) += 1;
            let response = if path.starts_with("/moved/") {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, "/ok/moved-here")],
                    "hello",
                )
                    .into_response()
            } else if path.starts_with("/ok/") {
                "hello".into_response()
            } else if path.starts_with("/flash/") {
                "<html><body><p>You need <b>Flash</b> to play the stories.</p></body></html>"
                    .into_response()
            } else if path.starts_with("/gone/") {
                "<html><body><h1>Sorry</h1><p>This page has moved to our new site.</p></body></html>"
                    .into_response()
            } else {
                (StatusCode::NOT_FOUND, "hello").into_response()
            };
            async move { response }
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let router = axum::Router::new().fallback(answer);
                axum::serve(listener, router)
                    .await
                    .expect("the link server runs");
            });
        });
        LinkServer { port, hits }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn hits(&self) -> std::collections::BTreeMap<String, usize> {
        self.hits.lock().expect("lock").clone()
    }
}

#[test]
fn check_links_reports_dead_and_moved_links_with_their_place_fetching_each_once() {
    let server = LinkServer::start();
    let base = server.base();
    let copy = ContentCopy::new("links");
    // Every address in the copy now points at the local server, so nothing goes online.
    for entry in std::fs::read_dir(copy.dir.join("prompts")).expect("dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        copy.edit(&name, |text| {
            text.lines()
                .map(|line| {
                    if line.trim_start().starts_with('#') {
                        line.to_string()
                    } else {
                        // One marker for both schemes, so a rewritten address is not rewritten again.
                        line.replace("https://", "\u{0}")
                            .replace("http://", "\u{0}")
                            .replace('\u{0}', &format!("{base}/ok/"))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }
    copy.edit("stories.toml", |text| {
        text.replace(
            "/ok/patientvoices.org.uk/flv/1017",
            "/dead/patientvoices.org.uk/flv/1017",
        )
        .replace(
            "/ok/patientvoices.org.uk/flv/1010",
            "/moved/patientvoices.org.uk/flv/1010",
        )
        .replace(
            "/ok/patientvoices.org.uk/flv/1011",
            "/flash/patientvoices.org.uk/flv/1011",
        )
        .replace(
            "/ok/patientvoices.org.uk/flv/1012",
            "/gone/patientvoices.org.uk/flv/1012",
        )
    });
    // A page elsewhere that says the same is not a story, and is not read.
    copy.edit("support.toml", |text| {
        text.replacen("/ok/www.samaritans.org", "/gone/www.samaritans.org", 1)
    });
    let config = format!(
        "[packs.compassion]\nguide_url = \"{base}/dead/guide.pdf\"\npresentation_url = \"{base}/ok/slides.pptx\"\n"
    );
    std::fs::write(copy.dir.join("careprompt.toml"), &config).expect("write");

    let output = careprompt_in(&copy.dir, &["check", "--links"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let errors = stderr(&output);
    let stories = std::fs::read_to_string(copy.file("stories.toml")).expect("read");
    let (line, column) = line_col(&stories, &format!("{base}/dead/"), 0);
    let dead_story = format!(
        "prompts/stories.toml:{line}:{column}: dead link {base}/dead/patientvoices.org.uk/flv/1017pv384.htm (HTTP 404 Not Found)"
    );
    assert!(
        errors.contains(&dead_story),
        "wanted {dead_story} in:\n{errors}"
    );
    let dead_pack =
        format!("careprompt.toml:2:1: dead link {base}/dead/guide.pdf (HTTP 404 Not Found)");
    assert!(
        errors.contains(&dead_pack),
        "wanted {dead_pack} in:\n{errors}"
    );
    let (line, column) = line_col(&stories, &format!("{base}/moved/"), 0);
    let moved = format!(
        "prompts/stories.toml:{line}:{column}: moved link {base}/moved/patientvoices.org.uk/flv/1010pv384.htm now goes to {base}/ok/moved-here"
    );
    assert!(errors.contains(&moved), "wanted {moved} in:\n{errors}");
    assert!(
        errors.contains(" 2 dead, 1 moved, 2 may not play"),
        "{errors}"
    );
    let story_page = |kind: &str, number: &str, why: &str| {
        let (line, column) = line_col(&stories, &format!("{base}/{kind}/"), 0);
        format!(
            "prompts/stories.toml:{line}:{column}: story page {base}/{kind}/patientvoices.org.uk/flv/{number}pv384.htm {why}"
        )
    };
    let flash = story_page("flash", "1011", "says it needs Flash (\"need flash\")");
    assert!(errors.contains(&flash), "wanted {flash} in:\n{errors}");
    let gone = story_page("gone", "1012", "says it has moved (\"page has moved\")");
    assert!(errors.contains(&gone), "wanted {gone} in:\n{errors}");
    assert!(!errors.contains("www.samaritans.org"), "{errors}");

    // The NHS Employers page is written in every theme file, yet fetched once.
    let hits = server.hits();
    let page = "/ok/www.nhsemployers.org/retention-and-staff-experience/diversity-and-inclusion/policy-and-guidance/staff-experience";
    assert_eq!(hits.get(page), Some(&1), "{hits:?}");
    assert!(hits.values().all(|count| *count == 1), "{hits:?}");
    assert!(hits.contains_key("/gone/www.samaritans.org"), "{hits:?}");

    // With the dead links mended, the same check passes and still names the moved one.
    copy.edit("stories.toml", |text| text.replace("/dead/", "/ok/"));
    std::fs::write(
        copy.dir.join("careprompt.toml"),
        config.replace("/dead/", "/ok/"),
    )
    .expect("write");
    let output = careprompt_in(&copy.dir, &["check", "--links"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(" 0 dead, 1 moved, 2 may not play"), "{text}");
    assert!(text.contains(&moved), "{text}");
    assert!(
        text.contains(&flash) && text.contains(&gone),
        "a story that may not play is listed, but does not fail the check: {text}"
    );
}

#[test]
fn check_goes_online_only_when_asked() {
    let copy = ContentCopy::new("offline");
    // An address nothing listens on: fetching it would fail, so passing proves nothing fetched it.
    copy.edit("stories.toml", |text| {
        text.replace("https://patientvoices.org.uk/", "http://127.0.0.1:9/")
    });
    let output = copy.check();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains("links:"), "{}", stdout(&output));
}

#[test]
fn migrate_brings_a_database_up_to_date_and_refuses_one_from_a_newer_careprompt() {
    let dir = std::env::temp_dir().join(format!("careprompt-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let database = dir.join("careprompt.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    std::fs::write(
        dir.join("careprompt.toml"),
        format!(
            "[content]\ndir = \"{}\"\n\n[database]\nurl = \"{url}\"\n",
            repo().join("prompts").display()
        ),
    )
    .expect("config");

    let first = careprompt_in(&dir, &["migrate"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(stdout(&first).contains("up to date"), "{}", stdout(&first));
    let again = careprompt_in(&dir, &["migrate"]);
    assert_eq!(again.status.code(), Some(0), "running it twice is harmless");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from a newer careprompt', TRUE, X'00', 0)",
        )
        .execute(&mut connection)
        .await
        .expect("a migration this binary does not know");
    });
    let refused = careprompt_in(&dir, &["migrate"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("newer careprompt") && stderr(&refused).contains("9999"),
        "{}",
        stderr(&refused)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_validates_the_built_in_library_from_any_folder_and_says_so() {
    let dir = std::env::temp_dir().join(format!("careprompt-anywhere-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let output = careprompt_in(&dir, &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("ok: the built-in library:"),
        "{}",
        stdout(&output)
    );
    let preview = careprompt_in(&dir, &["preview", "--count", "1"]);
    assert_eq!(preview.status.code(), Some(0), "{}", stderr(&preview));
    let copy = ContentCopy::new("named");
    let named = copy.check();
    assert!(
        stdout(&named).contains("ok: the library in prompts:"),
        "{}",
        stdout(&named)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_rejects_a_theme_whose_session_part_is_missing_or_too_long() {
    let copy = ContentCopy::new("session");
    copy.edit("compassion.toml", |text| {
        let cut = text.find("[session]").expect("a session part");
        text[..cut].to_string()
    });
    copy.edit("resilience.toml", |text| {
        text.replacen(
            "opening = \"",
            &format!("opening = \"{}", "Long words. ".repeat(40)),
            1,
        )
    });
    let output = copy.check();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains("prompts/compassion.toml: the theme has no [session] part"),
        "{errors}"
    );
    let text = std::fs::read_to_string(copy.file("resilience.toml")).expect("read");
    let (line, column) = line_col(&text, "\"Long words.", 0);
    assert!(
        errors.contains(&format!(
            "prompts/resilience.toml:{line}:{column}: session opening is"
        )) && errors.contains("the limit is 400"),
        "{errors}"
    );
}

#[test]
fn preview_prints_a_session_outline_with_its_timings() {
    let output = careprompt(&["preview", "--session", "compassion", "--minutes", "60"]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("Compassion: a 60-minute reflective session"),
        "{text}"
    );
    assert!(
        text.contains("minutes  0 to 5   welcome and ground rules"),
        "{text}"
    );
    assert!(
        text.contains("close: What will you take with you"),
        "{text}"
    );
    // The title and one line per stage, then the brief for the facilitator.
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1..7].iter().all(|line| line.starts_with("minutes ")),
        "{text}"
    );
    assert_eq!(lines[7], "for you only, before you start:", "{text}");
    assert!(
        lines[8..].iter().all(|line| line.starts_with("- ")) && lines.len() > 10,
        "{text}"
    );
    assert!(
        text.contains("check on anyone who becomes upset or steps out"),
        "{text}"
    );
    let refused = careprompt(&["preview", "--session", "compassion", "--minutes", "50"]);
    assert_eq!(refused.status.code(), Some(2));
}
