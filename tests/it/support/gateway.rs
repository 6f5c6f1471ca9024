//! The fake gateway: plain `ws://`, uncompressed JSON text frames, Discord's opcodes.
//!
//! HELLO on connect; every heartbeat is acknowledged; IDENTIFY with the right token starts a
//! session (READY, then GUILD_CREATE with the GUILDS intent); RESUME of the current session
//! replays the dispatches the client missed and sends RESUMED, any other RESUME gets op 9;
//! a wrong token closes with 4004. Dispatches are kept per session so that a dispatch made
//! while the client is reconnecting reaches it after its RESUME, as on Discord.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::fake_discord::{Conn, Inner, Outgoing, Session, State};
use super::payloads::{self, TOKEN};

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

pub(crate) async fn serve(
    inner: Arc<Inner>,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(connection(inner.clone(), tcp, shutdown.clone()));
    }
}

fn token_ok(token: Option<&str>) -> bool {
    token.is_some_and(|t| t.strip_prefix("Bot ").unwrap_or(t) == TOKEN)
}

// tungstenite fixes the handshake callback's error type.
#[allow(clippy::result_large_err)]
async fn connection(inner: Arc<Inner>, tcp: TcpStream, mut shutdown: watch::Receiver<bool>) {
    let mut query: Option<String> = None;
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        query = req.uri().query().map(str::to_string);
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
        return;
    };
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
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    drop(sink);
    drop(stream);
    inner.update(|s| {
        if s.gw.current.as_ref().is_some_and(|c| c.id == conn_id) {
            s.gw.current = None;
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
            *authed = true;
            s.gw.identify_count += 1;
            s.gw.sessions_started += 1;
            s.gw.session = Some(Session {
                id: format!("fake-session-{}", s.gw.sessions_started),
                seq: 0,
                events: Vec::new(),
            });
            s.gw.current = Some(Conn {
                id: conn_id,
                tx: tx.clone(),
            });
            let session_id =
                s.gw.session
                    .as_ref()
                    .map(|x| x.id.clone())
                    .unwrap_or_default();
            let ready = payloads::ready(&session_id, &inner.ws_url(), d.get("shard").cloned());
            s.push_dispatch("READY", ready);
            s.gw.ready_count += 1;
            if inner.cfg.send_guild_create && intents & 1 != 0 {
                let g = payloads::guild_create(&s.channels);
                s.push_dispatch("GUILD_CREATE", g);
            }
        }
        Some(6) => {
            if !token_ok(d.get("token").and_then(Value::as_str)) {
                close(tx, 4004);
                return;
            }
            let wanted = d.get("session_id").and_then(Value::as_str).unwrap_or("");
            let client_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
            let resumable =
                s.gw.session
                    .as_ref()
                    .is_some_and(|x| x.id == wanted && client_seq <= x.seq);
            if !resumable {
                let _ = tx.send(Outgoing::Frame(payloads::invalid_session(false)));
                return;
            }
            *authed = true;
            s.gw.current = Some(Conn {
                id: conn_id,
                tx: tx.clone(),
            });
            if let Some(session) = &s.gw.session {
                for (seq, f) in &session.events {
                    if *seq > client_seq {
                        let _ = tx.send(Outgoing::Frame(f.clone()));
                    }
                }
            }
            s.push_dispatch("RESUMED", serde_json::json!({"_trace": ["fake-gateway"]}));
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
