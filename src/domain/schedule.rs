//! Crontab lines read in a time zone.
//!
//! Users write ordinary five-field crontab lines (`minute hour day-of-month
//! month day-of-week`). This module parses them itself, into an explicit set of
//! values per field, and then hands explicit value lists to the `cron` crate to
//! find matching wall-clock times. The `cron` crate is not used on the user's
//! text directly, because its dialect differs from crontab: it has a seconds
//! field, numbers the days of the week 1-7 from Sunday, requires a restricted
//! day-of-month *and* a restricted day-of-week to both match (crontab fires when
//! *either* matches), and, when asked to iterate in a time zone, silently drops
//! local times that fall in a daylight-saving gap.
//!
//! So the `cron` schedules here are always run over naive local wall-clock time
//! (a `DateTime<Utc>` standing in for "local time with no zone"), and each
//! candidate is then placed in the real zone by [`Schedule::next_after`]:
//!
//! * a local time that happens twice (the autumn change) fires once, at its
//!   first occurrence;
//! * a local time that does not exist (the spring change) fires at the first
//!   instant after the gap;
//! * no instant is produced twice, and every instant is strictly later than the
//!   one asked about.
//!
//! As a guard against spam, a line may name only one minute of the hour, so it
//! can fire at most once an hour.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz, TZ_VARIANTS};

/// Why a crontab line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The line does not have exactly five fields.
    #[error(
        "a schedule needs 5 fields (minute hour day-of-month month day-of-week), found {}",
        describe_field_count(*.found)
    )]
    FieldCount { found: usize },

    /// One field could not be understood.
    #[error("the {field} field {value:?} is not valid: {reason}")]
    Field {
        /// "minute", "hour", "day-of-month", "month" or "day-of-week".
        field: &'static str,
        /// The field's text as written (the start of it, if it was long).
        value: String,
        /// What is wrong, in plain words.
        reason: String,
    },

    /// The line names more than one minute, so it would post more than once an hour.
    #[error(
        "{line:?} would post more than once an hour; choose a single minute, such as \"0 9 * * MON\""
    )]
    TooFrequent { line: String },

    /// The line can never fire, such as `0 9 31 2 *`.
    #[error(
        "{line:?} would never post: the chosen days of the month never occur in the chosen \
         months (there is no 31 February, for example)"
    )]
    NeverFires { line: String },
}

fn describe_field_count(found: usize) -> String {
    match found {
        0 => "none: the line is empty".to_string(),
        6 => "6: a crontab line has no seconds field".to_string(),
        7 => "7: a crontab line has no seconds or year field".to_string(),
        n => n.to_string(),
    }
}

/// A time zone name that is not in the IANA database chrono-tz carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {name:?}{}", describe_suggestion(.suggestion))]
pub struct UnknownTimeZone {
    /// The name as given (with surrounding spaces removed; the start of it, if it was long).
    pub name: String,
    /// The nearest known name, when one is close enough to be a likely typo.
    pub suggestion: Option<String>,
}

fn describe_suggestion(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!(": did you mean {name:?}?"),
        None => ": use an IANA time zone name, such as \"Europe/London\"".to_string(),
    }
}

/// Looks up a time zone by its IANA name, such as "Europe/London".
///
/// An exact match is preferred; otherwise a match ignoring letter case is
/// accepted. Failing both, the error suggests the nearest name by edit distance
/// (comparing against whole names and against the part after the last `/`, so
/// "Londn" suggests "Europe/London").
pub fn parse_timezone(name: &str) -> Result<Tz, UnknownTimeZone> {
    let trimmed = name.trim();
    if let Ok(tz) = Tz::from_str(trimmed) {
        return Ok(tz);
    }
    if let Some(tz) = TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(trimmed))
    {
        return Ok(*tz);
    }
    Err(UnknownTimeZone {
        name: crate::domain::excerpt(trimmed),
        suggestion: suggest_timezone(trimmed),
    })
}

/// Longest input, in characters, for which a suggestion is worked out; longer
/// text is not a typo of a zone name and would only cost time.
const MAX_SUGGESTION_INPUT: usize = 64;

fn suggest_timezone(name: &str) -> Option<String> {
    let wanted: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    if wanted.is_empty() || wanted.len() > MAX_SUGGESTION_INPUT {
        return None;
    }
    // Allow roughly one slip per four characters, between one and three.
    let allowed = (wanted.len() / 4).clamp(1, 3);
    let mut best: Option<(usize, usize, &'static str)> = None;
    for tz in TZ_VARIANTS.iter() {
        let full_name = tz.name();
        let lower: Vec<char> = full_name.chars().flat_map(char::to_lowercase).collect();
        let whole = strsim::generic_levenshtein(&wanted, &lower);
        let city_start = lower
            .iter()
            .rposition(|&c| c == '/')
            .map_or(0, |slash| slash + 1);
        let city = strsim::generic_levenshtein(&wanted, &lower[city_start..].to_vec());
        let key = (whole.min(city), whole, full_name);
        if best.is_none_or(|current| key < current) {
            best = Some(key);
        }
    }
    best.filter(|&(distance, _, _)| distance <= allowed)
        .map(|(_, _, found)| found.to_string())
}

/// What one crontab field accepts.
struct FieldSpec {
    /// The field's name in messages: "minute", "hour", ...
    name: &'static str,
    min: u32,
    max: u32,
    /// Three-letter names, the first standing for `names_start`.
    names: &'static [&'static str],
    names_start: u32,
    /// A sentence fragment describing the valid values.
    range: &'static str,
    /// What a name in this field is ("month", "day"), for messages.
    name_kind: &'static str,
}

const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    names_start: 0,
    range: "minutes run from 0 to 59",
    name_kind: "",
};

const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    names_start: 0,
    range: "hours run from 0 to 23",
    name_kind: "",
};

const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    names_start: 0,
    range: "days of the month run from 1 to 31",
    name_kind: "",
};

const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    names_start: 1,
    range: "months run from 1 to 12, or JAN to DEC",
    name_kind: "month",
};

const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    names_start: 0,
    range: "days of the week run from 0 to 7 (0 and 7 are both Sunday), or SUN to SAT",
    name_kind: "day",
};

impl FieldSpec {
    /// Parses one field into the set of values it selects.
    fn parse(&self, text: &str) -> Result<BTreeSet<u32>, ScheduleError> {
        let fail = |reason: String| ScheduleError::Field {
            field: self.name,
            value: crate::domain::excerpt(text),
            reason,
        };
        let mut values = BTreeSet::new();
        for item in text.split(',') {
            if item.is_empty() {
                return Err(fail(
                    "the list has an empty item; separate values with single commas, such as \
                     \"1,15\""
                        .to_string(),
                ));
            }
            let (base, step) = match item.split_once('/') {
                Some((base, step)) => (base, Some(Self::parse_step(step).map_err(&fail)?)),
                None => (item, None),
            };
            let (low, high, is_range) = if base == "*" {
                (self.min, self.max, true)
            } else if let Some((first, last)) = base.split_once('-') {
                let low = self.parse_value(first, text).map_err(&fail)?;
                let high = self.parse_value(last, text).map_err(&fail)?;
                (low, high, true)
            } else {
                let value = self.parse_value(base, text).map_err(&fail)?;
                (value, value, false)
            };
            if low > high {
                return Err(fail(format!(
                    "the range {base:?} runs backwards; put the smaller value first \
                     (ranges do not wrap round)"
                )));
            }
            let step = match step {
                Some(step) if !is_range => {
                    return Err(fail(format!(
                        "a step (/{step}) must follow * or a range, such as \"*/{step}\" or \
                         \"{low}-{max}/{step}\"",
                        max = self.max
                    )));
                }
                Some(step) => step,
                None => 1,
            };
            let step = usize::try_from(step).unwrap_or(usize::MAX);
            values.extend((low..=high).step_by(step));
        }
        Ok(values)
    }

    fn parse_step(step: &str) -> Result<u32, String> {
        if step.is_empty() {
            return Err("a step needs a number after the /, such as \"*/2\"".to_string());
        }
        if step.contains('/') {
            return Err("use only one / in each item".to_string());
        }
        if !step.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the step {step:?} is not a whole number"));
        }
        match step.parse::<u32>() {
            Ok(0) => Err("a step of 0 is not allowed; use 1 or more".to_string()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("the step {step} is far too big")),
        }
    }

    fn parse_value(&self, text: &str, whole: &str) -> Result<u32, String> {
        if text.is_empty() {
            return Err(format!(
                "a value is missing (negative numbers are not allowed); {}",
                self.range
            ));
        }
        let out_of_range = || {
            if text == whole {
                self.range.to_string()
            } else {
                format!("{text} is out of range; {}", self.range)
            }
        };
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let value = text.parse::<u32>().map_err(|_| out_of_range())?;
            return if (self.min..=self.max).contains(&value) {
                Ok(value)
            } else {
                Err(out_of_range())
            };
        }
        if text == "?" {
            return Err("\"?\" is not crontab syntax; write * instead".to_string());
        }
        if text.chars().all(|c| c.is_ascii_alphabetic()) {
            if self.names.is_empty() {
                return Err(format!("{text:?} is not a number; {}", self.range));
            }
            if let Some(index) = self
                .names
                .iter()
                .position(|name| name.eq_ignore_ascii_case(text))
            {
                let index = u32::try_from(index).expect("name tables have at most 12 entries");
                return Ok(self.names_start + index);
            }
            if let Some(name) = self.names.iter().find(|name| {
                text.len() > 3
                    && text
                        .get(..3)
                        .is_some_and(|prefix| name.eq_ignore_ascii_case(prefix))
            }) {
                return Err(format!(
                    "use the three-letter name {name:?} rather than {text:?}"
                ));
            }
            return Err(format!(
                "{text:?} is not a {} name; {}",
                self.name_kind, self.range
            ));
        }
        Err(format!("{text:?} is not understood; {}", self.range))
    }
}

/// Longest month lengths, allowing 29 days for February.
fn longest_month(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The years the `cron` crate searches (its year field spans 1970 to 2100).
const CRON_FIRST_YEAR: i32 = 1970;
const CRON_LAST_YEAR: i32 = 2100;

/// A crontab line, checked and ready to say when it next fires in its zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The line as the user wrote it, trimmed and with single spaces.
    line: String,
    tz: Tz,
    /// One schedule, or two when day-of-month and day-of-week are both
    /// restricted (crontab then fires when either matches, so each is searched
    /// on its own and the earlier result taken). Each runs over naive local
    /// time and always has a seconds field of 0.
    crons: Vec<cron::Schedule>,
}

/// Two schedules are the same when their lines (as normalised) and zones are.
impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.line == other.line && self.tz == other.tz
    }
}

impl Eq for Schedule {}

impl Schedule {
    /// Parses a five-field crontab line to be read in the time zone `tz`.
    ///
    /// Surrounding whitespace is ignored and runs of whitespace between fields
    /// are treated as one space.
    pub fn parse(line: &str, tz: Tz) -> Result<Schedule, ScheduleError> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(ScheduleError::FieldCount {
                found: fields.len(),
            });
        };
        let line = fields.join(" ");

        let minutes = MINUTE.parse(minute)?;
        let hours = HOUR.parse(hour)?;
        let days_of_month = DAY_OF_MONTH.parse(day_of_month)?;
        let months = MONTH.parse(month)?;
        // Crontab's 7 is another way of writing Sunday (0).
        let days_of_week: BTreeSet<u32> = DAY_OF_WEEK
            .parse(day_of_week)?
            .into_iter()
            .map(|day| day % 7)
            .collect();

        if minutes.len() > 1 {
            return Err(ScheduleError::TooFrequent { line });
        }

        // Crontab's rule: when both day fields are restricted (neither starts
        // with `*`), a day matches if EITHER field matches; otherwise both
        // must match (and a `*` field matches everything anyway).
        let either_day_field = !day_of_month.starts_with('*') && !day_of_week.starts_with('*');
        let day_of_month_possible = days_of_month
            .iter()
            .any(|&day| months.iter().any(|&month| day <= longest_month(month)));

        let minute_list = cron_list(&minutes, 60, 0);
        let hour_list = cron_list(&hours, 24, 0);
        let month_list = cron_list(&months, 12, 0);
        let dom_list = cron_list(&days_of_month, 31, 0);
        // cron numbers the days of the week 1 (Sunday) to 7 (Saturday).
        let dow_list = cron_list(&days_of_week, 7, 1);
        let build = |dom: &str, dow: &str| {
            let expression = format!("0 {minute_list} {hour_list} {dom} {month_list} {dow}");
            cron::Schedule::from_str(&expression)
                .expect("explicit in-range value lists always form a valid cron expression")
        };

        let mut crons = Vec::with_capacity(2);
        if either_day_field {
            if day_of_month_possible {
                crons.push(build(&dom_list, "*"));
            }
            crons.push(build("*", &dow_list));
        } else if day_of_month_possible {
            crons.push(build(&dom_list, &dow_list));
        } else {
            return Err(ScheduleError::NeverFires { line });
        }

        let schedule = Schedule { line, tz, crons };
        // Belt and braces: any date that can happen at all (even 29 February
        // on a given weekday) comes round within a 28-year cycle, so look 30
        // years ahead of a fixed point.
        let probe_start = naive(2025, 1, 1);
        let probe_end = naive(2055, 1, 1);
        match schedule.next_naive(probe_start) {
            Some(found) if found < probe_end => Ok(schedule),
            _ => Err(ScheduleError::NeverFires {
                line: schedule.line,
            }),
        }
    }

    /// The line, trimmed and with single spaces between fields.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The time zone the line is read in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The same line read in another zone: the line's meaning is in local time, so nothing in it
    /// needs checking again.
    pub fn in_zone(&self, tz: Tz) -> Schedule {
        Schedule { tz, ..self.clone() }
    }

    /// The first firing instant strictly after `after`.
    ///
    /// Returns `None` when there is no later firing the `cron` crate can find
    /// (it searches up to the end of 2100).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after_utc = after.naive_utc();
        if after_utc.year() > CRON_LAST_YEAR {
            return None;
        }
        // Start the naive search at the wall-clock reading at `after`. Mapping
        // naive times to instants never goes backwards, and this reading maps
        // to `after` or earlier, so nothing later than `after` is skipped.
        let mut cursor = if after_utc.year() < CRON_FIRST_YEAR - 1 {
            // Far in the past: every firing the cron crate can find is later.
            naive(CRON_FIRST_YEAR - 1, 1, 1)
        } else {
            let offset = self.tz.offset_from_utc_datetime(&after_utc).fix();
            after_utc.checked_add_offset(offset)?
        };
        loop {
            let candidate = self.next_naive(cursor)?;
            if let Some(instant) = self.resolve(candidate) {
                if instant > after {
                    return Some(instant);
                }
            }
            cursor = candidate;
        }
    }

    /// Successive firings strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        std::iter::successors(self.next_after(after), move |&previous| {
            self.next_after(previous)
        })
    }

    /// The first naive local time strictly after `after` that the line matches.
    fn next_naive(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        if after.year() > CRON_LAST_YEAR {
            return None;
        }
        let as_utc = Utc.from_utc_datetime(&after);
        self.crons
            .iter()
            .filter_map(|schedule| schedule.after(&as_utc).next())
            .map(|found| found.naive_utc())
            .min()
    }

    /// Places a naive local time in the zone: the earlier of two occurrences,
    /// or the first instant after a gap for a time that does not exist.
    fn resolve(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(instant) => Some(instant.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, second) => Some(first.min(second).with_timezone(&Utc)),
            LocalResult::None => GapInfo::new(&local, &self.tz)
                .and_then(|gap| gap.end)
                .map(|end| end.with_timezone(&Utc)),
        }
    }
}

/// Midnight on a date known to be valid.
fn naive(year: i32, month: u32, day: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .expect("constant dates in this module are valid")
}

/// A cron field: `*` when every one of `size` values is chosen, otherwise an
/// explicit comma list with `shift` added to each value.
fn cron_list(values: &BTreeSet<u32>, size: usize, shift: u32) -> String {
    if values.len() == size {
        return "*".to_string();
    }
    values
        .iter()
        .map(|value| (value + shift).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Timelike, Weekday};

    const LONDON: Tz = chrono_tz::Europe::London;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test timestamps are valid RFC 3339")
            .with_timezone(&Utc)
    }

    fn schedule(line: &str, tz: Tz) -> Schedule {
        match Schedule::parse(line, tz) {
            Ok(schedule) => schedule,
            Err(error) => panic!("{line:?} should parse: {error}"),
        }
    }

    fn firings(line: &str, tz: Tz, from: &str, count: usize) -> Vec<DateTime<Utc>> {
        schedule(line, tz).upcoming(utc(from)).take(count).collect()
    }

    fn firings_between(line: &str, tz: Tz, from: &str, to: &str) -> Vec<DateTime<Utc>> {
        let end = utc(to);
        schedule(line, tz)
            .upcoming(utc(from))
            .take_while(|t| *t < end)
            .collect()
    }

    fn times(texts: &[&str]) -> Vec<DateTime<Utc>> {
        texts.iter().map(|t| utc(t)).collect()
    }

    fn field_error(line: &str) -> (&'static str, String, String) {
        match Schedule::parse(line, LONDON) {
            Err(ScheduleError::Field {
                field,
                value,
                reason,
            }) => (field, value, reason),
            other => panic!("{line:?} should give a field error, got {other:?}"),
        }
    }

    #[test]
    fn weekly_monday_across_2027_london_changes() {
        let mondays = ["2027-03-22", "2027-03-29", "2027-10-25", "2027-11-01"];
        for day in mondays {
            let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("valid");
            assert_eq!(date.weekday(), Weekday::Mon, "{day}");
        }
        assert_eq!(
            firings("0 9 * * MON", LONDON, "2027-03-20T00:00:00Z", 3),
            times(&[
                "2027-03-22T09:00:00Z",
                "2027-03-29T08:00:00Z",
                "2027-04-05T08:00:00Z",
            ])
        );
        assert_eq!(
            firings("0 9 * * MON", LONDON, "2027-10-20T00:00:00Z", 3),
            times(&[
                "2027-10-25T08:00:00Z",
                "2027-11-01T09:00:00Z",
                "2027-11-08T09:00:00Z",
            ])
        );
        // Exactly at a firing: the next one, never the same instant.
        let weekly = schedule("0 9 * * MON", LONDON);
        assert_eq!(
            weekly.next_after(utc("2027-03-29T08:00:00Z")),
            Some(utc("2027-04-05T08:00:00Z"))
        );
        assert_eq!(
            weekly.next_after(utc("2027-03-29T07:59:59.999Z")),
            Some(utc("2027-03-29T08:00:00Z"))
        );
    }

    #[test]
    fn half_past_one_in_the_spring_gap_fires_at_the_end_of_the_gap() {
        assert_eq!(
            firings_between(
                "30 1 * * *",
                LONDON,
                "2027-03-27T12:00:00Z",
                "2027-03-29T12:00:00Z"
            ),
            times(&["2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"])
        );
        // From inside the gap's replacement hour, the next day is next.
        let nightly = schedule("30 1 * * *", LONDON);
        assert_eq!(
            nightly.next_after(utc("2027-03-28T01:00:00Z")),
            Some(utc("2027-03-29T00:30:00Z"))
        );
        assert_eq!(
            nightly.next_after(utc("2027-03-28T00:59:59Z")),
            Some(utc("2027-03-28T01:00:00Z"))
        );
    }

    #[test]
    fn half_past_one_twice_in_autumn_fires_once_at_the_first() {
        assert_eq!(
            firings_between(
                "30 1 * * *",
                LONDON,
                "2027-10-30T12:00:00Z",
                "2027-11-01T12:00:00Z"
            ),
            times(&["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"])
        );
        // Starting between the two occurrences does not produce the second.
        let nightly = schedule("30 1 * * *", LONDON);
        assert_eq!(
            nightly.next_after(utc("2027-10-31T00:45:00Z")),
            Some(utc("2027-11-01T01:30:00Z"))
        );
        assert_eq!(
            nightly.next_after(utc("2027-10-31T01:15:00Z")),
            Some(utc("2027-11-01T01:30:00Z"))
        );
    }

    #[test]
    fn hourly_over_the_2027_london_spring_change() {
        // The local day of 28 March 2027 runs from 00:00 GMT (00:00Z) to
        // midnight BST (23:00Z): 23 hours, 23 firings, the 01:00 and 02:00
        // wall-clock readings both landing on 01:00Z and firing once.
        let got = firings_between(
            "0 * * * *",
            LONDON,
            "2027-03-27T23:59:59Z",
            "2027-03-28T23:00:00Z",
        );
        let expected: Vec<_> = (0..23)
            .map(|hour| utc("2027-03-28T00:00:00Z") + Duration::hours(hour))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got.len(), 23);
    }

    #[test]
    fn hourly_over_the_2027_london_autumn_change() {
        // The local day of 31 October 2027 runs from 00:00 BST (30th 23:00Z)
        // to midnight GMT (1 November 00:00Z): 25 hours. 01:00 happens twice
        // and fires only at its first occurrence, 00:00Z, so 01:00Z is skipped.
        let got = firings_between(
            "0 * * * *",
            LONDON,
            "2027-10-30T22:59:59Z",
            "2027-11-01T00:00:00Z",
        );
        let mut expected = times(&["2027-10-30T23:00:00Z", "2027-10-31T00:00:00Z"]);
        expected.extend((2..24).map(|hour| utc("2027-10-31T00:00:00Z") + Duration::hours(hour)));
        assert_eq!(got, expected);
        assert_eq!(got.len(), 24);
        assert!(got.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn new_york_2027_changes() {
        assert_eq!(
            NaiveDate::from_ymd_opt(2027, 3, 14).map(|d| d.weekday()),
            Some(Weekday::Sun)
        );
        assert_eq!(
            NaiveDate::from_ymd_opt(2027, 11, 7).map(|d| d.weekday()),
            Some(Weekday::Sun)
        );
        assert_eq!(
            firings("0 9 * * *", NEW_YORK, "2027-03-13T00:00:00Z", 2),
            times(&["2027-03-13T14:00:00Z", "2027-03-14T13:00:00Z"])
        );
        assert_eq!(
            firings("0 9 * * *", NEW_YORK, "2027-11-06T00:00:00Z", 2),
            times(&["2027-11-06T13:00:00Z", "2027-11-07T14:00:00Z"])
        );
        // 02:30 does not exist on 14 March: fires at 03:00 EDT (07:00Z).
        assert_eq!(
            firings("30 2 * * *", NEW_YORK, "2027-03-13T12:00:00Z", 2),
            times(&["2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"])
        );
        // 01:30 happens twice on 7 November: fires at 01:30 EDT (05:30Z) only.
        assert_eq!(
            firings("30 1 * * *", NEW_YORK, "2027-11-06T12:00:00Z", 2),
            times(&["2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"])
        );
        // Hourly: 23 firings on the spring day, 24 on the autumn day.
        let spring = firings_between(
            "15 * * * *",
            NEW_YORK,
            "2027-03-14T05:00:00Z",
            "2027-03-15T04:00:00Z",
        );
        // The day is 23 hours long, but 02:15 does not exist and fires at the
        // end of the gap (03:00 EDT, 07:00Z), separately from 03:15 (07:15Z).
        assert_eq!(spring.len(), 24);
        assert!(spring.contains(&utc("2027-03-14T06:15:00Z")));
        assert!(spring.contains(&utc("2027-03-14T07:00:00Z")));
        assert!(spring.contains(&utc("2027-03-14T07:15:00Z")));
        assert!(spring.windows(2).all(|pair| pair[0] < pair[1]));
        let autumn = firings_between(
            "15 * * * *",
            NEW_YORK,
            "2027-11-07T04:00:00Z",
            "2027-11-08T05:00:00Z",
        );
        assert_eq!(autumn.len(), 24);
        assert!(autumn.contains(&utc("2027-11-07T05:15:00Z")));
        assert!(!autumn.contains(&utc("2027-11-07T06:15:00Z")));
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Restricted in both fields: the 1st of the month OR any Monday.
        assert_eq!(
            firings("0 9 1 * MON", LONDON, "2027-03-31T12:00:00Z", 7),
            times(&[
                "2027-04-01T08:00:00Z",
                "2027-04-05T08:00:00Z",
                "2027-04-12T08:00:00Z",
                "2027-04-19T08:00:00Z",
                "2027-04-26T08:00:00Z",
                "2027-05-01T08:00:00Z",
                "2027-05-03T08:00:00Z",
            ])
        );
        // A field starting with `*` means both must match: odd days that are
        // Mondays.
        for fired in firings("0 9 */2 * MON", Tz::UTC, "2027-01-01T00:00:00Z", 12) {
            assert_eq!(fired.weekday(), Weekday::Mon);
            assert_eq!(fired.day() % 2, 1);
        }
    }

    #[test]
    fn sundays_weekdays_and_weekends() {
        let sunday_zero = firings("0 9 * * 0", Tz::UTC, "2027-01-01T00:00:00Z", 10);
        let sunday_seven = firings("0 9 * * 7", Tz::UTC, "2027-01-01T00:00:00Z", 10);
        let sunday_name = firings("0 9 * * sun", Tz::UTC, "2027-01-01T00:00:00Z", 10);
        assert_eq!(sunday_zero, sunday_seven);
        assert_eq!(sunday_zero, sunday_name);
        assert!(sunday_zero.iter().all(|t| t.weekday() == Weekday::Sun));
        assert_eq!(sunday_zero[0], utc("2027-01-03T09:00:00Z"));
        assert!(sunday_zero
            .windows(2)
            .all(|w| w[1] - w[0] == Duration::days(7)));

        let weekdays = firings("0 9 * * 1-5", Tz::UTC, "2027-01-01T00:00:00Z", 20);
        assert!(weekdays
            .iter()
            .all(|t| !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)));
        // 1 Jan 2027 is a Friday: Fri 1, then Mon 4 to Fri 8, ...
        assert_eq!(weekdays[0], utc("2027-01-01T09:00:00Z"));
        assert_eq!(weekdays[1], utc("2027-01-04T09:00:00Z"));
        assert_eq!(weekdays[19], utc("2027-01-28T09:00:00Z"));
        assert_eq!(
            weekdays,
            firings("0 9 * * MON-FRI", Tz::UTC, "2027-01-01T00:00:00Z", 20)
        );

        let weekends = firings("0 9 * * SUN,SAT", Tz::UTC, "2027-01-01T00:00:00Z", 6);
        assert_eq!(
            weekends,
            times(&[
                "2027-01-02T09:00:00Z",
                "2027-01-03T09:00:00Z",
                "2027-01-09T09:00:00Z",
                "2027-01-10T09:00:00Z",
                "2027-01-16T09:00:00Z",
                "2027-01-17T09:00:00Z",
            ])
        );
        // 5-7 is Friday, Saturday and Sunday.
        let long_weekend = firings("0 9 * * 5-7", Tz::UTC, "2027-01-01T00:00:00Z", 6);
        assert!(long_weekend
            .iter()
            .all(|t| matches!(t.weekday(), Weekday::Fri | Weekday::Sat | Weekday::Sun)));
        assert_eq!(long_weekend.len(), 6);
    }

    /// Crontab's meaning, written out directly, for a brute-force comparison.
    struct Rule {
        line: &'static str,
        matches: fn(NaiveDateTime) -> bool,
    }

    fn rules() -> Vec<Rule> {
        vec![
            Rule {
                line: "0 9 * * MON",
                matches: |t| t.minute() == 0 && t.hour() == 9 && t.weekday() == Weekday::Mon,
            },
            Rule {
                line: "30 1 * * *",
                matches: |t| t.minute() == 30 && t.hour() == 1,
            },
            Rule {
                line: "0 * * * *",
                matches: |t| t.minute() == 0,
            },
            Rule {
                line: "45 2 1,15 * MON,FRI",
                matches: |t| {
                    t.minute() == 45
                        && t.hour() == 2
                        && (t.day() == 1
                            || t.day() == 15
                            || matches!(t.weekday(), Weekday::Mon | Weekday::Fri))
                },
            },
            Rule {
                line: "5 8-18/5 */10 mar-nov/2 *",
                matches: |t| {
                    t.minute() == 5
                        && [8, 13, 18].contains(&t.hour())
                        && [1, 11, 21, 31].contains(&t.day())
                        && [3, 5, 7, 9, 11].contains(&t.month())
                },
            },
            Rule {
                line: "59 23 31 * 6",
                matches: |t| {
                    t.minute() == 59
                        && t.hour() == 23
                        && (t.day() == 31 || t.weekday() == Weekday::Sat)
                },
            },
            Rule {
                line: "0 12 29 2 *",
                matches: |t| t.minute() == 0 && t.hour() == 12 && t.day() == 29 && t.month() == 2,
            },
        ]
    }

    /// Independent expected firings: walk every local minute, keep the
    /// matching ones, place each in the zone (first occurrence; for a gap,
    /// step forward a minute at a time to the first time that exists) and
    /// drop repeats.
    fn brute_force(
        rule: &Rule,
        tz: Tz,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<DateTime<Utc>> {
        let mut out: Vec<DateTime<Utc>> = Vec::new();
        let mut local = from;
        while local < to {
            if (rule.matches)(local) {
                let mut probe = local;
                let instant = loop {
                    match tz.from_local_datetime(&probe) {
                        LocalResult::Single(t) => break t.with_timezone(&Utc),
                        LocalResult::Ambiguous(a, b) => break a.min(b).with_timezone(&Utc),
                        LocalResult::None => probe += Duration::minutes(1),
                    }
                };
                if out.last().is_none_or(|last| *last < instant) {
                    out.push(instant);
                }
            }
            local += Duration::minutes(1);
        }
        out
    }

    #[test]
    fn matches_brute_force_over_a_year() {
        let from = naive(2027, 1, 1);
        let to = naive(2028, 1, 1);
        for tz in [Tz::UTC, LONDON, NEW_YORK, chrono_tz::Australia::Lord_Howe] {
            for rule in rules() {
                let expected = brute_force(&rule, tz, from, to);
                let start = tz
                    .from_local_datetime(&from)
                    .earliest()
                    .expect("new year is not in a gap")
                    .with_timezone(&Utc)
                    - Duration::seconds(1);
                let end = tz
                    .from_local_datetime(&to)
                    .earliest()
                    .expect("new year is not in a gap")
                    .with_timezone(&Utc);
                let got: Vec<_> = schedule(rule.line, tz)
                    .upcoming(start)
                    .take_while(|t| *t < end)
                    .collect();
                assert_eq!(got, expected, "{} in {}", rule.line, tz.name());
            }
        }
    }

    #[test]
    fn leap_day_lines_are_accepted() {
        let leap = schedule("0 12 29 2 *", LONDON);
        assert_eq!(
            leap.next_after(utc("2027-01-01T00:00:00Z")),
            Some(utc("2028-02-29T12:00:00Z"))
        );
        // 29 February on a Sunday is rare (2032, then 2060) but possible.
        let rare = schedule("0 12 29 2 */7", Tz::UTC);
        assert_eq!(
            rare.next_after(utc("2027-01-01T00:00:00Z")),
            Some(utc("2032-02-29T12:00:00Z"))
        );
        // Crontab's OR: day 31 in February never happens, but Mondays in
        // February do, so this is a valid line that fires on Mondays.
        let either = schedule("0 9 31 2 MON", Tz::UTC);
        let fired: Vec<_> = either
            .upcoming(utc("2027-01-01T00:00:00Z"))
            .take(4)
            .collect();
        assert!(fired
            .iter()
            .all(|t| t.weekday() == Weekday::Mon && t.month() == 2));
    }

    #[test]
    fn errors_name_the_right_field() {
        assert_eq!(
            Schedule::parse("0 0 9 * * MON", LONDON).unwrap_err(),
            ScheduleError::FieldCount { found: 6 }
        );
        assert_eq!(
            Schedule::parse("0 0 9 * * MON", LONDON)
                .unwrap_err()
                .to_string(),
            "a schedule needs 5 fields (minute hour day-of-month month day-of-week), found 6: \
             a crontab line has no seconds field"
        );
        assert_eq!(
            Schedule::parse("", LONDON).unwrap_err(),
            ScheduleError::FieldCount { found: 0 }
        );
        assert_eq!(
            Schedule::parse("   \t ", LONDON).unwrap_err(),
            ScheduleError::FieldCount { found: 0 }
        );
        assert_eq!(
            Schedule::parse("0 9 * *", LONDON).unwrap_err(),
            ScheduleError::FieldCount { found: 4 }
        );

        let (field, value, _) = field_error("60 9 * * *");
        assert_eq!((field, value.as_str()), ("minute", "60"));

        let (field, value, reason) = field_error("0 24 * * *");
        assert_eq!((field, value.as_str()), ("hour", "24"));
        assert_eq!(reason, "hours run from 0 to 23");
        assert_eq!(
            Schedule::parse("0 25 * * *", LONDON)
                .unwrap_err()
                .to_string(),
            "the hour field \"25\" is not valid: hours run from 0 to 23"
        );

        let (field, value, reason) = field_error("0 9-25 * * *");
        assert_eq!((field, value.as_str()), ("hour", "9-25"));
        assert!(reason.contains("25 is out of range"), "{reason}");

        let (field, value, _) = field_error("0 9 * 13 *");
        assert_eq!((field, value.as_str()), ("month", "13"));

        let (field, value, _) = field_error("0 9 0 * *");
        assert_eq!((field, value.as_str()), ("day-of-month", "0"));

        let (field, value, _) = field_error("0 9 * * 8");
        assert_eq!((field, value.as_str()), ("day-of-week", "8"));

        let (field, value, reason) = field_error("0 9 * * FUNDAY");
        assert_eq!((field, value.as_str()), ("day-of-week", "FUNDAY"));
        assert!(reason.contains("not a day name"), "{reason}");

        let (field, _, reason) = field_error("0 9 * * Monday");
        assert_eq!(field, "day-of-week");
        assert!(reason.contains("\"MON\""), "{reason}");

        let (field, _, reason) = field_error("0 9 * * FRI-MON");
        assert_eq!(field, "day-of-week");
        assert!(reason.contains("backwards"), "{reason}");

        let (field, _, reason) = field_error("0 9/2 * * *");
        assert_eq!(field, "hour");
        assert!(reason.contains("9-23/2"), "{reason}");

        let (field, _, reason) = field_error("0 */0 * * *");
        assert_eq!(field, "hour");
        assert!(reason.contains("step of 0"), "{reason}");

        let (field, _, _) = field_error("0 9 ? * *");
        assert_eq!(field, "day-of-month");

        let (field, _, _) = field_error("0 9 * JAN, *");
        assert_eq!(field, "month");

        let (field, _, _) = field_error("0 9 * * MON-");
        assert_eq!(field, "day-of-week");

        let (field, _, _) = field_error("-1 9 * * *");
        assert_eq!(field, "minute");

        let (field, _, _) = field_error("0 MON * * *");
        assert_eq!(field, "hour");

        let too_often = Schedule::parse("*/5 * * * *", LONDON).unwrap_err();
        assert_eq!(
            too_often,
            ScheduleError::TooFrequent {
                line: "*/5 * * * *".to_string()
            }
        );
        assert_eq!(
            too_often.to_string(),
            "\"*/5 * * * *\" would post more than once an hour; choose a single minute, such as \
             \"0 9 * * MON\""
        );
        assert_eq!(
            Schedule::parse("0,30 9 * * *", LONDON).unwrap_err(),
            ScheduleError::TooFrequent {
                line: "0,30 9 * * *".to_string()
            }
        );
        assert!(matches!(
            Schedule::parse("* 9 * * *", LONDON),
            Err(ScheduleError::TooFrequent { .. })
        ));
        // A step larger than the field picks a single minute, as in crontab.
        assert!(Schedule::parse("*/60 9 * * *", LONDON).is_ok());

        assert_eq!(
            Schedule::parse("0 9 31 2 *", LONDON).unwrap_err(),
            ScheduleError::NeverFires {
                line: "0 9 31 2 *".to_string()
            }
        );
        assert!(matches!(
            Schedule::parse("0 9 30,31 feb *", LONDON),
            Err(ScheduleError::NeverFires { .. })
        ));
        assert!(matches!(
            Schedule::parse("0 9 31 4,6,9,11 *", LONDON),
            Err(ScheduleError::NeverFires { .. })
        ));
        // Day-of-week starting with `*` means AND, so this is impossible too.
        assert!(matches!(
            Schedule::parse("0 9 31 2 */2", LONDON),
            Err(ScheduleError::NeverFires { .. })
        ));
    }

    #[test]
    fn line_is_tidied_and_zone_kept() {
        let tidy = schedule("  0\t9   *  *\n MON ", NEW_YORK);
        assert_eq!(tidy.line(), "0 9 * * MON");
        assert_eq!(tidy.timezone(), NEW_YORK);
    }

    #[test]
    fn garbage_never_panics() {
        let garbage = [
            "",
            " ",
            "*",
            "* * * * * * * *",
            "a b c d e",
            "- - - - -",
            "/ / / / /",
            ", , , , ,",
            "*/ * * * *",
            "0 */ * * *",
            "0 / * * *",
            "0 9 1-31/0 * *",
            "0 9 4294967295 * *",
            "0 9 4294967296 * *",
            "0 9 99999999999999999999999 * *",
            "0 9 * * MON/2",
            "0 9 * * MON-FRI/4294967295",
            "0 9 * * 7-0",
            "0 9 * * 0-7",
            "0 9 L * *",
            "0 9 * * 1#2",
            "0 9 * * 5L",
            "0 9 1W * *",
            "0 9 * * 💥",
            "ünïcödé ☃ * * *",
            "0 9 * * MÖN",
            "0 9 * * MON,,TUE",
            "0 9 * * ,MON",
            "0 9 * JAN-DEC/13 *",
            "0 9 * 1-2-3 *",
            "0 9 * */1/2 *",
            "0 9 * * *\0",
            "0\u{200b} 9 * * *",
            "+1 9 * * *",
            "0x1 9 * * *",
            "1e3 9 * * *",
            "0 9 * * **",
            "0 9 ** * *",
            "@daily",
            "@reboot",
            "0 0 29 2 1-7",
            "0 0 31 * *",
            "59 23 31 12 *",
            "0 0 1 1 *",
        ];
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            utc("0001-01-01T00:00:00Z"),
            utc("1969-12-31T23:59:59Z"),
            utc("1970-01-01T00:00:00Z"),
            utc("2027-03-28T01:00:00Z"),
            utc("2099-12-31T23:59:59Z"),
            utc("2100-12-31T23:59:59Z"),
            utc("2101-01-01T00:00:00Z"),
            DateTime::<Utc>::MAX_UTC,
        ];
        let zones = [
            Tz::UTC,
            LONDON,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Etc::GMTPlus12,
            chrono_tz::Pacific::Apia,
        ];
        for line in garbage {
            for tz in zones {
                match Schedule::parse(line, tz) {
                    Ok(parsed) => {
                        for instant in instants {
                            let fired: Vec<_> = parsed.upcoming(instant).take(3).collect();
                            assert!(fired.iter().all(|t| *t > instant));
                            assert!(fired.windows(2).all(|w| w[0] < w[1]));
                        }
                    }
                    Err(error) => assert!(!error.to_string().is_empty()),
                }
            }
        }
        let long_line = "1,".repeat(10_000) + "1 9 * * *";
        assert!(Schedule::parse(&long_line, LONDON).is_ok());
        let long_garbage = "x".repeat(100_000);
        assert!(Schedule::parse(&long_garbage, LONDON).is_err());
        assert!(parse_timezone(&long_garbage).is_err());
    }

    #[test]
    fn end_of_the_cron_range() {
        let daily = schedule("0 9 * * *", LONDON);
        assert_eq!(
            daily.next_after(utc("2100-12-30T12:00:00Z")),
            Some(utc("2100-12-31T09:00:00Z"))
        );
        assert_eq!(daily.next_after(utc("2100-12-31T09:00:00Z")), None);
        assert_eq!(daily.next_after(DateTime::<Utc>::MAX_UTC), None);
        // The UK kept its clocks an hour ahead all year from 1968 to 1971
        // (British Standard Time), so 09:00 on 1 January 1970 was 08:00Z.
        assert_eq!(
            daily.next_after(DateTime::<Utc>::MIN_UTC),
            Some(utc("1970-01-01T08:00:00Z"))
        );
    }

    #[test]
    fn samoa_skipped_day() {
        // Pacific/Apia skipped 30 December 2011 entirely (23:59:59 on the 29th
        // was followed by 00:00 on the 31st). A daily line fires at the end of
        // the gap for the missing day, then carries on.
        let apia = chrono_tz::Pacific::Apia;
        let got = firings("0 9 * * *", apia, "2011-12-29T00:00:00Z", 3);
        let local: Vec<_> = got
            .iter()
            .map(|t| t.with_timezone(&apia).naive_local())
            .collect();
        assert_eq!(
            local,
            vec![
                naive(2011, 12, 29) + Duration::hours(9),
                naive(2011, 12, 31),
                naive(2011, 12, 31) + Duration::hours(9),
            ]
        );
    }

    #[test]
    fn time_zone_lookup() {
        assert_eq!(parse_timezone("Europe/London"), Ok(LONDON));
        assert_eq!(parse_timezone("europe/london"), Ok(LONDON));
        assert_eq!(parse_timezone("  AMERICA/NEW_YORK "), Ok(NEW_YORK));
        assert_eq!(parse_timezone("UTC"), Ok(Tz::UTC));

        let typo = parse_timezone("Europe/Londn").unwrap_err();
        assert_eq!(typo.name, "Europe/Londn");
        assert_eq!(typo.suggestion.as_deref(), Some("Europe/London"));
        assert_eq!(
            typo.to_string(),
            "unknown time zone \"Europe/Londn\": did you mean \"Europe/London\"?"
        );
        assert_eq!(
            parse_timezone("london").unwrap_err().suggestion.as_deref(),
            Some("Europe/London")
        );
        assert_eq!(
            parse_timezone("Amerca/New_Yrok")
                .unwrap_err()
                .suggestion
                .as_deref(),
            Some("America/New_York")
        );
        let hopeless = parse_timezone("Narnia/Cair_Paravel").unwrap_err();
        assert_eq!(hopeless.suggestion, None);
        assert!(hopeless.to_string().contains("Europe/London"));
        assert!(parse_timezone("").is_err());
    }
}
