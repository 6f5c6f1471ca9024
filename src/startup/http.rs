//! The HTTP client careprompt reaches Discord's REST API with: straight, or through a rate-limit
//! proxy, or (in tests and `try`) through a client that reaches a stand-in for Discord.

use std::time::Duration;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;

use crate::config::Token;
use crate::discord::RestError;

/// A stalled connection must not hold a command (and so shutdown) forever; these bounds turn it
/// into an error that `Rest` retries.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client")
}

/// serenity's HTTP handle, and the client `Rest` sends through itself when there is a proxy.
pub struct DiscordHttp {
    pub http: serenity::Http,
    pub proxy_client: Option<reqwest::Client>,
}

/// `client` replaces serenity's own HTTP client when there is no proxy.
pub fn discord_http(
    proxy_url: Option<&str>,
    token: &Token,
    client: Option<&reqwest::Client>,
) -> anyhow::Result<DiscordHttp> {
    match proxy_url {
        Some(url) => {
            let client = http_client()?;
            // serenity ignores a proxy unless its own rate limiter is off; `Rest` honours 429s instead.
            let http = serenity::HttpBuilder::new(token.expose())
                .client(client.clone())
                .proxy(url.trim_end_matches('/'))
                .ratelimiter_disabled(true)
                .build();
            Ok(DiscordHttp {
                http,
                proxy_client: Some(client),
            })
        }
        None => {
            let client = match client {
                Some(client) => client.clone(),
                None => http_client()?,
            };
            Ok(DiscordHttp {
                http: serenity::HttpBuilder::new(token.expose())
                    .client(client)
                    .build(),
                proxy_client: None,
            })
        }
    }
}

pub fn explain_start_error(err: RestError) -> anyhow::Error {
    match err.status() {
        Some(401) => anyhow::anyhow!(
            "Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN"
        ),
        _ => {
            anyhow::Error::new(err).context("could not read the application's details from Discord")
        }
    }
}
