//! Figures for the work careprompt does most: loading content, planning schedules, choosing
//! prompts and building cards. `cargo bench` prints them; under `cargo test` each case runs once
//! as a smoke test.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use careprompt::check::{check_cards, DNA_OF_CARE_URL};
use careprompt::config::Config;
use careprompt::discord::cards;
use careprompt::discord::limits::check_message;
use careprompt::domain::content::Library;
use careprompt::domain::planning::{plan, PreviewRequest};
use careprompt::domain::rotation::{next_post, RotationState};
use careprompt::domain::schedule::{parse_timezone, Schedule};
use careprompt::domain::settings::ScheduleSettings;

/// Runs `work` repeatedly for about `budget` and prints the time per run.
fn measure(name: &str, full: bool, mut work: impl FnMut()) {
    let budget = if full {
        Duration::from_secs(2)
    } else {
        Duration::ZERO
    };
    work();
    let start = Instant::now();
    let mut runs: u32 = 0;
    loop {
        work();
        runs += 1;
        if start.elapsed() >= budget {
            break;
        }
    }
    let per_run = start.elapsed() / runs;
    println!("{name:<48} {per_run:>12.2?} per run ({runs} runs)");
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let library = Library::load(&dir).expect("shipped content loads");
    let tz = parse_timezone("Europe/London").expect("zone");
    let weekly = Schedule::parse("0 9 * * MON", tz).expect("schedule");
    let weekly_settings =
        ScheduleSettings::parse("0 9 * * MON", "Europe/London", "england-and-wales", false)
            .expect("settings");
    let from = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("time")
        .to_utc();

    measure("load and validate prompts/", full, || {
        black_box(Library::load(&dir).expect("loads"));
    });
    measure("parse a crontab line", full, || {
        black_box(Schedule::parse("30 8 * * 1-5", tz).expect("parses"));
    });
    measure("next firing of a weekly schedule", full, || {
        black_box(weekly.next_after(from));
    });
    measure("plan a year of weekly posts (with holidays)", full, || {
        let request = PreviewRequest {
            settings: weekly_settings.clone(),
            extra_holidays: Vec::new(),
            from,
            count: 52,
            state: RotationState::new(1),
        };
        black_box(plan(&library, &request).expect("plans"));
    });
    let order = library.rotation(false);
    let mut state = RotationState::new(3);
    measure("choose the next post (rotation step)", full, || {
        let (pick, next) = next_post(&library, &order, &state).expect("picks");
        black_box(pick);
        state = next;
    });
    let theme = &library.themes[1];
    measure("build and limit-check one post card", full, || {
        let card = cards::post_card(
            theme,
            &theme.prompts[0],
            library.stories_for(&theme.slug).next(),
            Some(1),
        );
        black_box(check_message(&cards::post_body(card, "cp1", None)));
    });
    measure("limit-check every card (careprompt check)", full, || {
        black_box(check_cards(&library, &Config::default()));
    });
    measure("build every card", full, || {
        black_box(cards::all_cards(&library, None, DNA_OF_CARE_URL));
    });
}
