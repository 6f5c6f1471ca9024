//! `/insights` end to end against the fake Discord, and `careprompt insights` on a realistic
//! server, whose chart is left in the test output folder for a person to look at.

use std::collections::BTreeMap;

use careprompt::clock::Clock;
use careprompt::domain::insights::{week_of, UsageKind, WEEK_SECS};
use careprompt::store::Store;
use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::personal::{Backend, Scene};
use crate::support::{CommandInvocation, ADMIN_PERMISSIONS, GUILD_ID};

const ADMIN: u64 = 555_000_000_000_000_555;
const MEMBER: u64 = 666_000_000_000_000_666;
/// The largest chart the issue allows.
const CHART_BYTES_MAX: usize = 300 * 1024;

/// The first person of a made-up server.
const FIRST_PERSON: u64 = 300_000_000_000_000_000;

/// (width, height) of a PNG, read by decoding it whole.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("the PNG decodes");
    (frame.width, frame.height)
}

/// CSV lines as (measure, week, theme) -> (count, shown).
fn parse_csv(csv: &str) -> BTreeMap<(String, String, String), (Option<u64>, String)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("measure,week_starting,theme,count,shown")
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 5, "{line}");
            (
                (
                    fields[0].to_string(),
                    fields[1].to_string(),
                    fields[2].to_string(),
                ),
                (fields[3].parse().ok(), fields[4].to_string()),
            )
        })
        .collect()
}

fn week_date(week: i64) -> String {
    DateTime::<Utc>::from_timestamp(week, 0)
        .expect("a time")
        .format("%Y-%m-%d")
        .to_string()
}

async fn record(store: &Store, person: u64, theme: &str, at: i64) {
    store
        .record_usage(
            GUILD_ID,
            person,
            theme,
            UsageKind::Saved,
            DateTime::from_timestamp(at, 0).expect("a time"),
        )
        .await
        .expect("record");
}

#[tokio::test]
async fn insights_are_private_refused_to_members_and_match_the_store() {
    let mut scene = Scene::start_on(Backend::Sqlite, |_| {}).await;
    let now = scene.clock.now().timestamp();
    let this_week = week_of(now);
    // 30 people save compassion cards over three weeks, 12 of them resilience too; this week 2
    // save a bullying and harassment card, which must not be shown as 2.
    for n in 0..30u64 {
        let person = FIRST_PERSON + n;
        record(
            &scene.store,
            person,
            "compassion",
            this_week - (n % 3) as i64 * WEEK_SECS + 60,
        )
        .await;
        if n < 12 {
            record(
                &scene.store,
                person,
                "resilience",
                this_week - WEEK_SECS + 60,
            )
            .await;
        }
        if n < 2 {
            record(
                &scene.store,
                person,
                "bullying-and-harassment",
                this_week + 60,
            )
            .await;
        }
    }

    let refused = scene
        .command(
            CommandInvocation::guild("insights")
                .option_int("weeks", 1)
                .user(MEMBER),
        )
        .await;
    assert!(refused.ephemeral());
    let text = refused.content().unwrap_or_default()
        + &refused
            .embeds()
            .iter()
            .map(|embed| {
                embed["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect::<String>();
    assert!(text.contains("Manage Server"), "{text}");
    assert!(refused.data["attachments"]
        .as_array()
        .is_none_or(Vec::is_empty));

    let reply = scene
        .command(
            CommandInvocation::guild("insights")
                .option_int("weeks", 1)
                .permissions(ADMIN_PERMISSIONS)
                .user(ADMIN),
        )
        .await;
    assert!(reply.ephemeral(), "only the lead sees the figures");
    let summary = reply.content().expect("a text summary");
    assert!(summary.contains("Insights for the 12 weeks"), "{summary}");
    assert!(
        summary.contains("weeks start Monday 00:00 UTC"),
        "{summary}"
    );
    assert!(summary.contains("fewer than 5"), "{summary}");
    assert_eq!(
        reply.data["allowed_mentions"]["parse"],
        Value::Array(vec![])
    );
    let attachments = reply.data["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(attachments.len(), 1, "{:?}", reply.data);
    assert_eq!(attachments[0]["filename"], "careprompt-insights.png");
    assert!(attachments[0]["description"]
        .as_str()
        .is_some_and(|alt| !alt.is_empty()));
    let requests = scene.fake.requests();
    let callback = requests
        .iter()
        .find(|request| {
            request
                .path
                .contains(&format!("/interactions/{}/", reply.interaction_id))
        })
        .expect("the callback was recorded");
    assert_eq!(callback.files.len(), 1);
    let png = &callback.files[0].1;
    assert_eq!(png_size(png), (1200, 675));
    assert!(png.len() < CHART_BYTES_MAX, "{} bytes", png.len());

    // The CSV comes in a private follow-up.
    let followups = scene
        .fake
        .wait_followups(&reply.token, 1, std::time::Duration::from_secs(20))
        .await
        .expect("the CSV follow-up");
    assert_eq!(followups[0]["flags"].as_u64().unwrap_or(0) & 64, 64);
    assert_eq!(
        followups[0]["attachments"][0]["filename"],
        "careprompt-insights.csv"
    );
    let csv_request = scene
        .fake
        .requests()
        .into_iter()
        .find(|request| request.path.contains("/webhooks/") && !request.files.is_empty())
        .expect("the follow-up carried a file");
    assert_eq!(csv_request.files[0].0, "files[0]");
    let csv = String::from_utf8(csv_request.files[0].1.clone()).expect("UTF-8");
    let figures = parse_csv(&csv);

    // Every shown count of people who saved a card is the store's own distinct count, and the
    // small one is hidden.
    let mut checked = 0;
    for ((measure, week, theme), (count, shown)) in &figures {
        if measure != "savers" || week == "all" || theme == "all" {
            continue;
        }
        let week_start = (0..12)
            .map(|back| this_week - back * WEEK_SECS)
            .find(|&start| &week_date(start) == week)
            .expect("a week of the view");
        let stored = scene
            .count(&format!(
                "SELECT COUNT(DISTINCT person) FROM usage_events WHERE guild_id = {GUILD_ID} \
                 AND kind = 'saved' AND week = {week_start} AND theme = '{theme}'"
            ))
            .await;
        match count {
            Some(count) => {
                assert_eq!(*count as i64, stored, "{week} {theme}");
                checked += 1;
            }
            None => assert!(
                shown == "withheld" || (shown == "fewer than 5" && (1..5).contains(&stored)),
                "{week} {theme}: {shown} for {stored}"
            ),
        }
    }
    assert!(checked >= 12, "{csv}");
    let this = week_date(this_week);
    assert_eq!(
        figures[&(
            "savers".into(),
            this.clone(),
            "bullying-and-harassment".into()
        )],
        (None, "fewer than 5".to_string())
    );
    // Hiding the 2 takes a second figure of its week with it (the week's smallest above zero),
    // so that the week's total less the others does not give it away.
    assert_eq!(
        figures[&("savers".into(), this, "compassion".into())],
        (None, "withheld".to_string()),
        "{csv}"
    );
    assert_eq!(
        figures[&("savers".into(), "all".into(), "all".into())],
        (Some(30), "30".to_string()),
        "{csv}"
    );
    scene.finish().await;
}

#[tokio::test]
async fn a_server_with_too_few_people_sees_no_figures_on_postgres() {
    let scene = Scene::start_on(Backend::Postgres, |_| {}).await;
    let now = scene.clock.now().timestamp();
    for n in 0..3u64 {
        record(&scene.store, FIRST_PERSON + n, "compassion", now).await;
    }
    // The fourth person opts in to DMs, which /optin counts for insights.
    let optin = scene
        .command(CommandInvocation::guild("optin").user(MEMBER))
        .await;
    assert!(optin.ephemeral());
    assert_eq!(
        scene.store.usage_records_of(MEMBER).await.expect("count"),
        1
    );
    let tallies = scene
        .store
        .insight_tallies(GUILD_ID, week_of(now), 1)
        .await
        .expect("tallies");
    assert!(tallies.iter().any(|tally| tally.measure
        == careprompt::domain::insights::Measure::PeopleEver
        && tally.count == 4));
    let reply = scene
        .command(
            CommandInvocation::guild("insights")
                .permissions(ADMIN_PERMISSIONS)
                .user(ADMIN),
        )
        .await;
    assert!(reply.ephemeral());
    let text = reply.content().unwrap_or_default();
    assert!(
        text.contains("not enough people yet to show figures without identifying anyone"),
        "{text}"
    );
    assert!(reply.data["attachments"]
        .as_array()
        .is_none_or(Vec::is_empty));
    assert!(scene.fake.followups(&reply.token).is_empty());
    scene.finish().await;
}

/// 200 people over 12 weeks and the seven themes, each theme saved at its own rate (the
/// bullying and harassment theme rarely, so that some of its weeks are hidden), through
/// `careprompt insights`. The PNG and CSV stay in the test output folder.
#[test]
fn a_realistic_servers_chart_is_written_for_a_person_to_look_at() {
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("insights");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).expect("the output folder");
    let db = out_dir.join("realistic.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let config = out_dir.join("careprompt.toml");
    std::fs::write(&config, format!("[database]\nurl = \"{url}\"\n")).expect("config");
    let now: DateTime<Utc> = "2027-03-24T10:00:00Z".parse().expect("a time");
    let library = careprompt::library::built_in().expect("the built-in library");
    let themes: Vec<String> = library.themes.iter().map(|t| t.slug.clone()).collect();
    assert_eq!(themes.len(), 7);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::connect(&url, 1).await.expect("store");
        let mut rng = ChaCha8Rng::seed_from_u64(2027);
        let rates = [0.14, 0.09, 0.06, 0.11, 0.07, 0.05, 0.012];
        let this_week = week_of(now.timestamp());
        for back in 0..12i64 {
            // Use grows over the weeks, with a dip at Christmas-like week 5.
            let season = 0.6 + 0.05 * (11 - back) as f64 - if back == 5 { 0.3 } else { 0.0 };
            for person in 0..200u64 {
                for (theme, rate) in themes.iter().zip(rates) {
                    if rng.gen_bool((rate * season).clamp(0.0, 1.0)) {
                        record(
                            &store,
                            FIRST_PERSON + person,
                            theme,
                            this_week - back * WEEK_SECS + 3600,
                        )
                        .await;
                    }
                }
            }
        }
        store.close().await;
    });
    let mut printed = Vec::new();
    let started = std::time::Instant::now();
    careprompt::cli::insights(Some(config), GUILD_ID, 12, &out_dir, now, &mut printed)
        .unwrap_or_else(|failure| panic!("{}", failure.message));
    let elapsed = started.elapsed();
    let printed = String::from_utf8(printed).expect("UTF-8");
    let png = std::fs::read(out_dir.join("careprompt-insights.png")).expect("the chart");
    let csv = std::fs::read_to_string(out_dir.join("careprompt-insights.csv")).expect("the CSV");
    assert_eq!(png_size(&png), (1200, 675));
    assert!(png.len() < CHART_BYTES_MAX, "{} bytes", png.len());
    let figures = parse_csv(&csv);
    assert!(
        figures.iter().any(|((m, _, t), (_, shown))| m == "savers"
            && t == "bullying-and-harassment"
            && shown == "fewer than 5"),
        "the rare theme has hidden weeks"
    );
    assert!(printed.contains("wrote"), "{printed}");
    // The year's view of the same server, for its week labels and its empty weeks.
    let year_dir = out_dir.join("52-weeks");
    let config = out_dir.join("careprompt.toml");
    careprompt::cli::insights(Some(config), GUILD_ID, 52, &year_dir, now, &mut Vec::new())
        .unwrap_or_else(|failure| panic!("{}", failure.message));
    let year = std::fs::read(year_dir.join("careprompt-insights.png")).expect("the year's chart");
    assert_eq!(png_size(&year), (1200, 675));
    assert!(year.len() < CHART_BYTES_MAX, "{} bytes", year.len());
    eprintln!(
        "chart of a realistic server: {} ({} bytes), made in {elapsed:?}",
        out_dir.join("careprompt-insights.png").display(),
        png.len()
    );
}
