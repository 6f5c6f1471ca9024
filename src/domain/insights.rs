//! The figures an OD lead sees (`/insights`): per theme and per week, posts made, people who
//! saved a card, people who got DMs and DMs sent, with every count of people checked by
//! [`suppress`] so that no figure identifies anyone. Also the CSV and the text summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::suppression::{suppress, Hidden};

/// Seconds in a week.
pub const WEEK_SECS: i64 = 7 * 24 * 60 * 60;

/// 1970-01-05 00:00 UTC, the first Monday of unix time: weeks start on Mondays, in UTC.
pub const FIRST_MONDAY: i64 = 4 * 24 * 60 * 60;

/// The periods `/insights` offers, in weeks.
pub const PERIODS: [u32; 4] = [4, 12, 26, 52];

/// The least `[insights] min_people` may be: below 3, two people who compare notes could tell
/// who the third is.
pub const LEAST_MIN_PEOPLE: u32 = 3;

pub const DEFAULT_MIN_PEOPLE: u32 = 5;

/// How long usage records are kept: a year of weeks plus the one under way, so that the 52-week
/// view is always whole.
pub const KEPT_WEEKS: i64 = 53;

/// The unix time of the Monday 00:00 UTC that starts the week holding `at`.
pub fn week_of(at: i64) -> i64 {
    FIRST_MONDAY + (at - FIRST_MONDAY).div_euclid(WEEK_SECS) * WEEK_SECS
}

/// The start of the first of the `weeks` weeks that end with the one holding `now`.
pub fn first_week(now: DateTime<Utc>, weeks: u32) -> i64 {
    week_of(now.timestamp()) - (i64::from(weeks) - 1) * WEEK_SECS
}

/// Kinds of usage record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageKind {
    /// Saved a card of the theme.
    Saved,
    /// Opted in to the server's cards by DM (no theme).
    OptedIn,
}

impl UsageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UsageKind::Saved => "saved",
            UsageKind::OptedIn => "opted_in",
        }
    }

    pub fn parse(text: &str) -> Option<UsageKind> {
        [UsageKind::Saved, UsageKind::OptedIn]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Which figure a tally counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// Channel posts made (not people).
    Posts,
    /// Distinct people who saved a card of the theme.
    Savers,
    /// Distinct people sent a DM of the theme.
    DmPeople,
    /// DMs sent (not people).
    Dms,
    /// Distinct people who opted in to DMs during the period (no week or theme).
    OptedIn,
    /// People opted in to DMs now (no week or theme).
    OptedInNow,
    /// Distinct people with any usage record kept for the server, whenever.
    PeopleEver,
    /// Reflective sessions run (not people).
    Sessions,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Posts => "posts",
            Measure::Savers => "savers",
            Measure::DmPeople => "dm_people",
            Measure::Dms => "dms",
            Measure::OptedIn => "opted_in",
            Measure::OptedInNow => "opted_in_now",
            Measure::PeopleEver => "people_ever",
            Measure::Sessions => "sessions",
        }
    }

    pub fn parse(text: &str) -> Option<Measure> {
        [
            Measure::Posts,
            Measure::Savers,
            Measure::DmPeople,
            Measure::Dms,
            Measure::OptedIn,
            Measure::OptedInNow,
            Measure::PeopleEver,
            Measure::Sessions,
        ]
        .into_iter()
        .find(|measure| measure.as_str() == text)
    }
}

/// One figure as the store counted it: `week` or `theme` is `None` for all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub measure: Measure,
    pub week: Option<i64>,
    pub theme: Option<String>,
    pub count: u64,
}

/// A figure as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Count(u64),
    /// Fewer than this many people (and more than none).
    FewerThan(u32),
    /// Hidden so that a smaller figure cannot be worked out.
    Withheld,
}

impl Figure {
    pub fn count(self) -> Option<u64> {
        match self {
            Figure::Count(count) => Some(count),
            _ => None,
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Count(count) => write!(f, "{count}"),
            Figure::FewerThan(min) => write!(f, "fewer than {min}"),
            Figure::Withheld => write!(f, "withheld"),
        }
    }
}

/// A measure by week and theme, with margins: `cells[week][theme]`, `week_totals[week]`,
/// `theme_totals[theme]` and `total`, each as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub measure: Measure,
    pub cells: Vec<Vec<Figure>>,
    pub week_totals: Vec<Figure>,
    pub theme_totals: Vec<Figure>,
    pub total: Figure,
}

/// A theme as the figures name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeName {
    pub slug: String,
    pub title: String,
}

/// What `/insights` shows for a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Fewer than `min_people` people ever used careprompt in the server: any figure about
    /// people could identify one of them.
    NotEnoughPeople {
        min_people: u32,
    },
    Figures(Box<Figures>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub min_people: u32,
    /// The start of each week (unix seconds, Monday 00:00 UTC), oldest first.
    pub weeks: Vec<i64>,
    pub themes: Vec<ThemeName>,
    pub posts: Grid,
    pub savers: Grid,
    pub dm_people: Grid,
    pub dms: Grid,
    pub sessions: Grid,
    pub opted_in: Figure,
    pub opted_in_now: Figure,
}

/// The wording for a server with too few people.
pub const NOT_ENOUGH_PEOPLE: &str =
    "not enough people yet to show figures without identifying anyone";

/// The rule, as the chart's caption and the summary state it.
pub fn suppression_rule(min_people: u32) -> String {
    format!(
        "Counts of 1 to {} people are shown as \"fewer than {min_people}\", and some others are \
         withheld so that they cannot be worked out by subtraction.",
        min_people - 1
    )
}

/// The view of `weeks` weeks starting at `first_week` from the store's tallies. `themes` are the
/// library's, in its order; a theme found only in the tallies (since removed from the library)
/// comes after them under its slug.
pub fn build_view(
    tallies: &[Tally],
    themes: &[ThemeName],
    first_week: i64,
    weeks: u32,
    min_people: u32,
) -> View {
    let min = u64::from(min_people);
    let single = |measure: Measure| {
        tallies
            .iter()
            .filter(|tally| tally.measure == measure && tally.week.is_none())
            .filter(|tally| tally.theme.is_none())
            .map(|tally| tally.count)
            .sum::<u64>()
    };
    if single(Measure::PeopleEver) < min {
        return View::NotEnoughPeople { min_people };
    }
    let week_starts: Vec<i64> = (0..i64::from(weeks))
        .map(|index| first_week + index * WEEK_SECS)
        .collect();
    let mut themes = themes.to_vec();
    for tally in tallies {
        if let Some(slug) = &tally.theme {
            if !slug.is_empty() && !themes.iter().any(|theme| &theme.slug == slug) {
                themes.push(ThemeName {
                    slug: slug.clone(),
                    title: slug.clone(),
                });
            }
        }
    }
    let table = |measure: Measure, additive: bool| {
        raw_table(tallies, measure, &week_starts, &themes, additive)
    };
    let posts = table(Measure::Posts, true);
    let savers = table(Measure::Savers, false);
    let dm_people = table(Measure::DmPeople, false);
    let dms = table(Measure::Dms, true);
    let sessions = table(Measure::Sessions, true);
    let nothing_hidden = vec![vec![Hidden::No; themes.len() + 1]; week_starts.len() + 1];
    let savers_hidden = suppress(&savers, min);
    let dm_hidden = suppress(&dm_people, min);
    // DMs sent are messages, not people, but DMs to fewer than min people would count them; they
    // are hidden wherever the people they went to are.
    let dms_hidden: Vec<Vec<Hidden>> = dm_hidden
        .iter()
        .map(|row| {
            row.iter()
                .map(|hidden| match hidden {
                    Hidden::No => Hidden::No,
                    _ => Hidden::Complement,
                })
                .collect()
        })
        .collect();
    let single_figure = |measure: Measure| {
        let count = single(measure);
        if count > 0 && count < min {
            Figure::FewerThan(min_people)
        } else {
            Figure::Count(count)
        }
    };
    View::Figures(Box::new(Figures {
        min_people,
        weeks: week_starts,
        themes,
        posts: grid(Measure::Posts, &posts, &nothing_hidden, min_people),
        savers: grid(Measure::Savers, &savers, &savers_hidden, min_people),
        dm_people: grid(Measure::DmPeople, &dm_people, &dm_hidden, min_people),
        dms: grid(Measure::Dms, &dms, &dms_hidden, min_people),
        sessions: grid(Measure::Sessions, &sessions, &nothing_hidden, min_people),
        opted_in: single_figure(Measure::OptedIn),
        opted_in_now: single_figure(Measure::OptedInNow),
    }))
}

/// Weeks by themes with margins last. Additive measures have their margins summed here;
/// distinct counts take theirs from the store, which counted each person once.
fn raw_table(
    tallies: &[Tally],
    measure: Measure,
    weeks: &[i64],
    themes: &[ThemeName],
    additive: bool,
) -> Vec<Vec<u64>> {
    let week_index: BTreeMap<i64, usize> = weeks.iter().enumerate().map(|(i, &w)| (w, i)).collect();
    let theme_index = |slug: &str| themes.iter().position(|theme| theme.slug == slug);
    let (w, t) = (weeks.len(), themes.len());
    let mut table = vec![vec![0u64; t + 1]; w + 1];
    for tally in tallies.iter().filter(|tally| tally.measure == measure) {
        let row = match tally.week {
            Some(week) => match week_index.get(&week) {
                Some(&row) => row,
                None => continue,
            },
            None => w,
        };
        let col = match &tally.theme {
            Some(slug) => match theme_index(slug) {
                Some(col) => col,
                None => continue,
            },
            None => t,
        };
        if additive && (row == w || col == t) {
            continue;
        }
        table[row][col] += tally.count;
    }
    if additive {
        for row in table.iter_mut().take(w) {
            row[t] = row[..t].iter().sum();
        }
        let totals: Vec<u64> = (0..=t)
            .map(|col| table[..w].iter().map(|row| row[col]).sum())
            .collect();
        table[w] = totals;
    }
    table
}

fn grid(measure: Measure, table: &[Vec<u64>], hidden: &[Vec<Hidden>], min_people: u32) -> Grid {
    let figure = |row: usize, col: usize| match hidden[row][col] {
        Hidden::No => Figure::Count(table[row][col]),
        Hidden::Small => Figure::FewerThan(min_people),
        Hidden::Complement => Figure::Withheld,
    };
    let w = table.len() - 1;
    let t = table[0].len() - 1;
    Grid {
        measure,
        cells: (0..w)
            .map(|row| (0..t).map(|col| figure(row, col)).collect())
            .collect(),
        week_totals: (0..w).map(|row| figure(row, t)).collect(),
        theme_totals: (0..t).map(|col| figure(w, col)).collect(),
        total: figure(w, t),
    }
}

/// `2027-03-15`, the Monday a week starts on.
pub fn week_label(week: i64) -> String {
    DateTime::from_timestamp(week, 0)
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl Figures {
    pub fn grids(&self) -> [&Grid; 5] {
        [
            &self.posts,
            &self.savers,
            &self.dm_people,
            &self.dms,
            &self.sessions,
        ]
    }

    /// The CSV of every figure: one line per measure, week and theme, "all" for a margin. A
    /// hidden figure's `count` is empty and `shown` says why. No field needs quoting (slugs and
    /// dates only), which a test checks.
    pub fn csv(&self) -> String {
        let mut out = String::from("measure,week_starting,theme,count,shown\n");
        let mut line = |measure: Measure, week: &str, theme: &str, figure: Figure| {
            let count = figure.count().map(|c| c.to_string()).unwrap_or_default();
            let _ = writeln!(out, "{},{week},{theme},{count},{figure}", measure.as_str());
        };
        for grid in self.grids() {
            for (row, &week) in self.weeks.iter().enumerate() {
                let week = week_label(week);
                for (col, theme) in self.themes.iter().enumerate() {
                    line(grid.measure, &week, &theme.slug, grid.cells[row][col]);
                }
                line(grid.measure, &week, "all", grid.week_totals[row]);
            }
            for (col, theme) in self.themes.iter().enumerate() {
                line(grid.measure, "all", &theme.slug, grid.theme_totals[col]);
            }
            line(grid.measure, "all", "all", grid.total);
        }
        line(Measure::OptedIn, "all", "all", self.opted_in);
        line(Measure::OptedInNow, "now", "all", self.opted_in_now);
        out
    }

    /// The text summary: the totals per theme and over all, which is also what the chart shows,
    /// for someone who cannot see it.
    pub fn summary(&self) -> String {
        let (Some(&first), Some(&last)) = (self.weeks.first(), self.weeks.last()) else {
            return String::new();
        };
        let mut out = format!(
            "Insights for the {} weeks from Monday {} (weeks start Monday 00:00 UTC).\n",
            self.weeks.len(),
            week_label(first)
        );
        let _ = writeln!(
            out,
            "In total: {} posts made, {} people saved a card, {} DMs sent to {} people, {} reflective sessions run. {} people opted in to DMs in these weeks; {} are opted in now.",
            self.posts.total,
            self.savers.total,
            self.dms.total,
            self.dm_people.total,
            self.sessions.total,
            self.opted_in,
            self.opted_in_now
        );
        out.push_str("By theme (posts; people who saved a card; sessions run):\n");
        for (col, theme) in self.themes.iter().enumerate() {
            let _ = writeln!(
                out,
                "- {}: {} posts; {} people; {} sessions",
                theme.title,
                self.posts.theme_totals[col],
                self.savers.theme_totals[col],
                self.sessions.theme_totals[col]
            );
        }
        let busiest = self
            .savers
            .week_totals
            .iter()
            .zip(&self.weeks)
            .filter_map(|(figure, &week)| figure.count().map(|count| (count, week)))
            .max_by_key(|&(count, week)| (count, std::cmp::Reverse(week)));
        if let Some((count, week)) = busiest.filter(|&(count, _)| count > 0) {
            let _ = writeln!(
                out,
                "The chart shows people who saved a card each week, by theme; the most was {count}, in the week of {}.",
                week_label(week)
            );
        }
        let _ = write!(
            out,
            "{} The week of {} is still under way.",
            suppression_rule(self.min_people),
            week_label(last)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn themes() -> Vec<ThemeName> {
        ["compassion", "resilience"]
            .iter()
            .map(|slug| ThemeName {
                slug: slug.to_string(),
                title: slug.to_string(),
            })
            .collect()
    }

    fn tally(measure: Measure, week: Option<i64>, theme: Option<&str>, count: u64) -> Tally {
        Tally {
            measure,
            week,
            theme: theme.map(str::to_string),
            count,
        }
    }

    const W0: i64 = FIRST_MONDAY + 2_900 * WEEK_SECS;

    #[test]
    fn weeks_start_on_monday_midnight_utc() {
        // 2027-03-17 was a Wednesday; its week began on Monday 2027-03-15.
        let wednesday = DateTime::parse_from_rfc3339("2027-03-17T15:04:05Z")
            .expect("valid")
            .timestamp();
        assert_eq!(week_label(week_of(wednesday)), "2027-03-15");
        let monday = DateTime::parse_from_rfc3339("2027-03-15T00:00:00Z")
            .expect("valid")
            .timestamp();
        assert_eq!(week_of(monday), monday);
        assert_eq!(week_of(monday - 1), monday - WEEK_SECS);
    }

    #[test]
    fn too_few_people_ever_shows_no_figures() {
        let tallies = [tally(Measure::PeopleEver, None, None, 4)];
        assert_eq!(
            build_view(&tallies, &themes(), W0, 4, 5),
            View::NotEnoughPeople { min_people: 5 }
        );
        let tallies = [tally(Measure::PeopleEver, None, None, 5)];
        assert!(matches!(
            build_view(&tallies, &themes(), W0, 4, 5),
            View::Figures(_)
        ));
    }

    #[test]
    fn small_counts_of_people_are_hidden_and_posts_are_not() {
        let tallies = [
            tally(Measure::PeopleEver, None, None, 40),
            tally(Measure::Posts, Some(W0), Some("compassion"), 1),
            tally(Measure::Savers, Some(W0), Some("compassion"), 2),
            tally(Measure::Savers, Some(W0), Some("resilience"), 9),
            tally(Measure::Savers, Some(W0), None, 11),
            tally(Measure::Savers, None, Some("compassion"), 2),
            tally(Measure::Savers, None, Some("resilience"), 9),
            tally(Measure::Savers, None, None, 11),
            tally(Measure::OptedInNow, None, None, 3),
        ];
        let View::Figures(figures) = build_view(&tallies, &themes(), W0, 2, 5) else {
            panic!("enough people");
        };
        assert_eq!(figures.posts.cells[0][0], Figure::Count(1));
        assert_eq!(figures.posts.total, Figure::Count(1));
        assert_eq!(figures.savers.cells[0][0], Figure::FewerThan(5));
        assert_eq!(figures.savers.theme_totals[0], Figure::FewerThan(5));
        // The 9 would give the 2 away from the week's 11.
        assert!(figures.savers.cells[0][1] != Figure::Count(9));
        assert_eq!(figures.opted_in_now, Figure::FewerThan(5));
        let csv = figures.csv();
        assert!(
            csv.contains("savers,all,compassion,,fewer than 5\n"),
            "{csv}"
        );
        assert!(csv.contains("posts,all,all,1,1\n"), "{csv}");
        assert!(!csv.contains('"'));
        let summary = figures.summary();
        assert!(summary.contains("fewer than 5"), "{summary}");
    }

    #[test]
    fn the_rule_names_the_threshold() {
        assert!(suppression_rule(5).contains("1 to 4 people"));
    }
}
