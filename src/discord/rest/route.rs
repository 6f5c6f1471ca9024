//! Routes as they may be logged: the path's template, never the ids and tokens in it.

use poise::serenity_prelude as serenity;
use serenity::http::{LightMethod, Route};

pub(super) fn method_name(method: LightMethod) -> &'static str {
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
pub(super) fn route_label(route: &Route<'_>) -> String {
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
}
