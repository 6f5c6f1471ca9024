//! The fake's REST side: one router served on the plain HTTP listener (proxy mode) and the
//! HTTPS listener (default mode). Each request is recorded, looked up in the OpenAPI spec,
//! checked (schema, documented limits, query), then faults, the global rate limit, form
//! errors and finally the route's handler decide the answer.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Map, Value};

use super::limits::{self, MessageUse, EMPTY_MESSAGE};
use super::payloads::{self, sf, Author, APP_ID, BOT_USER_ID, TOKEN};
use super::routes::{self, Operation, RouteLookup, SchemaError};
use super::serve::Sever;
#[cfg(feature = "test-controls")]
use super::state::Fault;
use super::state::{
    discord_error, BucketWindow, CallbackEvent, Inner, InteractionState, RecordedRequest, State,
};

/// Which listener a request came in on.
#[derive(Clone)]
struct Side {
    inner: Arc<Inner>,
    /// The HTTPS listener (serenity's default mode), not the plain one (proxy mode).
    tls: bool,
}

/// Discord's REST API: every request, on any path, goes to the one handler, which finds its
/// route among Discord's (see `routes.rs`) as it records and checks it.
pub(crate) fn router(inner: Arc<Inner>, tls: bool) -> Router {
    Router::new()
        .fallback(answer)
        .with_state(Side { inner, tls })
}

#[cfg_attr(not(feature = "test-controls"), allow(dead_code))]
enum Body {
    Json(Value),
    Html(String),
    Empty,
}

struct Reply {
    status: u16,
    body: Body,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            body: Body::Json(v),
            headers: Vec::new(),
        }
    }

    fn empty() -> Reply {
        Reply {
            status: 204,
            body: Body::Empty,
            headers: Vec::new(),
        }
    }

    fn error(status: u16, code: u64, message: &str) -> Reply {
        Reply::json(status, discord_error(code, message))
    }

    fn not_found() -> Reply {
        Reply::error(404, 0, "404: Not Found")
    }
}

#[cfg_attr(not(feature = "test-controls"), allow(dead_code))]
enum Outcome {
    Reply(Reply),
    Drop,
    /// Never answered: the client waits until it gives up or dies.
    Stall,
}

struct ParsedBody {
    json: Option<Value>,
    has_files: bool,
    /// (part name, content) of each file part.
    files: Vec<(String, Vec<u8>)>,
    error: Option<String>,
}

fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> ParsedBody {
    let mut parsed = ParsedBody {
        json: None,
        has_files: false,
        files: Vec::new(),
        error: None,
    };
    if bytes.is_empty() {
        return parsed;
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let boundary = content_type
            .unwrap_or("")
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()
            .map(|b| b.trim_matches('"').to_string());
        let Some(boundary) = boundary else {
            parsed.error = Some("multipart body without a boundary".into());
            return parsed;
        };
        for (name, content) in multipart_parts(bytes, &boundary) {
            if name == "payload_json" {
                match serde_json::from_slice(&content) {
                    Ok(v) => parsed.json = Some(v),
                    Err(e) => parsed.error = Some(format!("payload_json is not JSON: {e}")),
                }
            } else if name == "file" || name.starts_with("files[") {
                parsed.has_files = true;
                parsed.files.push((name, content));
            }
        }
    } else if ct.starts_with("application/json") || ct.is_empty() {
        match serde_json::from_slice(bytes) {
            Ok(v) => parsed.json = Some(v),
            Err(e) => parsed.error = Some(format!("body is not JSON: {e}")),
        }
    } else {
        parsed.error = Some(format!("unsupported content type {ct}"));
    }
    parsed
}

/// (field name, content) of each part of a multipart body.
fn multipart_parts(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    while let Some(start) = find(rest, &delim) {
        rest = &rest[start + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, &delim).unwrap_or(rest.len());
        let part = &rest[..end];
        if let Some(split) = find(part, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&part[..split]).to_string();
            let mut content = part[split + 4..].to_vec();
            if content.ends_with(b"\r\n") {
                content.truncate(content.len() - 2);
            }
            let name = head
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("name="))
                .next()
                .map(|n| n.trim_matches('"').to_string())
                .unwrap_or_default();
            parts.push((name, content));
        }
    }
    parts
}

async fn answer(
    axum::extract::State(Side { inner, tls }): axum::extract::State<Side>,
    ConnectInfo(sever): ConnectInfo<Sever>,
    req: Request,
) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone());
    let bytes = match axum::body::to_bytes(req.into_body(), usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => return hang_up(&sever),
    };
    // An interaction's answer counts as received here, before the fake checks it.
    let arrived = Instant::now();
    let body = parse_body(content_type.as_deref(), &bytes);

    let outcome = inner.update(|s| {
        let mut ctx = Ctx {
            inner: &inner,
            method: &method,
            path: &path,
            query: query.as_deref().unwrap_or(""),
            headers: &headers,
            body: &body,
            violations: Vec::new(),
            interaction_token: None,
            arrived,
        };
        let outcome = process(s, &mut ctx);
        let status = match &outcome {
            Outcome::Reply(r) => r.status,
            Outcome::Drop | Outcome::Stall => 0,
        };
        for v in &ctx.violations {
            s.violations.push(format!("{method} {path}: {v}"));
        }
        if let Some(token) = &ctx.interaction_token {
            if !ctx.violations.is_empty() {
                if let Some(it) = s.interactions.get_mut(token) {
                    it.rejected.extend(ctx.violations.iter().cloned());
                }
            }
        }
        s.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            headers: headers.clone(),
            body: body.json.clone(),
            files: body.files.clone(),
            status,
            tls,
            received: std::time::Instant::now(),
        });
        outcome
    });

    let reply = match outcome {
        Outcome::Drop => return hang_up(&sever),
        Outcome::Stall => {
            // Until the stand-in stops, when the connection goes without an answer.
            inner.stopped().await;
            return hang_up(&sever);
        }
        Outcome::Reply(r) => r,
    };
    let mut builder = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    let bytes = match reply.body {
        Body::Json(v) => {
            builder = builder.header("content-type", "application/json");
            Bytes::from(v.to_string())
        }
        Body::Html(h) => {
            builder = builder.header("content-type", "text/html");
            Bytes::from(h)
        }
        Body::Empty => Bytes::new(),
    };
    builder
        .body(HttpBody::from(bytes))
        .unwrap_or_else(|_| Response::new(HttpBody::empty()))
}

/// Closes the connection without an answer: the answer returned never leaves.
fn hang_up(sever: &Sever) -> Response {
    sever.sever();
    Response::new(HttpBody::empty())
}

struct Ctx<'a> {
    inner: &'a Inner,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(String, String)],
    body: &'a ParsedBody,
    violations: Vec<String>,
    /// Set for routes of one interaction (callback, follow-ups, edits).
    interaction_token: Option<String>,
    /// When the request had been read in full.
    arrived: Instant,
}

impl Ctx<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn query_flag(&self, name: &str) -> bool {
        self.query.split('&').any(|p| {
            p.split_once('=')
                .is_some_and(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
        })
    }

    fn query_u64(&self, name: &str) -> Option<u64> {
        self.query.split('&').find_map(|p| {
            p.split_once('=')
                .filter(|(k, _)| *k == name)
                .and_then(|(_, v)| v.parse().ok())
        })
    }

    fn body(&self) -> &Value {
        self.body.json.as_ref().unwrap_or(&Value::Null)
    }

    fn violate(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }
}

fn process(s: &mut State, ctx: &mut Ctx<'_>) -> Outcome {
    let Some(api_path) = ctx.path.strip_prefix("/api/v10") else {
        ctx.violate("not under /api/v10 (wrong API version or prefix)");
        return Outcome::Reply(Reply::not_found());
    };
    let api_path = if api_path.is_empty() { "/" } else { api_path };
    let found = match &ctx.inner.cfg.checker {
        Some(checker) => checker.lookup(ctx.method, api_path),
        None => routes::lookup(ctx.method, api_path),
    };
    let op = match found {
        RouteLookup::NotFound => {
            ctx.violate("unknown route: no such path in Discord's API");
            return Outcome::Reply(Reply::not_found());
        }
        RouteLookup::MethodNotAllowed { template } => {
            ctx.violate(format!("method not allowed on {template}"));
            return Outcome::Reply(Reply::error(405, 0, "405: Method Not Allowed"));
        }
        RouteLookup::Found(op) => op,
    };

    // `GET /gateway` and the interaction webhooks need no bot token.
    let token_free = op.template == "/gateway"
        || op.template.starts_with("/interactions/")
        || op
            .template
            .starts_with("/webhooks/{webhook_id}/{webhook_token}");
    if op.template.starts_with("/interactions/")
        || op
            .template
            .starts_with("/webhooks/{webhook_id}/{webhook_token}")
    {
        ctx.interaction_token = op
            .param("interaction_token")
            .or(op.param("webhook_token"))
            .map(str::to_string);
    }
    if !token_free && ctx.header("authorization") != Some(format!("Bot {TOKEN}").as_str()) {
        return Outcome::Reply(Reply::error(401, 0, "401: Unauthorized"));
    }

    // Body and query checks.
    if let Some(err) = &ctx.body.error {
        ctx.violate(format!("invalid body: {err}"));
        return Outcome::Reply(Reply::error(
            400,
            50109,
            "The request body contains invalid JSON.",
        ));
    }
    let unchecked_callback = !ctx.inner.cfg.validate_interaction_answers
        && op.template == "/interactions/{interaction_id}/{interaction_token}/callback";
    let mut errors = if unchecked_callback {
        Vec::new()
    } else {
        validate(&op, ctx)
    };
    if let Some(checker) = &ctx.inner.cfg.checker {
        errors.extend(checker.check_query(&op, ctx.query));
    }
    for e in &errors {
        ctx.violate(e.to_string());
    }

    // Injected faults take precedence over everything Discord would say next, except those that
    // let Discord act on the request and only lose its answer.
    #[allow(unused_mut)]
    let mut after_processing = None;
    #[cfg(feature = "test-controls")]
    if let Some(fault) = take_fault(s, ctx.method, ctx.path) {
        match fault {
            Fault::LoseAnswer { .. } => after_processing = Some(Outcome::Drop),
            Fault::Stall {
                processed: true, ..
            } => after_processing = Some(Outcome::Stall),
            Fault::Stall { .. } => return Outcome::Stall,
            other => return fault_outcome(other, &op.template),
        }
    }

    // Global rate limit (interaction routes are exempt).
    if let Some(limit) = ctx.inner.cfg.global_rate_limit {
        if !token_free {
            let now = Instant::now();
            while s
                .recent_requests
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                s.recent_requests.pop_front();
            }
            if s.recent_requests.len() >= limit {
                ctx.violate(format!(
                    "more than {limit} requests in one second (global rate limit)"
                ));
                return Outcome::Reply(rate_limited(0.25, true, &op.template));
            }
            s.recent_requests.push_back(now);
        }
    }

    // Per-route buckets, when switched on.
    let mut bucket_headers = None;
    if let Some((key, limit, window)) = route_bucket(ctx, &op.template, &op) {
        let now = Instant::now();
        let w = s.buckets.entry(key).or_insert(BucketWindow {
            started: now,
            used: 0,
        });
        if now.duration_since(w.started) >= window {
            *w = BucketWindow {
                started: now,
                used: 0,
            };
        }
        let reset_after = window.saturating_sub(now.duration_since(w.started));
        if w.used >= limit {
            ctx.violate(format!(
                "more than {limit} requests in {window:?} on this route's bucket (route rate limit)"
            ));
            return Outcome::Reply(rate_limited_bucket(
                reset_after.as_secs_f64(),
                limit,
                &op.template,
            ));
        }
        w.used += 1;
        bucket_headers = Some(counted_headers(
            &op.template,
            limit,
            limit - w.used,
            reset_after.as_secs_f64(),
        ));
    }

    if !errors.is_empty() {
        if errors.iter().any(|e| e.code == EMPTY_MESSAGE) {
            return Outcome::Reply(Reply::error(400, 50006, "Cannot send an empty message"));
        }
        return Outcome::Reply(Reply::json(400, form_error(&errors)));
    }

    let mut reply = route(s, ctx, &op);
    if let Some(lost) = after_processing {
        return lost;
    }
    if (200..300).contains(&reply.status) {
        reply
            .headers
            .extend(bucket_headers.unwrap_or_else(|| ratelimit_headers(&op.template)));
    }
    Outcome::Reply(reply)
}

/// Schema errors plus limit errors at paths the schema did not already report.
fn validate(op: &Operation, ctx: &Ctx<'_>) -> Vec<SchemaError> {
    let checker = ctx.inner.cfg.checker.as_ref();
    let Some(body) = ctx.body.json.as_ref() else {
        return checker.map(|c| c.check_body(op, None)).unwrap_or_default();
    };
    let mut errors = checker
        .map(|c| c.check_body(op, Some(body)))
        .unwrap_or_default();
    let mut extra = Vec::new();
    let creating = MessageUse {
        creating: true,
        has_files: ctx.body.has_files,
    };
    let editing = MessageUse {
        creating: false,
        has_files: ctx.body.has_files,
    };
    match (op.method.as_str(), op.template.as_str()) {
        ("POST", "/channels/{channel_id}/messages") => {
            limits::check_message(body, creating, &[], &mut extra)
        }
        ("PATCH", "/channels/{channel_id}/messages/{message_id}") => {
            limits::check_message(body, editing, &[], &mut extra)
        }
        ("POST", "/webhooks/{webhook_id}/{webhook_token}") => {
            limits::check_message(body, creating, &[], &mut extra)
        }
        ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        | ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}") => {
            limits::check_message(body, editing, &[], &mut extra)
        }
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            limits::check_callback(body, ctx.body.has_files, &mut extra)
        }
        ("PUT", "/applications/{application_id}/commands")
        | ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands") => {
            limits::check_commands(body, &mut extra)
        }
        ("POST", "/applications/{application_id}/commands")
        | ("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
        | ("PATCH", "/applications/{application_id}/commands/{command_id}")
        | ("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}") => {
            limits::check_command(body, &[], &mut extra)
        }
        _ => {}
    }
    if ctx.body.has_files {
        match (op.method.as_str(), op.template.as_str()) {
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
                let data = body.get("data").unwrap_or(&Value::Null);
                limits::check_files(data, &ctx.body.files, &["data".to_string()], &mut extra)
            }
            _ => limits::check_files(body, &ctx.body.files, &[], &mut extra),
        }
    }
    for e in extra {
        if !errors.iter().any(|x| x.path == e.path) {
            errors.push(e);
        }
    }
    errors
}

/// Discord's `{"code": 50035, "errors": {...}, "message": "Invalid Form Body"}`.
pub fn form_error(errors: &[SchemaError]) -> Value {
    let mut root = Map::new();
    for e in errors {
        let mut node = &mut root;
        for seg in &e.path {
            node = node
                .entry(seg.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("error tree node");
        }
        node.entry("_errors")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("_errors list")
            .push(json!({"code": e.code, "message": e.message}));
    }
    json!({"code": 50035, "errors": root, "message": "Invalid Form Body"})
}

#[cfg(feature = "test-controls")]
fn take_fault(s: &mut State, method: &str, path: &str) -> Option<Fault> {
    let i = s
        .faults
        .iter()
        .position(|f| f.route().matches(method, path))?;
    let mut fault = s.faults[i].clone();
    let times = s.faults[i].times_mut();
    *times = times.saturating_sub(1);
    if *times == 0 {
        s.faults.remove(i);
    }
    *fault.times_mut() = 1;
    Some(fault)
}

fn bucket(template: &str) -> String {
    // A stable opaque bucket id per route, as Discord's hashes look.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn epoch_after(secs: f64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    format!("{:.3}", now + secs)
}

/// The bucket a request counts against, when the fake enforces per-route buckets: its key (route
/// and major parameter, as Discord keys buckets), limit and window.
fn route_bucket(ctx: &Ctx<'_>, template: &str, op: &Operation) -> Option<(String, u32, Duration)> {
    let buckets = ctx.inner.cfg.route_buckets.as_ref()?;
    match (ctx.method, template) {
        ("POST", "/channels/{channel_id}/messages") => {
            let (limit, window) = buckets.channel_messages;
            let channel = op.param("channel_id").unwrap_or("");
            Some((format!("messages:{channel}"), limit, window))
        }
        ("POST", "/users/@me/channels") => {
            let (limit, window) = buckets.dm_channels;
            Some(("dm-channels".to_string(), limit, window))
        }
        _ => None,
    }
}

/// `x-ratelimit-*` headers of a counted bucket.
fn counted_headers(
    template: &str,
    limit: u32,
    remaining: u32,
    reset_after: f64,
) -> Vec<(String, String)> {
    vec![
        ("x-ratelimit-limit".into(), limit.to_string()),
        ("x-ratelimit-remaining".into(), remaining.to_string()),
        ("x-ratelimit-reset".into(), epoch_after(reset_after)),
        (
            "x-ratelimit-reset-after".into(),
            format!("{reset_after:.3}"),
        ),
        ("x-ratelimit-bucket".into(), bucket(template)),
    ]
}

/// A 429 for an exceeded per-route bucket (scope `user`), as Discord sends it.
fn rate_limited_bucket(retry_after: f64, limit: u32, template: &str) -> Reply {
    let mut headers = vec![(
        "retry-after".to_string(),
        format!("{}", retry_after.ceil() as u64),
    )];
    headers.extend(counted_headers(template, limit, 0, retry_after));
    headers.push(("x-ratelimit-scope".to_string(), "user".to_string()));
    let body = json!({"message": "You are being rate limited.", "retry_after": retry_after,
                      "global": false});
    Reply {
        status: 429,
        body: Body::Json(body),
        headers,
    }
}

fn ratelimit_headers(template: &str) -> Vec<(String, String)> {
    vec![
        ("x-ratelimit-limit".into(), "5".into()),
        ("x-ratelimit-remaining".into(), "4".into()),
        ("x-ratelimit-reset".into(), epoch_after(1.0)),
        ("x-ratelimit-reset-after".into(), "1.000".into()),
        ("x-ratelimit-bucket".into(), bucket(template)),
    ]
}

fn rate_limited(retry_after: f64, global: bool, template: &str) -> Reply {
    let mut headers = vec![(
        "retry-after".to_string(),
        format!("{}", retry_after.ceil() as u64),
    )];
    if global {
        headers.push(("x-ratelimit-global".into(), "true".into()));
        headers.push(("x-ratelimit-scope".into(), "global".into()));
    } else {
        headers.extend([
            ("x-ratelimit-limit".to_string(), "5".to_string()),
            ("x-ratelimit-remaining".to_string(), "0".to_string()),
            ("x-ratelimit-reset".to_string(), epoch_after(retry_after)),
            (
                "x-ratelimit-reset-after".to_string(),
                format!("{retry_after:.3}"),
            ),
            ("x-ratelimit-bucket".to_string(), bucket(template)),
            ("x-ratelimit-scope".to_string(), "user".to_string()),
        ]);
    }
    let body = json!({"message": "You are being rate limited.", "retry_after": retry_after,
                      "global": global});
    Reply {
        status: 429,
        body: Body::Json(body),
        headers,
    }
}

#[cfg(feature = "test-controls")]
fn html_error(status: u16) -> Reply {
    let title = match status {
        500 => "500 Internal Server Error",
        502 => "502 Bad Gateway",
        503 => "503 Service Temporarily Unavailable",
        504 => "504 Gateway Time-out",
        _ => "Error",
    };
    let html = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n\
         <hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    );
    Reply {
        status,
        body: Body::Html(html),
        headers: Vec::new(),
    }
}

#[cfg(feature = "test-controls")]
fn fault_outcome(fault: Fault, template: &str) -> Outcome {
    match fault {
        Fault::RateLimit {
            retry_after_secs,
            global,
            ..
        } => Outcome::Reply(rate_limited(retry_after_secs, global, template)),
        Fault::ServerError { status, .. } => Outcome::Reply(html_error(status)),
        Fault::DropConnection { .. } | Fault::LoseAnswer { .. } => Outcome::Drop,
        Fault::Stall { .. } => Outcome::Stall,
        Fault::Status { status, body, .. } => Outcome::Reply(Reply::json(status, body)),
    }
}

fn id_param(op: &Operation, name: &str) -> Option<u64> {
    op.param(name).and_then(|v| v.parse().ok())
}

fn route(s: &mut State, ctx: &mut Ctx<'_>, op: &Operation) -> Reply {
    let ws_url = ctx.inner.ws_url();
    let body = ctx.body().clone();
    match (op.method.as_str(), op.template.as_str()) {
        ("GET", "/gateway") => Reply::json(200, json!({"url": ws_url})),
        ("GET", "/gateway/bot") => {
            Reply::json(200, payloads::gateway_bot(&ws_url, ctx.inner.cfg.shards))
        }
        ("GET", "/oauth2/applications/@me") | ("GET", "/applications/@me") => {
            Reply::json(200, payloads::app_info())
        }
        ("GET", "/users/@me") => Reply::json(200, payloads::bot_user()),
        ("GET", "/users/{user_id}") => match id_param(op, "user_id") {
            Some(id) => Reply::json(200, payloads::user(id)),
            None => Reply::error(404, 10013, "Unknown User"),
        },
        ("POST", "/users/@me/channels") => {
            let recipient = body
                .get("recipient_id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or(v.as_u64().map(|n| n.to_string()))
                })
                .and_then(|v| v.parse::<u64>().ok());
            match recipient {
                Some(u) if u != BOT_USER_ID => {
                    if !s.dm_users.contains(&u) {
                        s.dm_users.push(u);
                    }
                    Reply::json(200, payloads::dm_channel(u))
                }
                _ => Reply::json(
                    400,
                    form_error(&[SchemaError::new(
                        &["recipient_id".to_string()],
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )]),
                ),
            }
        }
        ("GET", "/guilds/{guild_id}") => match known_guild(s, op) {
            Some(g) => Reply::json(200, payloads::guild_json(g)),
            None => Reply::error(404, 10004, "Unknown Guild"),
        },
        ("GET", "/guilds/{guild_id}/channels") => match known_guild(s, op) {
            Some(g) => Reply::json(200, Value::Array(g.channels_json())),
            None => Reply::error(404, 10004, "Unknown Guild"),
        },
        ("GET", "/guilds/{guild_id}/members/{user_id}") => {
            match (known_guild(s, op), id_param(op, "user_id")) {
                (Some(_), Some(u)) => {
                    let perms = if u == BOT_USER_ID {
                        payloads::APP_PERMISSIONS
                    } else {
                        payloads::MEMBER_PERMISSIONS
                    };
                    let mut m = payloads::member(u, perms);
                    if let Some(obj) = m.as_object_mut() {
                        obj.remove("permissions");
                    }
                    Reply::json(200, m)
                }
                (Some(_), None) => Reply::error(404, 10007, "Unknown Member"),
                (None, _) => Reply::error(404, 10004, "Unknown Guild"),
            }
        }
        ("GET", "/channels/{channel_id}") => match channel_json(s, id_param(op, "channel_id")) {
            Some(c) => Reply::json(200, c),
            None => Reply::error(404, 10003, "Unknown Channel"),
        },
        ("PATCH", "/channels/{channel_id}") => patch_channel(s, op, &body),
        // The bot deletes only threads it opened; a text channel is left to the test's world.
        ("DELETE", "/channels/{channel_id}") => {
            match id_param(op, "channel_id").and_then(|id| s.threads.remove(&id)) {
                Some(thread) => Reply::json(200, thread),
                None => Reply::error(404, 10003, "Unknown Channel"),
            }
        }
        ("POST", "/channels/{channel_id}/typing") => Reply::empty(),
        ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
        | ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me") => {
            match stored_message(s, op) {
                Some(_) => Reply::empty(),
                None => Reply::error(404, 10008, "Unknown Message"),
            }
        }
        ("POST", "/channels/{channel_id}/messages") => post_channel_message(s, op, &body),
        ("GET", "/channels/{channel_id}/messages") => {
            let channel = op.param("channel_id").unwrap_or("").to_string();
            let limit = ctx.query_u64("limit").unwrap_or(50) as usize;
            // `after` is validated but not applied: the fake's ids are not time-based snowflakes,
            // and the bot's clock is the test's, so every message the channel holds counts as
            // sent after any moment asked about (a superset of Discord's answer).
            let list: Vec<Value> = s
                .messages
                .values()
                .rev()
                .filter(|m| m["channel_id"].as_str() == Some(channel.as_str()))
                .take(limit)
                .cloned()
                .collect();
            Reply::json(200, Value::Array(list))
        }
        ("GET", "/channels/{channel_id}/messages/{message_id}") => match stored_message(s, op) {
            Some(id) => Reply::json(200, s.messages[&id].clone()),
            None => Reply::error(404, 10008, "Unknown Message"),
        },
        ("PATCH", "/channels/{channel_id}/messages/{message_id}") => match stored_message(s, op) {
            Some(id) => {
                let m = s.messages.get_mut(&id).expect("stored");
                payloads::edit_message(m, &body);
                Reply::json(200, m.clone())
            }
            None => Reply::error(404, 10008, "Unknown Message"),
        },
        ("DELETE", "/channels/{channel_id}/messages/{message_id}") => match stored_message(s, op) {
            Some(id) => {
                s.messages.remove(&id);
                Reply::empty()
            }
            None => Reply::error(404, 10008, "Unknown Message"),
        },
        ("POST", "/channels/{channel_id}/messages/{message_id}/threads")
        | ("POST", "/channels/{channel_id}/threads") => start_thread(s, op, &body),
        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => {
            interaction_callback(s, ctx, op, &body)
        }
        ("POST", "/webhooks/{webhook_id}/{webhook_token}") => followup(s, ctx, op, &body),
        (
            method @ ("GET" | "PATCH" | "DELETE"),
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
            | "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        ) => webhook_message(s, ctx, op, method, &body),
        (method, template) if template.starts_with("/applications/{application_id}") => {
            if id_param(op, "application_id") != Some(APP_ID) {
                ctx.violate(format!(
                    "application id {:?} is not the bot's ({APP_ID})",
                    op.param("application_id")
                ));
                return Reply::error(403, 50001, "Missing Access");
            }
            commands(s, op, method, template, &body)
        }
        (method, template) => {
            ctx.violate(format!(
                "UNIMPLEMENTED: the fake does not implement {method} {template} (a real Discord \
                 route); extend crates/discord-standin/src/rest.rs"
            ));
            Reply::not_found()
        }
    }
}

/// The guild of the route's `{guild_id}`, if the bot is in it.
fn known_guild<'s>(s: &'s State, op: &Operation) -> Option<&'s payloads::FakeGuild> {
    id_param(op, "guild_id").and_then(|id| s.guild(id))
}

/// A channel as `GET /channels/{id}` answers it: a thread, a text channel of whichever guild
/// holds it (with that guild's id), or a DM channel.
fn channel_json(s: &State, id: Option<u64>) -> Option<Value> {
    let id = id?;
    if let Some(t) = s.threads.get(&id) {
        return Some(t.clone());
    }
    if let Some(channel) = s.guild_of_channel(id).and_then(|g| g.channel_json(id)) {
        return Some(channel);
    }
    dm_user_of(id).map(payloads::dm_channel)
}

fn start_thread(s: &mut State, op: &Operation, body: &Value) -> Reply {
    let Some((parent, guild_id)) =
        id_param(op, "channel_id").and_then(|c| s.guild_of_channel(c).map(|g| (c, g.id)))
    else {
        return Reply::error(404, 10003, "Unknown Channel");
    };
    if op.param("message_id").is_some() && stored_message(s, op).is_none() {
        return Reply::error(404, 10008, "Unknown Message");
    }
    let id = s.new_id();
    let name = body.get("name").and_then(Value::as_str).unwrap_or("");
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(11);
    let archive = body
        .get("auto_archive_duration")
        .and_then(Value::as_u64)
        .unwrap_or(4320);
    let thread = payloads::thread_channel(guild_id, id, parent, name, kind, archive);
    s.threads.insert(id, thread.clone());
    Reply::json(201, thread)
}

/// `PATCH /channels/{id}`: on a thread, what the bot may change of its own thread (archived,
/// locked, name, auto-archive time), as Discord applies it; other channels answer unchanged, as
/// the bot changes nothing else about them.
fn patch_channel(s: &mut State, op: &Operation, body: &Value) -> Reply {
    let Some(id) = id_param(op, "channel_id") else {
        return Reply::error(404, 10003, "Unknown Channel");
    };
    if let Some(thread) = s.threads.get_mut(&id) {
        for key in ["archived", "locked", "auto_archive_duration"] {
            if let Some(value) = body.get(key) {
                thread["thread_metadata"][key] = value.clone();
            }
        }
        if let Some(name) = body.get("name") {
            thread["name"] = name.clone();
        }
        return Reply::json(200, thread.clone());
    }
    match channel_json(s, Some(id)) {
        Some(channel) => Reply::json(200, channel),
        None => Reply::error(404, 10003, "Unknown Channel"),
    }
}

fn dm_user_of(channel_id: u64) -> Option<u64> {
    channel_id
        .checked_sub(payloads::dm_channel_id(0))
        .filter(|u| *u > 0 && payloads::dm_channel_id(*u) == channel_id && *u < 100_000_000)
}

fn stored_message(s: &State, op: &Operation) -> Option<u64> {
    let id = id_param(op, "message_id")?;
    let channel = op.param("channel_id")?;
    s.messages
        .get(&id)
        .filter(|m| m["channel_id"].as_str() == Some(channel))
        .map(|_| id)
}

fn post_channel_message(s: &mut State, op: &Operation, body: &Value) -> Reply {
    let Some(channel_id) = id_param(op, "channel_id") else {
        return Reply::error(404, 10003, "Unknown Channel");
    };
    if channel_json(s, Some(channel_id)).is_none() {
        return Reply::error(404, 10003, "Unknown Channel");
    }
    if dm_user_of(channel_id).is_some_and(|u| s.blocked_dm_users.contains(&u)) {
        return Reply::error(403, 50007, "Cannot send messages to this user");
    }
    let nonce_key = match (body.get("nonce"), body.get("enforce_nonce")) {
        (Some(n), Some(Value::Bool(true))) if !n.is_null() => Some((
            channel_id,
            n.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| n.to_string()),
        )),
        _ => None,
    };
    if let Some(key) = &nonce_key {
        if let Some(existing) = s.nonces.get(key).and_then(|id| s.messages.get(id)) {
            return Reply::json(200, existing.clone());
        }
    }
    let id = s.new_id();
    let msg = payloads::message_from_request(id, channel_id, Author::Bot, body, None);
    s.messages.insert(id, msg.clone());
    s.channel_posts.push(id);
    if let Some(key) = nonce_key {
        s.nonces.insert(key, id);
    }
    Reply::json(200, msg)
}

fn interaction_callback(s: &mut State, ctx: &mut Ctx<'_>, op: &Operation, body: &Value) -> Reply {
    let token = op.param("interaction_token").unwrap_or("").to_string();
    let id = id_param(op, "interaction_id");
    let deadline = ctx.inner.cfg.interaction_deadline;
    let new_id = s.new_id();
    let events = s.callback_events.clone();
    let Some(it) = s
        .interactions
        .get_mut(&token)
        .filter(|it| Some(it.id) == id)
    else {
        ctx.violate("callback for an unknown interaction (wrong id or token)");
        return Reply::error(404, 10062, "Unknown interaction");
    };
    let waited = ctx.arrived.saturating_duration_since(it.dispatched_at);
    let first = it.callback_type.is_none();
    let late = deadline.is_some_and(|limit| waited > limit);
    if let Some(events) = events {
        let _ = events.send(CallbackEvent {
            token: token.clone(),
            latency: waited,
            accepted: first && !late,
        });
    }
    if !first {
        ctx.violate("second callback: the interaction was already acknowledged");
        return Reply::error(400, 40060, "Interaction has already been acknowledged.");
    }
    it.answered_at = Some(ctx.arrived);
    if let Some(limit) = deadline {
        if late {
            ctx.violate(format!(
                "first response came {waited:?} after the interaction, later than {limit:?}: \
                 the token is void (defer if the work may take longer)"
            ));
            return Reply::error(404, 10062, "Unknown interaction");
        }
    }
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    it.callback_type = Some(kind);
    it.callback_body = body.clone();
    let mut original: Option<Value> = None;
    match kind {
        4 => {
            original = Some(payloads::message_from_request(
                new_id,
                it.channel_id,
                Author::InteractionWebhook,
                &data,
                Some((it.id, it.user_id)),
            ));
        }
        5 => {
            let flags = data.get("flags").and_then(Value::as_u64).unwrap_or(0);
            let mut m = payloads::message_from_request(
                new_id,
                it.channel_id,
                Author::InteractionWebhook,
                &json!({"content": "", "flags": flags}),
                Some((it.id, it.user_id)),
            );
            m["flags"] = json!(flags | 128);
            original = Some(m);
            it.original_loading = true;
        }
        6 | 7 => {
            if let Some(mut m) = it.component_message.clone() {
                if kind == 7 {
                    payloads::edit_message(&mut m, &data);
                    it.component_message = Some(m.clone());
                }
                original = Some(m);
            }
        }
        _ => {}
    }
    let loading = it.original_loading;
    let mut original_id = None;
    if let Some(m) = &original {
        let mid: u64 = m["id"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(new_id);
        it.original = Some(mid);
        original_id = Some(mid);
    }
    let interaction_kind = it.kind;
    let interaction_id = it.id;
    if let (Some(mid), Some(m)) = (original_id, original.clone()) {
        s.messages.insert(mid, m);
    }
    if ctx.query_flag("with_response") {
        let flags = original
            .as_ref()
            .and_then(|m| m["flags"].as_u64())
            .unwrap_or(0);
        let mut resource = json!({"type": kind});
        if let Some(m) = original {
            resource["message"] = m;
        }
        return Reply::json(
            200,
            json!({"interaction": {"id": sf(interaction_id), "type": interaction_kind,
                                   "response_message_id": original_id.map(sf),
                                   "response_message_loading": loading,
                                   "response_message_ephemeral": flags & 64 != 0},
                   "resource": resource}),
        );
    }
    Reply::empty()
}

/// The interaction a webhook route refers to, checked like Discord does.
fn webhook_interaction<'s>(
    s: &'s mut State,
    ctx: &mut Ctx<'_>,
    op: &Operation,
) -> Result<&'s mut InteractionState, Reply> {
    let token = op.param("webhook_token").unwrap_or("").to_string();
    let lifetime = ctx.inner.cfg.interaction_token_lifetime;
    if id_param(op, "webhook_id") != Some(APP_ID) || !s.interactions.contains_key(&token) {
        ctx.violate("webhook route with an unknown application id or interaction token");
        return Err(Reply::error(404, 10015, "Unknown Webhook"));
    }
    let it = s.interactions.get_mut(&token).expect("checked");
    if it.dispatched_at.elapsed() > lifetime {
        ctx.violate(format!("interaction token used after {lifetime:?}"));
        return Err(Reply::error(401, 50027, "Invalid Webhook Token"));
    }
    if it.callback_type.is_none() {
        ctx.violate("follow-up or edit before the interaction was answered (callback first)");
        return Err(Reply::error(404, 10015, "Unknown Webhook"));
    }
    Ok(it)
}

fn followup(s: &mut State, ctx: &mut Ctx<'_>, op: &Operation, body: &Value) -> Reply {
    let new_id = s.new_id();
    let it = match webhook_interaction(s, ctx, op) {
        Ok(it) => it,
        Err(r) => return r,
    };
    it.followups.push(body.clone());
    // After a deferral the first follow-up replaces the "thinking..." message.
    if it.original_loading {
        it.original_loading = false;
        let Some(mid) = it.original else {
            return Reply::error(404, 10008, "Unknown Message");
        };
        let m = s.messages.get_mut(&mid).expect("original stored");
        let keep = m["flags"].as_u64().unwrap_or(0) & 64;
        payloads::edit_message(m, body);
        // The "thinking" flag (128) goes; the deferral's ephemeral flag (64) stays.
        m["flags"] = json!((m["flags"].as_u64().unwrap_or(0) & !128) | keep);
        return Reply::json(200, m.clone());
    }
    let (channel, iid, user) = (it.channel_id, it.id, it.user_id);
    it.followup_ids.push(new_id);
    let m = payloads::message_from_request(
        new_id,
        channel,
        Author::InteractionWebhook,
        body,
        Some((iid, user)),
    );
    s.messages.insert(new_id, m.clone());
    Reply::json(200, m)
}

fn webhook_message(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    op: &Operation,
    method: &str,
    body: &Value,
) -> Reply {
    let it = match webhook_interaction(s, ctx, op) {
        Ok(it) => it,
        Err(r) => return r,
    };
    let target = match op.param("message_id") {
        None => it.original,
        Some(id) => id
            .parse::<u64>()
            .ok()
            .filter(|id| Some(*id) == it.original || it.followup_ids.contains(id)),
    };
    let Some(mid) = target else {
        if method != "GET" {
            ctx.violate("edit or delete of an interaction message that does not exist");
        }
        return Reply::error(404, 10008, "Unknown Message");
    };
    let is_original = Some(mid) == it.original;
    match method {
        "GET" => match s.messages.get(&mid) {
            Some(m) => Reply::json(200, m.clone()),
            None => Reply::error(404, 10008, "Unknown Message"),
        },
        "PATCH" => {
            if is_original {
                it.followups.push(body.clone());
                it.original_loading = false;
            }
            match s.messages.get_mut(&mid) {
                Some(m) => {
                    payloads::edit_message(m, body);
                    m["flags"] = json!(m["flags"].as_u64().unwrap_or(0) & !128);
                    Reply::json(200, m.clone())
                }
                None => Reply::error(404, 10008, "Unknown Message"),
            }
        }
        _ => {
            if is_original {
                it.original = None;
            } else {
                it.followup_ids.retain(|i| *i != mid);
            }
            s.messages.remove(&mid);
            Reply::empty()
        }
    }
}

fn upsert_command(s: &mut State, scope: Option<u64>, body: &Value) -> (Value, bool) {
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(1);
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let key = (scope, kind, name);
    let created = !s.command_ids.contains_key(&key);
    let id = match s.command_ids.get(&key) {
        Some(id) => *id,
        None => {
            let id = s.new_id();
            s.command_ids.insert(key, id);
            id
        }
    };
    let version = s.new_id();
    (
        payloads::command_from_request(id, version, scope, body),
        created,
    )
}

fn commands(s: &mut State, op: &Operation, method: &str, template: &str, body: &Value) -> Reply {
    let scope = id_param(op, "guild_id");
    if template.contains("{guild_id}") && scope.and_then(|g| s.guild(g)).is_none() {
        return Reply::error(403, 50001, "Missing Access");
    }
    let list_route = template.ends_with("/commands");
    match (method, list_route) {
        ("PUT", true) => {
            let items = body.as_array().cloned().unwrap_or_default();
            let stored: Vec<Value> = items
                .iter()
                .map(|c| upsert_command(s, scope, c).0)
                .collect();
            // Commands left out of the overwrite are deleted; the others keep their ids.
            let keep: Vec<(u64, String)> = stored
                .iter()
                .map(|c| {
                    (
                        c["type"].as_u64().unwrap_or(1),
                        c["name"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            s.command_ids.retain(|(sc, k, n), _| {
                *sc != scope || keep.iter().any(|(kk, nn)| kk == k && nn == n)
            });
            s.commands.insert(scope, stored.clone());
            s.registrations.push((scope, body.clone()));
            Reply::json(200, Value::Array(stored))
        }
        ("GET", true) => Reply::json(
            200,
            Value::Array(s.commands.get(&scope).cloned().unwrap_or_default()),
        ),
        ("POST", true) => {
            let (cmd, created) = upsert_command(s, scope, body);
            let list = s.commands.entry(scope).or_default();
            list.retain(|c| c["id"] != cmd["id"]);
            list.push(cmd.clone());
            Reply::json(if created { 201 } else { 200 }, cmd)
        }
        (_, false) => {
            let Some(cid) = op.param("command_id").map(str::to_string) else {
                return Reply::error(404, 10063, "Unknown application command");
            };
            let list = s.commands.entry(scope).or_default();
            let Some(pos) = list
                .iter()
                .position(|c| c["id"].as_str() == Some(cid.as_str()))
            else {
                return Reply::error(404, 10063, "Unknown application command");
            };
            match method {
                "GET" => Reply::json(200, list[pos].clone()),
                "DELETE" => {
                    let gone = list.remove(pos);
                    s.command_ids.retain(|_, id| {
                        Some(*id) != gone["id"].as_str().and_then(|v| v.parse().ok())
                    });
                    Reply::empty()
                }
                _ => {
                    let mut merged = list[pos].clone();
                    if let (Some(m), Some(b)) = (merged.as_object_mut(), body.as_object()) {
                        for (k, v) in b {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                    let id: u64 = cid.parse().unwrap_or(0);
                    let version = s.new_id();
                    let cmd = payloads::command_from_request(id, version, scope, &merged);
                    let list = s.commands.entry(scope).or_default();
                    list[pos] = cmd.clone();
                    Reply::json(200, cmd)
                }
            }
        }
        _ => Reply::error(405, 0, "405: Method Not Allowed"),
    }
}
