//! The page's HTTP side: the page itself (built into the binary), a stream of server-sent
//! events that tells it to redraw, and the few JSON routes behind its controls.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::people::{self, Person};
use super::view::{self, PageError};
use super::TryState;
use crate::serve::{self, Limits};

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
/// The README, for its section on running careprompt for real, which the page links to.
const README: &str = include_str!("../../README.md");
const FOR_REAL_HEADING: &str = "## Running it for real";

/// Far more than any command typed on the page; a bigger request is not the page's. Every page
/// action is answered well within the deadline: careprompt's own answers are awaited for 10 s.
const LIMITS: Limits = Limits {
    largest_body: 64 * 1024,
    answer_within: Duration::from_secs(60),
};
/// Changes closer together than this are drawn once: a post and its DMs arrive in a burst.
const REDRAW_GATHER: Duration = Duration::from_millis(30);

/// The page's server, running until [`Page::stop`].
pub(crate) struct Page {
    stop: CancellationToken,
    _task: JoinHandle<()>,
}

impl Page {
    pub(crate) fn serve(listener: TcpListener, state: Arc<TryState>) -> Page {
        let stop = CancellationToken::new();
        let router = serve::limited(router(state, stop.clone()), LIMITS);
        let task = tokio::spawn(serve::serve(
            "try-out page",
            listener,
            router,
            stop.clone().cancelled_owned(),
        ));
        Page { stop, _task: task }
    }

    /// Stops accepting; open pages' event streams end, and requests in hand are answered.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the handlers share: the try-out, and the page's end, which ends its event streams.
#[derive(Clone)]
struct Shared {
    state: Arc<TryState>,
    stop: CancellationToken,
}

fn router(state: Arc<TryState>, stop: CancellationToken) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { text(PAGE, "text/html; charset=utf-8") }),
        )
        .route(
            "/page.css",
            get(|| async { text(STYLE, "text/css; charset=utf-8") }),
        )
        .route(
            "/page.js",
            get(|| async { text(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route("/events", get(events))
        .route(
            "/running-it-for-real",
            get(|| async {
                response(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    HttpBody::from(for_real_section()),
                )
            }),
        )
        .route("/api/commands", get(commands))
        .route("/api/view", get(view_for))
        .route("/api/command", post(command))
        .route("/api/click", post(click))
        .route("/api/jump", post(jump))
        .route("/files/{*file}", get(file))
        // Anything else, asked any other way, is not the page's.
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(Shared { state, stop })
}

async fn not_found() -> Response {
    failure(&PageError::NotFound)
}

async fn commands(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &view::command_list(&shared.state.discord))
}

async fn view_for(State(shared): State<Shared>, request: Request) -> Response {
    match person_in(request.uri().query().unwrap_or("")) {
        Some(person) => match view::view(&shared.state, person).await {
            Ok(page) => json_response(StatusCode::OK, &page),
            Err(err) => failure(&err),
        },
        None => failure(&PageError::UnknownPerson),
    }
}

async fn command(State(shared): State<Shared>, request: Request) -> Response {
    match read_json::<CommandRequest>(request).await {
        Ok(asked) => match people::person(&asked.person) {
            Some(person) => answer(view::run_command(&shared.state, person, &asked.text).await),
            None => failure(&PageError::UnknownPerson),
        },
        Err(err) => failure(&err),
    }
}

async fn click(State(shared): State<Shared>, request: Request) -> Response {
    match read_json::<ClickRequest>(request).await {
        Ok(click) => match people::person(&click.person) {
            Some(person) => answer(
                view::click(&shared.state, person, &click.message_id, &click.custom_id).await,
            ),
            None => failure(&PageError::UnknownPerson),
        },
        Err(err) => failure(&err),
    }
}

async fn jump(State(shared): State<Shared>) -> Response {
    answer(view::jump(&shared.state).await)
}

async fn file(State(shared): State<Shared>, request: Request) -> Response {
    match view::file(&shared.state, request.uri().path()) {
        Some((name, bytes)) => download(name, bytes),
        None => failure(&PageError::NoSuchFile),
    }
}

#[derive(Deserialize)]
struct CommandRequest {
    #[serde(rename = "as")]
    person: String,
    text: String,
}

#[derive(Deserialize)]
struct ClickRequest {
    #[serde(rename = "as")]
    person: String,
    message_id: String,
    custom_id: String,
}

fn person_in(query: &str) -> Option<Person> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "as")
        .and_then(|(_, key)| people::person(key))
}

async fn read_json<T: for<'de> Deserialize<'de>>(request: Request) -> Result<T, PageError> {
    let body = axum::body::to_bytes(request.into_body(), LIMITS.largest_body)
        .await
        .map_err(|_| PageError::BadRequest)?;
    serde_json::from_slice(&body).map_err(|_| PageError::BadRequest)
}

fn answer(outcome: Result<Value, PageError>) -> Response {
    match outcome {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(err) => failure(&err),
    }
}

fn failure(err: &PageError) -> Response {
    json_response(err.status(), &json!({ "message": err.to_string() }))
}

fn response(status: StatusCode, content_type: &str, body: HttpBody) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

fn text(body: &'static str, content_type: &str) -> Response {
    response(StatusCode::OK, content_type, HttpBody::from(body))
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    response(
        status,
        "application/json",
        HttpBody::from(value.to_string()),
    )
}

fn download(name: String, bytes: Vec<u8>) -> Response {
    let content_type = match name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("csv") => "text/csv",
        _ => "application/octet-stream",
    };
    let mut response = response(StatusCode::OK, content_type, HttpBody::from(bytes));
    // The name is careprompt's own; quotes are dropped so it cannot end the header's value.
    let safe: String = name
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if let Ok(value) = format!("attachment; filename=\"{safe}\"").parse() {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// One `changed` event whenever the stand-in or the clock moves, gathered into bursts, until the
/// page's server stops.
async fn events(State(shared): State<Shared>) -> Response {
    let discord = shared.state.discord.changes();
    let nudged = shared.state.nudged.subscribe();
    let first = stream::once(async { Ok::<_, Infallible>(Bytes::from("retry: 1000\n\n")) });
    let changes = stream::unfold((discord, nudged), |(mut discord, mut nudged)| async move {
        tokio::select! {
            changed = discord.changed() => changed.ok()?,
            changed = nudged.changed() => changed.ok()?,
        }
        tokio::time::sleep(REDRAW_GATHER).await;
        discord.borrow_and_update();
        nudged.borrow_and_update();
        let frame = Bytes::from("data: changed\n\n");
        Some((Ok::<_, Infallible>(frame), (discord, nudged)))
    });
    let stream = first
        .chain(changes)
        .take_until(shared.stop.cancelled_owned());
    let mut response = response(
        StatusCode::OK,
        "text/event-stream",
        HttpBody::from_stream(stream),
    );
    if let Ok(value) = "no-cache".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}

/// The README's section on running careprompt for real, up to the next section.
fn for_real_section() -> String {
    let Some(start) = README.find(FOR_REAL_HEADING) else {
        return README.to_string();
    };
    let rest = &README[start..];
    let end = rest[FOR_REAL_HEADING.len()..]
        .find("\n## ")
        .map_or(rest.len(), |at| at + FOR_REAL_HEADING.len());
    rest[..end].to_string()
}
