//! Discord's [`Outbox`]: the REST client with its pacer and retries, a nonce Discord enforces on
//! every post, a look back through the channel for a post's buttons before sending it again, and
//! Discord's refusals read as what they mean (404: the channel is gone; 403: not allowed there).

use chrono::{DateTime, Utc};

use crate::cards::{Act, Card};
use crate::discord::render::post_body;
use crate::discord::rest::{ChannelMessage, MessageComponent};
use crate::discord::{Rest, RestError};
use crate::platform::{Failure, Lookup, Mark, Outbox, SendError, SendKey, Unknown};

/// How long Discord is trusted to drop a re-sent nonce. Discord says "a few minutes".
pub const NONCE_WINDOW: chrono::Duration = chrono::Duration::minutes(2);

/// Discord's epoch, the start of 2015, in unix milliseconds.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// Clocks differ between careprompt and Discord; a lookup starts this much before the claim.
const LOOKUP_MARGIN: chrono::Duration = chrono::Duration::minutes(2);

/// Discord returns at most 100 messages a page; a full page means more may be hidden.
const LOOKUP_PAGE: u8 = 100;

/// Sends through the REST client, which paces every request under Discord's global limit and
/// waits out 429s itself.
#[derive(Debug, Clone)]
pub struct DiscordOutbox {
    rest: Rest,
}

impl DiscordOutbox {
    pub fn new(rest: Rest) -> DiscordOutbox {
        DiscordOutbox { rest }
    }
}

/// The first snowflake Discord could give a message sent at `at`.
fn snowflake_at(at: DateTime<Utc>) -> u64 {
    let millis = (at.timestamp_millis() - DISCORD_EPOCH_MS).max(0);
    u64::try_from(millis).unwrap_or(0) << 22
}

/// What Discord's answer means, with the words an admin is told when it was a scheduled post.
fn send_error(err: &RestError) -> SendError {
    let (failure, reason) = match (err.status(), err.code()) {
        (Some(404), _) | (Some(_), Some(10003)) => (
            Failure::Gone,
            "the channel no longer exists, so the schedule is switched off; set it again in another channel".to_string(),
        ),
        (Some(403), _) => (
            Failure::Forbidden,
            "careprompt is not allowed to post there: give it View Channel, Send Messages and Embed Links in that channel".to_string(),
        ),
        (Some(status), _) if (400..=499).contains(&status) && status != 429 => {
            (Failure::Refused, format!("Discord refused the post ({err})"))
        }
        _ => (
            Failure::NotNow,
            format!("Discord could not be reached; trying again ({err})"),
        ),
    };
    SendError {
        failure,
        reason,
        detail: err.to_string(),
    }
}

/// Whether the message carries a button with `mark`: a delivery's Save, or a session stage's
/// controls.
fn carries(message: &ChannelMessage, mark: Mark) -> bool {
    fn walk(components: &[MessageComponent], mark: Mark) -> bool {
        components.iter().any(|component| {
            let own = component
                .custom_id
                .as_deref()
                .and_then(|id| Act::parse(id).ok())
                .is_some_and(|action| match mark {
                    Mark::Delivery(delivery) => action.delivery() == Some(delivery),
                    Mark::Stage { session, stage } => matches!(
                        action,
                        Act::Session { session: s, stage: t, .. } if s == session && t == stage
                    ),
                });
            own || walk(&component.components, mark)
        })
    }
    walk(&message.components, mark)
}

#[async_trait::async_trait]
impl Outbox for DiscordOutbox {
    fn name(&self) -> &'static str {
        "Discord"
    }

    fn repeat_window(&self) -> Option<chrono::Duration> {
        Some(NONCE_WINDOW)
    }

    async fn send(
        &self,
        place: u64,
        card: &Card,
        ping: Option<u64>,
        key: &SendKey,
    ) -> Result<u64, SendError> {
        // The card as Discord receives it, with the key as its enforced nonce.
        let body = post_body(card, &key.token, ping);
        self.rest
            .create_message(place, &body)
            .await
            .map_err(|err| send_error(&err))
    }

    async fn look_for(&self, place: u64, key: &SendKey, since: DateTime<Utc>) -> Lookup {
        let after = snowflake_at(since - LOOKUP_MARGIN);
        match self.rest.messages_after(place, after, LOOKUP_PAGE).await {
            Ok(messages) => match messages
                .iter()
                .find(|message| carries(message, key.mark))
                .map(|message| message.id.get())
            {
                Some(found) => Lookup::Found(found),
                None if messages.len() >= usize::from(LOOKUP_PAGE) => {
                    Lookup::CannotTell(Unknown::Crowded)
                }
                None => Lookup::NotFound,
            },
            Err(err) => Lookup::CannotTell(Unknown::Unreadable(send_error(&err))),
        }
    }

    async fn private_place(&self, person: u64) -> Result<u64, SendError> {
        self.rest
            .open_dm(person)
            .await
            .map_err(|err| send_error(&err))
    }

    async fn open_replies(&self, place: u64, message: u64, name: &str) -> Result<(), SendError> {
        self.rest
            .start_thread(place, message, name)
            .await
            .map_err(|err| send_error(&err))
    }

    async fn close(&self, place: u64) -> Result<(), SendError> {
        self.rest
            .archive_thread(place)
            .await
            .map_err(|err| send_error(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_start_at_discord_s_epoch() {
        let at: DateTime<Utc> = "2015-01-01T00:00:01Z".parse().expect("time");
        assert_eq!(snowflake_at(at), 1000 << 22);
        let before: DateTime<Utc> = "2014-01-01T00:00:00Z".parse().expect("time");
        assert_eq!(snowflake_at(before), 0);
    }

    fn message(json: serde_json::Value) -> ChannelMessage {
        serde_json::from_value::<ChannelMessage>(json).expect("a message")
    }

    #[test]
    fn a_post_is_recognised_by_its_buttons_only() {
        let mine = message(
            serde_json::json!({"id": "5", "components": [{"type": 1, "components": [
            {"type": 2, "custom_id": "cp:save:42:com-01"}]}]}),
        );
        assert!(carries(&mine, Mark::Delivery(42)));
        assert!(!carries(&mine, Mark::Delivery(4)));
        let someone_else = message(serde_json::json!({"id": "6", "content": "cp:save:42:com-01"}));
        assert!(!carries(&someone_else, Mark::Delivery(42)));
    }

    #[test]
    fn a_stage_card_is_recognised_by_its_session_and_stage() {
        let card = message(
            serde_json::json!({"id": "5", "components": [{"type": 1, "components": [
            {"type": 2, "custom_id": "cp:session:42:next.2"}]}]}),
        );
        let stage = |session, stage| Mark::Stage { session, stage };
        assert!(carries(&card, stage(42, 2)));
        assert!(!carries(&card, stage(42, 1)));
        assert!(!carries(&card, stage(4, 2)));
        assert!(!carries(&card, Mark::Delivery(42)));
    }

    fn status(status: u16, code: Option<i64>) -> RestError {
        RestError::Status {
            method: "POST",
            route: "/channels/{id}/messages".to_string(),
            status,
            code,
            message: String::new(),
        }
    }

    #[test]
    fn discord_s_answers_read_as_what_they_mean() {
        let failure = |err: RestError| send_error(&err).failure;
        assert_eq!(failure(status(404, None)), Failure::Gone);
        assert_eq!(failure(status(400, Some(10003))), Failure::Gone);
        assert_eq!(failure(status(403, Some(50013))), Failure::Forbidden);
        assert_eq!(failure(status(400, Some(50035))), Failure::Refused);
        assert_eq!(failure(status(429, None)), Failure::NotNow);
        assert_eq!(failure(status(502, None)), Failure::NotNow);
        let transport = RestError::Transport {
            method: "POST",
            route: "/channels/{id}/messages".to_string(),
            reason: "connection lost".to_string(),
        };
        assert_eq!(failure(transport), Failure::NotNow);
        assert!(send_error(&status(403, None))
            .reason
            .contains("not allowed to post there"));
    }
}
