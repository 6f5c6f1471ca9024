//! Prompts by direct message: each person chooses, per server, and can keep themes out. Every
//! answer is private.

use crate::app::checks::{find_theme, require_place};
use crate::app::{Answer, Core, Request};
use crate::cards::note_card;
use crate::domain::insights::UsageKind;
use crate::error::Error;

/// `/optin`: this server's scheduled cards by direct message too.
pub async fn optin(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    let place = require_place(request)?;
    let person = request.who.id;
    let added = core
        .store
        .set_dm_optin(person, place, true, core.clock.now())
        .await?;
    if added {
        // Counted for /insights; a failure to count never holds up the answer.
        if let Err(err) = core
            .store
            .record_usage(place, person, "", UsageKind::OptedIn, core.clock.now())
            .await
        {
            tracing::warn!(error = %err, "could not count an opt-in for insights");
        }
    }
    let text = if added {
        "From now on, each card this server's schedules post is also sent to you by DM. /mute keeps a theme out of your DMs, and /optout stops them."
    } else {
        "You already get this server's cards by DM. If your DMs were closed, they will be tried again from the next card."
    };
    Ok(Answer::private(note_card(text.to_string())))
}

/// `/optout`: no more of this server's cards by direct message.
pub async fn optout(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    let place = require_place(request)?;
    let removed = core
        .store
        .set_dm_optin(request.who.id, place, false, core.clock.now())
        .await?;
    let text = if removed {
        "Done: no more DMs from this server's schedules. The posts in the channel carry on."
    } else {
        "You were not getting this server's cards by DM, so nothing has changed."
    };
    Ok(Answer::private(note_card(text.to_string())))
}

/// `/mute` (`muted`) and `/unmute`: a theme kept out of, or let back into, the person's direct
/// messages, in every server.
pub async fn set_muted(
    core: Core<'_>,
    request: &Request,
    theme: &str,
    muted: bool,
) -> Result<Answer, Error> {
    let theme = find_theme(core.library, theme)?;
    let changed = core
        .store
        .set_theme_muted(request.who.id, &theme.slug, muted, core.clock.now())
        .await?;
    let title = &theme.title;
    let text = match (muted, changed) {
        (true, true) => format!(
            "{title} is now left out of your DMs. The channel posts are not affected. /unmute brings it back."
        ),
        (true, false) => format!("{title} was already left out of your DMs."),
        (false, true) => format!("{title} is back in your DMs."),
        (false, false) => format!("{title} was not muted."),
    };
    Ok(Answer::private(note_card(text)))
}
