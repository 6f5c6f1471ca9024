//! `/insights` for OD and wellbeing leads: how careprompt is used in the server, per theme and
//! week, in figures that identify nobody. For members with Manage Server or the server's
//! facilitator role (set with /session role), checked here, and always answered privately.

use crate::app::checks::require_facilitator;
use crate::bot::data::request;
use crate::bot::data::{AppContext, Error, ReplyFailed};
use crate::cards::text_card;
use crate::discord::insights::{chart_attachment, csv_attachment};
use crate::domain::insights::{View, NOT_ENOUGH_PEOPLE};
use crate::error::UserError;
use crate::insights::report;

pub fn commands() -> Vec<super::Command> {
    vec![insights()]
}

/// How many weeks `/insights` covers, up to and including this one.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Period {
    #[name = "4 weeks"]
    Four,
    #[name = "12 weeks"]
    Twelve,
    #[name = "26 weeks"]
    TwentySix,
    #[name = "52 weeks"]
    FiftyTwo,
}

impl Period {
    pub fn weeks(self) -> u32 {
        match self {
            Period::Four => 4,
            Period::Twelve => 12,
            Period::TwentySix => 26,
            Period::FiftyTwo => 52,
        }
    }
}

/// How careprompt is used here, per theme and week, without identifying anyone. Only you see it.
// Offered to everyone, as /session is: Discord's command permissions cannot name the facilitator
// role careprompt keeps, so who may see the figures is checked here.
#[poise::command(slash_command, guild_only)]
pub async fn insights(
    ctx: AppContext<'_>,
    #[description = "How many weeks, up to this one (12 if you leave it out)"] weeks: Option<
        Period,
    >,
) -> Result<(), Error> {
    let data = ctx.data();
    let guild = require_facilitator(
        &ctx.data().store,
        &request(&ctx),
        UserError::NotAllowedToSeeInsights,
    )
    .await?;
    let weeks = weeks.map_or(12, Period::weeks);
    let min_people = data.settings.insights.min_people;
    let report = report(
        &data.store,
        &data.library,
        guild,
        weeks,
        min_people,
        data.clock.now(),
    )
    .await?;
    let files = match (&report.view, report.files) {
        (View::Figures(_), Some(files)) => files,
        _ => {
            let text = format!(
                "There are {NOT_ENOUGH_PEOPLE} (careprompt shows figures once {min_people} people here have used it). Only you can see this."
            );
            return data.reply(&ctx, text_card(&text), true).await;
        }
    };
    data.rest
        .respond_with_file(
            ctx.interaction.id,
            &ctx.interaction.token,
            text_card(&files.summary),
            true,
            chart_attachment(files.png),
        )
        .await
        .map_err(ReplyFailed)?;
    data.rest
        .followup_with_file(
            ctx.interaction.application_id,
            &ctx.interaction.token,
            "The same figures as a CSV file, for your own reports. Only you can see this.",
            true,
            csv_attachment(files.csv),
        )
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}
