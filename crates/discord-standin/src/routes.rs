//! The REST routes the stand-in answers, found without Discord's OpenAPI file (which `try`
//! does not have at run time), and the hook through which the tests check requests against
//! that file as well.

use serde_json::Value;

/// Discord's REST routes that careprompt calls, by path template and methods. Discord has many
/// more; a request outside this list is answered 404, as Discord answers an unknown path.
const ROUTES: &[(&str, &[&str])] = &[
    ("/gateway", &["GET"]),
    ("/gateway/bot", &["GET"]),
    ("/oauth2/applications/@me", &["GET"]),
    ("/applications/@me", &["GET", "PATCH"]),
    ("/users/@me", &["GET", "PATCH"]),
    ("/users/{user_id}", &["GET"]),
    ("/users/@me/channels", &["POST"]),
    ("/guilds/{guild_id}", &["GET", "PATCH", "DELETE"]),
    ("/guilds/{guild_id}/channels", &["GET", "POST", "PATCH"]),
    (
        "/guilds/{guild_id}/members/{user_id}",
        &["GET", "PUT", "PATCH", "DELETE"],
    ),
    ("/channels/{channel_id}", &["GET", "PUT", "PATCH", "DELETE"]),
    ("/channels/{channel_id}/typing", &["POST"]),
    ("/channels/{channel_id}/messages", &["GET", "POST"]),
    (
        "/channels/{channel_id}/messages/{message_id}",
        &["GET", "PATCH", "DELETE"],
    ),
    (
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
        &["PUT", "DELETE"],
    ),
    (
        "/channels/{channel_id}/messages/{message_id}/threads",
        &["POST"],
    ),
    ("/channels/{channel_id}/threads", &["POST"]),
    (
        "/interactions/{interaction_id}/{interaction_token}/callback",
        &["POST"],
    ),
    (
        "/webhooks/{webhook_id}/{webhook_token}",
        &["GET", "POST", "PATCH", "DELETE"],
    ),
    (
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        &["GET", "PATCH", "DELETE"],
    ),
    (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        &["GET", "PATCH", "DELETE"],
    ),
    (
        "/applications/{application_id}/commands",
        &["GET", "PUT", "POST"],
    ),
    (
        "/applications/{application_id}/commands/{command_id}",
        &["GET", "PATCH", "DELETE"],
    ),
    (
        "/applications/{application_id}/guilds/{guild_id}/commands",
        &["GET", "PUT", "POST"],
    ),
    (
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        &["GET", "PATCH", "DELETE"],
    ),
];

/// One failed check, with its place in the request body (field names and array indices), as
/// Discord reports it in a form error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    pub path: Vec<String>,
    /// Discord's error code for the failure, e.g. `BASE_TYPE_MAX_LENGTH`.
    pub code: String,
    pub message: String,
}

impl SchemaError {
    pub fn new(path: &[String], code: &str, message: impl Into<String>) -> SchemaError {
        SchemaError {
            path: path.to_vec(),
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// The dotted path, e.g. `embeds.0.title` (empty for the body itself).
    pub fn dotted_path(&self) -> String {
        self.path.join(".")
    }
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(body)".to_string()
        } else {
            self.dotted_path()
        };
        write!(f, "{path}: {} ({})", self.message, self.code)
    }
}

/// The outcome of looking a request up among the routes.
pub enum RouteLookup {
    /// No path template matches.
    NotFound,
    /// A template matches but has no operation for this method.
    MethodNotAllowed {
        template: String,
    },
    Found(Operation),
}

/// A matched route.
#[derive(Clone, Debug)]
pub struct Operation {
    /// The path template, e.g. `/channels/{channel_id}/messages`.
    pub template: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path parameters by name.
    pub params: Vec<(String, String)>,
}

impl Operation {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Matches `path` (the part after `/api/v10`) against `templates`. Among matching templates the
/// one with the most literal segments wins, so `/users/@me` beats `/users/{user_id}`; `methods`
/// says which methods a template has.
pub fn match_route<'t>(
    templates: impl IntoIterator<Item = &'t str>,
    methods: impl Fn(&str) -> bool,
    method: &str,
    path: &str,
) -> RouteLookup {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(&str, usize)> = None;
    for template in templates {
        let segments: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        if segments.len() != parts.len() {
            continue;
        }
        let mut literals = 0;
        let matches = segments.iter().zip(&parts).all(|(seg, part)| {
            if is_param(seg) {
                !part.is_empty()
            } else {
                literals += 1;
                seg == part
            }
        });
        if matches && best.is_none_or(|(_, n)| literals > n) {
            best = Some((template, literals));
        }
    }
    let Some((template, _)) = best else {
        return RouteLookup::NotFound;
    };
    if !methods(template) {
        return RouteLookup::MethodNotAllowed {
            template: template.to_string(),
        };
    }
    let params = template
        .trim_start_matches('/')
        .split('/')
        .zip(&parts)
        .filter(|(seg, _)| is_param(seg))
        .map(|(seg, part)| (seg[1..seg.len() - 1].to_string(), (*part).to_string()))
        .collect();
    RouteLookup::Found(Operation {
        template: template.to_string(),
        method: method.to_ascii_uppercase(),
        params,
    })
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The stand-in's own routes.
pub fn lookup(method: &str, path: &str) -> RouteLookup {
    let method_upper = method.to_ascii_uppercase();
    match_route(
        ROUTES.iter().map(|(template, _)| *template),
        |template| {
            ROUTES
                .iter()
                .any(|(t, methods)| *t == template && methods.contains(&method_upper.as_str()))
        },
        method,
        path,
    )
}

/// Checks requests beyond Discord's limits, which the stand-in always applies: the tests install
/// one that finds routes in, and validates bodies and queries against, Discord's OpenAPI file.
pub trait RequestChecker: Send + Sync + std::fmt::Debug {
    /// Finds the route of `method` and `path` (the part after `/api/v10`).
    fn lookup(&self, method: &str, path: &str) -> RouteLookup;
    /// Errors in the body (`None`: the request had none) of a request to `op`.
    fn check_body(&self, op: &Operation, body: Option<&Value>) -> Vec<SchemaError>;
    /// Errors in the query string of a request to `op`.
    fn check_query(&self, op: &Operation, query: &str) -> Vec<SchemaError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_over_parameters() {
        let RouteLookup::Found(op) = lookup("GET", "/users/@me") else {
            panic!("found");
        };
        assert_eq!(op.template, "/users/@me");
        let RouteLookup::Found(op) = lookup("post", "/channels/12/messages") else {
            panic!("found");
        };
        assert_eq!(op.param("channel_id"), Some("12"));
        assert!(matches!(
            lookup("PUT", "/channels/12/messages"),
            RouteLookup::MethodNotAllowed { .. }
        ));
        assert!(matches!(lookup("GET", "/nowhere"), RouteLookup::NotFound));
    }
}
