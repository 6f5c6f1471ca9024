//! `/insights` for OD and wellbeing leads: how careprompt is used in the server, per theme and
//! week, in figures that identify nobody. For members with Manage Server or the server's
//! facilitator role (set with /session role), checked in `app::insights`, which answers it; here
//! are Discord's options.

use crate::app;
use crate::bot::data::{request, AppContext, Error};

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
// role careprompt keeps, so who may see the figures is checked in `app::checks`.
#[poise::command(slash_command, guild_only)]
pub async fn insights(
    ctx: AppContext<'_>,
    #[description = "How many weeks, up to this one (12 if you leave it out)"] weeks: Option<
        Period,
    >,
) -> Result<(), Error> {
    let data = ctx.data();
    let weeks = weeks.map_or(app::insights::DEFAULT_WEEKS, Period::weeks);
    let answer = app::insights::insights(data.core(), &request(&ctx), weeks).await?;
    data.answer(&ctx, answer).await
}
