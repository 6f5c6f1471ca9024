//! The page's HTTP side: the page itself (built into the binary), a stream of server-sent
//! events that tells it to redraw, and the few JSON routes behind its controls.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::people::{self, Person};
use super::view::{self, PageError};
use super::TryState;

const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");
/// The README, for its section on running careprompt for real, which the page links to.
const README: &str = include_str!("../../README.md");
const FOR_REAL_HEADING: &str = "## Running it for real";

/// Far more than any command typed on the page; a bigger request is not the page's.
const LARGEST_REQUEST: usize = 64 * 1024;
/// Changes closer together than this are drawn once: a post and its DMs arrive in a burst.
const REDRAW_GATHER: Duration = Duration::from_millis(30);

type Body = BoxBody<Bytes, Infallible>;

pub(crate) async fn serve(listener: TcpListener, state: Arc<TryState>) {
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "the try-out page could not accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            if let Err(err) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await
            {
                tracing::debug!(error = %err, "a try-out page connection ended");
            }
        });
    }
}

async fn handle(
    state: Arc<TryState>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let response = match (&method, path.as_str()) {
        (&Method::GET, "/") => text(PAGE, "text/html; charset=utf-8"),
        (&Method::GET, "/page.css") => text(STYLE, "text/css; charset=utf-8"),
        (&Method::GET, "/page.js") => text(SCRIPT, "text/javascript; charset=utf-8"),
        (&Method::GET, "/events") => events(&state),
        (&Method::GET, "/running-it-for-real") => response(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            full(for_real_section()),
        ),
        (&Method::GET, "/api/commands") => {
            json_response(StatusCode::OK, &view::command_list(&state.discord))
        }
        (&Method::GET, "/api/view") => match person_in(&query) {
            Some(person) => match view::view(&state, person).await {
                Ok(page) => json_response(StatusCode::OK, &page),
                Err(err) => failure(&err),
            },
            None => failure(&PageError::UnknownPerson),
        },
        (&Method::POST, "/api/command") => match read_json::<CommandRequest>(request).await {
            Ok(asked) => match people::person(&asked.person) {
                Some(person) => answer(view::run_command(&state, person, &asked.text).await),
                None => failure(&PageError::UnknownPerson),
            },
            Err(err) => failure(&err),
        },
        (&Method::POST, "/api/click") => match read_json::<ClickRequest>(request).await {
            Ok(click) => match people::person(&click.person) {
                Some(person) => {
                    answer(view::click(&state, person, &click.message_id, &click.custom_id).await)
                }
                None => failure(&PageError::UnknownPerson),
            },
            Err(err) => failure(&err),
        },
        (&Method::POST, "/api/jump") => answer(view::jump(&state).await),
        (&Method::GET, file) if file.starts_with("/files/") => match view::file(&state, file) {
            Some((name, bytes)) => download(name, bytes),
            None => failure(&PageError::NoSuchFile),
        },
        _ => failure(&PageError::NotFound),
    };
    Ok(response)
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

async fn read_json<T: for<'de> Deserialize<'de>>(
    request: Request<Incoming>,
) -> Result<T, PageError> {
    let body = Limited::new(request.into_body(), LARGEST_REQUEST)
        .collect()
        .await
        .map_err(|_| PageError::BadRequest)?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|_| PageError::BadRequest)
}

fn answer(outcome: Result<Value, PageError>) -> Response<Body> {
    match outcome {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(err) => failure(&err),
    }
}

fn failure(err: &PageError) -> Response<Body> {
    json_response(err.status(), &json!({ "message": err.to_string() }))
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn response(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

fn text(body: &'static str, content_type: &str) -> Response<Body> {
    response(StatusCode::OK, content_type, full(body))
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    response(status, "application/json", full(value.to_string()))
}

fn download(name: String, bytes: Vec<u8>) -> Response<Body> {
    let content_type = match name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("csv") => "text/csv",
        _ => "application/octet-stream",
    };
    let mut response = response(StatusCode::OK, content_type, full(bytes));
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

/// One `changed` event whenever the stand-in or the clock moves, gathered into bursts.
fn events(state: &TryState) -> Response<Body> {
    let discord = state.discord.changes();
    let nudged = state.nudged.subscribe();
    let first =
        stream::once(async { Ok::<_, Infallible>(Frame::data(Bytes::from("retry: 1000\n\n"))) });
    let changes = stream::unfold((discord, nudged), |(mut discord, mut nudged)| async move {
        tokio::select! {
            changed = discord.changed() => changed.ok()?,
            changed = nudged.changed() => changed.ok()?,
        }
        tokio::time::sleep(REDRAW_GATHER).await;
        discord.borrow_and_update();
        nudged.borrow_and_update();
        let frame = Frame::data(Bytes::from("data: changed\n\n"));
        Some((Ok::<_, Infallible>(frame), (discord, nudged)))
    });
    let body = BodyExt::boxed(StreamBody::new(first.chain(changes)));
    let mut response = response(StatusCode::OK, "text/event-stream", body);
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
