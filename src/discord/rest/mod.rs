//! Every REST call careprompt makes goes through [`Rest`], which retries what is worth retrying
//! (rate limits, Discord's 5xx, dropped connections) a bounded number of times and gives up
//! loudly on everything else.
//!
//! Without a proxy, serenity's own rate limiter waits out 429s. Behind a proxy serenity must run
//! with its rate limiter disabled (it ignores the proxy otherwise), so careprompt sends those
//! requests itself and honours `retry_after`; a global 429 holds every request paced under the
//! global limit until then, not only the one refused.

mod application;
mod channels;
mod interactions;
mod messages;
mod pacer;
mod route;

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serenity::http::{Http, HttpError, Request};

pub use application::ApplicationInfo;
pub use interactions::{edit_response, interaction_message, update_response};
pub use messages::{ChannelMessage, MessageComponent};
pub use pacer::{GLOBAL_REQUESTS_PER_SECOND, SHARED_REQUESTS_PER_SECOND};

use pacer::{is_global_limited, Pacer};
use route::{method_name, route_label};

/// Longest wait careprompt accepts from a 429 before giving up on the request.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

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

/// Something Discord has just made, of which careprompt keeps only the id.
#[derive(Deserialize)]
struct WithId<Id> {
    id: Id,
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
        Rest {
            pacer: Arc::new(self.pacer.repaced(per_second)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
