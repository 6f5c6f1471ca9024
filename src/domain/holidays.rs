//! UK bank holidays, worked out from the rules rather than from a downloaded list.
//!
//! Where the rules come from: the statutory basis is the Banking and Financial
//! Dealings Act 1971 (its Schedule 1 names the days for each part of the UK),
//! together with the Royal Proclamations made each year under it; the dates the
//! government actually announces are published on the GOV.UK "UK bank holidays"
//! page, <https://www.gov.uk/bank-holidays>. The rules below reproduce the
//! regular pattern seen there, including how a holiday that lands on a Saturday
//! or Sunday is moved to a weekday ("substitute day").
//!
//! One-off changes made by proclamation (for example the moved May holiday for
//! VE Day in 2020, the Platinum Jubilee in 2022 or the Coronation in 2023) are
//! deliberately not built in: a deployment adds those as extra dates in its
//! configuration, and [`HolidayCalendar`] merges them in.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// A part of the UK with its own set of bank holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    EnglandAndWales,
    Scotland,
    NorthernIreland,
}

impl Region {
    /// Every region, in a fixed order.
    pub const ALL: [Region; 3] = [
        Region::EnglandAndWales,
        Region::Scotland,
        Region::NorthernIreland,
    ];

    /// The name used in configuration files: `england-and-wales`, `scotland`
    /// or `northern-ireland`.
    pub fn slug(self) -> &'static str {
        match self {
            Region::EnglandAndWales => "england-and-wales",
            Region::Scotland => "scotland",
            Region::NorthernIreland => "northern-ireland",
        }
    }
}

/// A region name that is not one of [`Region::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown bank holiday region \"{name}\": use \"england-and-wales\", \"scotland\" or \
     \"northern-ireland\", or \"none\" to turn holiday skipping off"
)]
pub struct UnknownRegion {
    /// The text that was not recognised (the start of it, if it was long).
    pub name: String,
}

impl FromStr for Region {
    type Err = UnknownRegion;

    /// Accepts the slug in any letter case; spaces and underscores may stand in
    /// for the hyphens (so "England and Wales" is accepted too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalised: String = s
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '_' => '-',
                other => other.to_ascii_lowercase(),
            })
            .collect();
        Region::ALL
            .into_iter()
            .find(|region| region.slug() == normalised)
            .ok_or_else(|| UnknownRegion {
                name: crate::domain::excerpt(s),
            })
    }
}

/// One bank holiday: its date and its name as GOV.UK words it (with plain
/// apostrophes), for example "Boxing Day (substitute day)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankHoliday {
    pub date: NaiveDate,
    pub name: String,
}

impl fmt::Display for BankHoliday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.date.format("%A %-d %B %Y"))
    }
}

/// Easter Sunday in the Gregorian calendar, by the anonymous Gregorian
/// algorithm (the "Meeus/Jones/Butcher" computus).
///
/// # Panics
///
/// Only if `year` is outside the range chrono's `NaiveDate` can represent
/// (roughly ±262,000 years).
pub fn easter_sunday(year: i32) -> NaiveDate {
    easter_sunday_opt(year).expect("year must lie within chrono's NaiveDate range")
}

fn easter_sunday_opt(year: i32) -> Option<NaiveDate> {
    // Work in i64 with Euclidean division so that no step can overflow and
    // negative (proleptic) years behave like any other.
    let y = i64::from(year);
    let golden = y.rem_euclid(19); // position in the 19-year Metonic cycle
    let century = y.div_euclid(100);
    let year_of_century = y.rem_euclid(100);
    let leap_centuries = century.div_euclid(4);
    let century_rem = century.rem_euclid(4);
    let lunar_shift = (century + 8).div_euclid(25);
    let lunar_correction = (century - lunar_shift + 1).div_euclid(3);
    // Days from 21 March to the Paschal full moon (before the weekday step).
    let epact_like =
        (19 * golden + century - leap_centuries - lunar_correction + 15).rem_euclid(30);
    let leap_years = year_of_century.div_euclid(4);
    let year_rem = year_of_century.rem_euclid(4);
    // Days from the full moon to the following Sunday.
    let to_sunday = (32 + 2 * century_rem + 2 * leap_years - epact_like - year_rem).rem_euclid(7);
    let late_correction = (golden + 11 * epact_like + 22 * to_sunday).div_euclid(451);
    let n = epact_like + to_sunday - 7 * late_correction + 114;
    let month = u32::try_from(n.div_euclid(31)).ok()?;
    let day = u32::try_from(n.rem_euclid(31) + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The bank holidays of `region` in `year`, sorted by date.
///
/// A holiday that falls on a Saturday or Sunday is replaced by its substitute
/// day (the weekend date itself is not listed, matching GOV.UK). Returns an
/// empty list for a year chrono cannot represent.
pub fn bank_holidays(region: Region, year: i32) -> Vec<BankHoliday> {
    holidays_for(region, year).unwrap_or_default()
}

/// How a nominal holiday moves when it lands on a weekend.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Weekend {
    /// Always a weekday by construction (Good Friday, Mondays).
    Fixed,
    /// Moves to the next weekday that is not already a holiday.
    Substitute,
}

fn holidays_for(region: Region, year: i32) -> Option<Vec<BankHoliday>> {
    let date = |month: u32, day: u32| NaiveDate::from_ymd_opt(year, month, day);
    let easter = easter_sunday_opt(year)?;
    let good_friday = easter.checked_sub_days(Days::new(2))?;
    let easter_monday = easter.checked_add_days(Days::new(1))?;
    let early_may = NaiveDate::from_weekday_of_month_opt(year, 5, Weekday::Mon, 1)?;
    let spring = last_monday(year, 5)?;

    // Nominal dates in calendar order; substitutes are assigned in this order,
    // which gives the GOV.UK pattern for Christmas/Boxing Day and for Scotland's
    // 1st/2nd January.
    let mut nominal: Vec<(NaiveDate, &'static str, Weekend)> = Vec::new();
    nominal.push((date(1, 1)?, "New Year's Day", Weekend::Substitute));
    if region == Region::Scotland {
        nominal.push((date(1, 2)?, "2nd January", Weekend::Substitute));
    }
    if region == Region::NorthernIreland {
        nominal.push((date(3, 17)?, "St Patrick's Day", Weekend::Substitute));
    }
    nominal.push((good_friday, "Good Friday", Weekend::Fixed));
    if region != Region::Scotland {
        nominal.push((easter_monday, "Easter Monday", Weekend::Fixed));
    }
    nominal.push((early_may, "Early May bank holiday", Weekend::Fixed));
    nominal.push((spring, "Spring bank holiday", Weekend::Fixed));
    if region == Region::NorthernIreland {
        nominal.push((
            date(7, 12)?,
            "Battle of the Boyne (Orangemen's Day)",
            Weekend::Substitute,
        ));
    }
    let summer = if region == Region::Scotland {
        NaiveDate::from_weekday_of_month_opt(year, 8, Weekday::Mon, 1)?
    } else {
        last_monday(year, 8)?
    };
    nominal.push((summer, "Summer bank holiday", Weekend::Fixed));
    if region == Region::Scotland {
        nominal.push((date(11, 30)?, "St Andrew's Day", Weekend::Substitute));
    }
    nominal.push((date(12, 25)?, "Christmas Day", Weekend::Substitute));
    nominal.push((date(12, 26)?, "Boxing Day", Weekend::Substitute));
    nominal.sort_by_key(|&(d, _, _)| d);

    // Days that are holidays in their own right (nominal dates on weekdays).
    let mut taken: BTreeSet<NaiveDate> = nominal
        .iter()
        .map(|&(d, _, _)| d)
        .filter(|d| !is_weekend(*d))
        .collect();

    let mut result = Vec::with_capacity(nominal.len());
    for (day, name, rule) in nominal {
        if !is_weekend(day) {
            result.push(BankHoliday {
                date: day,
                name: name.to_string(),
            });
            continue;
        }
        if rule == Weekend::Fixed {
            // Cannot happen for Good Friday or a Monday; nothing to add.
            continue;
        }
        let mut substitute = day.succ_opt()?;
        while is_weekend(substitute) || taken.contains(&substitute) {
            substitute = substitute.succ_opt()?;
        }
        taken.insert(substitute);
        result.push(BankHoliday {
            date: substitute,
            name: format!("{name} (substitute day)"),
        });
    }
    result.sort_by_key(|h| h.date);
    Some(result)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    // The fifth Monday if there is one, otherwise the fourth.
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 4))
}

/// A calendar of holidays to skip: an optional region plus extra one-off dates from config.
#[derive(Debug, Clone, Default)]
pub struct HolidayCalendar {
    region: Option<Region>,
    extra: BTreeSet<NaiveDate>,
}

/// The name given to dates that come from configuration rather than the rules.
const EXTRA_HOLIDAY_NAME: &str = "Extra holiday (from config)";

impl HolidayCalendar {
    /// A calendar for `region` (or none) plus any extra one-off dates.
    pub fn new(region: Option<Region>, extra: impl IntoIterator<Item = NaiveDate>) -> Self {
        HolidayCalendar {
            region,
            extra: extra.into_iter().collect(),
        }
    }

    /// A calendar with no holidays at all.
    pub fn none() -> Self {
        HolidayCalendar::default()
    }

    /// The region whose bank holidays are included, if any.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// The holiday on `date`, if there is one. A regional bank holiday wins
    /// over an extra date on the same day; extra dates are named
    /// "Extra holiday (from config)".
    pub fn holiday_on(&self, date: NaiveDate) -> Option<BankHoliday> {
        if let Some(region) = self.region {
            if let Some(found) = bank_holidays(region, date.year())
                .into_iter()
                .find(|h| h.date == date)
            {
                return Some(found);
            }
        }
        self.extra.contains(&date).then(|| BankHoliday {
            date,
            name: EXTRA_HOLIDAY_NAME.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test dates are valid")
    }

    fn h(y: i32, m: u32, day: u32, name: &str) -> BankHoliday {
        BankHoliday {
            date: d(y, m, day),
            name: name.to_string(),
        }
    }

    /// Checks the list exactly, and that every listed date is a weekday
    /// according to chrono (not according to anyone's memory).
    fn assert_list(region: Region, year: i32, expected: Vec<BankHoliday>) {
        let got = bank_holidays(region, year);
        assert_eq!(got, expected, "{region:?} {year}");
        for holiday in &got {
            assert!(!is_weekend(holiday.date), "{} falls on a weekend", holiday);
        }
        let mut sorted = got.clone();
        sorted.sort_by_key(|h| h.date);
        assert_eq!(got, sorted, "sorted by date");
    }

    #[test]
    fn calendar_facts_used_below() {
        // The weekday facts the hand-worked lists rely on.
        assert_eq!(d(2026, 1, 1).weekday(), Weekday::Thu);
        assert_eq!(d(2026, 12, 25).weekday(), Weekday::Fri);
        assert_eq!(d(2026, 7, 12).weekday(), Weekday::Sun);
        assert_eq!(d(2026, 11, 30).weekday(), Weekday::Mon);
        assert_eq!(d(2027, 1, 1).weekday(), Weekday::Fri);
        assert_eq!(d(2027, 1, 2).weekday(), Weekday::Sat);
        assert_eq!(d(2027, 11, 30).weekday(), Weekday::Tue);
        assert_eq!(d(2027, 12, 25).weekday(), Weekday::Sat);
        assert_eq!(d(2028, 1, 1).weekday(), Weekday::Sat);
        assert_eq!(d(2028, 3, 17).weekday(), Weekday::Fri);
        assert_eq!(d(2028, 7, 12).weekday(), Weekday::Wed);
        assert_eq!(d(2028, 11, 30).weekday(), Weekday::Thu);
        assert_eq!(d(2028, 12, 25).weekday(), Weekday::Mon);
        assert_eq!(d(2025, 11, 30).weekday(), Weekday::Sun);
        for monday in [
            d(2026, 5, 4),
            d(2026, 5, 25),
            d(2026, 8, 3),
            d(2026, 8, 31),
            d(2027, 5, 3),
            d(2027, 5, 31),
            d(2027, 8, 2),
            d(2027, 8, 30),
            d(2028, 5, 1),
            d(2028, 5, 29),
            d(2028, 8, 7),
            d(2028, 8, 28),
        ] {
            assert_eq!(monday.weekday(), Weekday::Mon, "{monday}");
        }
    }

    #[test]
    fn easter_known_years() {
        for (year, month, day) in [
            (1818, 3, 22),
            (1943, 4, 25),
            (1961, 4, 2),
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2016, 3, 27),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(year), d(year, month, day), "Easter {year}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_in_range() {
        for year in 1583..=4099 {
            let easter = easter_sunday(year);
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert!(
                easter >= d(year, 3, 22) && easter <= d(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for year in [i32::MIN, -262_144, 0, 1, 262_143, i32::MAX] {
            for region in Region::ALL {
                let _ = bank_holidays(region, year);
            }
        }
        assert!(bank_holidays(Region::Scotland, i32::MAX).is_empty());
        let _ = easter_sunday(-1000);
        let _ = easter_sunday(262_000);
        let calendar = HolidayCalendar::new(Some(Region::NorthernIreland), []);
        assert_eq!(calendar.holiday_on(NaiveDate::MAX), None);
        let _ = calendar.holiday_on(NaiveDate::MIN);
    }

    #[test]
    fn england_and_wales_2026_to_2028() {
        let r = Region::EnglandAndWales;
        assert_list(
            r,
            2026,
            vec![
                h(2026, 1, 1, "New Year's Day"),
                h(2026, 4, 3, "Good Friday"),
                h(2026, 4, 6, "Easter Monday"),
                h(2026, 5, 4, "Early May bank holiday"),
                h(2026, 5, 25, "Spring bank holiday"),
                h(2026, 8, 31, "Summer bank holiday"),
                h(2026, 12, 25, "Christmas Day"),
                h(2026, 12, 28, "Boxing Day (substitute day)"),
            ],
        );
        assert_list(
            r,
            2027,
            vec![
                h(2027, 1, 1, "New Year's Day"),
                h(2027, 3, 26, "Good Friday"),
                h(2027, 3, 29, "Easter Monday"),
                h(2027, 5, 3, "Early May bank holiday"),
                h(2027, 5, 31, "Spring bank holiday"),
                h(2027, 8, 30, "Summer bank holiday"),
                h(2027, 12, 27, "Christmas Day (substitute day)"),
                h(2027, 12, 28, "Boxing Day (substitute day)"),
            ],
        );
        assert_list(
            r,
            2028,
            vec![
                h(2028, 1, 3, "New Year's Day (substitute day)"),
                h(2028, 4, 14, "Good Friday"),
                h(2028, 4, 17, "Easter Monday"),
                h(2028, 5, 1, "Early May bank holiday"),
                h(2028, 5, 29, "Spring bank holiday"),
                h(2028, 8, 28, "Summer bank holiday"),
                h(2028, 12, 25, "Christmas Day"),
                h(2028, 12, 26, "Boxing Day"),
            ],
        );
    }

    #[test]
    fn scotland_2026_to_2028() {
        let r = Region::Scotland;
        assert_list(
            r,
            2026,
            vec![
                h(2026, 1, 1, "New Year's Day"),
                h(2026, 1, 2, "2nd January"),
                h(2026, 4, 3, "Good Friday"),
                h(2026, 5, 4, "Early May bank holiday"),
                h(2026, 5, 25, "Spring bank holiday"),
                h(2026, 8, 3, "Summer bank holiday"),
                h(2026, 11, 30, "St Andrew's Day"),
                h(2026, 12, 25, "Christmas Day"),
                h(2026, 12, 28, "Boxing Day (substitute day)"),
            ],
        );
        assert_list(
            r,
            2027,
            vec![
                h(2027, 1, 1, "New Year's Day"),
                h(2027, 1, 4, "2nd January (substitute day)"),
                h(2027, 3, 26, "Good Friday"),
                h(2027, 5, 3, "Early May bank holiday"),
                h(2027, 5, 31, "Spring bank holiday"),
                h(2027, 8, 2, "Summer bank holiday"),
                h(2027, 11, 30, "St Andrew's Day"),
                h(2027, 12, 27, "Christmas Day (substitute day)"),
                h(2027, 12, 28, "Boxing Day (substitute day)"),
            ],
        );
        assert_list(
            r,
            2028,
            vec![
                h(2028, 1, 3, "New Year's Day (substitute day)"),
                h(2028, 1, 4, "2nd January (substitute day)"),
                h(2028, 4, 14, "Good Friday"),
                h(2028, 5, 1, "Early May bank holiday"),
                h(2028, 5, 29, "Spring bank holiday"),
                h(2028, 8, 7, "Summer bank holiday"),
                h(2028, 11, 30, "St Andrew's Day"),
                h(2028, 12, 25, "Christmas Day"),
                h(2028, 12, 26, "Boxing Day"),
            ],
        );
    }

    #[test]
    fn northern_ireland_2026_to_2028() {
        let r = Region::NorthernIreland;
        assert_list(
            r,
            2026,
            vec![
                h(2026, 1, 1, "New Year's Day"),
                h(2026, 3, 17, "St Patrick's Day"),
                h(2026, 4, 3, "Good Friday"),
                h(2026, 4, 6, "Easter Monday"),
                h(2026, 5, 4, "Early May bank holiday"),
                h(2026, 5, 25, "Spring bank holiday"),
                h(
                    2026,
                    7,
                    13,
                    "Battle of the Boyne (Orangemen's Day) (substitute day)",
                ),
                h(2026, 8, 31, "Summer bank holiday"),
                h(2026, 12, 25, "Christmas Day"),
                h(2026, 12, 28, "Boxing Day (substitute day)"),
            ],
        );
        assert_list(
            r,
            2027,
            vec![
                h(2027, 1, 1, "New Year's Day"),
                h(2027, 3, 17, "St Patrick's Day"),
                h(2027, 3, 26, "Good Friday"),
                h(2027, 3, 29, "Easter Monday"),
                h(2027, 5, 3, "Early May bank holiday"),
                h(2027, 5, 31, "Spring bank holiday"),
                h(2027, 7, 12, "Battle of the Boyne (Orangemen's Day)"),
                h(2027, 8, 30, "Summer bank holiday"),
                h(2027, 12, 27, "Christmas Day (substitute day)"),
                h(2027, 12, 28, "Boxing Day (substitute day)"),
            ],
        );
        assert_list(
            r,
            2028,
            vec![
                h(2028, 1, 3, "New Year's Day (substitute day)"),
                h(2028, 3, 17, "St Patrick's Day"),
                h(2028, 4, 14, "Good Friday"),
                h(2028, 4, 17, "Easter Monday"),
                h(2028, 5, 1, "Early May bank holiday"),
                h(2028, 5, 29, "Spring bank holiday"),
                h(2028, 7, 12, "Battle of the Boyne (Orangemen's Day)"),
                h(2028, 8, 28, "Summer bank holiday"),
                h(2028, 12, 25, "Christmas Day"),
                h(2028, 12, 26, "Boxing Day"),
            ],
        );
    }

    #[test]
    fn substitution_patterns_from_past_years() {
        // 2022: Christmas Day on a Sunday -> Boxing Day Monday 26, Christmas
        // substitute Tuesday 27.
        assert_eq!(d(2022, 12, 25).weekday(), Weekday::Sun);
        let ew_2022 = bank_holidays(Region::EnglandAndWales, 2022);
        assert!(ew_2022.contains(&h(2022, 12, 26, "Boxing Day")));
        assert!(ew_2022.contains(&h(2022, 12, 27, "Christmas Day (substitute day)")));

        // 2020: Christmas Day on a Friday -> Boxing Day substitute Monday 28.
        assert_eq!(d(2020, 12, 25).weekday(), Weekday::Fri);
        let ew_2020 = bank_holidays(Region::EnglandAndWales, 2020);
        assert!(ew_2020.contains(&h(2020, 12, 25, "Christmas Day")));
        assert!(ew_2020.contains(&h(2020, 12, 28, "Boxing Day (substitute day)")));

        // Scotland, 1 January on a Friday (2021): 2nd January substitute Monday 4.
        assert_eq!(d(2021, 1, 1).weekday(), Weekday::Fri);
        let s_2021 = bank_holidays(Region::Scotland, 2021);
        assert_eq!(
            &s_2021[..2],
            &[
                h(2021, 1, 1, "New Year's Day"),
                h(2021, 1, 4, "2nd January (substitute day)")
            ]
        );
        // Scotland, 1 January on a Saturday (2022): Monday 3 and Tuesday 4.
        let s_2022 = bank_holidays(Region::Scotland, 2022);
        assert_eq!(
            &s_2022[..2],
            &[
                h(2022, 1, 3, "New Year's Day (substitute day)"),
                h(2022, 1, 4, "2nd January (substitute day)")
            ]
        );
        // Scotland, 1 January on a Sunday (2023): Monday 2 and Tuesday 3.
        assert_eq!(d(2023, 1, 1).weekday(), Weekday::Sun);
        let s_2023 = bank_holidays(Region::Scotland, 2023);
        assert_eq!(
            &s_2023[..2],
            &[
                h(2023, 1, 2, "2nd January"),
                h(2023, 1, 3, "New Year's Day (substitute day)")
            ]
        );
        // St Andrew's Day on a Sunday (2025) moves to Monday 1 December.
        let s_2025 = bank_holidays(Region::Scotland, 2025);
        assert!(s_2025.contains(&h(2025, 12, 1, "St Andrew's Day (substitute day)")));
        // St Patrick's Day on a Sunday (2024) moves to Monday 18 March.
        assert_eq!(d(2024, 3, 17).weekday(), Weekday::Sun);
        let ni_2024 = bank_holidays(Region::NorthernIreland, 2024);
        assert!(ni_2024.contains(&h(2024, 3, 18, "St Patrick's Day (substitute day)")));
    }

    #[test]
    fn every_year_is_sane() {
        for year in 1980..=2100 {
            for region in Region::ALL {
                let list = bank_holidays(region, year);
                let expected = match region {
                    Region::EnglandAndWales => 8,
                    Region::Scotland => 9,
                    Region::NorthernIreland => 10,
                };
                assert_eq!(list.len(), expected, "{region:?} {year}");
                let dates: BTreeSet<_> = list.iter().map(|h| h.date).collect();
                assert_eq!(dates.len(), list.len(), "no shared dates {region:?} {year}");
                assert!(list.iter().all(|h| !is_weekend(h.date)));
                assert!(list.iter().all(|h| h.date.year() == year));
                assert!(list.windows(2).all(|w| w[0].date < w[1].date));
            }
        }
    }

    #[test]
    fn region_slugs_and_parsing() {
        for region in Region::ALL {
            assert_eq!(region.slug().parse::<Region>(), Ok(region));
            assert_eq!(region.slug().to_uppercase().parse::<Region>(), Ok(region));
        }
        assert_eq!(
            "England and Wales".parse::<Region>(),
            Ok(Region::EnglandAndWales)
        );
        assert_eq!(
            "northern_ireland".parse::<Region>(),
            Ok(Region::NorthernIreland)
        );
        let err = "wales".parse::<Region>().unwrap_err();
        assert_eq!(err.name, "wales");
        let message = err.to_string();
        for region in Region::ALL {
            assert!(message.contains(region.slug()), "{message}");
        }
        assert!(message.contains("\"none\""), "{message}");
        assert!("none".parse::<Region>().is_err());
        assert!("".parse::<Region>().is_err());
    }

    #[test]
    fn region_serde_names_match_slugs() {
        // The serde names come from `rename_all = "kebab-case"`; check they are
        // the same strings as `slug()` without pulling in a serde format crate.
        use serde::de::value::{Error as DeError, StrDeserializer};
        use serde::de::IntoDeserializer;
        use serde::Deserialize;
        for region in Region::ALL {
            let deserializer: StrDeserializer<'_, DeError> = region.slug().into_deserializer();
            assert_eq!(Region::deserialize(deserializer), Ok(region));
        }
    }

    #[test]
    fn calendar_lookups() {
        let extra = d(2027, 6, 7);
        let calendar = HolidayCalendar::new(Some(Region::Scotland), [extra, d(2027, 8, 2)]);
        assert_eq!(calendar.region(), Some(Region::Scotland));
        assert_eq!(
            calendar.holiday_on(d(2027, 1, 4)),
            Some(h(2027, 1, 4, "2nd January (substitute day)"))
        );
        assert_eq!(
            calendar.holiday_on(extra),
            Some(h(2027, 6, 7, "Extra holiday (from config)"))
        );
        // A regional holiday wins over an extra date on the same day.
        assert_eq!(
            calendar.holiday_on(d(2027, 8, 2)),
            Some(h(2027, 8, 2, "Summer bank holiday"))
        );
        // Easter Monday is not a Scottish bank holiday.
        assert_eq!(calendar.holiday_on(d(2027, 3, 29)), None);
        // The weekend date of a substituted holiday is not itself listed.
        assert_eq!(calendar.holiday_on(d(2027, 12, 25)), None);

        let none = HolidayCalendar::none();
        assert_eq!(none.region(), None);
        assert_eq!(none.holiday_on(d(2027, 12, 27)), None);

        let extras_only = HolidayCalendar::new(None, [extra]);
        assert_eq!(
            extras_only.holiday_on(extra).map(|h| h.name),
            Some("Extra holiday (from config)".to_string())
        );
        assert_eq!(extras_only.holiday_on(d(2027, 12, 27)), None);
    }
}
