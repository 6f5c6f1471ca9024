//! The fake gateway: plain `ws://`, uncompressed JSON text frames, Discord's opcodes.
//!
//! HELLO on connect; every heartbeat is acknowledged; IDENTIFY with the right token starts a
//! session on its `shard` ([0, 1] if absent): READY listing that shard's guilds, then one
//! GUILD_CREATE per guild with the GUILDS intent. A shard id not below the shard count, or a
//! count of 0, closes with 4010; a wrong token with 4004. Several sessions live at once, one
//! per IDENTIFY, even on the same shard, and each dispatch goes to the sessions of its guild's
//! shard (`(guild_id >> 22) % num_shards`, DMs to shard 0), as on Discord.
//!
//! RESUME of a known session replays the dispatches the client missed and sends RESUMED; any
//! other RESUME gets op 9. Dispatches are kept per session so that one made while the client
//! is reconnecting reaches it after its RESUME. A session ends when the client closes with
//! 1000 or 1001, or the fake closes with a code after which Discord wants a new session.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::create_response;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::payloads::{self, shard_of_guild, TOKEN};
use super::state::{Conn, Inner, Outgoing, Session, State, GUILDS_INTENT};

/// Discord's reason text for its close codes.
pub fn close_reason(code: u16) -> &'static str {
    match code {
        1000 => "",
        4000 => "Unknown error.",
        4001 => "Unknown opcode.",
        4002 => "Error while decoding payload.",
        4003 => "Not authenticated.",
        4004 => "Authentication failed.",
        4005 => "Already authenticated.",
        4007 => "Invalid seq.",
        4008 => "Rate limited.",
        4009 => "Session timed out.",
        4010 => "Invalid shard.",
        4011 => "Sharding required.",
        4012 => "Invalid API version.",
        4013 => "Invalid intent(s).",
        4014 => "Disallowed intent(s).",
        _ => "Closed by the fake.",
    }
}

/// The gateway: a websocket on any path (serenity adds `/?v=10&encoding=json` to the URL that
/// `GET /gateway` gives it).
pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(upgrade).with_state(inner)
}

/// Answers the websocket handshake (RFC 6455) as tungstenite's server does and, once hyper hands
/// over the connection, runs it with tungstenite: the version serenity's own client builds, so
/// the binary carries one.
async fn upgrade(Shared(inner): Shared<Arc<Inner>>, mut request: Request) -> Response {
    let mut handshake = axum::http::Request::new(());
    *handshake.method_mut() = request.method().clone();
    *handshake.version_mut() = request.version();
    *handshake.headers_mut() = request.headers().clone();
    let Ok(switching) = create_response(&handshake) else {
        return (
            StatusCode::BAD_REQUEST,
            "a websocket handshake is expected here\n",
        )
            .into_response();
    };
    let query = request.uri().query().map(str::to_string);
    let upgraded = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = upgraded.await {
            let ws =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            connection(inner, ws, query).await;
        }
    });
    switching.map(|()| Body::empty())
}

/// Whether Discord forgets the session after closing with `code`: after an invalid seq (4007)
/// or a timed-out session (4009) it wants a new IDENTIFY, and after 4004 or 4010 to 4014 the
/// client must not reconnect at all.
#[cfg_attr(not(feature = "test-controls"), allow(dead_code))]
pub fn close_ends_session(code: u16) -> bool {
    matches!(code, 4004 | 4007 | 4009 | 4010..=4014)
}

fn token_ok(token: Option<&str>) -> bool {
    token.is_some_and(|t| t.strip_prefix("Bot ").unwrap_or(t) == TOKEN)
}

async fn connection<S>(inner: Arc<Inner>, ws: WebSocketStream<S>, query: Option<String>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut shutdown = inner.stopping();
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let conn_id = inner.update(|s| {
        s.gw.connections += 1;
        let q = query.clone().unwrap_or_default();
        if !q.split('&').any(|p| p == "v=10") {
            s.violations.push(format!(
                "gateway connection without v=10 in the URL query ({q:?})"
            ));
        }
        if q.split('&')
            .any(|p| p.starts_with("encoding=") && p != "encoding=json")
        {
            s.violations
                .push(format!("gateway encoding other than json ({q:?})"));
        }
        s.gw.connections as u64
    });
    let _ = tx.send(Outgoing::Frame(payloads::hello(
        inner.cfg.heartbeat_interval_ms,
    )));

    let (mut sink, mut stream) = ws.split();
    let mut authed = false;
    let mut sent_times: VecDeque<Instant> = VecDeque::new();
    let mut pending_ack: Option<oneshot::Sender<()>> = None;
    loop {
        tokio::select! {
            res = shutdown.changed() => {
                if res.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            out = rx.recv() => match out {
                Some(Outgoing::Frame(v)) => {
                    if sink.send(Message::Text(v.to_string())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Text(text)) => {
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, reason, ack)) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    let _ = sink.flush().await;
                    if let Some(ack) = ack {
                        let _ = ack.send(());
                    }
                    // Let the client answer the close handshake, then hang up.
                    let _ = tokio::time::timeout(Duration::from_secs(5), async {
                        while let Some(Ok(m)) = stream.next().await {
                            if m.is_close() {
                                break;
                            }
                        }
                    })
                    .await;
                    break;
                }
                Some(Outgoing::Drop(ack)) => {
                    pending_ack = ack;
                    break;
                }
                None => break,
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    inner.update(|s| on_frame(s, &inner, conn_id, &tx, &text, &mut authed, &mut sent_times));
                }
                Some(Ok(Message::Binary(_))) => {
                    let _ = tx.send(Outgoing::Close(4002, close_reason(4002).into(), None));
                }
                Some(Ok(Message::Close(frame))) => {
                    // Closing with 1000 or 1001 logs the bot off: Discord drops the session.
                    let code = frame.map(|f| u16::from(f.code));
                    if matches!(code, Some(1000 | 1001)) {
                        inner.update(|s| s.gw.sessions.retain(|x| !x.is_on(conn_id)));
                    }
                    // Discord answers a close frame with its own before hanging up; tungstenite
                    // has queued that answer, and flushing sends it.
                    let _ = sink.flush().await;
                    break;
                }
                None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    drop(sink);
    drop(stream);
    inner.update(|s| {
        for session in &mut s.gw.sessions {
            if session.is_on(conn_id) {
                session.conn = None;
            }
        }
    });
    if let Some(ack) = pending_ack {
        let _ = ack.send(());
    }
}

fn close(tx: &mpsc::UnboundedSender<Outgoing>, code: u16) {
    let _ = tx.send(Outgoing::Close(code, close_reason(code).into(), None));
}

fn on_frame(
    s: &mut State,
    inner: &Inner,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    text: &str,
    authed: &mut bool,
    sent_times: &mut VecDeque<Instant>,
) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        s.violations
            .push(format!("gateway frame is not JSON: {text:.200}"));
        close(tx, 4002);
        return;
    };
    s.gw.frames.push(frame.clone());

    if let Some(limit) = inner.cfg.gateway_send_limit {
        let now = Instant::now();
        sent_times.push_back(now);
        while sent_times
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            sent_times.pop_front();
        }
        if sent_times.len() > limit {
            s.violations.push(format!(
                "gateway: more than {limit} frames sent in a minute on one connection"
            ));
            close(tx, 4008);
            return;
        }
    }

    let op = frame.get("op").and_then(Value::as_u64);
    let d = frame.get("d").cloned().unwrap_or(Value::Null);
    match op {
        Some(1) => {
            s.gw.heartbeats += 1;
            let _ = tx.send(Outgoing::Frame(payloads::heartbeat_ack()));
        }
        Some(2) => {
            if *authed {
                close(tx, 4005);
                return;
            }
            if !token_ok(d.get("token").and_then(Value::as_str)) {
                close(tx, 4004);
                return;
            }
            let intents = d.get("intents").and_then(Value::as_u64);
            let properties_ok = ["os", "browser", "device"].iter().all(|k| {
                d.pointer(&format!("/properties/{k}"))
                    .is_some_and(Value::is_string)
            });
            let Some(intents) = intents.filter(|_| properties_ok) else {
                s.violations.push(format!(
                    "IDENTIFY without intents or properties (os, browser, device): {d}"
                ));
                close(tx, 4002);
                return;
            };
            let shard = match identify_shard(d.get("shard")) {
                Ok(shard) => shard,
                Err(ShardError::Malformed(shard)) => {
                    s.violations.push(format!(
                        "IDENTIFY with a shard that is not [shard_id, num_shards]: {shard}"
                    ));
                    close(tx, 4002);
                    return;
                }
                Err(ShardError::Invalid([id, total])) => {
                    s.violations
                        .push(format!("IDENTIFY with invalid shard [{id}, {total}]"));
                    close(tx, 4010);
                    return;
                }
            };
            *authed = true;
            s.gw.identified_shards.push(shard);
            s.gw.sessions_started += 1;
            let session_id = format!("fake-session-{}", s.gw.sessions_started);
            s.gw.sessions.push(Session {
                id: session_id.clone(),
                shard,
                intents,
                seq: 0,
                events: Vec::new(),
                conn: Some(Conn {
                    id: conn_id,
                    tx: tx.clone(),
                }),
            });
            let index = s.gw.sessions.len() - 1;
            let [shard_id, num_shards] = shard;
            let guilds: Vec<payloads::FakeGuild> = s
                .guilds
                .iter()
                .filter(|g| shard_of_guild(g.id, num_shards) == shard_id)
                .cloned()
                .collect();
            let guild_ids: Vec<u64> = guilds.iter().map(|g| g.id).collect();
            let echoed_shard = d.get("shard").map(|_| shard);
            let ready = payloads::ready(&session_id, &inner.ws_url(), echoed_shard, &guild_ids);
            s.push_to_session(index, "READY", ready);
            s.gw.ready_shards.push(shard);
            if inner.cfg.send_guild_create && intents & GUILDS_INTENT != 0 {
                for guild in &guilds {
                    s.push_to_session(index, "GUILD_CREATE", payloads::guild_create(guild));
                }
            }
        }
        Some(6) => {
            if !token_ok(d.get("token").and_then(Value::as_str)) {
                close(tx, 4004);
                return;
            }
            let wanted = d.get("session_id").and_then(Value::as_str).unwrap_or("");
            let client_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
            let Some(index) =
                s.gw.sessions
                    .iter()
                    .position(|x| x.id == wanted && client_seq <= x.seq)
            else {
                let _ = tx.send(Outgoing::Frame(payloads::invalid_session(false)));
                return;
            };
            *authed = true;
            let session = &mut s.gw.sessions[index];
            // The session moves to this connection; an older one no longer gets its events.
            session.conn = Some(Conn {
                id: conn_id,
                tx: tx.clone(),
            });
            for (seq, f) in &session.events {
                if *seq > client_seq {
                    let _ = tx.send(Outgoing::Frame(f.clone()));
                }
            }
            s.push_to_session(
                index,
                "RESUMED",
                serde_json::json!({"_trace": ["fake-gateway"]}),
            );
            s.gw.resumed_count += 1;
        }
        Some(3 | 4 | 8 | 31) => {
            if !*authed {
                close(tx, 4003);
            }
        }
        _ => {
            s.violations
                .push(format!("gateway: unknown opcode in {frame}"));
            close(tx, 4001);
        }
    }
}

enum ShardError {
    /// Not an array of two unsigned integers.
    Malformed(Value),
    /// A shard id not below the shard count, or no shards.
    Invalid([u32; 2]),
}

/// IDENTIFY's `shard: [shard_id, num_shards]`; Discord takes its absence as `[0, 1]`.
fn identify_shard(shard: Option<&Value>) -> Result<[u32; 2], ShardError> {
    let Some(shard) = shard.filter(|v| !v.is_null()) else {
        return Ok([0, 1]);
    };
    let number = |i: usize| {
        shard
            .get(i)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    match (shard.as_array().map(Vec::len), number(0), number(1)) {
        (Some(2), Some(id), Some(total)) if id < total => Ok([id, total]),
        (Some(2), Some(id), Some(total)) => Err(ShardError::Invalid([id, total])),
        _ => Err(ShardError::Malformed(shard.clone())),
    }
}
