//! Every REST call careprompt makes goes through [`Rest`], which retries what is worth retrying
//! (rate limits, Discord's 5xx, dropped connections) a bounded number of times and gives up
//! loudly on everything else.
//!
//! Without a proxy, serenity's own rate limiter waits out 429s. Behind a proxy serenity must run
//! with its rate limiter disabled (it ignores the proxy otherwise), so careprompt sends those
//! requests itself and honours `retry_after`; a global 429 holds every request paced under the
//! global limit until then, not only the one refused.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serde::de::DeserializeOwned;
use serenity::http::{Http, HttpError, LightMethod, Request, Route};

use crate::discord::cards::Card;

/// Longest wait careprompt accepts from a 429 before giving up on the request.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Discord voids an interaction's token for a first answer after 3 seconds; the margin covers the
/// time between Discord sending the interaction and careprompt starting to answer it.
const INTERACTION_REPLY_WINDOW: Duration = Duration::from_millis(2500);

/// Discord's code for "this interaction has already been acknowledged": when a retried callback
/// gets it, the first attempt did arrive.
const ALREADY_ACKNOWLEDGED: i64 = 40060;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("Discord answered {method} {route} with {status}{}", code.map(|code| format!(" (code {code})")).unwrap_or_default())]
    Status {
        method: &'static str,
        route: String,
        status: u16,
        code: Option<i64>,
        message: String,
    },
    #[error("could not reach Discord for {method} {route}: {reason}")]
    Transport {
        method: &'static str,
        route: String,
        reason: String,
    },
    #[error("Discord's answer to {method} {route} was not understood: {reason}")]
    Decode {
        method: &'static str,
        route: String,
        reason: String,
    },
}

impl RestError {
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<i64> {
        match self {
            RestError::Status { code, .. } => *code,
            _ => None,
        }
    }
}

/// What one attempt came to.
enum Attempt {
    Done(reqwest::Response),
    /// A 429: wait this long; `global` when the limit is the bot's global one.
    RetryAfter {
        wait: Duration,
        global: bool,
    },
    Retry(RestError),
    Fail(RestError),
}

#[derive(Debug, Clone)]
pub struct Rest {
    http: Arc<Http>,
    /// Set behind a proxy: the client careprompt sends through itself.
    proxy_client: Option<reqwest::Client>,
    retry: RetryPolicy,
    pacer: Arc<Pacer>,
}

/// Discord allows a bot 50 requests a second in all (interaction answers aside), and answers more
/// with a global 429 that holds up everything. careprompt sends at most 48 in any one second: the
/// two it leaves spare absorb the jitter between when a request leaves and when Discord counts it
/// (a request delayed on the way lands in the same second as one sent a second later). Each
/// process paces this way, and a bot's own count is all Discord looks at.
///
/// Why not an evenly spaced tick (the pacer used to tick 45 times a second, so a fan-out could
/// never pass 0.90 of the limit): a tick nobody was ready for is lost, and in a fan-out the sends
/// keep pausing for the database between requests. The window below counts what was actually
/// sent in the last second, so a pause is made up for straight after it, and the rate stays at
/// 48/s while there is work: 0.96 of Discord's limit (0.959 measured over a fan-out of 22,000
/// requests, BENCHMARKS.md).
pub const GLOBAL_REQUESTS_PER_SECOND: u32 = 48;

/// What several processes of one bot share out between them by their shards: they cannot see each
/// other's requests, and their paces drift into each other, so they keep a wider margin.
pub const SHARED_REQUESTS_PER_SECOND: u32 = 40;

/// The window Discord counts its global limit in.
const PACER_WINDOW: Duration = Duration::from_secs(1);

/// A window-exact limiter: a request goes when fewer than `per_second` went in the last second,
/// and not sooner than `spacing` after the previous one. The spacing (half as much again as the
/// average rate allows) keeps a made-up pause from leaving as one burst, which Discord would
/// count bunched together with whatever jitter the network adds.
#[derive(Debug)]
struct Pacer {
    per_second: usize,
    spacing: Duration,
    /// When each of the requests of the last second went, oldest first. The lock is held while
    /// waiting, so requests go in the order they asked.
    sent: tokio::sync::Mutex<std::collections::VecDeque<tokio::time::Instant>>,
    /// Set by a global 429: Discord wants every request of the bot held until then, not only the
    /// one it refused, and each request sent sooner would only draw another 429.
    held_until: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    fn new(per_second: u32) -> Pacer {
        let per_second = per_second.max(1);
        Pacer {
            per_second: per_second as usize,
            spacing: PACER_WINDOW * 2 / (per_second * 3),
            sent: tokio::sync::Mutex::new(std::collections::VecDeque::new()),
            held_until: std::sync::Mutex::new(None),
        }
    }

    /// Holds every paced request until `until` (or later, if held longer already).
    fn hold(&self, until: tokio::time::Instant) {
        let mut held = self
            .held_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *held = Some(held.map_or(until, |current| current.max(until)));
    }

    fn held_until(&self) -> Option<tokio::time::Instant> {
        *self
            .held_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn wait_turn(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            // Another global 429 may extend the hold while this one waits it out.
            if let Some(until) = self
                .held_until()
                .filter(|until| *until > tokio::time::Instant::now())
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            let now = tokio::time::Instant::now();
            let turn = self.turn(&mut sent, now);
            if turn <= now {
                sent.push_back(now);
                return;
            }
            tokio::time::sleep_until(turn).await;
        }
    }

    /// When a request that asks at `now` may go, forgetting the sends older than the window.
    fn turn(
        &self,
        sent: &mut std::collections::VecDeque<tokio::time::Instant>,
        now: tokio::time::Instant,
    ) -> tokio::time::Instant {
        while sent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= PACER_WINDOW)
        {
            sent.pop_front();
        }
        let mut turn = now;
        if sent.len() >= self.per_second {
            if let Some(oldest) = sent.front() {
                turn = turn.max(*oldest + PACER_WINDOW);
            }
        }
        if let Some(last) = sent.back() {
            turn = turn.max(*last + self.spacing);
        }
        turn
    }
}

/// Interaction answers have their own limits and must never queue behind a fan-out of posts.
fn is_global_limited(route: &Route<'_>) -> bool {
    !matches!(
        route,
        Route::InteractionResponse { .. }
            | Route::WebhookOriginalInteractionResponse { .. }
            | Route::WebhookFollowupMessage { .. }
            | Route::WebhookFollowupMessages { .. }
    )
}

fn method_name(method: LightMethod) -> &'static str {
    match method {
        LightMethod::Get => "GET",
        LightMethod::Post => "POST",
        LightMethod::Put => "PUT",
        LightMethod::Patch => "PATCH",
        LightMethod::Delete => "DELETE",
    }
}

/// The words of Discord's REST paths that careprompt uses. Anything else in a path is an id or a
/// token, and never reaches a log.
const ROUTE_WORDS: [&str; 17] = [
    "@me",
    "@original",
    "applications",
    "bot",
    "callback",
    "channels",
    "commands",
    "gateway",
    "guilds",
    "interactions",
    "members",
    "messages",
    "oauth2",
    "reactions",
    "threads",
    "users",
    "webhooks",
];

/// The route as its template, safe to log: `/channels/{id}/messages`.
fn route_label(route: &Route<'_>) -> String {
    let path = route.path();
    let path = path.trim_start_matches("https://discord.com/api/v10");
    path.split('/')
        .map(|segment| {
            if segment.is_empty() || ROUTE_WORDS.contains(&segment) {
                segment
            } else if segment.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                "{token}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What Discord's error body says; an HTML page (from Cloudflare) says nothing.
#[derive(Debug, Default, PartialEq)]
struct ErrorBody {
    code: Option<i64>,
    message: String,
    retry_after: Option<f64>,
    /// A 429 of the bot's global limit rather than the route's.
    global: bool,
}

fn parse_error_body(body: &str) -> ErrorBody {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    ErrorBody {
        code: value.get("code").and_then(serde_json::Value::as_i64),
        message: value
            .get("message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string(),
        retry_after: value.get("retry_after").and_then(serde_json::Value::as_f64),
        global: value
            .get("global")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
    }
}

impl Rest {
    pub fn new(http: Arc<Http>, proxy_client: Option<reqwest::Client>, retry: RetryPolicy) -> Rest {
        Rest {
            http,
            proxy_client,
            retry,
            pacer: Arc::new(Pacer::new(GLOBAL_REQUESTS_PER_SECOND)),
        }
    }

    /// Paces this client at `per_second` instead: its share of the global limit when several
    /// processes send for the same bot.
    pub fn paced_at(self, per_second: u32) -> Rest {
        // The new pace starts from what was sent in the last second (registration at start-up),
        // which Discord still counts: a fresh window would let a fan-out due at start-up send a
        // full second's worth on top of it and draw a global 429.
        let pacer = Pacer::new(per_second);
        if let (Ok(before), Ok(mut after)) = (self.pacer.sent.try_lock(), pacer.sent.try_lock()) {
            after.clone_from(&before);
        }
        Rest {
            pacer: Arc::new(pacer),
            ..self
        }
    }

    /// Waits for a turn under the global limit for a request sent some other way (through
    /// serenity's own client), so that it is counted with careprompt's.
    pub async fn wait_turn(&self) {
        self.pacer.wait_turn().await;
    }

    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    /// Sends `request`, retrying within the policy, and returns Discord's successful answer.
    pub async fn send(&self, request: Request<'_>) -> Result<reqwest::Response, RestError> {
        self.send_before(request, None).await
    }

    /// Like [`Rest::send`], but gives up rather than wait past `deadline`: an interaction's token
    /// only takes a first answer for 3 seconds, so a later retry cannot succeed.
    pub async fn send_before(
        &self,
        request: Request<'_>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<reqwest::Response, RestError> {
        let method = method_name(*request.method_ref());
        let route = route_label(request.route_ref());
        let paced = is_global_limited(request.route_ref());
        let mut attempt = 1;
        loop {
            if paced {
                self.pacer.wait_turn().await;
            }
            let outcome = self.attempt(request.clone(), method, &route).await;
            let (wait, err) = match outcome {
                Attempt::Done(response) => return Ok(response),
                Attempt::Fail(err) => return Err(err),
                Attempt::RetryAfter { wait, global } => {
                    metrics::counter!("careprompt_rate_limit_waits_total").increment(1);
                    if global {
                        self.pacer.hold(tokio::time::Instant::now() + wait);
                    }
                    let err = RestError::Status {
                        method,
                        route: route.clone(),
                        status: 429,
                        code: None,
                        message: format!(
                            "rate limited after {attempt} attempts (asked to wait {wait:?})"
                        ),
                    };
                    if wait > MAX_RETRY_AFTER {
                        return Err(err);
                    }
                    (wait, err)
                }
                Attempt::Retry(err) => (self.retry.backoff(attempt), err),
            };
            let too_late =
                deadline.is_some_and(|deadline| tokio::time::Instant::now() + wait > deadline);
            if attempt >= self.retry.attempts || too_late {
                return Err(err);
            }
            tracing::warn!(method, route = %route, attempt, error = %err, wait_ms = wait.as_millis() as u64, "Discord request failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, request: Request<'_>, method: &'static str, route: &str) -> Attempt {
        let transport = |reason: String| RestError::Transport {
            method,
            route: route.to_string(),
            reason,
        };
        match &self.proxy_client {
            Some(client) => {
                let built =
                    match request.build(client, self.http.token(), self.http.proxy.as_deref()) {
                        Ok(built) => built,
                        Err(err) => return Attempt::Fail(transport(err.to_string())),
                    };
                let response = match built.send().await {
                    Ok(response) => response,
                    Err(err) => return Attempt::Retry(transport(without_url(&err))),
                };
                let status = response.status().as_u16();
                if response.status().is_success() {
                    return Attempt::Done(response);
                }
                let header_wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<f64>().ok());
                let header_global = response.headers().contains_key("x-ratelimit-global");
                let body = parse_error_body(&response.text().await.unwrap_or_default());
                if status == 429 {
                    let seconds = body.retry_after.or(header_wait).unwrap_or(1.0).max(0.0);
                    return Attempt::RetryAfter {
                        wait: Duration::from_secs_f64(
                            seconds.min(MAX_RETRY_AFTER.as_secs_f64() + 1.0),
                        ),
                        global: body.global || header_global,
                    };
                }
                let err = RestError::Status {
                    method,
                    route: route.to_string(),
                    status,
                    code: body.code,
                    message: body.message,
                };
                if status >= 500 {
                    Attempt::Retry(err)
                } else {
                    Attempt::Fail(err)
                }
            }
            None => match self.http.request(request).await {
                Ok(response) => Attempt::Done(response),
                Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(response))) => {
                    let status = response.status_code.as_u16();
                    let code = Some(response.error.code as i64).filter(|code| *code > 0);
                    let err = RestError::Status {
                        method,
                        route: route.to_string(),
                        status,
                        code,
                        message: response.error.message,
                    };
                    if status >= 500 || status == 429 {
                        Attempt::Retry(err)
                    } else {
                        Attempt::Fail(err)
                    }
                }
                Err(serenity::Error::Http(HttpError::Request(err))) => {
                    Attempt::Retry(transport(without_url(&err)))
                }
                Err(err) => Attempt::Fail(transport(err.to_string())),
            },
        }
    }

    pub async fn send_json<T: DeserializeOwned>(
        &self,
        request: Request<'_>,
    ) -> Result<T, RestError> {
        let method = method_name(*request.method_ref());
        let route = route_label(request.route_ref());
        let response = self.send(request).await?;
        let bytes = response.bytes().await.map_err(|err| RestError::Transport {
            method,
            route: route.clone(),
            reason: without_url(&err),
        })?;
        serde_json::from_slice(&bytes).map_err(|err| RestError::Decode {
            method,
            route,
            reason: err.to_string(),
        })
    }

    /// Answers a slash command with a card.
    pub async fn respond(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        card: Card,
        ephemeral: bool,
    ) -> Result<(), RestError> {
        let message = interaction_message(card, ephemeral);
        let response = serenity::CreateInteractionResponse::Message(message);
        self.callback(interaction_id, token, &response, None).await
    }

    /// Answers a button click by replacing the message the button is on (type 7), which keeps
    /// an ephemeral message ephemeral.
    pub async fn update_message(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        card: Card,
    ) -> Result<(), RestError> {
        let components = card.components();
        let mut message = serenity::CreateInteractionResponseMessage::new()
            .embeds(card.embeds)
            .components(components)
            .allowed_mentions(crate::discord::cards::no_pings());
        // An update replaces the whole message, so a card without text clears the old text.
        message = message.content(card.content.unwrap_or_default());
        let response = serenity::CreateInteractionResponse::UpdateMessage(message);
        self.callback(interaction_id, token, &response, None).await
    }

    /// Answers a slash command with a card and one file attached to it.
    pub async fn respond_with_file(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        card: Card,
        ephemeral: bool,
        file: serenity::CreateAttachment,
    ) -> Result<(), RestError> {
        // Discord matches the file part (`files[0]`) to the message's `attachments` entry with
        // id 0; a fresh attachment carries id 0.
        let message = interaction_message(card, ephemeral).add_file(file.clone());
        let response = serenity::CreateInteractionResponse::Message(message);
        self.callback(interaction_id, token, &response, Some(file))
            .await
    }

    async fn callback(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        response: &serenity::CreateInteractionResponse,
        file: Option<serenity::CreateAttachment>,
    ) -> Result<(), RestError> {
        let decode = |err: serde_json::Error| RestError::Decode {
            method: "POST",
            route: "/interactions".into(),
            reason: err.to_string(),
        };
        let request = Request::new(
            Route::InteractionResponse {
                interaction_id,
                token,
            },
            LightMethod::Post,
        );
        let request = match file {
            None => request.body(Some(serde_json::to_vec(response).map_err(decode)?)),
            Some(file) => request.multipart(Some(serenity::http::Multipart {
                upload: serenity::http::MultipartUpload::Attachments(vec![file]),
                fields: Vec::new(),
                payload_json: Some(serde_json::to_string(response).map_err(decode)?),
            })),
        };
        let deadline = tokio::time::Instant::now() + INTERACTION_REPLY_WINDOW;
        match self.send_before(request, Some(deadline)).await {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some(ALREADY_ACKNOWLEDGED) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Replaces the global (or one guild's) command list in a single call.
    pub async fn register_commands(
        &self,
        application_id: serenity::ApplicationId,
        guild_id: Option<serenity::GuildId>,
        commands: &[serde_json::Value],
    ) -> Result<Vec<serde_json::Value>, RestError> {
        let body = serde_json::to_vec(commands).map_err(|err| RestError::Decode {
            method: "PUT",
            route: "/commands".into(),
            reason: err.to_string(),
        })?;
        let route = match guild_id {
            Some(guild_id) => Route::GuildCommands {
                application_id,
                guild_id,
            },
            None => Route::Commands { application_id },
        };
        self.send_json(Request::new(route, LightMethod::Put).body(Some(body)))
            .await
    }

    /// Acknowledges an interaction now and answers it later with [`Rest::edit_original`], for
    /// work that may take longer than Discord's 3 seconds.
    pub async fn defer(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        ephemeral: bool,
    ) -> Result<(), RestError> {
        let response = serenity::CreateInteractionResponse::Defer(
            serenity::CreateInteractionResponseMessage::new().ephemeral(ephemeral),
        );
        self.callback(interaction_id, token, &response, None).await
    }

    /// Replaces a deferred answer with a card.
    pub async fn edit_original(
        &self,
        application_id: serenity::ApplicationId,
        token: &str,
        card: Card,
    ) -> Result<(), RestError> {
        let mut edit = serenity::EditInteractionResponse::new()
            .embeds(card.embeds.clone())
            .components(card.components())
            .allowed_mentions(crate::discord::cards::no_pings());
        if let Some(content) = card.content {
            edit = edit.content(content);
        }
        let body = serde_json::to_vec(&edit).map_err(|err| RestError::Decode {
            method: "PATCH",
            route: "/webhooks".into(),
            reason: err.to_string(),
        })?;
        let request = Request::new(
            Route::WebhookOriginalInteractionResponse {
                application_id,
                token,
            },
            LightMethod::Patch,
        )
        .body(Some(body));
        self.send(request).await.map(|_| ())
    }

    /// Posts a message in a channel and returns the id Discord gave it.
    pub async fn create_message(
        &self,
        channel_id: u64,
        body: &serde_json::Value,
    ) -> Result<u64, RestError> {
        let bytes = serde_json::to_vec(body).map_err(|err| RestError::Decode {
            method: "POST",
            route: "/channels/{id}/messages".into(),
            reason: err.to_string(),
        })?;
        let request = Request::new(
            Route::ChannelMessages {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
            },
            LightMethod::Post,
        )
        .body(Some(bytes));
        let message: serde_json::Value = self.send_json(request).await?;
        message_id(&message).ok_or_else(|| RestError::Decode {
            method: "POST",
            route: "/channels/{id}/messages".into(),
            reason: "the message Discord returned has no id".into(),
        })
    }

    /// Up to `limit` (at most 100) of the channel's messages sent after the message or moment
    /// `after` (a snowflake), as Discord returns them.
    pub async fn messages_after(
        &self,
        channel_id: u64,
        after: u64,
        limit: u8,
    ) -> Result<Vec<serde_json::Value>, RestError> {
        let request = Request::new(
            Route::ChannelMessages {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
            },
            LightMethod::Get,
        )
        .params(Some(vec![
            ("after", after.to_string()),
            ("limit", limit.clamp(1, 100).to_string()),
        ]));
        self.send_json(request).await
    }

    /// Opens a public thread on a message, for replies to a post.
    pub async fn start_thread(
        &self,
        channel_id: u64,
        message_id: u64,
        name: &str,
    ) -> Result<(), RestError> {
        let body = serde_json::to_vec(
            &serenity::CreateThread::new(name)
                .auto_archive_duration(serenity::AutoArchiveDuration::OneDay),
        )
        .map_err(|err| RestError::Decode {
            method: "POST",
            route: "/channels/{id}/messages/{id}/threads".into(),
            reason: err.to_string(),
        })?;
        let request = Request::new(
            Route::ChannelMessageThreads {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
                message_id: serenity::MessageId::new(message_id.max(1)),
            },
            LightMethod::Post,
        )
        .body(Some(body));
        self.send(request).await.map(|_| ())
    }

    /// Opens (or finds) the DM channel with a person and returns its id.
    pub async fn open_dm(&self, user_id: u64) -> Result<u64, RestError> {
        let body = serde_json::to_vec(&serde_json::json!({"recipient_id": user_id.to_string()}))
            .map_err(|err| RestError::Decode {
                method: "POST",
                route: "/users/@me/channels".into(),
                reason: err.to_string(),
            })?;
        let channel: serde_json::Value = self
            .send_json(Request::new(Route::UserMeDmChannels, LightMethod::Post).body(Some(body)))
            .await?;
        message_id(&channel).ok_or_else(|| RestError::Decode {
            method: "POST",
            route: "/users/@me/channels".into(),
            reason: "the channel Discord returned has no id".into(),
        })
    }

    /// The channel as the bot sees it; Discord answers 403 or 404 when the bot cannot see it.
    pub async fn channel(&self, channel_id: u64) -> Result<serde_json::Value, RestError> {
        self.send_json(Request::new(
            Route::Channel {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
            },
            LightMethod::Get,
        ))
        .await
    }

    pub async fn application_info(&self) -> Result<serenity::CurrentApplicationInfo, RestError> {
        self.send_json(Request::new(
            Route::Oauth2ApplicationCurrent,
            LightMethod::Get,
        ))
        .await
    }
}

/// The id of a message or channel; Discord writes snowflakes as strings.
pub fn message_id(message: &serde_json::Value) -> Option<u64> {
    match message.get("id")? {
        serde_json::Value::String(text) => text.parse().ok(),
        serde_json::Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

/// reqwest errors carry the URL, which for interaction callbacks holds the interaction token.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = String::new();
    if err.is_timeout() {
        text.push_str("timed out");
    } else if err.is_connect() {
        text.push_str("connection failed");
    } else if err.is_request() || err.is_body() {
        text.push_str("connection lost");
    } else {
        text.push_str("request failed");
    }
    text
}

pub fn interaction_message(
    card: Card,
    ephemeral: bool,
) -> serenity::CreateInteractionResponseMessage {
    let components = card.components();
    let mut message = serenity::CreateInteractionResponseMessage::new()
        .embeds(card.embeds)
        .components(components)
        .allowed_mentions(crate::discord::cards::no_pings())
        .ephemeral(ephemeral);
    if let Some(content) = card.content {
        message = message.content(content);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_hide_ids_and_tokens() {
        let token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpsb25nLXRva2Vu";
        let label = route_label(&Route::InteractionResponse {
            interaction_id: serenity::InteractionId::new(1234),
            token,
        });
        assert_eq!(label, "/interactions/{id}/{token}/callback");
        let label = route_label(&Route::InteractionResponse {
            interaction_id: serenity::InteractionId::new(1),
            token: "fake-itok-1",
        });
        assert_eq!(label, "/interactions/{id}/{token}/callback");
        let label = route_label(&Route::Commands {
            application_id: serenity::ApplicationId::new(99),
        });
        assert_eq!(label, "/applications/{id}/commands");
        assert_eq!(
            route_label(&Route::Oauth2ApplicationCurrent),
            "/oauth2/applications/@me"
        );
        let label = route_label(&Route::WebhookOriginalInteractionResponse {
            application_id: serenity::ApplicationId::new(7),
            token: "secret-token",
        });
        assert_eq!(label, "/webhooks/{id}/{token}/messages/@original");
    }

    #[test]
    fn the_pacer_never_sends_more_than_its_rate_in_any_second() {
        let pacer = Pacer::new(48);
        let start = tokio::time::Instant::now();
        let mut now = start;
        let mut sent = std::collections::VecDeque::new();
        let mut times = Vec::new();
        for n in 0..200 {
            // A pause now and then, as when a send waits for the database.
            if n % 30 == 0 {
                now += Duration::from_millis(300);
            }
            now = now.max(pacer.turn(&mut sent, now));
            sent.push_back(now);
            times.push(now);
        }
        for (i, at) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|later| later.duration_since(*at) < PACER_WINDOW)
                .count();
            assert!(in_window <= 48, "{in_window} requests within a second");
        }
        for pair in times.windows(2) {
            assert!(pair[1].duration_since(pair[0]) >= pacer.spacing);
        }
        // With work always waiting, it sends 48 a second, not fewer.
        let mut sent = std::collections::VecDeque::new();
        let mut now = start;
        for _ in 0..=480 {
            now = now.max(pacer.turn(&mut sent, now));
            sent.push_back(now);
        }
        let span = now.duration_since(start);
        assert!(
            span <= Duration::from_secs(10),
            "{span:?} for 480 intervals"
        );
    }

    #[test]
    fn backoff_doubles() {
        let policy = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(100));
        assert_eq!(policy.backoff(3), Duration::from_millis(400));
    }

    #[test]
    fn error_bodies_give_code_and_retry_after() {
        assert_eq!(
            parse_error_body(
                r#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#
            ),
            ErrorBody {
                code: None,
                message: "You are being rate limited.".to_string(),
                retry_after: Some(0.25),
                global: false,
            }
        );
        assert!(
            parse_error_body(
                r#"{"message":"You are being rate limited.","retry_after":1,"global":true}"#
            )
            .global
        );
        assert_eq!(
            parse_error_body(r#"{"message":"Unknown interaction","code":10062}"#).code,
            Some(10062)
        );
        assert_eq!(
            parse_error_body("<html>502 Bad Gateway</html>"),
            ErrorBody::default()
        );
    }

    #[tokio::test]
    async fn a_global_429_holds_every_paced_request() {
        let pacer = Pacer::new(GLOBAL_REQUESTS_PER_SECOND);
        pacer.wait_turn().await;
        let start = tokio::time::Instant::now();
        let until = start + Duration::from_millis(300);
        pacer.hold(until);
        // A shorter hold that comes later does not cut the longer one short.
        pacer.hold(start + Duration::from_millis(100));
        assert_eq!(pacer.held_until(), Some(until));
        pacer.wait_turn().await;
        assert!(tokio::time::Instant::now() >= until);
    }
}
