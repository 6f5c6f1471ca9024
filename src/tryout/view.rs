//! What the page shows each person, and what its controls do: commands typed into the command
//! box and buttons clicked become the interactions Discord would send careprompt.

use axum::http::StatusCode;
use discord_standin::{
    dm_channel_id, ButtonClick, CommandInvocation, StandIn, CHANNEL_ID, GUILD_NAME,
    INTERACTION_TIMEOUT,
};
use serde_json::{json, Value};

use super::people::{self, Person};
use super::{TryState, CHANNEL};

/// Discord's flag on a message only its recipient sees.
const EPHEMERAL: u64 = 1 << 6;

/// What the page is told when something it asked for cannot be done; careprompt's own answers,
/// bad input included, arrive as messages instead.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("Choose Sam or Alex in 'Acting as'.")]
    UnknownPerson,
    #[error("Type a command, such as /help.")]
    EmptyCommand,
    #[error("The page sent something this try-out does not understand; reload it.")]
    BadRequest,
    #[error("Nothing here.")]
    NotFound,
    #[error("That file is no longer here; careprompt may have erased it.")]
    NoSuchFile,
    #[error("That message is no longer in the channel.")]
    NoSuchMessage,
    #[error("#wellbeing has no schedule yet. As Sam, set one with /schedule set.")]
    NoSchedule,
    #[error("The schedule of #wellbeing is paused. As Sam, /schedule resume starts it again.")]
    Paused,
    #[error("careprompt did not answer: {0}")]
    NoAnswer(String),
    #[error("careprompt's store could not be read: {0}")]
    Store(String),
}

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::UnknownPerson | PageError::EmptyCommand | PageError::BadRequest => {
                StatusCode::BAD_REQUEST
            }
            PageError::NotFound | PageError::NoSuchFile | PageError::NoSuchMessage => {
                StatusCode::NOT_FOUND
            }
            PageError::NoSchedule | PageError::Paused => StatusCode::CONFLICT,
            PageError::NoAnswer(_) | PageError::Store(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

/// careprompt's slash commands as it registered them, for the command box's suggestions: each
/// way to call one (with its subcommand), its description and its options.
pub fn command_list(discord: &StandIn) -> Value {
    let mut list = Vec::new();
    let registered = discord.registered_commands().unwrap_or(Value::Null);
    for command in registered.as_array().into_iter().flatten() {
        if command["type"].as_u64().unwrap_or(1) != 1 {
            continue;
        }
        let name = command["name"].as_str().unwrap_or_default();
        collect_calls(name, command, &mut list);
    }
    Value::Array(list)
}

fn collect_calls(path: &str, command: &Value, list: &mut Vec<Value>) {
    let options = command["options"].as_array().cloned().unwrap_or_default();
    let nested: Vec<&Value> = options
        .iter()
        .filter(|o| matches!(o["type"].as_u64(), Some(1 | 2)))
        .collect();
    if nested.is_empty() {
        let options: Vec<Value> = options
            .iter()
            .map(|o| {
                json!({"name": o["name"], "description": o["description"],
                       "required": o["required"].as_bool().unwrap_or(false),
                       "choices": o["choices"].as_array().map(|c| c.iter().map(|c| c["value"].clone()).collect::<Vec<_>>())})
            })
            .collect();
        list.push(
            json!({"call": format!("/{path}"), "description": command["description"],
                         "options": options}),
        );
        return;
    }
    for sub in nested {
        let name = sub["name"].as_str().unwrap_or_default();
        collect_calls(&format!("{path} {name}"), sub, list);
    }
}

/// A typed command split into its words before the options, and its `name:value` options.
struct Typed {
    words: Vec<String>,
    options: Vec<(String, String)>,
}

fn split_typed(text: &str) -> Typed {
    let mut typed = Typed {
        words: Vec::new(),
        options: Vec::new(),
    };
    for word in text.trim().trim_start_matches('/').split_whitespace() {
        let option = word.split_once(':').filter(|(name, _)| {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        match (option, typed.options.last_mut()) {
            (Some((name, value)), _) => typed
                .options
                .push((name.to_ascii_lowercase(), value.to_string())),
            (None, Some((_, value))) => {
                value.push(' ');
                value.push_str(word);
            }
            (None, None) => typed.words.push(word.to_ascii_lowercase()),
        }
    }
    typed
}

/// The interaction Discord would send for `text`, typed by `person`. Like Discord's own box, it
/// types each option as careprompt registered it; what does not fit (an unknown command, a
/// word where a number goes, a value too long) still goes to careprompt, whose answer the
/// person sees, so the page shows careprompt's own handling of bad input.
fn invocation(
    registered: &Value,
    person: Person,
    text: &str,
) -> Result<CommandInvocation, PageError> {
    let typed = split_typed(text);
    let Some(name) = typed.words.first() else {
        return Err(PageError::EmptyCommand);
    };
    let mut invocation = CommandInvocation::guild(name)
        .user(person.user_id)
        .permissions(person.permissions);
    let mut level = registered
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|c| c["name"].as_str() == Some(name.as_str()))
        })
        .cloned()
        .unwrap_or(Value::Null);
    for word in typed.words.iter().skip(1) {
        let sub = level["options"].as_array().and_then(|options| {
            options
                .iter()
                .find(|o| {
                    o["name"].as_str() == Some(word.as_str())
                        && matches!(o["type"].as_u64(), Some(1 | 2))
                })
                .cloned()
        });
        let Some(sub) = sub else { break };
        invocation = if sub["type"].as_u64() == Some(2) {
            invocation.option(json!({"name": word, "type": 2, "options": []}))
        } else {
            invocation.subcommand(word)
        };
        level = sub;
    }
    for (name, value) in typed.options {
        let kind = level["options"]
            .as_array()
            .and_then(|options| {
                options
                    .iter()
                    .find(|o| o["name"].as_str() == Some(name.as_str()))
            })
            .and_then(|o| o["type"].as_u64())
            .unwrap_or(3);
        invocation = typed_option(invocation, &name, kind, value.trim());
    }
    Ok(invocation)
}

fn typed_option(
    invocation: CommandInvocation,
    name: &str,
    kind: u64,
    value: &str,
) -> CommandInvocation {
    // A value that does not fit its option's type goes as text, which careprompt then refuses:
    // Discord would never send a word typed as a number.
    let as_typed = |_: u64| json!({"name": name, "type": 3, "value": value});
    match kind {
        4 => match value.parse::<i64>() {
            Ok(number) => invocation.option_int(name, number),
            Err(_) => invocation.option(as_typed(4)),
        },
        10 => match value.parse::<f64>() {
            Ok(number) => invocation.option_number(name, number),
            Err(_) => invocation.option(as_typed(10)),
        },
        5 => match value.to_ascii_lowercase().as_str() {
            "true" | "yes" => invocation.option_bool(name, true),
            "false" | "no" => invocation.option_bool(name, false),
            _ => invocation.option(as_typed(5)),
        },
        7 => {
            let channel = value.trim_start_matches('#');
            if channel == "wellbeing" || channel == CHANNEL_ID.to_string() {
                invocation.option_channel(name, CHANNEL_ID, 0)
            } else {
                invocation.option(as_typed(7))
            }
        }
        6 => {
            let who = value.trim_start_matches('@').to_ascii_lowercase();
            match people::PEOPLE.iter().find(|p| p.key == who) {
                Some(p) => invocation.option_user(name, p.user_id),
                None => invocation.option(as_typed(6)),
            }
        }
        8 => match value.parse::<u64>() {
            Ok(id) => invocation.option_role(name, id),
            Err(_) => invocation.option(as_typed(8)),
        },
        _ => invocation.option_str(name, value),
    }
}

/// Runs what `person` typed, as Discord would deliver it, and waits for careprompt's answer.
pub async fn run_command(state: &TryState, person: Person, text: &str) -> Result<Value, PageError> {
    let registered = state.discord.registered_commands().unwrap_or(Value::Null);
    let invocation = invocation(&registered, person, text)?;
    let interaction = state.discord.command_interaction(&invocation);
    let shown = format!("used /{}", shortened(text.trim().trim_start_matches('/')));
    deliver(state, person, interaction, shown).await
}

/// What the page repeats of a typed command: enough to recognise it.
fn shortened(text: &str) -> String {
    const LONGEST: usize = 120;
    match text.char_indices().nth(LONGEST) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Clicks a button of a message in the channel or in `person`'s DMs.
pub async fn click(
    state: &TryState,
    person: Person,
    message_id: &str,
    custom_id: &str,
) -> Result<Value, PageError> {
    let in_channel = |channel: u64| {
        state
            .discord
            .messages_in(channel)
            .into_iter()
            .find(|m| m["id"].as_str() == Some(message_id))
    };
    let in_a_thread = || {
        channel_threads(&state.discord)
            .into_iter()
            .find_map(|(thread, _)| in_channel(thread).map(|message| (thread, message)))
    };
    let click = if let Some(message) = in_channel(CHANNEL) {
        let mut click = ButtonClick::guild(custom_id)
            .user(person.user_id)
            .message(message);
        click.permissions = person.permissions;
        click
    } else if let Some((thread, message)) = in_a_thread() {
        let mut click = ButtonClick::guild(custom_id)
            .user(person.user_id)
            .channel(thread)
            .message(message);
        click.permissions = person.permissions;
        click
    } else if let Some(message) = in_channel(dm_channel_id(person.user_id)) {
        ButtonClick::dm(custom_id)
            .user(person.user_id)
            .message(message)
    } else {
        return Err(PageError::NoSuchMessage);
    };
    let interaction = state.discord.button_interaction(&click);
    let label = button_label(&click.message.unwrap_or_default(), custom_id);
    deliver(state, person, interaction, format!("pressed {label}")).await
}

fn button_label(message: &Value, custom_id: &str) -> String {
    fn find(components: &Value, custom_id: &str) -> Option<String> {
        components.as_array()?.iter().find_map(|c| {
            if c["custom_id"].as_str() == Some(custom_id) {
                c["label"].as_str().map(|l| format!("“{l}”"))
            } else {
                find(&c["components"], custom_id)
            }
        })
    }
    find(&message["components"], custom_id).unwrap_or_else(|| "a button".to_string())
}

async fn deliver(
    state: &TryState,
    person: Person,
    interaction: Value,
    shown: String,
) -> Result<Value, PageError> {
    let id = interaction["id"]
        .as_str()
        .and_then(|id| id.parse::<u64>().ok())
        .unwrap_or_default();
    if let Ok(mut asked) = state.asked.lock() {
        asked.push(super::Asked {
            interaction_id: id,
            user_id: person.user_id,
            shown,
            files: Vec::new(),
        });
    }
    let reply = state
        .discord
        .run_interaction(interaction, INTERACTION_TIMEOUT)
        .await
        .map_err(|err| PageError::NoAnswer(err.to_string()))?;
    let files = attached_files(&state.discord, &reply.token);
    if !files.is_empty() {
        if let Ok(mut asked) = state.asked.lock() {
            if let Some(entry) = asked.iter_mut().find(|a| a.interaction_id == id) {
                entry.files = files;
            }
        }
        state.nudged.send_modify(|n| *n = n.wrapping_add(1));
    }
    Ok(json!({"answered": true}))
}

/// The files careprompt sent with its answers to the interaction of `token`, by the names its
/// request gave them.
fn attached_files(discord: &StandIn, token: &str) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for request in discord.requests() {
        if request.files.is_empty() || !request.path.contains(token) {
            continue;
        }
        let body = request.body.clone().unwrap_or(Value::Null);
        let attachments = body["attachments"]
            .as_array()
            .or_else(|| body["data"]["attachments"].as_array())
            .cloned()
            .unwrap_or_default();
        for (part, bytes) in request.files {
            let index = part
                .trim_start_matches("files[")
                .trim_end_matches(']')
                .to_string();
            let name = attachments
                .iter()
                .find(|a| a["id"].to_string().trim_matches('"') == index)
                .and_then(|a| a["filename"].as_str())
                .unwrap_or("careprompt-file")
                .to_string();
            found.push((name, bytes));
        }
    }
    found
}

/// Moves careprompt's clock to the channel's next slot, and on past slots that post nothing (a
/// bank holiday), so that one press shows a card as a person expects.
pub async fn jump(state: &TryState) -> Result<Value, PageError> {
    for _ in 0..MOST_SLOTS_SKIPPED {
        let (schedule_id, due) = next_due(state).await?;
        let posts = state.discord.messages_in(CHANNEL).len();
        let now = crate::clock::Clock::now(&state.clock);
        let at = due.max(now);
        state.clock.set(at);
        state.nudged.send_modify(|n| *n = n.wrapping_add(1));
        // The scheduler claims the slot (moving the schedule on) before it posts; a slot that
        // posts nothing, such as a bank holiday, is recorded as such in the same claim.
        let deadline = tokio::time::Instant::now() + SLOT_WAIT;
        loop {
            if state.discord.messages_in(CHANNEL).len() > posts {
                return Ok(json!({"now": at.to_rfc3339()}));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(PageError::NoAnswer(
                    "the scheduler did not post the next card in time".to_string(),
                ));
            }
            match slot_outcome(state, schedule_id, due).await? {
                SlotOutcome::Pending => {}
                SlotOutcome::PostsNothing => break,
                SlotOutcome::NotPosted(why) => {
                    return Err(PageError::NoAnswer(format!(
                        "the scheduler could not post this slot's card: {why}"
                    )))
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let now = crate::clock::Clock::now(&state.clock);
    Ok(json!({"now": now.to_rfc3339()}))
}

/// Slots a jump passes over at most: a run of bank holidays is shorter.
const MOST_SLOTS_SKIPPED: usize = 8;
/// How long a jump waits for the scheduler to act on a slot.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the scheduler's ledger has the slot at `due`.
enum SlotOutcome {
    /// Not claimed yet, or claimed and on its way.
    Pending,
    /// Recorded as a slot that posts nothing, such as a bank holiday.
    PostsNothing,
    /// Recorded as failed, or as uncertain whether it was posted, with why.
    NotPosted(String),
}

async fn slot_outcome(
    state: &TryState,
    schedule_id: i64,
    due: chrono::DateTime<chrono::Utc>,
) -> Result<SlotOutcome, PageError> {
    use crate::store::DeliveryState;
    let recent = state
        .store
        .recent_deliveries(schedule_id, RECENT_SLOTS)
        .await
        .map_err(|err| PageError::Store(err.to_string()))?;
    let Some(slot) = recent.iter().find(|delivery| delivery.slot_at == due) else {
        return Ok(SlotOutcome::Pending);
    };
    Ok(match slot.state {
        DeliveryState::Holiday | DeliveryState::Missed | DeliveryState::Skipped => {
            SlotOutcome::PostsNothing
        }
        DeliveryState::Failed | DeliveryState::Uncertain => SlotOutcome::NotPosted(
            slot.detail
                .clone()
                .unwrap_or_else(|| slot.state.as_str().to_string()),
        ),
        DeliveryState::Claimed | DeliveryState::Sent => SlotOutcome::Pending,
    })
}

/// Ledger rows read to find a jump's slot: the claim records it among the newest.
const RECENT_SLOTS: u32 = 4;

async fn next_due(state: &TryState) -> Result<(i64, chrono::DateTime<chrono::Utc>), PageError> {
    let schedule = state
        .store
        .schedule_for_channel(CHANNEL)
        .await
        .map_err(|err| PageError::Store(err.to_string()))?
        .ok_or(PageError::NoSchedule)?;
    // A paused schedule posts nothing however far the clock moves.
    if schedule.paused || schedule.disabled {
        return Err(PageError::Paused);
    }
    let due = schedule.next_due.ok_or(PageError::NoSchedule)?;
    Ok((schedule.id, due))
}

/// The threads started in the page's channel, by id, with what Discord says of each.
fn channel_threads(discord: &StandIn) -> Vec<(u64, Value)> {
    let parent = CHANNEL.to_string();
    discord
        .threads()
        .into_iter()
        .filter(|thread| thread["parent_id"].as_str() == Some(parent.as_str()))
        .map(|thread| (snowflake(&thread["id"]), thread))
        .collect()
}

/// Discord's ids are strings of a number, and the stand-in's grow with time.
fn snowflake(id: &Value) -> u64 {
    id.as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_default()
}

/// A file careprompt attached, by its address on the page: `/files/{interaction}/{index}`.
pub fn file(state: &TryState, path: &str) -> Option<(String, Vec<u8>)> {
    let mut parts = path.trim_start_matches("/files/").split('/');
    let interaction: u64 = parts.next()?.parse().ok()?;
    let index: usize = parts.next()?.parse().ok()?;
    let asked = state.asked.lock().ok()?;
    let entry = asked.iter().find(|a| a.interaction_id == interaction)?;
    entry.files.get(index).cloned()
}

/// Everything `person` sees: the channel (others' private answers left out) and their DMs.
pub async fn view(state: &TryState, person: Person) -> Result<Value, PageError> {
    let asked = state
        .asked
        .lock()
        .map(|asked| asked.clone())
        .unwrap_or_default();
    let shown = |message: &Value| -> Option<Value> {
        let flags = message["flags"].as_u64().unwrap_or(0);
        let answered = message["interaction_metadata"]["id"]
            .as_str()
            .and_then(|id| id.parse::<u64>().ok());
        let asker = message["interaction_metadata"]["user"]["id"]
            .as_str()
            .and_then(|id| id.parse::<u64>().ok());
        let private = flags & EPHEMERAL != 0;
        if private && asker != Some(person.user_id) {
            return None;
        }
        let entry = answered.and_then(|id| asked.iter().find(|a| a.interaction_id == id));
        let used = entry.map(|a| {
            format!(
                "{} {}",
                people::name_of(a.user_id).unwrap_or("Someone"),
                a.shown
            )
        });
        let files: Vec<Value> = entry
            .map(|a| {
                a.files
                    .iter()
                    .enumerate()
                    .map(|(index, (name, bytes))| {
                        json!({"name": name, "size": bytes.len(),
                               "url": format!("/files/{}/{index}", a.interaction_id),
                               "image": name.ends_with(".png")})
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(
            json!({"id": message["id"], "content": message["content"], "embeds": message["embeds"],
                    "components": message["components"], "private": private,
                    "thinking": flags & 128 != 0, "used": used, "files": files}),
        )
    };
    let mut channel: Vec<Value> = state
        .discord
        .messages_in(CHANNEL)
        .iter()
        .filter_map(shown)
        .collect();
    // A thread shows where it was started, among the channel's messages, as Discord shows it.
    let mut channel_names = serde_json::Map::new();
    channel_names.insert(CHANNEL.to_string(), json!(discord_standin::CHANNEL_NAME));
    for (thread, about) in channel_threads(&state.discord) {
        let messages: Vec<Value> = state
            .discord
            .messages_in(thread)
            .iter()
            .filter_map(shown)
            .collect();
        channel.push(json!({"id": thread.to_string(), "thread": {
            "name": about["name"], "archived": about["thread_metadata"]["archived"].as_bool().unwrap_or(false),
            "messages": messages}}));
        channel_names.insert(thread.to_string(), about["name"].clone());
    }
    channel.sort_by_key(|item| snowflake(&item["id"]));
    let dms: Vec<Value> = state
        .discord
        .messages_in(dm_channel_id(person.user_id))
        .iter()
        .filter_map(shown)
        .collect();
    let next = state
        .store
        .schedule_for_channel(CHANNEL)
        .await
        .ok()
        .flatten()
        .and_then(|s| s.next_due)
        .map(|at| at.format("%a %-d %b %Y, %H:%M UTC").to_string());
    let now = crate::clock::Clock::now(&state.clock)
        .format("%a %-d %b %Y, %H:%M UTC")
        .to_string();
    Ok(json!({
        "me": {"key": person.key, "name": person.name, "label": person.label},
        "server": GUILD_NAME,
        "now": now,
        "next_post": next,
        "channel": channel,
        "channel_names": channel_names,
        "dms": dms,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_run_to_the_next_name_and_value() {
        let typed = split_typed("/schedule set cron:0 9 * * 1 tz:Europe/London time:09:30");
        assert_eq!(typed.words, ["schedule", "set"]);
        assert_eq!(
            typed.options,
            [
                ("cron".to_string(), "0 9 * * 1".to_string()),
                ("tz".to_string(), "Europe/London".to_string()),
                ("time".to_string(), "09:30".to_string()),
            ]
        );
    }
}
