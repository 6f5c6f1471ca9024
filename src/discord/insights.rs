//! The insights report (`crate::insights`) as Discord attachments: the chart with its
//! alternative text (the CSV goes as it is, from `app::insights`).

use poise::serenity_prelude::CreateAttachment;

use crate::insights::CHART_FILE;

/// The chart's alternative text, within Discord's 1,024 characters for an attachment's
/// description; the message beside it carries the full summary.
pub const CHART_ALT_TEXT: &str = "Line chart of people who saved a careprompt card each week, one line per theme; hidden figures are hollow markers in a grey band. The message text summarises it.";

/// The chart (a PNG) as an attachment, described for people who cannot see it.
pub fn chart_attachment(png: Vec<u8>) -> CreateAttachment {
    let mut chart = CreateAttachment::bytes(png, CHART_FILE);
    chart.description = Some(CHART_ALT_TEXT.to_string());
    chart
}
