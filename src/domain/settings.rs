//! A schedule's settings, parsed once: the crontab line in its zone, which bank holidays to skip,
//! and whether the bullying and harassment theme is in the rotation. The configuration's
//! defaults, `preview`, `/upcoming`, `/schedule`, the store and the scheduler all hold this one
//! type, so a value that exists has already been checked.

use std::str::FromStr;

use chrono::NaiveDate;

use crate::domain::holidays::{HolidayCalendar, Region};
use crate::domain::schedule::{parse_timezone, Schedule, ScheduleError, UnknownTimeZone};

/// The word that turns bank-holiday skipping off.
pub const NO_HOLIDAYS: &str = "none";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    pub schedule: Schedule,
    /// `None`: post on bank holidays too.
    pub bank_holidays: Option<Region>,
    pub include_bullying: bool,
}

/// What a person asked to change in a schedule's settings; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsChange<'a> {
    pub cron: Option<&'a str>,
    pub timezone: Option<&'a str>,
    /// `Some(None)` turns bank-holiday skipping off.
    pub bank_holidays: Option<Option<Region>>,
    pub include_bullying: Option<bool>,
}

/// Which setting was wrong, and why, in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Cron(#[from] ScheduleError),
    #[error("{0}")]
    Timezone(#[from] UnknownTimeZone),
    #[error("{0}")]
    BankHolidays(#[from] crate::domain::holidays::UnknownRegion),
}

impl SettingsError {
    /// The setting's name as configuration files and commands spell it.
    pub fn setting(&self) -> &'static str {
        match self {
            SettingsError::Cron(_) => "cron",
            SettingsError::Timezone(_) => "timezone",
            SettingsError::BankHolidays(_) => "bank_holidays",
        }
    }
}

/// `none` turns bank-holiday skipping off; otherwise a region's name.
pub fn parse_bank_holidays(
    value: &str,
) -> Result<Option<Region>, crate::domain::holidays::UnknownRegion> {
    if value.trim().eq_ignore_ascii_case(NO_HOLIDAYS) {
        return Ok(None);
    }
    Region::from_str(value).map(Some)
}

impl ScheduleSettings {
    /// The zone is checked first, so a wrong zone is reported as such rather than as a line
    /// that cannot be read.
    pub fn parse(
        cron: &str,
        timezone: &str,
        bank_holidays: &str,
        include_bullying: bool,
    ) -> Result<ScheduleSettings, SettingsError> {
        let tz = parse_timezone(timezone)?;
        let schedule = Schedule::parse(cron, tz)?;
        let bank_holidays = parse_bank_holidays(bank_holidays)?;
        Ok(ScheduleSettings {
            schedule,
            bank_holidays,
            include_bullying,
        })
    }

    /// These settings with what `change` gives parsed and put in their place. A new zone keeps
    /// the line, now read in that zone; the zone is checked before a new line, as in `parse`.
    pub fn changed(&self, change: &SettingsChange<'_>) -> Result<ScheduleSettings, SettingsError> {
        let tz = change.timezone.map(parse_timezone).transpose()?;
        let schedule = match (change.cron, tz) {
            (Some(line), tz) => Schedule::parse(line, tz.unwrap_or(self.schedule.timezone()))?,
            (None, Some(tz)) => self.schedule.in_zone(tz),
            (None, None) => self.schedule.clone(),
        };
        Ok(ScheduleSettings {
            schedule,
            bank_holidays: change.bank_holidays.unwrap_or(self.bank_holidays),
            include_bullying: change.include_bullying.unwrap_or(self.include_bullying),
        })
    }

    pub fn cron(&self) -> &str {
        self.schedule.line()
    }

    pub fn timezone_name(&self) -> &'static str {
        self.schedule.timezone().name()
    }

    /// `england-and-wales`, `scotland`, `northern-ireland` or `none`, as stored.
    pub fn bank_holidays_name(&self) -> &'static str {
        self.bank_holidays.map_or(NO_HOLIDAYS, Region::slug)
    }

    /// The holidays to skip: the region's, plus the organisation's own one-off dates.
    pub fn calendar(&self, extra: &[NaiveDate]) -> HolidayCalendar {
        HolidayCalendar::new(self.bank_holidays, extra.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mistake_names_its_setting() {
        let zone = ScheduleSettings::parse("0 9 * * MON", "Europe/Londn", "none", false)
            .expect_err("bad zone");
        assert_eq!(zone.setting(), "timezone");
        assert!(zone.to_string().contains("Europe/London"), "{zone}");
        let line = ScheduleSettings::parse("*/5 9 * * MON", "Europe/London", "none", false)
            .expect_err("too often");
        assert_eq!(line.setting(), "cron");
        let region = ScheduleSettings::parse("0 9 * * MON", "Europe/London", "wales", false)
            .expect_err("bad region");
        assert_eq!(region.setting(), "bank_holidays");
    }

    #[test]
    fn a_change_parses_only_what_it_gives_and_keeps_the_rest() {
        let base = ScheduleSettings::parse("0 9 * * MON", "Europe/London", "scotland", true)
            .expect("valid");
        assert_eq!(base.changed(&SettingsChange::default()), Ok(base.clone()));
        let moved = base
            .changed(&SettingsChange {
                timezone: Some("America/New_York"),
                ..SettingsChange::default()
            })
            .expect("new zone");
        assert_eq!(
            (moved.cron(), moved.timezone_name()),
            ("0 9 * * MON", "America/New_York")
        );
        assert_eq!(moved.bank_holidays_name(), "scotland");
        let relined = base
            .changed(&SettingsChange {
                cron: Some("30 8 * * FRI"),
                bank_holidays: Some(None),
                include_bullying: Some(false),
                ..SettingsChange::default()
            })
            .expect("new line");
        assert_eq!(
            (
                relined.cron(),
                relined.timezone_name(),
                relined.bank_holidays_name()
            ),
            ("30 8 * * FRI", "Europe/London", "none")
        );
        assert!(!relined.include_bullying);
        let both_wrong = base.changed(&SettingsChange {
            cron: Some("*/5 * * * *"),
            timezone: Some("Europe/Londn"),
            ..SettingsChange::default()
        });
        assert_eq!(both_wrong.map_err(|err| err.setting()), Err("timezone"));
    }

    #[test]
    fn names_round_trip_as_stored() {
        let settings = ScheduleSettings::parse(" 0  9 * * MON", "europe/london", "Scotland", true)
            .expect("valid");
        assert_eq!(settings.cron(), "0 9 * * MON");
        assert_eq!(settings.timezone_name(), "Europe/London");
        assert_eq!(settings.bank_holidays_name(), "scotland");
        let none = ScheduleSettings::parse("0 9 * * MON", "UTC", "NONE", false).expect("valid");
        assert_eq!(none.bank_holidays_name(), "none");
        let extra = [NaiveDate::from_ymd_opt(2027, 6, 7).expect("date")];
        assert!(none.calendar(&[]).holiday_on(extra[0]).is_none());
        assert!(none.calendar(&extra).holiday_on(extra[0]).is_some());
    }
}
