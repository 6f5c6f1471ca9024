//! The insights report, for `/insights` and `careprompt insights`: a server's figures read from
//! the store as a view, its chart (a PNG) and its CSV, made the same way for both. It knows
//! nothing of Discord; `discord::insights` wraps the files as attachments.

pub mod canvas;
pub mod chart;

use chrono::{DateTime, Utc};

use crate::domain::content::Library;
use crate::domain::insights::{build_view, first_week, ThemeName, View};
use crate::insights::chart::{savers_chart, ChartError};
use crate::store::{Store, StoreError};

/// File names of the report's files: those `careprompt insights` writes, and the attachments.
pub const CHART_FILE: &str = "careprompt-insights.png";
pub const CSV_FILE: &str = "careprompt-insights.csv";

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
