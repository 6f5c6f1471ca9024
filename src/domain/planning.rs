//! What a schedule would post, and when: the plan behind `careprompt preview` and, later, the
//! scheduler itself.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::domain::content::Library;
use crate::domain::holidays::{BankHoliday, HolidayCalendar};
use crate::domain::rotation::{next_post, Pick, RotationError, RotationState};
use crate::domain::schedule::Schedule;

/// Guards against a schedule whose every slot is a holiday, such as `0 9 25 12 *`.
const MAX_SLOTS_EXAMINED: usize = 10_000;

#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub schedule: Schedule,
    pub calendar: HolidayCalendar,
    pub skip_holidays: bool,
    pub from: DateTime<Utc>,
    pub count: usize,
    pub include_out_of_rotation: bool,
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

/// The next `count` posts from `from`, with the holiday slots skipped on the way.
pub fn plan(library: &Library, request: &PreviewRequest) -> Result<Vec<Slot>, RotationError> {
    let order = library.rotation(request.include_out_of_rotation);
    let tz = request.schedule.timezone();
    let mut state = request.state.clone();
    let mut slots = Vec::new();
    let mut posts = 0;
    for at_utc in request
        .schedule
        .upcoming(request.from)
        .take(MAX_SLOTS_EXAMINED)
    {
        if posts >= request.count {
            break;
        }
        let at_local = at_utc.with_timezone(&tz);
        if request.skip_holidays {
            if let Some(holiday) = request.calendar.holiday_on(at_local.date_naive()) {
                slots.push(Slot::Skipped { at_local, holiday });
                continue;
            }
        }
        let (pick, next) = next_post(library, &order, &state)?;
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
