//! `StandIn`: Discord's REST API (plain HTTP for serenity's proxy mode; with the
//! `test-controls` feature also HTTPS as `discord.com` for its default mode) and gateway (plain
//! `ws://`) on 127.0.0.1, for the real serenity / poise client.
//!
//! Every REST request is recorded and checked against Discord's documented limits (and, with a
//! [`RequestChecker`] as the tests install, Discord's OpenAPI schema); a violation is answered as
//! Discord answers it (400, code 50035, the field path) and also kept in
//! [`StandIn::violations`], so a test fails even if the bot swallows the error.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use super::payloads::{
    self, shard_of_guild, ButtonClick, CommandInvocation, FakeGuild, CHANNEL_ID, GUILD_ID,
};
use super::routes::RequestChecker;
#[cfg(feature = "test-controls")]
use super::tls;
use super::{gateway, rest, serve};

/// How long `run_command` / `click_button` wait for the bot's answer.
pub const INTERACTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long gateway helpers wait for a live connection or a session.
pub const GATEWAY_WAIT: Duration = Duration::from_secs(10);
/// The GUILDS gateway intent, without which Discord sends no GUILD_CREATE.
pub(crate) const GUILDS_INTENT: u64 = 1;

/// Knobs of the fake; `Default` is Discord's behaviour.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    /// `heartbeat_interval` in HELLO (Discord: 41250 ms).
    pub heartbeat_interval_ms: u64,
    /// The first response to an interaction must come within this time (Discord: 3 s), or
    /// the callback is answered 404 "Unknown interaction" and recorded as a violation.
    /// `None` switches the check off.
    pub interaction_deadline: Option<Duration>,
    /// Follow-ups and edits with an older interaction token fail (Discord: 15 min).
    pub interaction_token_lifetime: Duration,
    /// Requests a second per token outside interaction routes before a global 429
    /// (Discord: 50). `None` switches it off.
    pub global_rate_limit: Option<usize>,
    /// Gateway frames a client may send per connection per minute before close 4008
    /// (Discord: 120). `None` switches it off.
    pub gateway_send_limit: Option<usize>,
    /// Send GUILD_CREATE for each guild of the session's shard after READY, and when a guild
    /// is added later, to sessions with the GUILDS intent.
    pub send_guild_create: bool,
    /// The shard count `GET /gateway/bot` recommends (Discord: about one per 1000 guilds).
    pub shards: u32,
    /// Per-route rate-limit buckets, counted and announced in `x-ratelimit-*` headers, with a
    /// 429 of scope `user` when one is exceeded. `None` (the default, which the tests use)
    /// answers every route with static headers and never limits a route on its own.
    pub route_buckets: Option<RouteBuckets>,
    /// Check interaction callbacks against the schema and Discord's limits. A benchmark that
    /// times callbacks switches it off, so that the fake's own checking does not compete with
    /// the bot for the CPU.
    pub validate_interaction_answers: bool,
    /// Checks requests beyond Discord's limits; the tests check them against Discord's OpenAPI
    /// file. Without one, the stand-in finds routes in its own list.
    pub checker: Option<Arc<dyn RequestChecker>>,
}

/// Discord's per-route buckets as the fake enforces them. Each bucket counts requests in a fixed
/// window that starts with its first request, as Discord's `x-ratelimit-reset` does. Discord does
/// not publish these numbers; these are what bots observe.
#[derive(Clone, Debug)]
pub struct RouteBuckets {
    /// `POST /channels/{channel_id}/messages`, per channel: (requests, window). Discord: 5 per 5 s.
    pub channel_messages: (u32, Duration),
    /// `POST /users/@me/channels` (opening a DM channel), one bucket for the bot.
    pub dm_channels: (u32, Duration),
}

impl Default for RouteBuckets {
    fn default() -> Self {
        RouteBuckets {
            channel_messages: (5, Duration::from_secs(5)),
            dm_channels: (50, Duration::from_secs(1)),
        }
    }
}

/// One bucket's window: when it started and how many requests it has taken.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BucketWindow {
    pub started: Instant,
    pub used: u32,
}

/// The answer to one interaction as the fake's REST side received it, for timing.
#[derive(Clone, Debug)]
pub struct CallbackEvent {
    pub token: String,
    /// From the fake dispatching INTERACTION_CREATE to it having read the callback request.
    pub latency: Duration,
    /// False when the fake refused the callback (late, second, or unknown).
    pub accepted: bool,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            heartbeat_interval_ms: 41_250,
            interaction_deadline: Some(Duration::from_secs(3)),
            interaction_token_lifetime: Duration::from_secs(15 * 60),
            global_rate_limit: Some(50),
            gateway_send_limit: Some(120),
            send_guild_create: true,
            shards: 1,
            route_buckets: None,
            validate_interaction_answers: true,
            checker: None,
        }
    }
}

/// One REST request as the fake saw it, with the status it answered (0: the connection was
/// dropped).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Full path, e.g. `/api/v10/channels/1001/messages`.
    pub path: String,
    pub query: Option<String>,
    /// Header names are lower case.
    pub headers: Vec<(String, String)>,
    /// JSON body (for multipart, its `payload_json`).
    pub body: Option<Value>,
    /// (part name, content) of each file of a multipart request, such as `files[0]`.
    pub files: Vec<(String, Vec<u8>)>,
    pub status: u16,
    /// Arrived on the HTTPS listener (default mode).
    pub tls: bool,
    /// When the fake finished reading it, for checking that a client waited as it was told.
    pub received: std::time::Instant,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Method (case-insensitive, `*` for any) and path prefix, as in [`RouteMatch`].
    pub fn is(&self, method: &str, path_prefix: &str) -> bool {
        RouteMatch::matches_parts(method, path_prefix, &self.method, &self.path)
    }
}

/// Which requests a fault applies to.
#[derive(Clone, Debug)]
pub struct RouteMatch {
    /// HTTP method, or `*` for any.
    pub method: &'static str,
    /// Prefix of the full path, e.g. `/api/v10/interactions/`; a prefix not starting with
    /// `/api/` is taken as relative to `/api/v10`.
    pub path_prefix: String,
}

impl RouteMatch {
    pub fn new(method: &'static str, path_prefix: impl Into<String>) -> RouteMatch {
        RouteMatch {
            method,
            path_prefix: path_prefix.into(),
        }
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        Self::matches_parts(self.method, &self.path_prefix, method, path)
    }

    fn matches_parts(want_method: &str, prefix: &str, method: &str, path: &str) -> bool {
        let method_ok = want_method == "*" || want_method.eq_ignore_ascii_case(method);
        let path_ok = if prefix.starts_with("/api/") {
            Self::starts_with(path, prefix)
        } else {
            path.strip_prefix("/api/v10")
                .is_some_and(|rest| Self::starts_with(rest, prefix))
        };
        method_ok && path_ok
    }

    /// A plain prefix, or with `{}` standing for any one id (`/channels/{}/messages`), for a
    /// channel whose id the test cannot know beforehand, such as a thread the bot opens.
    fn starts_with(path: &str, prefix: &str) -> bool {
        if !prefix.contains("{}") {
            return path.starts_with(prefix);
        }
        let mut segments = path.split('/');
        prefix.split('/').all(|want| {
            segments
                .next()
                .is_some_and(|got| want == got || (want == "{}" && !got.is_empty()))
        })
    }
}

/// A failure to inject into the next `times` matching REST requests. The request is still
/// recorded and schema-checked.
#[cfg(feature = "test-controls")]
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with `retry-after` (whole seconds, rounded up, as Discord sends it),
    /// `x-ratelimit-*` headers (`x-ratelimit-global` / scope `global` when `global`) and
    /// `{"message": "You are being rate limited.", "retry_after": .., "global": ..}`.
    RateLimit {
        route: RouteMatch,
        retry_after_secs: f64,
        global: bool,
        times: usize,
    },
    /// 500, 502 or 503 (or any status) with an HTML body, as Cloudflare sends them.
    ServerError {
        route: RouteMatch,
        status: u16,
        times: usize,
    },
    /// The TCP connection is closed without an answer.
    DropConnection { route: RouteMatch, times: usize },
    /// Discord acts on the request (a message is posted), then the connection is closed before
    /// the answer, as when the network fails on the way back.
    LoseAnswer { route: RouteMatch, times: usize },
    /// No answer ever comes; with `processed`, Discord has acted on the request first. Lets a
    /// test stop the bot at a known point of a send.
    Stall {
        route: RouteMatch,
        processed: bool,
        times: usize,
    },
    /// Any status with a JSON body, e.g. 403 `{"message": "Missing Access", "code": 50001}`.
    /// `times: usize::MAX` makes a permanent stub.
    Status {
        route: RouteMatch,
        status: u16,
        body: Value,
        times: usize,
    },
}

#[cfg(feature = "test-controls")]
impl Fault {
    pub(crate) fn route(&self) -> &RouteMatch {
        match self {
            Fault::RateLimit { route, .. }
            | Fault::ServerError { route, .. }
            | Fault::DropConnection { route, .. }
            | Fault::LoseAnswer { route, .. }
            | Fault::Stall { route, .. }
            | Fault::Status { route, .. } => route,
        }
    }

    pub(crate) fn times_mut(&mut self) -> &mut usize {
        match self {
            Fault::RateLimit { times, .. }
            | Fault::ServerError { times, .. }
            | Fault::DropConnection { times, .. }
            | Fault::LoseAnswer { times, .. }
            | Fault::Stall { times, .. }
            | Fault::Status { times, .. } => times,
        }
    }
}

/// The bot's answer to an interaction.
#[derive(Clone, Debug)]
pub struct InteractionReply {
    pub interaction_id: u64,
    pub token: String,
    /// 4 message, 5 deferred message, 6 deferred update, 7 update, 8 autocomplete, 9 modal.
    pub callback_type: u64,
    /// The callback's `data` (`null` if none).
    pub callback_data: Value,
    /// The callback's `data`, or for a deferred answer (type 5) the body of the first
    /// follow-up or `@original` edit.
    pub data: Value,
    /// Bodies of all follow-ups and `@original` edits seen so far, in order.
    pub followups: Vec<Value>,
}

impl InteractionReply {
    /// Flag 64; for a deferred answer Discord takes it from the deferral.
    pub fn ephemeral(&self) -> bool {
        let flags = |v: &Value| v.get("flags").and_then(Value::as_u64).unwrap_or(0);
        if self.callback_type == 5 {
            flags(&self.callback_data) & 64 != 0
        } else {
            flags(&self.data) & 64 != 0
        }
    }

    pub fn embeds(&self) -> Vec<Value> {
        self.data
            .get("embeds")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    pub fn content(&self) -> Option<String> {
        self.data
            .get("content")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Top-level components (action rows).
    pub fn components(&self) -> Vec<Value> {
        self.data
            .get("components")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Every button (type 2), at any depth.
    pub fn buttons(&self) -> Vec<Value> {
        fn walk(v: &Value, out: &mut Vec<Value>) {
            if let Some(list) = v.as_array() {
                for c in list {
                    if c.get("type").and_then(Value::as_u64) == Some(2) {
                        out.push(c.clone());
                    }
                    if let Some(children) = c.get("components") {
                        walk(children, out);
                    }
                    if let Some(acc) = c.get("accessory") {
                        walk(&Value::Array(vec![acc.clone()]), out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        if let Some(c) = self.data.get("components") {
            walk(c, &mut out);
        }
        out
    }

    pub fn allowed_mentions(&self) -> Option<Value> {
        self.data
            .get("allowed_mentions")
            .filter(|v| !v.is_null())
            .cloned()
    }
}

// ----- shared state -----

#[cfg_attr(not(feature = "test-controls"), allow(dead_code))]
pub(crate) enum Outgoing {
    Frame(Value),
    /// A text frame as is, JSON or not.
    Text(String),
    Close(u16, String, Option<oneshot::Sender<()>>),
    Drop(Option<oneshot::Sender<()>>),
}

pub(crate) struct Conn {
    pub id: u64,
    pub tx: mpsc::UnboundedSender<Outgoing>,
}

/// A gateway session: what IDENTIFY starts and RESUME picks up again.
pub(crate) struct Session {
    pub id: String,
    /// `[shard_id, num_shards]` from IDENTIFY (`[0, 1]` without one).
    pub shard: [u32; 2],
    pub intents: u64,
    pub seq: u64,
    /// Every dispatch of the session (seq, frame), replayed on RESUME.
    pub events: Vec<(u64, Value)>,
    /// The connection the session runs on; `None` while the client is away (it may RESUME).
    pub conn: Option<Conn>,
}

impl Session {
    /// Whether this session's shard receives the events of `guild` (`None`: DMs and events
    /// without a guild, which Discord sends to shard 0).
    pub fn receives(&self, guild: Option<u64>) -> bool {
        let [shard_id, num_shards] = self.shard;
        match guild {
            Some(g) => shard_of_guild(g, num_shards) == shard_id,
            None => shard_id == 0,
        }
    }

    pub fn is_on(&self, conn_id: u64) -> bool {
        self.conn.as_ref().is_some_and(|c| c.id == conn_id)
    }
}

#[derive(Default)]
pub(crate) struct GatewayState {
    pub connections: usize,
    /// The shard of each accepted IDENTIFY, in order.
    pub identified_shards: Vec<[u32; 2]>,
    /// The shard of each READY sent, in order.
    pub ready_shards: Vec<[u32; 2]>,
    pub resumed_count: usize,
    /// `resumed_count` when a test last disturbed connections, and how many it disturbed.
    pub resumed_baseline: usize,
    pub resumes_expected: usize,
    pub heartbeats: usize,
    pub frames: Vec<Value>,
    /// Live and resumable sessions, oldest first. Several may share a shard, as on Discord.
    pub sessions: Vec<Session>,
    pub sessions_started: u64,
}

impl GatewayState {
    /// Senders of the live connections whose session is on `shard` (any shard if `None`).
    pub fn live_connections(
        &self,
        shard: Option<u32>,
    ) -> Vec<(u64, mpsc::UnboundedSender<Outgoing>)> {
        let mut out: Vec<(u64, mpsc::UnboundedSender<Outgoing>)> = Vec::new();
        for session in &self.sessions {
            if shard.is_some_and(|id| session.shard[0] != id) {
                continue;
            }
            if let Some(conn) = &session.conn {
                if !out.iter().any(|(id, _)| *id == conn.id) {
                    out.push((conn.id, conn.tx.clone()));
                }
            }
        }
        out
    }
}

pub(crate) struct InteractionState {
    pub id: u64,
    pub kind: u64,
    pub user_id: u64,
    pub channel_id: u64,
    pub dispatched_at: Instant,
    /// When the first callback request was read (before it was checked).
    pub answered_at: Option<Instant>,
    pub callback_type: Option<u64>,
    pub callback_body: Value,
    /// The message the interaction's `@original` refers to, by id in `State::messages`.
    pub original: Option<u64>,
    pub original_loading: bool,
    /// The message a component interaction came from.
    pub component_message: Option<Value>,
    /// Follow-up message ids.
    pub followup_ids: Vec<u64>,
    /// Bodies of follow-ups and `@original` edits.
    pub followups: Vec<Value>,
    /// Violations answered on this interaction's routes.
    pub rejected: Vec<String>,
}

pub(crate) struct State {
    pub requests: Vec<RecordedRequest>,
    pub violations: Vec<String>,
    #[cfg(feature = "test-controls")]
    pub faults: Vec<Fault>,
    pub registrations: Vec<(Option<u64>, Value)>,
    pub commands: HashMap<Option<u64>, Vec<Value>>,
    pub command_ids: HashMap<(Option<u64>, u64, String), u64>,
    pub interactions: HashMap<String, InteractionState>,
    pub messages: BTreeMap<u64, Value>,
    pub channel_posts: Vec<u64>,
    pub nonces: HashMap<(u64, String), u64>,
    /// The guilds the bot is in, [`GUILD_ID`] first.
    pub guilds: Vec<FakeGuild>,
    /// Threads the bot started, by id.
    pub threads: BTreeMap<u64, Value>,
    pub dm_users: Vec<u64>,
    pub blocked_dm_users: HashSet<u64>,
    pub recent_requests: VecDeque<Instant>,
    /// Per-route buckets by key (route and major parameter), when `route_buckets` is set.
    pub buckets: HashMap<String, BucketWindow>,
    /// Where each interaction callback is reported, once a benchmark asked.
    pub callback_events: Option<mpsc::UnboundedSender<CallbackEvent>>,
    pub next_id: u64,
    pub gw: GatewayState,
}

impl State {
    fn new() -> State {
        State {
            requests: Vec::new(),
            violations: Vec::new(),
            #[cfg(feature = "test-controls")]
            faults: Vec::new(),
            registrations: Vec::new(),
            commands: HashMap::new(),
            command_ids: HashMap::new(),
            interactions: HashMap::new(),
            messages: BTreeMap::new(),
            channel_posts: Vec::new(),
            nonces: HashMap::new(),
            guilds: vec![FakeGuild::default_guild()],
            threads: BTreeMap::new(),
            dm_users: Vec::new(),
            blocked_dm_users: HashSet::new(),
            recent_requests: VecDeque::new(),
            buckets: HashMap::new(),
            callback_events: None,
            next_id: 10_000_000,
            gw: GatewayState::default(),
        }
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn guild(&self, guild_id: u64) -> Option<&FakeGuild> {
        self.guilds.iter().find(|g| g.id == guild_id)
    }

    /// The guild holding a text channel (threads not included).
    pub fn guild_of_channel(&self, channel_id: u64) -> Option<&FakeGuild> {
        self.guilds
            .iter()
            .find(|g| g.channels.iter().any(|(id, _)| *id == channel_id))
    }

    /// The guild an event belongs to, which decides its shard: `id` for the GUILD_* events
    /// about a guild itself, else `guild_id`, else the guild of its `channel_id` (Discord knows
    /// it even where a test's payload leaves `guild_id` out). `None`: a DM or no guild.
    pub fn event_guild(&self, event: &str, d: &Value) -> Option<u64> {
        let snowflake = |v: Option<&Value>| {
            v.and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
        };
        if matches!(event, "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE") {
            return snowflake(d.get("id"));
        }
        snowflake(d.get("guild_id")).or_else(|| {
            snowflake(d.get("channel_id"))
                .and_then(|c| self.guild_of_channel(c))
                .map(|g| g.id)
        })
    }

    /// Indexes of the sessions an event goes to.
    pub fn recipients(&self, event: &str, d: &Value) -> Vec<usize> {
        let guild = self.event_guild(event, d);
        (0..self.gw.sessions.len())
            .filter(|i| self.gw.sessions[*i].receives(guild))
            .collect()
    }

    /// Appends a dispatch to one session and sends it on its live connection, if any.
    /// Returns its sequence number.
    pub fn push_to_session(&mut self, index: usize, event: &str, d: Value) -> u64 {
        let session = &mut self.gw.sessions[index];
        session.seq += 1;
        let seq = session.seq;
        let frame = payloads::dispatch_frame(event, seq, d);
        session.events.push((seq, frame.clone()));
        if let Some(conn) = &session.conn {
            let _ = conn.tx.send(Outgoing::Frame(frame));
        }
        seq
    }

    /// Sends a dispatch as Discord routes it: to every session whose shard holds the event's
    /// guild (shard 0 for DMs). Returns how many sessions got it.
    pub fn push_dispatch(&mut self, event: &str, d: Value) -> usize {
        let recipients = self.recipients(event, &d);
        for &i in &recipients {
            self.push_to_session(i, event, d.clone());
        }
        recipients.len()
    }

    /// The registered id of a command by name, if any: the registration in `guild` first,
    /// then any guild's, then the global one.
    pub fn command_id_by_name(&self, name: &str, kind: u64, guild: Option<u64>) -> Option<u64> {
        self.command_ids
            .iter()
            .filter(|((_, k, n), _)| *k == kind && n == name)
            .max_by_key(|((scope, _, _), _)| (guild.is_some() && *scope == guild, scope.is_some()))
            .map(|(_, id)| *id)
    }
}

pub(crate) struct Inner {
    pub cfg: StandInConfig,
    pub http_addr: SocketAddr,
    #[cfg(feature = "test-controls")]
    pub https_addr: SocketAddr,
    pub ws_addr: SocketAddr,
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    /// Turns true when the stand-in stops.
    stop: watch::Receiver<bool>,
}

impl Inner {
    /// Changes to true when the stand-in stops.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    /// Resolves once the stand-in stops.
    pub async fn stopped(&self) {
        serve::stopped(self.stopping()).await;
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the state and wakes every waiter.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.lock());
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        r
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Waits until `f` returns `Some`, re-checking on every state change.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        f: impl Fn(&State) -> Option<T>,
    ) -> anyhow::Result<T> {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            if let Some(t) = self.read(&f) {
                return Ok(t);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => anyhow::bail!("fake Discord stopped while waiting for {what}"),
                Err(_) => {
                    let (violations, last) = self.read(|s| {
                        let last: Vec<String> = s
                            .requests
                            .iter()
                            .rev()
                            .take(8)
                            .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
                            .collect();
                        (s.violations.clone(), last)
                    });
                    anyhow::bail!(
                        "timed out after {timeout:?} waiting for {what}; violations: {violations:#?}; \
                         latest requests (newest first): {last:#?}"
                    )
                }
            }
        }
    }
}

/// Stops the stand-in's servers when the last clone of the stand-in goes: they stop accepting,
/// and each open connection finishes the answer in hand and closes.
struct Stop(watch::Sender<bool>);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

/// The stand-in for Discord on 127.0.0.1; clones share it. Its listeners stop when the last clone is
/// dropped.
#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Inner>,
    _stop: Arc<Stop>,
}

impl StandIn {
    /// Starts the HTTP, HTTPS and WebSocket listeners with Discord's default behaviour.
    pub async fn start() -> StandIn {
        StandIn::start_with(StandInConfig::default()).await
    }

    /// Starts the stand-in; panics if it cannot listen, which only a test should want.
    pub async fn start_with(cfg: StandInConfig) -> StandIn {
        StandIn::listen(cfg)
            .await
            .expect("the stand-in listens on 127.0.0.1")
    }

    /// Starts the listeners on 127.0.0.1, on ports the system picks.
    pub async fn listen(cfg: StandInConfig) -> std::io::Result<StandIn> {
        let bind = || TcpListener::bind(("127.0.0.1", 0));
        let http = bind().await?;
        #[cfg(feature = "test-controls")]
        let https = bind().await?;
        let ws = bind().await?;
        let (changed, _) = watch::channel(0u64);
        let (stop, stopping) = watch::channel(false);
        let inner = Arc::new(Inner {
            cfg,
            http_addr: http.local_addr()?,
            #[cfg(feature = "test-controls")]
            https_addr: https.local_addr()?,
            ws_addr: ws.local_addr()?,
            state: Mutex::new(State::new()),
            changed,
            stop: stopping.clone(),
        });
        tokio::spawn(serve::serve_severable(
            serve::plain(http),
            rest::router(inner.clone(), false),
            stopping.clone(),
        ));
        tokio::spawn(serve::serve(
            ws,
            gateway::router(inner.clone()),
            stopping.clone(),
        ));
        #[cfg(feature = "test-controls")]
        tokio::spawn(serve::serve_severable(
            serve::TlsListener::new(https, tls::acceptor()),
            rest::router(inner.clone(), true),
            stopping,
        ));
        Ok(StandIn {
            inner,
            _stop: Arc::new(Stop(stop)),
        })
    }

    /// Ticks on every change of the stand-in's state: a page following it redraws on each.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    // ----- addresses and clients -----

    /// `http://127.0.0.1:PORT`, for `HttpBuilder::proxy` (with `ratelimiter_disabled(true)`).
    pub fn proxy_base_url(&self) -> String {
        format!("http://{}", self.inner.http_addr)
    }

    /// `ws://127.0.0.1:PORT`, what `GET /gateway` answers.
    pub fn ws_url(&self) -> String {
        self.inner.ws_url()
    }

    #[cfg(feature = "test-controls")]
    pub fn https_addr(&self) -> SocketAddr {
        self.inner.https_addr
    }

    #[cfg(feature = "test-controls")]
    /// A reqwest client for which `https://discord.com` is this fake (for
    /// `HttpBuilder::client`, serenity's default mode with its own rate limiter).
    pub fn default_mode_client(&self) -> reqwest::Client {
        tls::client_for(self.inner.https_addr)
    }

    #[cfg(feature = "test-controls")]
    /// A serenity `Http` in proxy mode.
    pub fn proxy_http(&self, token: &str) -> serenity::http::Http {
        serenity::http::HttpBuilder::new(token)
            .proxy(self.proxy_base_url())
            .ratelimiter_disabled(true)
            .application_id(serenity::model::id::ApplicationId::new(payloads::APP_ID))
            .build()
    }

    #[cfg(feature = "test-controls")]
    /// A serenity `Http` in default mode (https://discord.com, serenity's rate limiter).
    pub fn default_mode_http(&self, token: &str) -> serenity::http::Http {
        serenity::http::HttpBuilder::new(token)
            .client(self.default_mode_client())
            .application_id(serenity::model::id::ApplicationId::new(payloads::APP_ID))
            .build()
    }

    // ----- gateway -----

    /// Waits until READY has been sent on some connection.
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        self.inner
            .wait_for(timeout, "READY", |s| {
                (!s.gw.ready_shards.is_empty()).then_some(())
            })
            .await
    }

    /// Waits until a READY was sent for each of `shard_ids` of `num_shards`.
    pub async fn wait_shards_ready(
        &self,
        shard_ids: &[u32],
        num_shards: u32,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let what = format!("READY on shards {shard_ids:?} of {num_shards}");
        self.inner
            .wait_for(timeout, &what, |s| {
                shard_ids
                    .iter()
                    .all(|id| s.gw.ready_shards.contains(&[*id, num_shards]))
                    .then_some(())
            })
            .await
    }

    /// Waits until at least `n` IDENTIFYs were accepted.
    pub async fn wait_identify_count(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        self.inner
            .wait_for(timeout, &format!("{n} IDENTIFY"), |s| {
                (s.gw.identified_shards.len() >= n).then_some(())
            })
            .await
    }

    /// Waits for a RESUMED from each connection disturbed by the latest `gateway_close` /
    /// `gateway_reconnect_op7` / `gateway_drop_tcp` (or their `_shard` forms), or for any
    /// RESUMED if there was none.
    pub async fn wait_resumed(&self, timeout: Duration) -> anyhow::Result<()> {
        self.inner
            .wait_for(timeout, "RESUMED", |s| {
                let wanted = s.gw.resumed_baseline + s.gw.resumes_expected.max(1);
                (s.gw.resumed_count >= wanted).then_some(())
            })
            .await
    }

    /// Waits until at least `n` RESUMED were sent in all.
    pub async fn wait_resumed_count(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        self.inner
            .wait_for(timeout, &format!("{n} RESUMED"), |s| {
                (s.gw.resumed_count >= n).then_some(())
            })
            .await
    }

    /// Waits until at least `n` heartbeats (op 1) were received (and acknowledged).
    pub async fn wait_heartbeats(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        self.inner
            .wait_for(timeout, &format!("{n} heartbeats"), |s| {
                (s.gw.heartbeats >= n).then_some(())
            })
            .await
    }

    /// Waits until no session has a live connection (after drops or closes).
    pub async fn wait_disconnected(&self, timeout: Duration) -> anyhow::Result<()> {
        self.inner
            .wait_for(timeout, "every gateway connection to end", |s| {
                s.gw.live_connections(None).is_empty().then_some(())
            })
            .await
    }

    pub fn identify_count(&self) -> usize {
        self.inner.read(|s| s.gw.identified_shards.len())
    }

    /// The `[shard_id, num_shards]` of each accepted IDENTIFY, in order (`[0, 1]` for one
    /// without `shard`).
    pub fn identified_shards(&self) -> Vec<[u32; 2]> {
        self.inner.read(|s| s.gw.identified_shards.clone())
    }

    /// The `[shard_id, num_shards]` of each session with a live connection, oldest first.
    pub fn connected_shards(&self) -> Vec<[u32; 2]> {
        self.inner.read(|s| {
            s.gw.sessions
                .iter()
                .filter(|x| x.conn.is_some())
                .map(|x| x.shard)
                .collect()
        })
    }

    pub fn resumed_count(&self) -> usize {
        self.inner.read(|s| s.gw.resumed_count)
    }

    /// WebSocket connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.inner.read(|s| s.gw.connections)
    }

    /// Every frame the client sent on the gateway, in order.
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.inner.read(|s| s.gw.frames.clone())
    }

    /// The first frame (past or future) a client sent on the gateway that matches `pred`.
    pub async fn wait_gateway_frame(
        &self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        self.inner
            .wait_for(timeout, "a matching gateway frame", |s| {
                s.gw.frames.iter().find(|f| pred(f)).cloned()
            })
            .await
    }

    /// Sends a dispatch (`op` 0, the session's next `s`, `t` = `event_name`) to every session
    /// whose shard holds the event's guild: its `guild_id` (`id` for GUILD_CREATE, GUILD_UPDATE
    /// and GUILD_DELETE, else the guild of its `channel_id`), shard 0 for DMs and events
    /// without a guild. A session without a live connection keeps it and replays it on
    /// RESUME, as Discord does. Panics if no such session starts within [`GATEWAY_WAIT`].
    pub async fn dispatch(&self, event_name: &str, d: Value) {
        self.dispatch_routed(event_name, d)
            .await
            .expect("dispatch needs a gateway session of the event's shard (IDENTIFY + READY)");
    }

    async fn dispatch_routed(&self, event_name: &str, d: Value) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + GATEWAY_WAIT;
        let what = format!("a gateway session of the shard for {event_name}");
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            self.inner
                .wait_for(left, &what, |s| {
                    (!s.recipients(event_name, &d).is_empty()).then_some(())
                })
                .await?;
            // The session may have ended between the wait and now: then wait again.
            let sent = self.inner.update(|s| {
                if s.recipients(event_name, &d).is_empty() {
                    return false;
                }
                if event_name == "INTERACTION_CREATE" {
                    register_interaction(s, &d);
                }
                s.push_dispatch(event_name, d.clone()) > 0
            });
            if sent {
                return Ok(());
            }
        }
    }

    // ----- interactions -----

    /// Dispatches INTERACTION_CREATE for a command and waits ([`INTERACTION_TIMEOUT`]) for the
    /// callback and, if it was deferred (type 5), the first follow-up or `@original` edit.
    pub async fn run_command(&self, cmd: CommandInvocation) -> anyhow::Result<InteractionReply> {
        let d = self.command_interaction(&cmd);
        self.run_interaction(d, INTERACTION_TIMEOUT).await
    }

    /// Dispatches a button click and waits for the answer as [`Self::run_command`] does.
    pub async fn click_button(&self, click: ButtonClick) -> anyhow::Result<InteractionReply> {
        let d = self.button_interaction(&click);
        self.run_interaction(d, INTERACTION_TIMEOUT).await
    }

    /// The INTERACTION_CREATE `d` for a command: a fresh id (unless given), token
    /// `fake-itok-<id>`, the command's registered id, and its channel as the fake knows it.
    pub fn command_interaction(&self, cmd: &CommandInvocation) -> Value {
        let guild = (cmd.place == payloads::Place::Guild).then_some(cmd.guild_id);
        let (id, command_id) = self.inner.update(|s| {
            let id = cmd.id.unwrap_or_else(|| s.new_id());
            let command_id = s
                .command_id_by_name(&cmd.name, cmd.command_type, guild)
                .unwrap_or_else(|| s.new_id());
            (id, command_id)
        });
        let mut d = cmd.to_interaction(id, &format!("fake-itok-{id}"), command_id);
        self.describe_channel(&mut d);
        d
    }

    /// The INTERACTION_CREATE `d` for a button click.
    pub fn button_interaction(&self, click: &ButtonClick) -> Value {
        let id = click
            .id
            .unwrap_or_else(|| self.inner.update(|s| s.new_id()));
        let mut d = click.to_interaction(id, &format!("fake-itok-{id}"));
        self.describe_channel(&mut d);
        d
    }

    /// Gives a guild interaction's `channel` the name and position the fake knows for it.
    fn describe_channel(&self, d: &mut Value) {
        if d.get("guild_id").is_none() {
            return;
        }
        let Some(channel_id) = d["channel_id"].as_str().and_then(|c| c.parse().ok()) else {
            return;
        };
        let known = self.inner.read(|s| {
            s.guild_of_channel(channel_id)
                .and_then(|g| g.channel_json(channel_id))
        });
        if let Some(channel) = known {
            d["channel"] = channel;
        }
    }

    /// Dispatches any INTERACTION_CREATE `d` (with `id`, `token`, `type`, `channel_id`...)
    /// and waits for the answer.
    pub async fn run_interaction(
        &self,
        d: Value,
        timeout: Duration,
    ) -> anyhow::Result<InteractionReply> {
        let token = self.send_interaction(d).await?;
        self.wait_reply(&token, timeout).await
    }

    /// Dispatches an INTERACTION_CREATE `d` to the shard of its `guild_id` (shard 0 for a DM),
    /// waiting up to [`GATEWAY_WAIT`] for a session of that shard, and returns its token
    /// without waiting for the answer. The interaction's clock (3 s first-response limit)
    /// starts at the dispatch.
    pub async fn send_interaction(&self, d: Value) -> anyhow::Result<String> {
        d["id"]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| anyhow::anyhow!("interaction without a string id"))?;
        let token = d["token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("interaction without a token"))?
            .to_string();
        self.dispatch_routed("INTERACTION_CREATE", d).await?;
        Ok(token)
    }

    /// Waits for the answer to an interaction sent with [`Self::send_interaction`]: the
    /// callback and, if deferred (type 5), the first follow-up or `@original` edit. Fails at
    /// once if Discord would have rejected the answer.
    pub async fn wait_reply(
        &self,
        token: &str,
        timeout: Duration,
    ) -> anyhow::Result<InteractionReply> {
        let what = format!("the answer to interaction {token}");
        let result = self
            .inner
            .wait_for(timeout, &what, |s| {
                let it = s.interactions.get(token)?;
                if !it.rejected.is_empty() {
                    return Some(Err(it.rejected.clone()));
                }
                let callback_type = it.callback_type?;
                if callback_type == 5 && it.followups.is_empty() {
                    return None;
                }
                let callback_data = it.callback_body.get("data").cloned().unwrap_or(Value::Null);
                let data = if callback_type == 5 {
                    it.followups[0].clone()
                } else {
                    callback_data.clone()
                };
                Some(Ok(InteractionReply {
                    interaction_id: it.id,
                    token: token.to_string(),
                    callback_type,
                    callback_data,
                    data,
                    followups: it.followups.clone(),
                }))
            })
            .await?;
        result.map_err(|v| {
            anyhow::anyhow!("the bot's answer to interaction {token} was rejected: {v:#?}")
        })
    }

    /// Bodies of the follow-ups and `@original` edits of an interaction so far.
    pub fn followups(&self, token: &str) -> Vec<Value> {
        self.inner.read(|s| {
            s.interactions
                .get(token)
                .map(|it| it.followups.clone())
                .unwrap_or_default()
        })
    }

    /// Waits until an interaction has at least `n` follow-ups / edits.
    pub async fn wait_followups(
        &self,
        token: &str,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        self.inner
            .wait_for(timeout, &format!("{n} follow-ups on {token}"), |s| {
                let it = s.interactions.get(token)?;
                (it.followups.len() >= n).then(|| it.followups.clone())
            })
            .await
    }

    // ----- REST records -----

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.read(|s| s.requests.clone())
    }

    /// The first recorded request (past or future) matching `pred`.
    pub async fn wait_request(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<RecordedRequest> {
        self.inner
            .wait_for(timeout, "a matching request", |s| {
                s.requests.iter().find(|r| pred(r)).cloned()
            })
            .await
    }

    /// Waits until `n` recorded requests match `pred` and returns them.
    pub async fn wait_requests(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<RecordedRequest>> {
        self.inner
            .wait_for(timeout, &format!("{n} matching requests"), |s| {
                let found: Vec<RecordedRequest> =
                    s.requests.iter().filter(|r| pred(r)).cloned().collect();
                (found.len() >= n).then_some(found)
            })
            .await
    }

    /// Schema, limit, protocol and unknown-route violations, one line each.
    pub fn violations(&self) -> Vec<String> {
        self.inner.read(|s| s.violations.clone())
    }

    /// Returns the violations and forgets them (for tests that provoke one on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        self.inner.update(|s| std::mem::take(&mut s.violations))
    }

    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "the bot sent {} request(s) Discord would reject:\n{}",
            v.len(),
            v.join("\n")
        );
    }

    /// The latest bulk registration body (global or guild).
    pub fn registered_commands(&self) -> Option<Value> {
        self.inner
            .read(|s| s.registrations.last().map(|(_, b)| b.clone()))
    }

    /// Every bulk registration: (guild id or `None` for global, body).
    pub fn registrations(&self) -> Vec<(Option<u64>, Value)> {
        self.inner.read(|s| s.registrations.clone())
    }

    /// Messages created with `POST /channels/{id}/messages`, in order (as stored, with ids).
    pub fn created_messages(&self) -> Vec<Value> {
        self.inner.read(|s| {
            s.channel_posts
                .iter()
                .filter_map(|id| s.messages.get(id).cloned())
                .collect()
        })
    }

    /// Waits until at least `count` messages were created with `POST /channels/{id}/messages`
    /// (in `channel`, or anywhere with `None`), and returns them.
    pub async fn wait_posts(
        &self,
        channel: Option<u64>,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        let wanted = channel.map(|id| id.to_string());
        self.inner
            .wait_for(timeout, &format!("{count} channel posts"), |s| {
                let posts: Vec<Value> = s
                    .channel_posts
                    .iter()
                    .filter_map(|id| s.messages.get(id))
                    .filter(|m| {
                        wanted
                            .as_deref()
                            .is_none_or(|want| m["channel_id"].as_str() == Some(want))
                    })
                    .cloned()
                    .collect();
                (posts.len() >= count).then_some(posts)
            })
            .await
    }

    /// The newest stored message that carries a component with `custom_id`: what a person
    /// clicking that button clicks on.
    pub fn message_with_button(&self, custom_id: &str) -> Option<Value> {
        fn carries(components: &Value, custom_id: &str) -> bool {
            components.as_array().is_some_and(|list| {
                list.iter().any(|component| {
                    component["custom_id"].as_str() == Some(custom_id)
                        || carries(&component["components"], custom_id)
                })
            })
        }
        self.inner.read(|s| {
            s.messages
                .values()
                .rev()
                .find(|message| carries(&message["components"], custom_id))
                .cloned()
        })
    }

    /// Messages currently stored in a channel (posts, interaction responses, follow-ups).
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        let id = channel_id.to_string();
        self.inner.read(|s| {
            s.messages
                .values()
                .filter(|m| m["channel_id"].as_str() == Some(id.as_str()))
                .cloned()
                .collect()
        })
    }

    /// Threads the bot started (as Discord answered them).
    pub fn threads(&self) -> Vec<Value> {
        self.inner.read(|s| s.threads.values().cloned().collect())
    }

    /// Users whose DM channel the bot opened with `POST /users/@me/channels`.
    pub fn dm_users(&self) -> Vec<u64> {
        self.inner.read(|s| s.dm_users.clone())
    }

    /// How many messages were created with `POST /channels/{id}/messages`, without copying them.
    pub fn post_count(&self) -> usize {
        self.inner.read(|s| s.channel_posts.len())
    }

    /// How many REST requests were recorded, without copying them.
    pub fn request_count(&self) -> usize {
        self.inner.read(|s| s.requests.len())
    }

    /// Reports every interaction callback from now on, as it arrives: for timing many
    /// interactions at once without waking a waiter per interaction on every change.
    pub fn callback_events(&self) -> mpsc::UnboundedReceiver<CallbackEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner.update(|s| s.callback_events = Some(tx));
        rx
    }

    // ----- scenario setup -----

    /// Adds a text channel to the default guild ([`GUILD_ID`]), in GUILD_CREATE and for REST.
    pub fn add_guild_channel(&self, id: u64, name: &str) {
        self.add_channel_to_guild(GUILD_ID, id, name);
    }

    /// Adds a text channel to a guild added before (or [`GUILD_ID`]). Panics on an unknown guild.
    pub fn add_channel_to_guild(&self, guild_id: u64, id: u64, name: &str) {
        self.inner.update(|s| {
            let guild = s
                .guilds
                .iter_mut()
                .find(|g| g.id == guild_id)
                .unwrap_or_else(|| panic!("no guild {guild_id}: add_guild it first"));
            guild.channels.push((id, name.to_string()));
        });
    }

    /// The bot joins a guild with these text channels (id, name). Like Discord, each session
    /// whose shard holds the guild and that asked for the GUILDS intent gets its GUILD_CREATE
    /// (live, or on RESUME); sessions started later list it in READY. Panics if the guild or
    /// one of its channel ids is already known.
    pub fn add_guild(&self, guild_id: u64, name: &str, channels: &[(u64, &str)]) {
        let guild = FakeGuild::new(guild_id, name, channels);
        let send_guild_create = self.inner.cfg.send_guild_create;
        self.inner.update(|s| {
            assert!(
                s.guild(guild_id).is_none(),
                "guild {guild_id} exists already"
            );
            for (channel, _) in &guild.channels {
                assert!(
                    s.guild_of_channel(*channel).is_none(),
                    "channel {channel} is in a guild already"
                );
            }
            s.guilds.push(guild.clone());
            if !send_guild_create {
                return;
            }
            let event = payloads::guild_create(&guild);
            for i in s.recipients("GUILD_CREATE", &event) {
                if s.gw.sessions[i].intents & GUILDS_INTENT != 0 {
                    s.push_to_session(i, "GUILD_CREATE", event.clone());
                }
            }
        });
    }

    /// The ids of the guilds the bot is in, [`GUILD_ID`] first.
    pub fn guild_ids(&self) -> Vec<u64> {
        self.inner.read(|s| s.guilds.iter().map(|g| g.id).collect())
    }

    /// The guild that holds a text channel, if any (threads and DMs have none here).
    pub fn guild_of_channel(&self, channel_id: u64) -> Option<u64> {
        self.inner
            .read(|s| s.guild_of_channel(channel_id).map(|g| g.id))
    }

    /// Discord's nonce window has passed: a message re-sent with an old nonce is posted again.
    pub fn forget_nonces(&self) {
        self.inner.update(|s| s.nonces.clear());
    }

    /// Removes a channel from whichever guild holds it, as when someone deletes it: posting
    /// there answers 404.
    pub fn delete_channel(&self, id: u64) {
        self.inner.update(|s| {
            for guild in &mut s.guilds {
                guild.channels.retain(|(channel, _)| *channel != id);
            }
        });
    }

    /// Messages to this user's DM channel fail with 403, code 50007, as when a user
    /// blocks DMs from server members.
    pub fn block_dms(&self, user_id: u64) {
        self.inner.update(|s| {
            s.blocked_dm_users.insert(user_id);
        });
    }
}

/// Starts tracking an interaction about to be dispatched (its 3 s clock starts now).
fn register_interaction(s: &mut State, d: &Value) {
    let Some(token) = d["token"].as_str() else {
        return;
    };
    let num = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|x| x.parse::<u64>().ok())
    };
    s.interactions.insert(
        token.to_string(),
        InteractionState {
            id: num(d.get("id")).unwrap_or(0),
            kind: d["type"].as_u64().unwrap_or(2),
            user_id: num(d
                .pointer("/member/user/id")
                .or_else(|| d.pointer("/user/id")))
            .unwrap_or(payloads::USER_ID),
            channel_id: num(d.get("channel_id")).unwrap_or(CHANNEL_ID),
            dispatched_at: Instant::now(),
            answered_at: None,
            callback_type: None,
            callback_body: Value::Null,
            original: None,
            original_loading: false,
            component_message: d.get("message").cloned(),
            followup_ids: Vec::new(),
            followups: Vec::new(),
            rejected: Vec::new(),
        },
    );
}

/// A JSON body of Discord's error shape.
pub fn discord_error(code: u64, message: &str) -> Value {
    json!({"message": message, "code": code})
}

/// The tests' controls: faults to inject into REST answers, and gateway disturbances.
#[cfg(feature = "test-controls")]
impl StandIn {
    /// Queues a fault for the next matching request(s).
    pub fn inject(&self, fault: Fault) {
        self.inner.update(|s| s.faults.push(fault));
    }

    pub fn clear_faults(&self) {
        self.inner.update(|s| s.faults.clear());
    }

    /// Sends any frame as is on every live connection.
    pub async fn gateway_send_raw(&self, frame: Value) {
        for (_, tx) in self.live_connections(None).await {
            let _ = tx.send(Outgoing::Frame(frame.clone()));
        }
    }

    /// Sends a text frame as is (garbage included) on every live connection.
    pub async fn gateway_send_text(&self, text: &str) {
        for (_, tx) in self.live_connections(None).await {
            let _ = tx.send(Outgoing::Text(text.to_string()));
        }
    }

    /// The live connections of `shard` (any if `None`); waits up to [`GATEWAY_WAIT`] for one.
    async fn live_connections(
        &self,
        shard: Option<u32>,
    ) -> Vec<(u64, mpsc::UnboundedSender<Outgoing>)> {
        let what = match shard {
            Some(id) => format!("a live gateway connection on shard {id}"),
            None => "a live gateway connection".to_string(),
        };
        self.inner
            .wait_for(GATEWAY_WAIT, &what, |s| {
                let live = s.gw.live_connections(shard);
                (!live.is_empty()).then_some(live)
            })
            .await
            .expect("no live gateway connection")
    }

    /// Sends what `make` builds to each live connection of `shard` (all if `None`) and waits
    /// until each has acted on it. With `ends_session`, Discord forgets those connections'
    /// sessions: a RESUME of them gets op 9.
    async fn disturb(
        &self,
        shard: Option<u32>,
        ends_session: bool,
        make: impl Fn(oneshot::Sender<()>) -> Outgoing,
    ) {
        let live = self.live_connections(shard).await;
        self.inner.update(|s| {
            s.gw.resumed_baseline = s.gw.resumed_count;
            s.gw.resumes_expected = if ends_session { 0 } else { live.len() };
            if ends_session {
                s.gw.sessions
                    .retain(|x| !live.iter().any(|(conn_id, _)| x.is_on(*conn_id)));
            }
        });
        let mut acks = Vec::new();
        for (_, tx) in &live {
            let (ack, done) = oneshot::channel();
            let _ = tx.send(make(ack));
            acks.push(done);
        }
        let _ = tokio::time::timeout(GATEWAY_WAIT, futures_util::future::join_all(acks)).await;
    }

    /// Closes every live connection with `code` (e.g. 4000, 1000, 4004, 4009). Codes after
    /// which Discord wants a new session (4004, 4007, 4009, 4010 to 4014) end the sessions.
    pub async fn gateway_close(&self, code: u16) {
        self.close_shard(None, code).await;
    }

    /// Closes the live connections of one shard with `code`, as [`Self::gateway_close`].
    pub async fn gateway_close_shard(&self, shard_id: u32, code: u16) {
        self.close_shard(Some(shard_id), code).await;
    }

    async fn close_shard(&self, shard: Option<u32>, code: u16) {
        let reason = gateway::close_reason(code).to_string();
        self.disturb(shard, gateway::close_ends_session(code), |ack| {
            Outgoing::Close(code, reason.clone(), Some(ack))
        })
        .await;
    }

    /// Sends op 7 Reconnect on every live connection.
    pub async fn gateway_reconnect_op7(&self) {
        self.reconnect_op7(None).await;
    }

    /// Sends op 7 Reconnect on the live connections of one shard.
    pub async fn gateway_reconnect_op7_shard(&self, shard_id: u32) {
        self.reconnect_op7(Some(shard_id)).await;
    }

    async fn reconnect_op7(&self, shard: Option<u32>) {
        self.disturb(shard, false, |ack| {
            // The frame goes first; the ack only says it was queued behind earlier frames.
            let _ = ack.send(());
            Outgoing::Frame(payloads::reconnect())
        })
        .await;
    }

    /// Drops every live connection's TCP socket without a close frame.
    pub async fn gateway_drop_tcp(&self) {
        self.disturb(None, false, |ack| Outgoing::Drop(Some(ack)))
            .await;
    }

    /// Drops the TCP sockets of one shard's live connections.
    pub async fn gateway_drop_tcp_shard(&self, shard_id: u32) {
        self.disturb(Some(shard_id), false, |ack| Outgoing::Drop(Some(ack)))
            .await;
    }

    /// Sends op 9 Invalid Session on every live connection; unless `resumable`, their sessions
    /// end.
    pub async fn gateway_invalidate_session(&self, resumable: bool) {
        self.invalidate(None, resumable).await;
    }

    /// Sends op 9 Invalid Session on the live connections of one shard.
    pub async fn gateway_invalidate_session_shard(&self, shard_id: u32, resumable: bool) {
        self.invalidate(Some(shard_id), resumable).await;
    }

    async fn invalidate(&self, shard: Option<u32>, resumable: bool) {
        self.disturb(shard, !resumable, |ack| {
            let _ = ack.send(());
            Outgoing::Frame(payloads::invalid_session(resumable))
        })
        .await;
    }
}
