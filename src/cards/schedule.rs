//! The cards admins see when they manage a channel's schedule.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::cards::model::{Card, Colour, Panel};
use crate::domain::content::Library;
use crate::domain::planning::Slot;
use crate::store::{Delivery, DeliveryState, ScheduleRecord, UnreadableSchedule};

/// Discord allows 25 fields in an embed.
const MAX_LISTED: usize = 24;

fn when(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

fn theme_title<'a>(library: &'a Library, slug: &'a str) -> &'a str {
    library
        .theme(slug)
        .map_or(slug, |theme| theme.title.as_str())
}

/// The planned slots, one field each: when, theme, prompt and story.
fn slot_fields(library: &Library, slots: &[Slot], detailed: bool) -> Vec<(String, String, bool)> {
    slots
        .iter()
        .map(|slot| match slot {
            Slot::Post(post) => {
                let theme = theme_title(library, &post.pick.theme);
                let mut text = theme.to_string();
                if detailed {
                    if let Some((_, prompt)) = library.find_prompt(&post.pick.prompt_id) {
                        text.push_str(&format!("\n{}", prompt.text));
                    }
                    if let Some(story) = post
                        .pick
                        .story_id
                        .as_deref()
                        .and_then(|id| library.story(id))
                    {
                        text.push_str(&format!("\nStory: {} ({})", story.title, story.storyteller));
                    }
                }
                (
                    post.at_local.format("%a %-d %b %Y, %H:%M %Z").to_string(),
                    text,
                    false,
                )
            }
            Slot::Skipped { at_local, holiday } => (
                at_local.format("%a %-d %b %Y").to_string(),
                format!("No post: {}", holiday.name),
                false,
            ),
        })
        .collect()
}

fn settings_line(schedule: &ScheduleRecord) -> String {
    let settings = &schedule.settings;
    let mut line = format!(
        "`{}` in {}; bank holidays skipped: {}",
        settings.cron(),
        settings.timezone_name(),
        settings.bank_holidays_name()
    );
    if settings.include_bullying {
        line.push_str("; includes bullying and harassment");
    }
    if let Some(role) = schedule.role_ping {
        line.push_str(&format!("; pings <@&{role}>"));
    }
    if schedule.thread {
        line.push_str("; opens a thread for replies");
    }
    line
}

/// The answer to `/schedule set`: what was saved and the next three posts.
pub fn schedule_saved_card(
    library: &Library,
    schedule: &ScheduleRecord,
    created: bool,
    slots: &[Slot],
) -> Card {
    let verb = if created { "Scheduled" } else { "Updated" };
    let panel = Panel::new(
        format!("{verb}: reflection posts"),
        format!(
            "<#{}>: {}.\nThe next posts, in the schedule's own time zone:",
            schedule.channel_id,
            settings_line(schedule)
        ),
        Colour::Neutral,
    )
    .fields(slot_fields(library, slots, false));
    Card::new(panel, Vec::new())
}

/// `/schedule preview` and `/upcoming`: the next posts with their prompts and stories.
pub fn schedule_preview_card(library: &Library, schedule: &ScheduleRecord, slots: &[Slot]) -> Card {
    let mut description = format!("<#{}>: {}.", schedule.channel_id, settings_line(schedule));
    if schedule.paused {
        description.push_str(&match schedule.paused_until {
            Some(until) => format!(
                "\nPaused until {}; nothing is posted before then.",
                when(until, schedule.settings.schedule.timezone())
            ),
            None => "\nPaused: nothing is posted until /schedule resume.".to_string(),
        });
    }
    if schedule.disabled {
        description.push_str(
            "\nSwitched off: the channel could not be found. Set the schedule again to restart it.",
        );
    }
    let panel = Panel::new("Coming up", description, Colour::Neutral)
        .fields(slot_fields(library, slots, true));
    Card::new(panel, Vec::new())
}

/// A ledger row in a few words.
fn delivery_state_text(delivery: &Delivery) -> String {
    let detail = delivery.detail.as_deref().unwrap_or("");
    match delivery.state {
        DeliveryState::Sent => "posted".to_string(),
        DeliveryState::Claimed => "being posted".to_string(),
        DeliveryState::Failed => format!("failed: {detail}"),
        DeliveryState::Uncertain => format!("uncertain, not re-sent: {detail}"),
        DeliveryState::Missed => "missed (careprompt was not running in time)".to_string(),
        DeliveryState::Holiday => format!("no post: {detail}"),
        DeliveryState::Skipped => "skipped by an admin".to_string(),
    }
}

/// `/schedule list`: every schedule of the server, with its last post and any failure.
pub fn schedule_list_card(
    schedules: &[(ScheduleRecord, Option<Delivery>)],
    unreadable: &[UnreadableSchedule],
) -> Card {
    let mut fields = Vec::new();
    for (index, (schedule, last)) in schedules.iter().take(MAX_LISTED).enumerate() {
        let tz = schedule.settings.schedule.timezone();
        let mut text = format!("<#{}>: {}", schedule.channel_id, settings_line(schedule));
        let next = if schedule.disabled {
            "switched off (channel not found)".to_string()
        } else if schedule.paused {
            match schedule.paused_until {
                Some(until) => format!("paused until {}", when(until, tz)),
                None => "paused until resumed".to_string(),
            }
        } else {
            schedule
                .next_due
                .map_or_else(|| "none".to_string(), |at| when(at, tz))
        };
        text.push_str(&format!("\nNext post: {next}"));
        if let Some(last) = last {
            text.push_str(&format!(
                "\nLast: {}, {}",
                when(last.slot_at, tz),
                delivery_state_text(last)
            ));
        }
        if let Some(error) = &schedule.last_error {
            text.push_str(&format!("\nProblem: {error}"));
        }
        let text: String = text.chars().take(1024).collect();
        fields.push((format!("Schedule {}", index + 1), text, false));
    }
    let room = MAX_LISTED.saturating_sub(fields.len());
    for (index, schedule) in unreadable.iter().take(room).enumerate() {
        let text = format!(
            "<#{}>: switched off, because {}\nUse /schedule set in that channel to set it again.",
            schedule.channel_id, schedule.reason
        );
        let text: String = text.chars().take(1024).collect();
        fields.push((
            format!("Schedule {}", schedules.len() + index + 1),
            text,
            false,
        ));
    }
    let listed = schedules.len() + unreadable.len();
    let mut description = match listed {
        0 => "This server has no schedules yet. Use /schedule set to post reflection prompts in a channel.".to_string(),
        1 => "This server has one schedule.".to_string(),
        n => format!("This server has {n} schedules."),
    };
    if listed > MAX_LISTED {
        description.push_str(&format!(
            " The first {MAX_LISTED} are shown; /schedule preview shows any channel's."
        ));
    }
    let panel =
        Panel::new("Reflection post schedules", description, Colour::Neutral).fields(fields);
    Card::new(panel, Vec::new())
}
