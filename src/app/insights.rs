//! `/insights` for OD and wellbeing leads: how careprompt is used in the server, per theme and
//! week, in figures that identify nobody. For people who manage the server or hold its
//! facilitator role, and always answered privately.

use crate::app::checks::require_facilitator;
use crate::app::{Answer, Core, File, FollowUp, Request};
use crate::cards::text_card;
use crate::discord::insights::CHART_ALT_TEXT;
use crate::domain::insights::{View, NOT_ENOUGH_PEOPLE};
use crate::error::{Error, UserError};
use crate::insights::{report, CHART_FILE, CSV_FILE};

/// How many weeks `/insights` covers when the person does not say.
pub const DEFAULT_WEEKS: u32 = 12;

/// `/insights` over `weeks` up to and including this one: the summary with its chart, and the
/// same figures as a CSV file after it; or, while too few people have used careprompt here, why
/// there are no figures.
pub async fn insights(core: Core<'_>, request: &Request, weeks: u32) -> Result<Answer, Error> {
    let place =
        require_facilitator(core.store, request, UserError::NotAllowedToSeeInsights).await?;
    let min_people = core.settings.insights.min_people;
    let report = report(
        core.store,
        core.library,
        place,
        weeks,
        min_people,
        core.clock.now(),
    )
    .await?;
    let files = match (&report.view, report.files) {
        (View::Figures(_), Some(files)) => files,
        _ => {
            let text = format!(
                "There are {NOT_ENOUGH_PEOPLE} (careprompt shows figures once {min_people} people here have used it). Only you can see this."
            );
            return Ok(Answer::private(text_card(&text)));
        }
    };
    let chart = File {
        name: CHART_FILE.to_string(),
        bytes: files.png,
        description: Some(CHART_ALT_TEXT.to_string()),
    };
    let csv = File {
        name: CSV_FILE.to_string(),
        bytes: files.csv.into_bytes(),
        description: None,
    };
    Ok(Answer::private(text_card(&files.summary))
        .with_file(chart)
        .with_follow_up(FollowUp {
            text: "The same figures as a CSV file, for your own reports. Only you can see this."
                .to_string(),
            file: Some(csv),
            private: true,
        }))
}
