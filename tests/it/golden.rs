//! Every card careprompt can send to Discord, as the exact bytes of the body it sends (the serenity
//! builder serialised as it goes on the wire, nonce and allowed mentions included), compared byte
//! for byte with the files in `tests/golden/discord/`. A change to any card shows here as a diff
//! of those files. `CAREPROMPT_WRITE_GOLDEN=1 cargo test --test it golden::` writes them afresh,
//! for a change meant to alter what careprompt sends; review the diff before committing it.
//!
//! Each file holds one kind of card, one body a line, each after a `# label` line. Cards the same
//! in every nation are written once, for England; another nation's is written where it differs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use careprompt::cards::{
    self, all_cards, all_posts, schedule_list_card, schedule_preview_card, schedule_saved_card,
    stage_card, summary_card, Card, CardState, SessionView,
};
use careprompt::config::OrgSupport;
use careprompt::discord::insights::chart_attachment;
use careprompt::discord::render::post_body;
use careprompt::discord::rest::{edit_response, interaction_message, update_response};
use careprompt::domain::content::{Library, Nation, DNA_OF_CARE_URL};
use careprompt::domain::planning::{plan, PreviewRequest, Slot};
use careprompt::domain::platform::Platform;
use careprompt::domain::rotation::RotationState;
use careprompt::domain::settings::ScheduleSettings;
use careprompt::store::{
    dm_nonce_for, nonce_for, session_nonce, Bookmark, BookmarkKind, Delivery, DeliveryKind,
    DeliveryState, Erased, ScheduleRecord, UnreadableSchedule,
};
use poise::serenity_prelude as serenity;

const WRITE: &str = "CAREPROMPT_WRITE_GOLDEN";

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/discord")
}

fn shipped() -> Library {
    careprompt::library::built_in().expect("shipped content loads")
}

/// The bodies, by file.
#[derive(Default)]
struct Bodies(BTreeMap<String, String>);

impl Bodies {
    fn add(&mut self, file: &str, label: &str, body: Vec<u8>) {
        let body = String::from_utf8(body).expect("JSON is UTF-8");
        let text = self.0.entry(file.to_string()).or_default();
        text.push_str(&format!("# {label}\n{body}\n"));
    }
}

// The wire forms: each as the careprompt code that sends it serialises it.

/// A first answer to a command or a click (`Rest::respond`).
fn reply(card: Card, ephemeral: bool) -> Vec<u8> {
    let response =
        serenity::CreateInteractionResponse::Message(interaction_message(card, ephemeral));
    serde_json::to_vec(&response).expect("json")
}

/// A first answer with one file (`Rest::respond_with_file`): the multipart's `payload_json`.
fn reply_with_file(card: Card, file: serenity::CreateAttachment) -> Vec<u8> {
    let message = interaction_message(card, true).add_file(file);
    let response = serenity::CreateInteractionResponse::Message(message);
    serde_json::to_vec(&response).expect("json")
}

/// An answer that replaces the clicked message (`Rest::update_message`).
fn update(card: Card) -> Vec<u8> {
    serde_json::to_vec(&update_response(card)).expect("json")
}

/// A deferred answer's card (`Rest::edit_original`).
fn edit(card: Card) -> Vec<u8> {
    serde_json::to_vec(&edit_response(card)).expect("json")
}

/// A message the scheduler posts in a channel, a thread or a DM (`Rest::create_message`).
fn post(card: Card, nonce: &str, role_ping: Option<u64>) -> Vec<u8> {
    serde_json::to_vec(&post_body(&card, nonce, role_ping)).expect("json")
}

/// The file a catalogue card goes in, by its label.
fn kind_of(label: &str) -> &'static str {
    let kinds = [
        ("session question ", "session-question"),
        ("session plan ", "session-plan"),
        ("session ", "session-stage"),
        ("support ", "support"),
        ("pack ", "pack"),
        ("prompt ", "prompt"),
        ("no story ", "no-story"),
        ("story ", "story"),
        ("post ", "post"),
    ];
    kinds
        .iter()
        .find(|(prefix, _)| label.starts_with(prefix))
        .map_or("replies", |(_, kind)| kind)
}

/// The first session plan of the catalogue, shown also without an organisation's own service.
const FIRST_PLAN: &str = "session plan whole-self (30 minutes, no story)";

/// Whether a catalogue card is written here. The catalogue holds each session with every story
/// of the library (for `check`), over 1,200 cards in which a story adds only its own line: the
/// golden files hold each theme's sessions with no story, with the theme's own first story, and
/// with Choice (a story that brings where to raise a concern), so they stay a size to review.
fn sampled(library: &Library, label: &str) -> bool {
    if !label.starts_with("session ") {
        return true;
    }
    let Some(theme) = library
        .themes
        .iter()
        .find(|theme| label.contains(&format!(" {} (", theme.slug)))
    else {
        return true;
    };
    let own = library.stories_for(&theme.slug).next();
    ["no story", "choice"]
        .into_iter()
        .chain(own.map(|story| story.id.as_str()))
        .any(|with| label.contains(&format!(", {with})")) || label.contains(&format!("({with}, ")))
}

/// Every card of the catalogue (`check`'s), in the form each is sent: stage cards are posted in
/// the session's thread, posts in a channel with the longest nonce, the rest are answers.
fn catalogue(bodies: &mut Bodies) {
    let org = OrgSupport {
        name: "Staff wellbeing service".into(),
        how: "Call 01234 567890".into(),
        when: Some("Weekdays 8am to 6pm".into()),
        url: Some("https://wellbeing.example.nhs.uk".into()),
    };
    let mut library = shipped();
    let mut england = BTreeMap::new();
    for nation in Nation::ALL {
        library.set_nation(nation);
        let answers = all_cards(&library, Some(&org), DNA_OF_CARE_URL)
            .into_iter()
            .chain(
                all_cards(&library, None, DNA_OF_CARE_URL)
                    .into_iter()
                    .filter_map(|(label, card)| {
                        (label.starts_with("support ") || label == FIRST_PLAN)
                            .then(|| (format!("{label} without an own service"), card))
                    }),
            )
            .filter(|(label, _)| sampled(&library, label))
            .map(|(label, card)| {
                let body = match kind_of(&label) {
                    "session-stage" => post(card, &session_nonce(i64::MAX, 5), None),
                    _ => reply(card, true),
                };
                (label, body)
            });
        let posts = all_posts(&library)
            .into_iter()
            .map(|(label, card)| (label, post(card, &nonce_for(i64::MAX), None)));
        for (label, body) in answers.chain(posts) {
            if nation == Nation::England {
                england.insert(label.clone(), body.clone());
            } else if england.get(&label) == Some(&body) {
                continue;
            }
            bodies.add(kind_of(&label), &format!("{nation}: {label}"), body);
        }
    }
}

/// A post as careprompt sends it besides the catalogue's form: pinging a role, and as a DM.
fn posts(bodies: &mut Bodies, library: &Library) {
    let theme = library.theme("compassion").expect("theme");
    let story = library.stories_for(&theme.slug).next();
    let card = || cards::post_card(theme, &theme.prompts[0], story, Some(42));
    bodies.add(
        "post-forms",
        "a post pinging a role",
        post(card(), &nonce_for(42), Some(1_234_567_890_123_456_789)),
    );
    bodies.add(
        "post-forms",
        "a post by DM",
        post(card(), &dm_nonce_for(7), None),
    );
    bodies.add(
        "post-forms",
        "a post without a delivery",
        post(
            cards::post_card(theme, &theme.prompts[1], None, None),
            &nonce_for(1),
            None,
        ),
    );
}

/// A session's cards in each state they are sent in: posted live, then replaced in place when
/// paused, resumed or moved on from; and the summary.
fn session(bodies: &mut Bodies, library: &Library) {
    for (slug, story) in [
        ("resilience", None),
        ("bullying-and-harassment", Some("choice")),
    ] {
        let theme = library.theme(slug).expect("theme");
        let view = SessionView {
            id: 12,
            theme,
            story: story.and_then(|id| library.story(id)),
            minutes: 45,
            auto: false,
        };
        let mut index = 0;
        while let Some(card) = stage_card(&view, index, CardState::Live) {
            let label = format!("{slug} stage {}", index + 1);
            bodies.add(
                "session-live",
                &format!("{label} posted"),
                post(card.clone(), &session_nonce(view.id, index), None),
            );
            bodies.add("session-live", &format!("{label} resumed"), update(card));
            for (state, name) in [(CardState::Paused, "paused"), (CardState::Done, "done")] {
                let card = stage_card(&view, index, state).expect("a stage");
                bodies.add("session-live", &format!("{label} {name}"), update(card));
            }
            index += 1;
        }
        bodies.add(
            "session-live",
            &format!("{slug} summary"),
            reply(
                summary_card(theme, 4, 6, "32 minutes", Some(987_654_321)),
                true,
            ),
        );
        bodies.add(
            "session-live",
            &format!("{slug} summary without a thread"),
            reply(summary_card(theme, 6, 6, "45 minutes", None), true),
        );
    }
    bodies.add(
        "session-live",
        "the started note, a deferred answer",
        edit(cards::note_card(
            "Your reflective session on Resilience has started in <#5>.".to_string(),
        )),
    );
}

fn bookmark(id: i64, kind: BookmarkKind, body: Option<&str>, url: Option<&str>) -> Bookmark {
    Bookmark {
        id,
        kind,
        item_id: format!("item-{id}"),
        title: format!("Bookmark {id}"),
        body: body.map(str::to_string),
        url: url.map(str::to_string),
        created_at: chrono::DateTime::from_timestamp(1_800_000_000 + id * 86_400, 0).expect("time"),
    }
}

/// The personal cards: bookmarks pages (first, middle, last, empty, the longest), forget-me's
/// answers and `/mydata`.
fn personal(bodies: &mut Bodies) {
    let page: Vec<Bookmark> = (1..=10)
        .map(|id| match id % 3 {
            0 => bookmark(
                id,
                BookmarkKind::Prompt,
                Some("What helped you today?"),
                None,
            ),
            1 => bookmark(
                id,
                BookmarkKind::Story,
                None,
                Some("https://www.patientvoices.org.uk/flv/1234.htm"),
            ),
            _ => bookmark(
                id,
                BookmarkKind::Pack,
                Some(&"A long summary of the pack. ".repeat(10)),
                Some(&format!("https://example.nhs.uk/{}", "u".repeat(300))),
            ),
        })
        .collect();
    for (page_number, total) in [(0, 25), (1, 25), (2, 25), (0, 10)] {
        let card = cards::bookmarks_card(&page, page_number, total);
        let label = format!("page {page_number} of {total} bookmarks");
        bodies.add(
            "personal",
            &format!("{label}, answered"),
            reply(card.clone(), true),
        );
        bodies.add("personal", &format!("{label}, paged to"), update(card));
    }
    bodies.add(
        "personal",
        "no bookmarks",
        reply(cards::bookmarks_card(&[], 0, 0), true),
    );
    let longest = Bookmark {
        id: i64::MAX,
        kind: BookmarkKind::Prompt,
        item_id: "p".repeat(64),
        title: "T".repeat(500),
        body: Some("B".repeat(5000)),
        url: Some(format!("https://example.nhs.uk/{}", "u".repeat(210))),
        created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
    };
    bodies.add(
        "personal",
        "the longest page",
        reply(cards::bookmarks_card(&vec![longest; 10], 49, 500), true),
    );
    let erased = |count: u64| Erased {
        bookmarks: count,
        dm_optins: count,
        theme_mutes: count,
        dm_status: count,
        dm_deliveries: count,
        schedules_anonymised: count,
        usage_records: count,
        sessions_anonymised: count,
    };
    for count in [0, 1, 2] {
        bodies.add(
            "personal",
            &format!("forgotten, {count} of each"),
            update(cards::forgotten_card(&erased(count))),
        );
    }
    bodies.add(
        "personal",
        "forgotten, answered on a public message",
        reply(cards::forgotten_card(&erased(3)), true),
    );
    let file = serenity::CreateAttachment::bytes(b"{}".to_vec(), "careprompt-my-data.json");
    bodies.add(
        "personal",
        "mydata with its file",
        reply_with_file(cards::my_data_card(), file),
    );
}

/// Plain answers: a text card (cut to Discord's 2000 characters), a note (cut to 4096), and the
/// insights summary with its chart.
fn answers(bodies: &mut Bodies) {
    let texts = [
        (
            "a short text",
            "Nothing was erased. Only you can see this.".to_string(),
        ),
        ("a text cut to fit", format!("{} end", "word ".repeat(500))),
    ];
    for (label, text) in texts {
        bodies.add(
            "answers",
            &format!("{label}, private"),
            reply(cards::text_card(&text), true),
        );
        bodies.add(
            "answers",
            &format!("{label}, replacing"),
            update(cards::text_card(&text)),
        );
        bodies.add(
            "answers",
            &format!("{label}, deferred"),
            edit(cards::text_card(&text)),
        );
    }
    bodies.add(
        "answers",
        "a text in the channel",
        reply(cards::text_card("Shared."), false),
    );
    for (label, text) in [
        ("a note", "Paused posts in <#5>.".to_string()),
        ("a note cut to fit", format!("{} end", "note ".repeat(1000))),
    ] {
        bodies.add(
            "answers",
            label,
            reply(cards::note_card(text.clone()), true),
        );
        bodies.add(
            "answers",
            &format!("{label}, deferred"),
            edit(cards::note_card(text)),
        );
    }
    bodies.add(
        "answers",
        "insights summary with its chart",
        reply_with_file(
            cards::text_card("Saves per theme over the last 12 weeks. Only you can see this."),
            chart_attachment(vec![137, 80, 78, 71]),
        ),
    );
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().expect("a time")
}

fn schedule(id: i64, settings: &ScheduleSettings) -> ScheduleRecord {
    ScheduleRecord {
        id,
        platform: Platform::Discord,
        guild_id: 100,
        channel_id: 1000 + id as u64,
        settings: settings.clone(),
        role_ping: None,
        thread: false,
        paused: false,
        paused_until: None,
        disabled: false,
        last_error: None,
        last_error_at: None,
        rotation: RotationState::new(7),
        version: 1,
        next_due: Some(at("2027-12-20T09:00:00Z")),
        created_by: 5,
        created_at: at("2027-01-01T09:00:00Z"),
    }
}

fn delivery(id: i64, state: DeliveryState, detail: Option<&str>) -> Delivery {
    Delivery {
        id,
        schedule_id: id,
        platform: Platform::Discord,
        guild_id: 100,
        channel_id: 1000 + id as u64,
        role_ping: None,
        thread: false,
        slot_at: at("2027-12-13T09:00:00Z"),
        kind: DeliveryKind::Scheduled,
        state,
        claimed_by: None,
        claimed_at: None,
        message_id: None,
        nonce: None,
        attempts: 1,
        pick: None,
        detail: detail.map(str::to_string),
    }
}

/// The schedule cards: saved, previewed (running, paused, switched off) and listed.
fn schedules(bodies: &mut Bodies, library: &Library) {
    let settings = ScheduleSettings::parse("0 9 * * 1", "Europe/London", "england-and-wales", true)
        .expect("settings");
    let weekly = ScheduleSettings::parse("30 14 * * 3", "America/New_York", "none", false)
        .expect("settings");
    let slots = |count: usize| -> Vec<Slot> {
        plan(
            library,
            &PreviewRequest {
                settings: settings.clone(),
                extra_holidays: Vec::new(),
                // Three Mondays before the Christmas bank holidays, so one slot is skipped.
                from: at("2027-12-10T00:00:00Z"),
                count,
                state: RotationState::new(7),
            },
        )
        .expect("a plan")
    };
    assert!(
        slots(6)
            .iter()
            .any(|slot| matches!(slot, Slot::Skipped { .. })),
        "the plan crosses a bank holiday"
    );
    let mut full = schedule(1, &settings);
    full.role_ping = Some(555);
    full.thread = true;
    for created in [true, false] {
        bodies.add(
            "schedule",
            &format!("saved, created {created}"),
            reply(
                schedule_saved_card(library, &full, created, &slots(3)),
                true,
            ),
        );
    }
    bodies.add(
        "schedule",
        "preview",
        reply(schedule_preview_card(library, &full, &slots(6)), true),
    );
    let mut paused = schedule(2, &weekly);
    paused.paused = true;
    paused.paused_until = Some(at("2028-01-05T00:00:00Z"));
    let mut resumed_by_hand = schedule(3, &weekly);
    resumed_by_hand.paused = true;
    let mut off = schedule(4, &settings);
    off.disabled = true;
    off.last_error = Some("Discord says the channel is gone".into());
    for (label, record) in [
        ("paused until a date", &paused),
        ("paused until resumed", &resumed_by_hand),
        ("switched off", &off),
    ] {
        bodies.add(
            "schedule",
            &format!("preview, {label}"),
            reply(schedule_preview_card(library, record, &slots(2)), true),
        );
    }
    let states = [
        (DeliveryState::Sent, None),
        (DeliveryState::Claimed, None),
        (DeliveryState::Failed, Some("Missing Access")),
        (DeliveryState::Uncertain, Some("no answer from Discord")),
        (DeliveryState::Missed, None),
        (DeliveryState::Holiday, Some("Christmas Day")),
        (DeliveryState::Skipped, None),
    ];
    let mut rows: Vec<(ScheduleRecord, Option<Delivery>)> = vec![
        (full.clone(), None),
        (paused, None),
        (resumed_by_hand, None),
        (off, None),
    ];
    for (index, (state, detail)) in states.into_iter().enumerate() {
        let id = 10 + index as i64;
        let mut record = schedule(id, &settings);
        if index == 0 {
            record.next_due = None;
            record.last_error = Some("x".repeat(1100));
        }
        rows.push((record, Some(delivery(id, state, detail))));
    }
    let unreadable = vec![UnreadableSchedule {
        id: 99,
        guild_id: 100,
        channel_id: 1099,
        reason: "its time zone, Europe/Kyiv2, is not known".into(),
    }];
    bodies.add(
        "schedule",
        "list of none",
        reply(schedule_list_card(&[], &[]), true),
    );
    bodies.add(
        "schedule",
        "list of one",
        reply(schedule_list_card(&rows[..1], &[]), true),
    );
    bodies.add(
        "schedule",
        "list of every state",
        reply(schedule_list_card(&rows, &unreadable), true),
    );
    let many: Vec<_> = (0..30)
        .map(|id| (schedule(100 + id, &weekly), None))
        .collect();
    bodies.add(
        "schedule",
        "list of more than fit",
        reply(schedule_list_card(&many, &unreadable), true),
    );
}

fn every_body() -> Bodies {
    let library = shipped();
    let mut bodies = Bodies::default();
    catalogue(&mut bodies);
    posts(&mut bodies, &library);
    session(&mut bodies, &library);
    personal(&mut bodies);
    answers(&mut bodies);
    schedules(&mut bodies, &library);
    bodies
}

#[test]
fn every_card_is_sent_byte_for_byte_as_the_golden_files_hold() {
    let bodies = every_body();
    let dir = golden_dir();
    if std::env::var_os(WRITE).is_some() {
        std::fs::create_dir_all(&dir).expect("the golden folder");
        for entry in std::fs::read_dir(&dir).expect("the golden folder") {
            std::fs::remove_file(entry.expect("an entry").path()).expect("an old file");
        }
        for (file, text) in &bodies.0 {
            std::fs::write(dir.join(format!("{file}.txt")), text).expect("written");
        }
    }
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/golden/discord exists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".txt")
                .to_string()
        })
        .collect();
    committed.sort();
    let made: Vec<String> = bodies.0.keys().cloned().collect();
    assert_eq!(committed, made, "the golden files are the kinds of card");
    let mut differ = Vec::new();
    for (file, text) in &bodies.0 {
        let path = dir.join(format!("{file}.txt"));
        let golden = std::fs::read(&path).expect("a golden file");
        if golden != text.as_bytes() {
            let first = golden
                .split(|byte| *byte == b'\n')
                .zip(text.lines())
                .position(|(old, new)| old != new.as_bytes());
            differ.push(format!(
                "{} differs from line {}",
                path.display(),
                first.map_or_else(|| "its end".to_string(), |line| (line + 1).to_string())
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{differ:#?}\nIf the change is meant, run with {WRITE}=1 and review the diff."
    );
}
