//! What a schedule posts, and when: the plan behind `careprompt preview`, `/schedule preview`, and
//! the scheduler's decision about which slots to post, skip or record as missed.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::domain::content::Library;
use crate::domain::holidays::BankHoliday;
use crate::domain::rotation::{next_post, Pick, RotationError, RotationState};
use crate::domain::settings::ScheduleSettings;

/// Guards against a schedule whose every slot is a holiday, such as `0 9 25 12 *`.
const MAX_SLOTS_EXAMINED: usize = 10_000;

/// After a long outage an hourly schedule has thousands of past slots; the ledger records this
/// many of them one by one and the count of the rest.
pub const MAX_MISSED_RECORDED: usize = 500;

#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub settings: ScheduleSettings,
    /// The organisation's one-off extra holidays.
    pub extra_holidays: Vec<NaiveDate>,
    pub from: DateTime<Utc>,
    pub count: usize,
    pub state: RotationState,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedPost {
    pub at_local: DateTime<Tz>,
    pub at_utc: DateTime<Utc>,
    pub pick: Pick,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    Post(PlannedPost),
    /// A slot that falls on a holiday; it does not advance the rotation.
    Skipped {
        at_local: DateTime<Tz>,
        holiday: BankHoliday,
    },
}

/// The theme order a schedule rotates through.
pub fn rotation_order<'a>(library: &'a Library, settings: &ScheduleSettings) -> Vec<&'a str> {
    library.rotation(settings.include_bullying)
}

/// The post a schedule makes next from `state`, and the state to keep once it is posted.
pub fn next_pick(
    library: &Library,
    settings: &ScheduleSettings,
    state: &RotationState,
) -> Result<(Pick, RotationState), RotationError> {
    next_post(library, &rotation_order(library, settings), state)
}

/// The next `count` posts from `from`, with the holiday slots skipped on the way.
pub fn plan(library: &Library, request: &PreviewRequest) -> Result<Vec<Slot>, RotationError> {
    let schedule = &request.settings.schedule;
    let calendar = request.settings.calendar(&request.extra_holidays);
    let tz = schedule.timezone();
    let mut state = request.state.clone();
    let mut slots = Vec::new();
    let mut posts = 0;
    for at_utc in schedule.upcoming(request.from).take(MAX_SLOTS_EXAMINED) {
        if posts >= request.count {
            break;
        }
        let at_local = at_utc.with_timezone(&tz);
        if let Some(holiday) = calendar.holiday_on(at_local.date_naive()) {
            slots.push(Slot::Skipped { at_local, holiday });
            continue;
        }
        let (pick, next) = next_pick(library, &request.settings, &state)?;
        state = next;
        slots.push(Slot::Post(PlannedPost {
            at_local,
            at_utc,
            pick,
        }));
        posts += 1;
    }
    Ok(slots)
}

/// What to do with a schedule whose next slot has come.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DuePlan {
    /// The slot to post now.
    pub post: Option<DateTime<Utc>>,
    /// Slots that passed unposted and are now too old to post (recorded, never sent).
    pub missed: Vec<DateTime<Utc>>,
    /// Missed slots beyond [`MAX_MISSED_RECORDED`], counted but not listed.
    pub missed_uncounted: usize,
    /// Slots that fall on a holiday the schedule skips.
    pub holidays: Vec<(DateTime<Utc>, BankHoliday)>,
    /// The first slot after `now`: where the schedule waits next.
    pub next_due: Option<DateTime<Utc>>,
}

/// Decides a due schedule's slots from `next_due` up to `now`. Only the latest of them may be
/// posted, and only within `catch_up` of its time, so an outage never ends in a flood of old
/// posts; the others are recorded as missed. Slots before `resume_at` fell inside a pause and are
/// passed over without a record.
pub fn plan_due(
    settings: &ScheduleSettings,
    extra_holidays: &[NaiveDate],
    next_due: DateTime<Utc>,
    resume_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    catch_up: chrono::Duration,
) -> DuePlan {
    let schedule = &settings.schedule;
    let calendar = settings.calendar(extra_holidays);
    let tz = schedule.timezone();
    let mut plan = DuePlan::default();
    if next_due > now {
        plan.next_due = Some(next_due);
        return plan;
    }
    let first = std::iter::once(next_due);
    let later = schedule.upcoming(next_due);
    let mut past = Vec::new();
    for slot in first.chain(later) {
        if slot > now {
            plan.next_due = Some(slot);
            break;
        }
        if resume_at.is_some_and(|resume| slot < resume) {
            continue;
        }
        match calendar.holiday_on(slot.with_timezone(&tz).date_naive()) {
            Some(holiday) => {
                if plan.holidays.len() < MAX_MISSED_RECORDED {
                    plan.holidays.push((slot, holiday));
                }
            }
            None => past.push(slot),
        }
    }
    if let Some(latest) = past.pop() {
        if now - latest <= catch_up {
            plan.post = Some(latest);
        } else {
            past.push(latest);
        }
    }
    if past.len() > MAX_MISSED_RECORDED {
        let excess = past.len() - MAX_MISSED_RECORDED;
        plan.missed_uncounted = excess;
        past.drain(..excess);
    }
    plan.missed = past;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("RFC 3339 time")
    }

    fn weekly_london(holidays: &str) -> ScheduleSettings {
        ScheduleSettings::parse("0 9 * * MON", "Europe/London", holidays, false).expect("valid")
    }

    #[test]
    fn an_on_time_slot_is_posted_and_the_next_one_awaited() {
        let settings = weekly_london("none");
        let plan = plan_due(
            &settings,
            &[],
            at("2027-01-04T09:00:00Z"),
            None,
            at("2027-01-04T09:00:02Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, Some(at("2027-01-04T09:00:00Z")));
        assert!(plan.missed.is_empty() && plan.holidays.is_empty());
        assert_eq!(plan.next_due, Some(at("2027-01-11T09:00:00Z")));
    }

    #[test]
    fn a_slot_not_yet_due_changes_nothing() {
        let settings = weekly_london("none");
        let plan = plan_due(
            &settings,
            &[],
            at("2027-01-04T09:00:00Z"),
            None,
            at("2027-01-04T08:59:59Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, None);
        assert_eq!(plan.next_due, Some(at("2027-01-04T09:00:00Z")));
    }

    #[test]
    fn after_downtime_only_the_latest_slot_is_posted_late() {
        let settings = weekly_london("none");
        // Down from before 4 January until 11:00 on the 18th: three slots passed.
        let plan = plan_due(
            &settings,
            &[],
            at("2027-01-04T09:00:00Z"),
            None,
            at("2027-01-18T11:00:00Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, Some(at("2027-01-18T09:00:00Z")));
        assert_eq!(
            plan.missed,
            vec![at("2027-01-04T09:00:00Z"), at("2027-01-11T09:00:00Z")]
        );
        assert_eq!(plan.next_due, Some(at("2027-01-25T09:00:00Z")));
    }

    #[test]
    fn a_slot_older_than_the_catch_up_window_is_missed_not_posted() {
        let settings = weekly_london("none");
        let plan = plan_due(
            &settings,
            &[],
            at("2027-01-04T09:00:00Z"),
            None,
            at("2027-01-04T15:00:01Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, None);
        assert_eq!(plan.missed, vec![at("2027-01-04T09:00:00Z")]);
    }

    #[test]
    fn bank_holidays_are_skipped_without_using_the_catch_up() {
        let settings = weekly_london("england-and-wales");
        // Easter Monday 2027 is 29 March.
        let plan = plan_due(
            &settings,
            &[],
            at("2027-03-29T08:00:00Z"),
            None,
            at("2027-03-29T08:00:01Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, None);
        assert_eq!(plan.holidays.len(), 1);
        assert_eq!(plan.holidays[0].1.name, "Easter Monday");
        assert_eq!(plan.next_due, Some(at("2027-04-05T08:00:00Z")));
    }

    #[test]
    fn slots_inside_a_pause_are_passed_over() {
        let settings = weekly_london("none");
        let plan = plan_due(
            &settings,
            &[],
            at("2027-01-04T09:00:00Z"),
            Some(at("2027-01-18T00:00:00Z")),
            at("2027-01-18T09:00:00Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, Some(at("2027-01-18T09:00:00Z")));
        assert!(plan.missed.is_empty());
    }

    #[test]
    fn half_past_one_in_the_spring_gap_posts_at_the_end_of_the_gap_once() {
        let settings =
            ScheduleSettings::parse("30 1 * * *", "Europe/London", "none", false).expect("daily");
        // 01:30 does not exist on 28 March 2027; the first instant after the gap is 02:00 BST.
        let slot = settings
            .schedule
            .next_after(at("2027-03-27T12:00:00Z"))
            .expect("a slot");
        assert_eq!(slot, at("2027-03-28T01:00:00Z"));
        let plan = plan_due(&settings, &[], slot, None, slot, chrono::Duration::hours(6));
        assert_eq!(plan.post, Some(slot));
        assert_eq!(plan.next_due, Some(at("2027-03-29T00:30:00Z")));
    }

    #[test]
    fn half_past_one_in_the_repeated_autumn_hour_posts_once() {
        let settings =
            ScheduleSettings::parse("30 1 * * *", "Europe/London", "none", false).expect("daily");
        // 01:30 happens twice on 31 October 2027: at 00:30 UTC (BST) and 01:30 UTC (GMT).
        let first = at("2027-10-31T00:30:00Z");
        let plan = plan_due(
            &settings,
            &[],
            first,
            None,
            at("2027-10-31T01:30:00Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, Some(first), "the first 01:30 only");
        assert!(plan.missed.is_empty());
        assert_eq!(plan.next_due, Some(at("2027-11-01T01:30:00Z")));
    }

    #[test]
    fn nine_o_clock_in_london_moves_in_utc_at_both_changes() {
        let settings = weekly_london("none");
        let spring = plan_due(
            &settings,
            &[],
            at("2027-03-22T09:00:00Z"),
            None,
            at("2027-03-22T09:00:00Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(spring.next_due, Some(at("2027-03-29T08:00:00Z")));
        let autumn = plan_due(
            &settings,
            &[],
            at("2027-10-25T08:00:00Z"),
            None,
            at("2027-10-25T08:00:00Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(autumn.next_due, Some(at("2027-11-01T09:00:00Z")));
    }

    #[test]
    fn a_long_outage_of_an_hourly_schedule_is_bounded() {
        let settings = ScheduleSettings::parse("0 * * * *", "UTC", "none", false).expect("hourly");
        let plan = plan_due(
            &settings,
            &[],
            at("2027-01-01T00:00:00Z"),
            None,
            at("2027-03-01T00:30:00Z"),
            chrono::Duration::hours(6),
        );
        assert_eq!(plan.post, Some(at("2027-03-01T00:00:00Z")));
        assert_eq!(plan.missed.len(), MAX_MISSED_RECORDED);
        assert_eq!(
            plan.missed.len() + plan.missed_uncounted + 1,
            59 * 24 + 1,
            "every hour from 1 January to 1 March is accounted for"
        );
    }
}
