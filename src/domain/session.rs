//! A facilitated reflective session (`/session`): its stages in order and how long each is given
//! for the length the facilitator chose. Pure: times come in from the caller's clock.

use chrono::{DateTime, Duration, Utc};

use super::content::{SessionPart, SESSION_QUESTIONS};

/// The lengths a facilitator can choose, in minutes.
pub const LENGTHS: [u32; 3] = [30, 45, 60];

/// The length when the facilitator does not choose one: a protected half hour.
pub const DEFAULT_MINUTES: u32 = 30;

/// A session still running this long after it started is ended by careprompt (`[sessions]
/// archive_after`): a 60-minute session that runs late or is paused is not cut short, and a
/// forgotten one frees its channel the same day.
pub const DEFAULT_ARCHIVE_AFTER: Duration = Duration::hours(4);

/// The shortest `archive_after`: the longest session careprompt offers, so that none is ended
/// before its close.
pub const SHORTEST_ARCHIVE_AFTER: Duration = Duration::minutes(60);

/// The longest `archive_after`: Discord's longest wait before it archives a quiet thread itself.
/// Longer, a forgotten session would hold its channel after Discord had closed its thread.
pub const LONGEST_ARCHIVE_AFTER: Duration = Duration::days(7);

/// The quiet times, in minutes, after which Discord can archive a thread by itself; it takes no
/// others.
pub const THREAD_ARCHIVE_MINUTES: [u16; 4] = [60, 1440, 4320, 10080];

/// The quiet time to give a session's thread: the shortest Discord takes that is no shorter than
/// `archive_after`, so Discord never archives the thread under a session still running, and a
/// thread someone writes in again after the session closes itself as soon as Discord allows.
pub fn thread_archive_minutes(archive_after: Duration) -> u16 {
    THREAD_ARCHIVE_MINUTES
        .into_iter()
        .find(|minutes| Duration::minutes(i64::from(*minutes)) >= archive_after)
        .unwrap_or(THREAD_ARCHIVE_MINUTES[THREAD_ARCHIVE_MINUTES.len() - 1])
}

/// How long the private question asked before a session on a sensitive theme stays open: a
/// facilitator who answers later has to start again, so nothing is posted long after they were
/// asked (the room may have changed by then).
pub const CONFIRM_WINDOW: Duration = Duration::minutes(15);

/// The rule that ends the ground rules' list about concerns: reflecting is not the route for a
/// concern about a person, and the rule says where that route is. On a card that carries the
/// "Raising a concern" part, it points there.
const REFLECT_NOT_RAISE_WITH_PART: &str = "This is time to reflect, not to raise a concern about a particular person: that deserves its own route, set out under \"Raising a concern\" below.";
// Source: ../shared/content-facts.md, "Where to raise bullying or harassment", "Everywhere":
// someone you trust, a trade union rep, HR or a manager who is not involved.
const REFLECT_NOT_RAISE: &str = "This is time to reflect, not to raise a concern about a particular person: that deserves its own route. Someone you trust, a trade union rep, HR or a manager who is not involved can help.";

/// The ground rules read out at the welcome stage, in order. Why each is there is in the README's
/// "Running a reflective session". The thread is not the room: people in the channel can read it,
/// now and after it is archived, so no rule promises that what is written there stays private.
/// `concern_part`: whether the card carries the "Raising a concern" part.
pub fn ground_rules(concern_part: bool) -> [&'static str; 7] {
    [
        "Keep what others say in the room. This thread can be read by anyone in the channel, now and after it is archived: write only what you would be happy for them to read.",
        "No names of patients or colleagues.",
        "Speak for yourself, from what you have seen and felt, and listen without trying to fix.",
        "Anyone may pass, or step out, at any time, without saying why.",
        "If something said means someone may be at risk, the facilitator may need to act on it, and will talk to that person first.",
        if concern_part {
            REFLECT_NOT_RAISE_WITH_PART
        } else {
            REFLECT_NOT_RAISE
        },
        "We will finish on time.",
    ]
}

/// Said on the welcome card, under the ground rules, so support is offered from the first minute
/// and not only at the close.
pub const SUPPORT_FROM_THE_START: &str = "If anything today brings something up, for you or for someone else, /support lists people who can help, whenever you need it. Only you see its answer.";

/// The one line the stages between the first and the last carry in place of the whole
/// "Raising a concern" part, so a facilitator is not reading a wall of routes on every card.
pub const CONCERN_POINTER: &str = "The routes for raising a concern are on this session's first card, and again on its last. /support lists people who can help.";

/// A content note for every card that shows one story. careprompt knows no story's content or
/// length (no source gives either), so it says "may": several are about death and hard times,
/// and may reach someone at 4 a.m.
pub const STORY_NOTE: &str = "It may touch on illness, death or hard times at work: watch it when you have the time and space.";

/// The same note under a list of stories.
pub const STORIES_NOTE: &str = "They may touch on illness, death or hard times at work: watch when you have the time and space.";

/// What the story stage says, read aloud before the story is shown.
pub const STORY_STAGE_NOTE: &str = "Watch it together, or on your own, then come back. It may touch on illness, death or hard times at work: anyone may look away or step out.";

/// The brief's advice for themes that ask before they start, where a timed Next could cut
/// someone off mid-sentence.
pub const MOVE_IT_ON_YOURSELF: &str = "Move this session on yourself, not with auto:true: a timed Next can cut someone off mid-sentence.";

/// The same advice, when a facilitator asked for auto on such a theme.
pub const AUTO_ADVICE: &str = "You asked for auto:true. We advise moving this session on yourself: a timed Next can cut someone off mid-sentence.";

/// The facilitator's private brief for a session, which participants never see: who checks on
/// anyone upset, staying on afterwards, the organisation's own support, the limit of
/// confidentiality, and when not to run one. `own_support` describes the organisation's own
/// contact, when one is set.
pub fn facilitator_brief(session: &SessionPart, own_support: Option<&str>) -> Vec<String> {
    let support = match own_support {
        Some(contact) => format!(
            "Know your organisation's own staff support, which /support shows first: {contact}."
        ),
        None => "Know your organisation's own staff support contact (occupational health, an employee assistance programme or a wellbeing team). careprompt has none set, so /support shows national lines only: whoever runs careprompt can add it to the configuration ([support]), and /support then shows it first.".to_string(),
    };
    let mut brief = vec![
        "Agree who will check on anyone who becomes upset or steps out (a colleague, or you once the session ends), and how: a quiet word afterwards, or a message later that day.".to_string(),
        "Stay on for a few minutes after the close, for anyone who wants a word.".to_string(),
        support,
        "If something said means someone may be at risk, talk to them first, then act as your organisation's policy asks: the ground rules tell everyone you may.".to_string(),
        "When not to run one: straight after a death or a serious incident in the team, when people need support before a group reflects on it (offer support first, and hold the session when people are ready); or when you cannot stay to the end.".to_string(),
    ];
    if let Some(before) = &session.before_you_start {
        brief.push(before.clone());
        brief.push(MOVE_IT_ON_YOURSELF.to_string());
    }
    brief
}

/// One stage of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// Welcome and ground rules.
    Welcome,
    /// Watching the story together.
    Story,
    /// One reflection question, by its place (from 0) in the theme's session part.
    Question(usize),
    /// The closing question, thanks and where to find help.
    Close,
}

/// A stage and the minutes suggested for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub kind: StageKind,
    pub minutes: u32,
}

/// Minutes for (welcome, story, each question, close) at each length; the parts add up to the
/// length. The questions get most of the time, as that is where the reflection happens.
fn shares(minutes: u32) -> (u32, u32, [u32; SESSION_QUESTIONS], u32) {
    match minutes {
        45 => (5, 8, [9, 9, 8], 6),
        60 => (5, 10, [13, 12, 12], 8),
        _ => (3, 7, [6, 5, 5], 4),
    }
}

/// The stages of a session of `minutes` (30, 45 or 60; anything else is taken as 30), in order.
/// Without a story its time goes to the questions, so the session still fills its slot.
pub fn stages(minutes: u32, has_story: bool) -> Vec<Stage> {
    let (welcome, story, mut questions, close) = shares(minutes);
    let mut stages = vec![Stage {
        kind: StageKind::Welcome,
        minutes: welcome,
    }];
    if has_story {
        stages.push(Stage {
            kind: StageKind::Story,
            minutes: story,
        });
    } else {
        // Spread as evenly as whole minutes allow, the earlier questions first.
        let count = u32::try_from(SESSION_QUESTIONS).unwrap_or(1);
        for (index, question) in questions.iter_mut().enumerate() {
            let index = u32::try_from(index).unwrap_or(0);
            *question += story / count + u32::from(index < story % count);
        }
    }
    stages.extend(questions.iter().enumerate().map(|(index, minutes)| Stage {
        kind: StageKind::Question(index),
        minutes: *minutes,
    }));
    stages.push(Stage {
        kind: StageKind::Close,
        minutes: close,
    });
    stages
}

/// The length chosen, or the default; `None` for a length careprompt does not offer.
pub fn length(chosen: Option<u32>) -> Option<u32> {
    let minutes = chosen.unwrap_or(DEFAULT_MINUTES);
    LENGTHS.contains(&minutes).then_some(minutes)
}

/// When a stage that begins at `from` is up.
pub fn deadline(stage: &Stage, from: DateTime<Utc>) -> DateTime<Utc> {
    from + Duration::minutes(i64::from(stage.minutes))
}

/// Where each stage starts, in minutes from the start, for the outline a facilitator plans with.
pub fn starts(stages: &[Stage]) -> Vec<u32> {
    stages
        .iter()
        .scan(0, |elapsed, stage| {
            let start = *elapsed;
            *elapsed += stage.minutes;
            Some(start)
        })
        .collect()
}

/// "1 hour 5 minutes", "25 minutes", "under a minute", for the summary.
pub fn describe_duration(duration: Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    let plural = |n: i64, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    match (minutes / 60, minutes % 60) {
        (0, 0) => "under a minute".to_string(),
        (0, rest) => plural(rest, "minute"),
        (hours, 0) => plural(hours, "hour"),
        (hours, rest) => format!("{} {}", plural(hours, "hour"), plural(rest, "minute")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_adds_up_with_or_without_a_story() {
        for minutes in LENGTHS {
            for has_story in [true, false] {
                let stages = stages(minutes, has_story);
                let total: u32 = stages.iter().map(|stage| stage.minutes).sum();
                assert_eq!(total, minutes, "{minutes} minutes, story {has_story}");
                assert!(stages.iter().all(|stage| stage.minutes > 0));
            }
        }
    }

    #[test]
    fn stages_run_welcome_story_questions_close() {
        let kinds: Vec<StageKind> = stages(45, true).iter().map(|stage| stage.kind).collect();
        assert_eq!(
            kinds,
            [
                StageKind::Welcome,
                StageKind::Story,
                StageKind::Question(0),
                StageKind::Question(1),
                StageKind::Question(2),
                StageKind::Close,
            ]
        );
        let without: Vec<StageKind> = stages(30, false).iter().map(|stage| stage.kind).collect();
        assert!(!without.contains(&StageKind::Story));
        assert_eq!(without.len(), 5);
    }

    #[test]
    fn lengths_are_the_three_offered() {
        assert_eq!(length(None), Some(30));
        assert_eq!(length(Some(60)), Some(60));
        assert_eq!(length(Some(50)), None);
    }

    #[test]
    fn deadlines_and_starts_follow_the_minutes() {
        let stages = stages(30, true);
        let from: DateTime<Utc> = "2027-03-20T12:00:00Z".parse().expect("time");
        assert_eq!(
            deadline(&stages[0], from),
            "2027-03-20T12:03:00Z"
                .parse::<DateTime<Utc>>()
                .expect("time")
        );
        assert_eq!(starts(&stages), [0, 3, 10, 16, 21, 26]);
    }

    #[test]
    fn archive_bounds_hold_every_session_and_fit_discord_s_thread_times() {
        for minutes in LENGTHS {
            assert!(Duration::minutes(i64::from(minutes)) <= SHORTEST_ARCHIVE_AFTER);
        }
        assert!(SHORTEST_ARCHIVE_AFTER <= DEFAULT_ARCHIVE_AFTER);
        assert!(DEFAULT_ARCHIVE_AFTER <= LONGEST_ARCHIVE_AFTER);
        assert_eq!(thread_archive_minutes(SHORTEST_ARCHIVE_AFTER), 60);
        assert_eq!(thread_archive_minutes(Duration::minutes(61)), 1440);
        assert_eq!(thread_archive_minutes(DEFAULT_ARCHIVE_AFTER), 1440);
        assert_eq!(thread_archive_minutes(Duration::days(2)), 4320);
        assert_eq!(thread_archive_minutes(LONGEST_ARCHIVE_AFTER), 10080);
    }

    #[test]
    fn every_session_lets_anyone_pass_or_step_out_and_promises_no_privacy_the_thread_lacks() {
        for concern_part in [true, false] {
            let rules = ground_rules(concern_part).join("\n");
            assert!(
                rules.contains("Anyone may pass, or step out, at any time, without saying why."),
                "{rules}"
            );
            assert!(
                rules.contains("can be read by anyone in the channel"),
                "{rules}"
            );
            assert!(rules.contains("after it is archived"), "{rules}");
            assert!(rules.contains("may need to act"), "{rules}");
            let lower = rules.to_lowercase();
            for promise in ["stays here", "stays in", "confidential", "complaint"] {
                assert!(!lower.contains(promise), "\"{promise}\" in {rules}");
            }
        }
        assert!(ground_rules(true)
            .join(" ")
            .contains("\"Raising a concern\" below"));
        assert!(ground_rules(false)
            .join(" ")
            .contains("a manager who is not involved"));
    }

    #[test]
    fn the_brief_covers_distress_staying_on_own_support_and_when_not_to_run() {
        let plain = SessionPart::default();
        let brief = facilitator_brief(&plain, None).join("\n");
        for point in [
            "check on anyone who becomes upset or steps out",
            "Stay on for a few minutes",
            "careprompt has none set",
            "may be at risk",
            "When not to run one",
        ] {
            assert!(brief.contains(point), "{point}: {brief}");
        }
        assert!(!brief.contains("auto:true"));
        let careful = SessionPart {
            before_you_start: Some("Only if you do not manage the team.".to_string()),
            ..SessionPart::default()
        };
        let brief =
            facilitator_brief(&careful, Some("Wellbeing team: call 01234 567890")).join("\n");
        assert!(
            brief.contains("Only if you do not manage the team."),
            "{brief}"
        );
        assert!(
            brief.contains("shows first: Wellbeing team: call 01234 567890."),
            "{brief}"
        );
        assert!(brief.contains(MOVE_IT_ON_YOURSELF), "{brief}");
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(describe_duration(Duration::seconds(20)), "under a minute");
        assert_eq!(describe_duration(Duration::minutes(1)), "1 minute");
        assert_eq!(describe_duration(Duration::minutes(47)), "47 minutes");
        assert_eq!(describe_duration(Duration::minutes(60)), "1 hour");
        assert_eq!(describe_duration(Duration::minutes(65)), "1 hour 5 minutes");
    }
}
