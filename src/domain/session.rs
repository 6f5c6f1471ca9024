//! A facilitated reflective session (`/session`): its stages in order and how long each is given
//! for the length the facilitator chose. Pure: times come in from the caller's clock.

use chrono::{DateTime, Duration, Utc};

use super::content::SESSION_QUESTIONS;

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
    fn durations_read_as_words() {
        assert_eq!(describe_duration(Duration::seconds(20)), "under a minute");
        assert_eq!(describe_duration(Duration::minutes(1)), "1 minute");
        assert_eq!(describe_duration(Duration::minutes(47)), "47 minutes");
        assert_eq!(describe_duration(Duration::minutes(60)), "1 hour");
        assert_eq!(describe_duration(Duration::minutes(65)), "1 hour 5 minutes");
    }
}
