//! `/insights` and `careprompt insights`: a server's figures as a view, its chart and its CSV,
//! made the same way for both.

use chrono::{DateTime, Utc};

use crate::discord::chart::{savers_chart, ChartError};
use crate::domain::content::Library;
use crate::domain::insights::{build_view, first_week, ThemeName, View};
use crate::store::{Store, StoreError};

/// File names of the attachments (and of the files `careprompt insights` writes).
pub const CHART_FILE: &str = "careprompt-insights.png";
pub const CSV_FILE: &str = "careprompt-insights.csv";

/// The chart's alternative text, within Discord's 1,024 characters for an attachment's
/// description; the message beside it carries the full summary.
pub const CHART_ALT_TEXT: &str = "Line chart of people who saved a careprompt card each week, one line per theme; hidden figures are hollow markers in a grey band. The message text summarises it.";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// A server's view, with its chart and CSV when it has figures to show.
#[derive(Debug)]
pub struct Report {
    pub view: View,
    pub files: Option<ReportFiles>,
}

#[derive(Debug)]
pub struct ReportFiles {
    pub summary: String,
    pub png: Vec<u8>,
    pub csv: String,
}

/// The themes in the library's order, as the figures name them.
pub fn theme_names(library: &Library) -> Vec<ThemeName> {
    library
        .themes
        .iter()
        .map(|theme| ThemeName {
            slug: theme.slug.clone(),
            title: theme.title.clone(),
        })
        .collect()
}

/// The `weeks` weeks up to the one holding `now`, for the server.
pub async fn report(
    store: &Store,
    library: &Library,
    guild_id: u64,
    weeks: u32,
    min_people: u32,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    let first = first_week(now, weeks);
    let tallies = store.insight_tallies(guild_id, first, weeks).await?;
    let view = build_view(&tallies, &theme_names(library), first, weeks, min_people);
    let files = match &view {
        View::NotEnoughPeople { .. } => None,
        View::Figures(figures) => Some(ReportFiles {
            summary: figures.summary(),
            png: savers_chart(figures)?,
            csv: figures.csv(),
        }),
    };
    Ok(Report { view, files })
}
