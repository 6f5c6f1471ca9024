//! Builders for the JSON the fake sends: gateway frames, dispatches and REST answers. Each
//! starts from the minimal payloads of `shared/discord-fixtures` and adds the fields Discord
//! really sends; the unit tests below deserialise every one with serenity's own types,
//! because serenity silently drops a dispatch it cannot parse.

use serde_json::{json, Map, Value};

pub const APP_ID: u64 = 1000;
pub const BOT_USER_ID: u64 = 1000;
pub const GUILD_ID: u64 = 2000;
pub const CHANNEL_ID: u64 = 1001;
pub const USER_ID: u64 = 5000;
/// The only token the fake accepts (REST `Authorization: Bot <TOKEN>`, gateway IDENTIFY).
pub const TOKEN: &str = "fake-token-abc";
/// Any other token fails; this one is for tests of that: the gateway closes with 4004 and REST
/// answers 401.
pub const BAD_TOKEN: &str = "fake-token-bad";
pub const BOT_NAME: &str = "careprompt";
pub const GUILD_NAME: &str = "NHS Ward 7";
pub const CHANNEL_NAME: &str = "wellbeing";
/// Fixed creation time used for every object.
pub const TIMESTAMP: &str = "2024-01-01T00:00:00.000000+00:00";
/// Permissions of a plain guild member: add reactions, view channel, send messages, embed
/// links, attach files, read history, external emojis, connect, speak, change nickname, use
/// application commands, create public threads, send in threads.
pub const MEMBER_PERMISSIONS: u64 = (1 << 6)
    | (1 << 10)
    | (1 << 11)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 18)
    | (1 << 20)
    | (1 << 21)
    | (1 << 26)
    | (1 << 31)
    | (1 << 35)
    | (1 << 38);
/// Permissions the bot has in its channels: a member's plus manage messages.
pub const APP_PERMISSIONS: u64 = MEMBER_PERMISSIONS | (1 << 13);
/// A server admin's permissions: a member's plus Manage Server.
pub const ADMIN_PERMISSIONS: u64 = MEMBER_PERMISSIONS | (1 << 5);

/// A guild of the fake's world: its id, name and text channels (id, name) in position order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeGuild {
    pub id: u64,
    pub name: String,
    pub channels: Vec<(u64, String)>,
}

impl FakeGuild {
    pub fn new(id: u64, name: &str, channels: &[(u64, &str)]) -> FakeGuild {
        FakeGuild {
            id,
            name: name.to_string(),
            channels: channels
                .iter()
                .map(|(channel, name)| (*channel, name.to_string()))
                .collect(),
        }
    }

    /// [`GUILD_ID`] "NHS Ward 7" with [`CHANNEL_ID`] "wellbeing": the guild every test starts in.
    pub fn default_guild() -> FakeGuild {
        FakeGuild::new(GUILD_ID, GUILD_NAME, &[(CHANNEL_ID, CHANNEL_NAME)])
    }

    /// A text channel as `GET /channels/{id}` answers it, if the guild has it.
    pub fn channel_json(&self, channel_id: u64) -> Option<Value> {
        let position = self.channels.iter().position(|(id, _)| *id == channel_id)?;
        let name = &self.channels[position].1;
        Some(guild_text_channel(
            self.id,
            channel_id,
            name,
            position as u64,
        ))
    }

    /// Every text channel as `GET /guilds/{id}/channels` answers them.
    pub fn channels_json(&self) -> Vec<Value> {
        self.channels
            .iter()
            .enumerate()
            .map(|(i, (id, name))| guild_text_channel(self.id, *id, name, i as u64))
            .collect()
    }
}

/// The shard that receives a guild's events, as Discord computes it. DMs go to shard 0.
pub fn shard_of_guild(guild_id: u64, num_shards: u32) -> u32 {
    // num_shards 0 is refused at IDENTIFY; max(1) keeps this total.
    ((guild_id >> 22) % u64::from(num_shards.max(1))) as u32
}

/// The id of the DM channel between the bot and `user_id`.
pub fn dm_channel_id(user_id: u64) -> u64 {
    800_000_000 + user_id
}

pub fn sf(id: u64) -> Value {
    Value::String(id.to_string())
}

// ----- gateway -----

pub fn hello(heartbeat_interval_ms: u64) -> Value {
    json!({"op": 10, "d": {"heartbeat_interval": heartbeat_interval_ms, "_trace": ["fake-gateway"]}})
}

pub fn heartbeat_ack() -> Value {
    json!({"op": 11})
}

pub fn reconnect() -> Value {
    json!({"op": 7, "d": null})
}

pub fn invalid_session(resumable: bool) -> Value {
    json!({"op": 9, "d": resumable})
}

pub fn dispatch_frame(event: &str, seq: u64, d: Value) -> Value {
    json!({"op": 0, "s": seq, "t": event, "d": d})
}

pub fn bot_user() -> Value {
    json!({"id": sf(BOT_USER_ID), "username": BOT_NAME, "discriminator": "0", "global_name": null,
           "avatar": null, "bot": true, "system": false, "public_flags": 0, "flags": 0,
           "mfa_enabled": true, "verified": true, "email": null, "locale": "en-GB"})
}

pub fn user(id: u64) -> Value {
    if id == BOT_USER_ID {
        return bot_user();
    }
    json!({"id": sf(id), "username": format!("user{id}"), "discriminator": "0",
           "global_name": format!("User {id}"), "avatar": null, "public_flags": 0})
}

pub fn member(user_id: u64, permissions: u64) -> Value {
    json!({"user": user(user_id), "nick": null, "avatar": null, "roles": [],
           "joined_at": TIMESTAMP, "premium_since": null, "deaf": false, "mute": false,
           "flags": 0, "pending": false, "communication_disabled_until": null,
           "permissions": permissions.to_string()})
}

/// READY for a session whose shard holds `guild_ids`: they are listed unavailable, each
/// followed by its GUILD_CREATE. `shard` is echoed only if IDENTIFY sent one, as Discord does.
pub fn ready(
    session_id: &str,
    resume_gateway_url: &str,
    shard: Option<[u32; 2]>,
    guild_ids: &[u64],
) -> Value {
    let guilds: Vec<Value> = guild_ids
        .iter()
        .map(|id| json!({"id": sf(*id), "unavailable": true}))
        .collect();
    let mut d = json!({"v": 10, "user": bot_user(),
        "guilds": guilds,
        "session_id": session_id, "session_type": "normal",
        "resume_gateway_url": resume_gateway_url,
        "application": {"id": sf(APP_ID), "flags": 0},
        "private_channels": [], "relationships": [], "presences": [],
        "geo_ordered_rtc_regions": [], "guild_join_requests": [], "user_settings": {},
        "_trace": ["fake-gateway"]});
    if let Some(shard) = shard {
        d["shard"] = json!(shard);
    }
    d
}

/// The guild's @everyone role, whose id is the guild's id.
pub fn everyone_role(guild_id: u64) -> Value {
    json!({"id": sf(guild_id), "name": "@everyone", "color": 0, "hoist": false, "icon": null,
           "unicode_emoji": null, "position": 0,
           "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null}, "permissions": MEMBER_PERMISSIONS.to_string(),
           "managed": false, "mentionable": false, "flags": 0})
}

/// A text channel of the guild (as inside GUILD_CREATE, i.e. without `guild_id`).
pub fn guild_text_channel_in_guild(id: u64, name: &str, position: u64) -> Value {
    json!({"id": sf(id), "type": 0, "name": name, "position": position,
           "permission_overwrites": [], "parent_id": null, "topic": null, "nsfw": false,
           "last_message_id": null, "rate_limit_per_user": 0, "flags": 0})
}

/// A text channel of `guild_id` as `GET /channels/{id}` answers it.
pub fn guild_text_channel(guild_id: u64, id: u64, name: &str, position: u64) -> Value {
    let mut c = guild_text_channel_in_guild(id, name, position);
    c["guild_id"] = sf(guild_id);
    c
}

/// A thread the bot started in `parent_id` of `guild_id` (`kind` 11 public, 12 private).
pub fn thread_channel(
    guild_id: u64,
    id: u64,
    parent_id: u64,
    name: &str,
    kind: u64,
    auto_archive: u64,
) -> Value {
    json!({"id": sf(id), "type": kind, "guild_id": sf(guild_id), "parent_id": sf(parent_id),
           "owner_id": sf(BOT_USER_ID), "name": name, "last_message_id": null,
           "rate_limit_per_user": 0, "flags": 0, "message_count": 0, "member_count": 1,
           "total_message_sent": 0,
           "thread_metadata": {"archived": false, "auto_archive_duration": auto_archive,
                               "archive_timestamp": TIMESTAMP, "locked": false,
                               "create_timestamp": TIMESTAMP},
           "member": {"id": sf(id), "user_id": sf(BOT_USER_ID), "join_timestamp": TIMESTAMP,
                      "flags": 0}})
}

pub fn dm_channel(user_id: u64) -> Value {
    json!({"id": sf(dm_channel_id(user_id)), "type": 1, "last_message_id": null, "flags": 0,
           "recipients": [user(user_id)]})
}

/// GUILD_CREATE data for a guild with its channels.
pub fn guild_create(guild: &FakeGuild) -> Value {
    let mut g = guild_json(guild);
    let chans: Vec<Value> = guild
        .channels
        .iter()
        .enumerate()
        .map(|(i, (id, name))| guild_text_channel_in_guild(*id, name, i as u64))
        .collect();
    let obj = g.as_object_mut().expect("guild is an object");
    obj.insert("joined_at".into(), json!(TIMESTAMP));
    obj.insert("large".into(), json!(false));
    obj.insert("unavailable".into(), json!(false));
    obj.insert("member_count".into(), json!(2));
    obj.insert(
        "members".into(),
        json!([
            member(BOT_USER_ID, APP_PERMISSIONS),
            member(USER_ID, MEMBER_PERMISSIONS)
        ]),
    );
    obj.insert("channels".into(), Value::Array(chans));
    for empty in [
        "threads",
        "presences",
        "voice_states",
        "stage_instances",
        "guild_scheduled_events",
        "soundboard_sounds",
    ] {
        obj.insert(empty.into(), json!([]));
    }
    g
}

/// A guild as `GET /guilds/{id}` answers it.
pub fn guild_json(guild: &FakeGuild) -> Value {
    json!({"id": sf(guild.id), "name": guild.name, "icon": null, "splash": null,
           "discovery_splash": null, "owner_id": sf(USER_ID), "afk_channel_id": null,
           "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
           "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
           "premium_subscription_count": 0, "system_channel_id": null,
           "system_channel_flags": 0, "rules_channel_id": null,
           "public_updates_channel_id": null, "safety_alerts_channel_id": null,
           "preferred_locale": "en-GB", "premium_progress_bar_enabled": false,
           "features": [], "roles": [everyone_role(guild.id)], "emojis": [], "stickers": [],
           "application_id": null, "description": null, "banner": null,
           "vanity_url_code": null, "max_members": 500000, "max_video_channel_users": 25})
}

pub fn app_info() -> Value {
    json!({"id": sf(APP_ID), "name": BOT_NAME, "icon": null, "description": "",
           "bot_public": false, "bot_require_code_grant": false, "verify_key": "00",
           "flags": 0, "team": null, "summary": "", "type": null, "hook": true,
           "owner": user(USER_ID), "bot": bot_user(),
           "integration_types_config": {"0": {}}, "tags": []})
}

/// `GET /gateway/bot`: `shards` is the shard count Discord recommends.
pub fn gateway_bot(url: &str, shards: u32) -> Value {
    json!({"url": url, "shards": shards, "session_start_limit":
           {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}})
}

// ----- messages -----

/// Who wrote a message the fake stores.
#[derive(Clone, Copy, Debug)]
pub enum Author {
    /// The bot, through `POST /channels/{id}/messages`.
    Bot,
    /// The application's interaction webhook (responses and follow-ups).
    InteractionWebhook,
}

fn normalise_embed(e: &Value) -> Value {
    let mut e = e.clone();
    if let Some(obj) = e.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
        obj.entry("type").or_insert(json!("rich"));
        if let Some(fields) = obj.get_mut("fields").and_then(Value::as_array_mut) {
            for f in fields {
                if let Some(f) = f.as_object_mut() {
                    f.entry("inline").or_insert(json!(false));
                }
            }
        }
    }
    e
}

fn normalise_component(c: &Value, next_id: &mut u64) -> Value {
    let mut c = c.clone();
    if let Some(obj) = c.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
        *next_id += 1;
        obj.entry("id").or_insert(json!(*next_id));
        if obj.get("type").and_then(Value::as_u64) == Some(2) {
            obj.entry("disabled").or_insert(json!(false));
        }
        if let Some(children) = obj.get_mut("components").and_then(Value::as_array_mut) {
            for child in children.iter_mut() {
                *child = normalise_component(child, next_id);
            }
        }
    }
    c
}

/// The message Discord would store for a create-message style request `body`.
pub fn message_from_request(
    id: u64,
    channel_id: u64,
    author: Author,
    body: &Value,
    interaction: Option<(u64, u64)>,
) -> Value {
    let author_json = match author {
        Author::Bot => bot_user(),
        Author::InteractionWebhook => bot_user(),
    };
    let embeds: Vec<Value> = body
        .get("embeds")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(normalise_embed).collect())
        .unwrap_or_default();
    let mut next_id = 0;
    let components: Vec<Value> = body
        .get("components")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| normalise_component(c, &mut next_id))
                .collect()
        })
        .unwrap_or_default();
    let mut m = json!({"id": sf(id), "channel_id": sf(channel_id), "author": author_json,
        "content": body.get("content").and_then(Value::as_str).unwrap_or(""),
        "timestamp": TIMESTAMP, "edited_timestamp": null,
        "tts": body.get("tts").and_then(Value::as_bool).unwrap_or(false),
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": embeds, "components": components, "pinned": false, "type": 0,
        "flags": body.get("flags").and_then(Value::as_u64).unwrap_or(0) & !(1u64 << 7)});
    if let Some(nonce) = body.get("nonce").filter(|n| !n.is_null()) {
        m["nonce"] = nonce.clone();
    }
    if let Some(r) = body.get("message_reference").filter(|r| !r.is_null()) {
        m["message_reference"] = r.clone();
        m["type"] = json!(19);
    }
    if matches!(author, Author::InteractionWebhook) {
        m["webhook_id"] = sf(APP_ID);
        m["application_id"] = sf(APP_ID);
        if let Some((interaction_id, user_id)) = interaction {
            m["type"] = json!(20);
            m["interaction_metadata"] = json!({"id": sf(interaction_id), "type": 2,
                "user": user(user_id), "authorizing_integration_owners": {"0": sf(GUILD_ID)}});
        }
    }
    m
}

/// Applies an edit body to a stored message.
pub fn edit_message(stored: &mut Value, edit: &Value) {
    let mut next_id = 0;
    if let Some(obj) = edit.as_object() {
        for (k, v) in obj {
            match k.as_str() {
                "content" => stored["content"] = json!(v.as_str().unwrap_or("")),
                "embeds" => {
                    stored["embeds"] = Value::Array(
                        v.as_array()
                            .map(|a| a.iter().map(normalise_embed).collect())
                            .unwrap_or_default(),
                    )
                }
                "components" => {
                    stored["components"] = Value::Array(
                        v.as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|c| normalise_component(c, &mut next_id))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                }
                "flags" => stored["flags"] = json!(v.as_u64().unwrap_or(0) & !(1u64 << 7)),
                _ => {}
            }
        }
    }
    stored["edited_timestamp"] = json!(TIMESTAMP);
}

/// The command Discord stores for one registration body element.
pub fn command_from_request(id: u64, version: u64, guild_id: Option<u64>, body: &Value) -> Value {
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(1);
    let mut c = json!({"id": sf(id), "application_id": sf(APP_ID), "version": sf(version),
        "type": kind,
        "name": body.get("name").cloned().unwrap_or(json!("")),
        "description": body.get("description").and_then(Value::as_str).unwrap_or(""),
        "default_member_permissions": body.get("default_member_permissions")
            .filter(|v| !v.is_null()).map(|v| match v { Value::String(s) => json!(s), other => json!(other.to_string()) })
            .unwrap_or(Value::Null),
        "dm_permission": body.get("dm_permission").and_then(Value::as_bool).unwrap_or(true),
        "nsfw": body.get("nsfw").and_then(Value::as_bool).unwrap_or(false),
        "integration_types": body.get("integration_types").filter(|v| !v.is_null()).cloned().unwrap_or(json!([0])),
        "contexts": body.get("contexts").cloned().unwrap_or(Value::Null)});
    for key in ["name_localizations", "description_localizations"] {
        if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
            c[key] = v.clone();
        }
    }
    if let Some(opts) = body.get("options").and_then(Value::as_array) {
        c["options"] = Value::Array(opts.iter().map(normalise_option).collect());
    }
    if let Some(g) = guild_id {
        c["guild_id"] = sf(g);
    }
    c
}

fn normalise_option(o: &Value) -> Value {
    let mut o = o.clone();
    if let Some(obj) = o.as_object_mut() {
        obj.retain(|_, v| !v.is_null());
        if let Some(Value::Array(sub)) = obj.get("options").cloned() {
            obj.insert(
                "options".into(),
                Value::Array(sub.iter().map(normalise_option).collect()),
            );
        }
    }
    o
}

// ----- interactions -----

/// Where an interaction happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a guild's channel ([`CHANNEL_ID`] of [`GUILD_ID`] unless the builder's `in_guild` or
    /// `channel` says otherwise), with a `member`.
    Guild,
    /// In the user's DM with the bot, with a `user`.
    Dm,
}

/// A slash command (or user / message command) invocation to dispatch.
#[derive(Clone, Debug)]
pub struct CommandInvocation {
    pub name: String,
    /// Top-level options, e.g. `{"name": "theme", "type": 3, "value": "compassion"}`.
    pub options: Vec<Value>,
    pub place: Place,
    pub user_id: u64,
    /// Interaction id; a unique one is chosen if `None`.
    pub id: Option<u64>,
    /// Channel; [`CHANNEL_ID`] in a guild, the DM channel in a DM if `None`.
    pub channel_id: Option<u64>,
    /// The guild of a guild invocation ([`GUILD_ID`] unless `in_guild` says otherwise).
    pub guild_id: u64,
    /// Command type: 1 slash, 2 user, 3 message.
    pub command_type: u64,
    /// `target_id` of a user or message command.
    pub target_id: Option<u64>,
    /// The member's permissions (guild only).
    pub permissions: u64,
    pub locale: String,
    /// `data.resolved` (users, members, channels...), filled by `option_user`.
    pub resolved: Map<String, Value>,
}

impl CommandInvocation {
    fn new(name: &str, place: Place) -> CommandInvocation {
        CommandInvocation {
            name: name.to_string(),
            options: Vec::new(),
            place,
            user_id: USER_ID,
            id: None,
            channel_id: None,
            guild_id: GUILD_ID,
            command_type: 1,
            target_id: None,
            permissions: MEMBER_PERMISSIONS,
            locale: "en-GB".to_string(),
            resolved: Map::new(),
        }
    }

    /// A slash command in the test guild's channel.
    pub fn guild(name: &str) -> CommandInvocation {
        CommandInvocation::new(name, Place::Guild)
    }

    /// A slash command in the user's DM with the bot.
    pub fn dm(name: &str) -> CommandInvocation {
        CommandInvocation::new(name, Place::Dm)
    }

    /// Adds an option; if the last option is a subcommand (group) it goes inside it.
    pub fn option(mut self, opt: Value) -> CommandInvocation {
        fn push(list: &mut Vec<Value>, opt: Value) {
            if let Some(last) = list.last_mut() {
                if matches!(last.get("type").and_then(Value::as_u64), Some(1 | 2)) {
                    let inner = last
                        .as_object_mut()
                        .expect("option is an object")
                        .entry("options")
                        .or_insert_with(|| json!([]));
                    if let Some(inner) = inner.as_array_mut() {
                        push(inner, opt);
                        return;
                    }
                }
            }
            list.push(opt);
        }
        push(&mut self.options, opt);
        self
    }

    pub fn option_str(self, name: &str, value: &str) -> CommandInvocation {
        self.option(json!({"name": name, "type": 3, "value": value}))
    }

    pub fn option_int(self, name: &str, value: i64) -> CommandInvocation {
        self.option(json!({"name": name, "type": 4, "value": value}))
    }

    pub fn option_bool(self, name: &str, value: bool) -> CommandInvocation {
        self.option(json!({"name": name, "type": 5, "value": value}))
    }

    pub fn option_number(self, name: &str, value: f64) -> CommandInvocation {
        self.option(json!({"name": name, "type": 10, "value": value}))
    }

    /// A user option; the user (and, in a guild, the member) go into `data.resolved`.
    pub fn option_user(mut self, name: &str, user_id: u64) -> CommandInvocation {
        let users = self.resolved.entry("users").or_insert_with(|| json!({}));
        users[user_id.to_string()] = user(user_id);
        if self.place == Place::Guild {
            let mut m = member(user_id, MEMBER_PERMISSIONS);
            m.as_object_mut().expect("member").remove("user");
            let members = self.resolved.entry("members").or_insert_with(|| json!({}));
            members[user_id.to_string()] = m;
        }
        self.option(json!({"name": name, "type": 6, "value": user_id.to_string()}))
    }

    /// A channel option (`kind` 0 text, 2 voice, 5 announcement); the channel goes into
    /// `data.resolved` as Discord sends it, with the member's permissions there.
    pub fn option_channel(mut self, name: &str, channel_id: u64, kind: u64) -> CommandInvocation {
        let channels = self.resolved.entry("channels").or_insert_with(|| json!({}));
        channels[channel_id.to_string()] = json!({"id": sf(channel_id), "type": kind,
            "name": format!("channel-{channel_id}"), "parent_id": null,
            "permissions": self.permissions.to_string(), "flags": 0});
        self.option(json!({"name": name, "type": 7, "value": channel_id.to_string()}))
    }

    /// A role option; the role goes into `data.resolved`.
    pub fn option_role(mut self, name: &str, role_id: u64) -> CommandInvocation {
        let roles = self.resolved.entry("roles").or_insert_with(|| json!({}));
        let mut role = everyone_role(self.guild_id);
        role["id"] = sf(role_id);
        role["name"] = json!("night shift");
        roles[role_id.to_string()] = role;
        self.option(json!({"name": name, "type": 8, "value": role_id.to_string()}))
    }

    /// A subcommand; options added after it go inside it.
    pub fn subcommand(self, name: &str) -> CommandInvocation {
        self.option(json!({"name": name, "type": 1, "options": []}))
    }

    pub fn user(mut self, user_id: u64) -> CommandInvocation {
        self.user_id = user_id;
        self
    }

    pub fn id(mut self, id: u64) -> CommandInvocation {
        self.id = Some(id);
        self
    }

    pub fn channel(mut self, channel_id: u64) -> CommandInvocation {
        self.channel_id = Some(channel_id);
        self
    }

    /// Invoked in `channel_id` of another guild (one added with `StandIn::add_guild`); its
    /// INTERACTION_CREATE goes to that guild's shard. Makes the invocation a guild one, so call
    /// it before `option_user` on a DM invocation.
    pub fn in_guild(mut self, guild_id: u64, channel_id: u64) -> CommandInvocation {
        self.place = Place::Guild;
        self.guild_id = guild_id;
        self.channel_id = Some(channel_id);
        self
    }

    pub fn permissions(mut self, permissions: u64) -> CommandInvocation {
        self.permissions = permissions;
        self
    }

    pub fn locale(mut self, locale: &str) -> CommandInvocation {
        self.locale = locale.to_string();
        self
    }

    /// The INTERACTION_CREATE `d` for this invocation. `command_id` is the registered id
    /// of the command (any id if it was never registered).
    pub fn to_interaction(&self, id: u64, token: &str, command_id: u64) -> Value {
        let mut data = json!({"id": sf(command_id), "name": self.name,
                              "type": self.command_type, "options": self.options});
        if !self.resolved.is_empty() {
            data["resolved"] = Value::Object(self.resolved.clone());
        }
        if let Some(t) = self.target_id {
            data["target_id"] = sf(t);
        }
        let mut d = interaction_base(
            id,
            token,
            2,
            self.place,
            self.guild_id,
            self.user_id,
            self.channel_id,
            self.permissions,
            &self.locale,
        );
        d["data"] = data;
        d
    }
}

/// A button click to dispatch.
#[derive(Clone, Debug)]
pub struct ButtonClick {
    pub custom_id: String,
    pub place: Place,
    pub user_id: u64,
    pub id: Option<u64>,
    pub channel_id: Option<u64>,
    /// The guild of a guild click ([`GUILD_ID`] unless `in_guild` says otherwise).
    pub guild_id: u64,
    /// The message that carries the button; a bot message with the button if `None`.
    pub message: Option<Value>,
    pub permissions: u64,
}

impl ButtonClick {
    pub fn guild(custom_id: &str) -> ButtonClick {
        ButtonClick {
            custom_id: custom_id.to_string(),
            place: Place::Guild,
            user_id: USER_ID,
            id: None,
            channel_id: None,
            guild_id: GUILD_ID,
            message: None,
            permissions: MEMBER_PERMISSIONS,
        }
    }

    pub fn dm(custom_id: &str) -> ButtonClick {
        ButtonClick {
            place: Place::Dm,
            ..ButtonClick::guild(custom_id)
        }
    }

    pub fn user(mut self, user_id: u64) -> ButtonClick {
        self.user_id = user_id;
        self
    }

    /// The clicked message, e.g. one returned by `StandIn::created_messages`.
    pub fn message(mut self, message: Value) -> ButtonClick {
        self.message = Some(message);
        self
    }

    pub fn channel(mut self, channel_id: u64) -> ButtonClick {
        self.channel_id = Some(channel_id);
        self
    }

    /// Clicked in `channel_id` of another guild (one added with `StandIn::add_guild`); its
    /// INTERACTION_CREATE goes to that guild's shard.
    pub fn in_guild(mut self, guild_id: u64, channel_id: u64) -> ButtonClick {
        self.place = Place::Guild;
        self.guild_id = guild_id;
        self.channel_id = Some(channel_id);
        self
    }

    pub fn to_interaction(&self, id: u64, token: &str) -> Value {
        let channel = effective_channel(self.place, self.user_id, self.channel_id);
        let message = self.message.clone().unwrap_or_else(|| {
            message_from_request(
                9_000_001,
                channel,
                Author::Bot,
                &json!({"content": "", "components": [{"type": 1, "components": [
                    {"type": 2, "style": 1, "custom_id": self.custom_id, "label": "Open"}]}]}),
                None,
            )
        });
        let mut d = interaction_base(
            id,
            token,
            3,
            self.place,
            self.guild_id,
            self.user_id,
            self.channel_id,
            self.permissions,
            "en-GB",
        );
        d["message"] = message;
        d["data"] = json!({"custom_id": self.custom_id, "component_type": 2});
        d
    }
}

fn effective_channel(place: Place, user_id: u64, channel_id: Option<u64>) -> u64 {
    channel_id.unwrap_or(match place {
        Place::Guild => CHANNEL_ID,
        Place::Dm => dm_channel_id(user_id),
    })
}

#[allow(clippy::too_many_arguments)]
fn interaction_base(
    id: u64,
    token: &str,
    kind: u64,
    place: Place,
    guild_id: u64,
    user_id: u64,
    channel_id: Option<u64>,
    permissions: u64,
    locale: &str,
) -> Value {
    let channel = effective_channel(place, user_id, channel_id);
    let mut d = json!({"id": sf(id), "application_id": sf(APP_ID), "type": kind,
        "token": token, "version": 1, "locale": locale, "entitlements": [],
        "attachment_size_limit": 26_214_400, "app_permissions": APP_PERMISSIONS.to_string(),
        "channel_id": sf(channel)});
    match place {
        Place::Guild => {
            d["guild_id"] = sf(guild_id);
            d["guild_locale"] = json!("en-GB");
            d["guild"] = json!({"id": sf(guild_id), "locale": "en-GB", "features": []});
            d["member"] = member(user_id, permissions);
            // `StandIn` puts in the channel's real name and position when it knows them.
            d["channel"] = guild_text_channel(guild_id, channel, CHANNEL_NAME, 0);
            d["context"] = json!(0);
            d["authorizing_integration_owners"] = json!({"0": sf(guild_id)});
        }
        Place::Dm => {
            d["user"] = user(user_id);
            d["channel"] = dm_channel(user_id);
            d["context"] = json!(1);
            d["authorizing_integration_owners"] = json!({"0": sf(GUILD_ID)});
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use serenity::all::{CurrentApplicationInfo, GuildId};
    use serenity::model::application::{Command, Interaction};
    use serenity::model::channel::{GuildChannel, Message, PrivateChannel};
    use serenity::model::event::{Event, GatewayEvent};
    use serenity::model::guild::{Guild, Member, PartialGuild};
    use serenity::model::user::{CurrentUser, User};

    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/discord-fixtures"
    );

    fn fixture(name: &str) -> Value {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture");
        serde_json::from_str(&text).expect("fixture json")
    }

    fn gateway(frame: Value) -> GatewayEvent {
        serde_json::from_value(frame.clone())
            .unwrap_or_else(|e| panic!("serenity rejects {frame}: {e}"))
    }

    fn event(name: &str, d: Value) -> Event {
        match gateway(dispatch_frame(name, 7, d)) {
            GatewayEvent::Dispatch(7, Event::Unknown(u)) => {
                panic!("serenity dropped {name} as unknown: {:?}", u)
            }
            GatewayEvent::Dispatch(7, e) => e,
            other => panic!("not a dispatch: {other:?}"),
        }
    }

    fn de<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("serenity rejects {v}: {e}"))
    }

    #[test]
    fn fixtures_still_deserialise() {
        assert!(matches!(
            gateway(fixture("gateway_hello.json")),
            GatewayEvent::Hello(41250)
        ));
        assert!(matches!(
            gateway(fixture("gateway_ack.json")),
            GatewayEvent::HeartbeatAck
        ));
        for (file, want) in [
            ("gateway_ready.json", "Ready"),
            ("gateway_resumed.json", "Resumed"),
            ("gateway_guildcreate.json", "GuildCreate"),
            ("gateway_cmd.json", "InteractionCreate"),
            ("gateway_btn.json", "InteractionCreate"),
        ] {
            match gateway(fixture(file)) {
                GatewayEvent::Dispatch(_, e) => {
                    assert!(format!("{e:?}").starts_with(want), "{file}")
                }
                other => panic!("{file}: {other:?}"),
            }
        }
        assert!(matches!(
            gateway(fixture("gateway_cmdnochannelid.json")),
            GatewayEvent::Dispatch(_, Event::Unknown(_))
        ));
        de::<Message>(fixture("message_min.json"));
        de::<CurrentApplicationInfo>(fixture("appinfo_min.json"));
        de::<Vec<Command>>(fixture("commands_min.json"));
    }

    #[test]
    fn gateway_builders() {
        assert!(matches!(gateway(hello(41250)), GatewayEvent::Hello(41250)));
        assert!(matches!(
            gateway(heartbeat_ack()),
            GatewayEvent::HeartbeatAck
        ));
        assert!(matches!(gateway(reconnect()), GatewayEvent::Reconnect));
        assert!(matches!(
            gateway(invalid_session(false)),
            GatewayEvent::InvalidateSession(false)
        ));
        match event(
            "READY",
            ready(
                "s1",
                "ws://127.0.0.1:1",
                Some([1, 2]),
                &[GUILD_ID, 4_196_304],
            ),
        ) {
            Event::Ready(r) => {
                assert_eq!(r.ready.user.id.get(), BOT_USER_ID);
                assert_eq!(r.ready.application.id.get(), APP_ID);
                assert_eq!(r.ready.guilds.len(), 2);
                let shard = r.ready.shard.expect("shard echoed");
                assert_eq!((shard.id.0, shard.total), (1, 2));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(event("RESUMED", json!({})), Event::Resumed(_)));
        let ward = FakeGuild::new(
            4_196_304,
            "Ward 9",
            &[(CHANNEL_ID + 10, "wellbeing"), (1012, "general")],
        );
        match event("GUILD_CREATE", guild_create(&ward)) {
            Event::GuildCreate(g) => {
                assert_eq!(g.guild.id, GuildId::new(ward.id));
                assert_eq!(g.guild.name, "Ward 9");
                assert_eq!(g.guild.channels.len(), 2);
                assert_eq!(g.guild.members.len(), 2);
                assert!(g
                    .guild
                    .roles
                    .contains_key(&serenity::all::RoleId::new(ward.id)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn interaction_builders() {
        let guild_cmd = CommandInvocation::guild("pack")
            .option_str("theme", "compassion")
            .option_bool("private", true)
            .option_int("count", 3)
            .option_number("ratio", 0.5)
            .option_user("buddy", 5001);
        match event(
            "INTERACTION_CREATE",
            guild_cmd.to_interaction(3001, "tok", 7001),
        ) {
            Event::InteractionCreate(e) => {
                let cmd = e.interaction.command().expect("a command interaction");
                assert_eq!(cmd.data.name, "pack");
                assert_eq!(cmd.data.options.len(), 5);
                assert_eq!(cmd.guild_id, Some(GuildId::new(GUILD_ID)));
                let m = cmd.member.as_ref().expect("member");
                assert_eq!(m.user.id.get(), USER_ID);
                assert!(m.permissions.is_some());
                assert_eq!(cmd.data.resolved.users.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        let dm_cmd = CommandInvocation::dm("checkin")
            .subcommand("start")
            .option_int("mood", 4);
        match event(
            "INTERACTION_CREATE",
            dm_cmd.to_interaction(3002, "tok2", 7002),
        ) {
            Event::InteractionCreate(e) => {
                let cmd = e.interaction.command().expect("a command interaction");
                assert_eq!(cmd.guild_id, None);
                assert!(cmd.member.is_none());
                assert_eq!(cmd.user.id.get(), USER_ID);
                assert_eq!(cmd.channel_id.get(), dm_channel_id(USER_ID));
                assert_eq!(cmd.data.options.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        for click in [
            ButtonClick::guild("checkin:open:1"),
            ButtonClick::dm("checkin:open:2"),
            ButtonClick::guild("checkin:open:3").in_guild(4_196_304, 1011),
        ] {
            match event("INTERACTION_CREATE", click.to_interaction(3003, "tok3")) {
                Event::InteractionCreate(e) => {
                    let c = e.interaction.message_component().expect("a component");
                    assert_eq!(c.data.custom_id, click.custom_id);
                    if click.place == Place::Guild {
                        assert_eq!(c.guild_id.map(|g| g.get()), Some(click.guild_id));
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        // Elsewhere: the guild, its channel and its @everyone role follow the invocation.
        let elsewhere = CommandInvocation::dm("pack")
            .in_guild(4_196_304, 1011)
            .option_role("who", 4_196_304);
        match event(
            "INTERACTION_CREATE",
            elsewhere.to_interaction(3004, "tok4", 7004),
        ) {
            Event::InteractionCreate(e) => {
                let cmd = e.interaction.command().expect("a command interaction");
                assert_eq!(cmd.guild_id, Some(GuildId::new(4_196_304)));
                assert_eq!(cmd.channel_id.get(), 1011);
                assert!(cmd.member.is_some());
                let channel = cmd.channel.as_ref().expect("channel");
                assert_eq!(channel.id.get(), 1011);
            }
            other => panic!("{other:?}"),
        }
        // The raw interaction deserialises on its own too.
        de::<Interaction>(CommandInvocation::guild("x").to_interaction(1, "t", 2));
    }

    #[test]
    fn shards_follow_discords_formula() {
        // (guild_id >> 22) % num_shards
        assert_eq!(shard_of_guild(GUILD_ID, 1), 0);
        assert_eq!(shard_of_guild(GUILD_ID, 2), 0);
        assert_eq!(shard_of_guild(1 << 22, 2), 1);
        assert_eq!(shard_of_guild((5 << 22) | 4_000_000, 3), 2);
        assert_eq!(shard_of_guild(81_384_788_765_712_384, 16), 2);
    }

    #[test]
    fn rest_builders() {
        de::<CurrentUser>(bot_user());
        de::<User>(user(USER_ID));
        de::<Member>({
            let mut m = member(USER_ID, MEMBER_PERMISSIONS);
            m["guild_id"] = sf(GUILD_ID);
            m
        });
        de::<CurrentApplicationInfo>(app_info());
        let channel: GuildChannel = de(guild_text_channel(GUILD_ID, CHANNEL_ID, CHANNEL_NAME, 0));
        assert_eq!(channel.guild_id.get(), GUILD_ID);
        de::<PrivateChannel>(dm_channel(USER_ID));
        let thread: GuildChannel = de(thread_channel(GUILD_ID, 4000, CHANNEL_ID, "t", 11, 1440));
        assert!(thread.thread_metadata.is_some());
        de::<PartialGuild>(guild_json(&FakeGuild::default_guild()));
        let empty = FakeGuild::new(GUILD_ID, GUILD_NAME, &[]);
        let _: Guild = match event("GUILD_CREATE", guild_create(&empty)) {
            Event::GuildCreate(g) => g.guild,
            other => panic!("{other:?}"),
        };
        let gw: serenity::model::gateway::BotGateway = de(gateway_bot("ws://x", 4));
        assert_eq!((gw.shards, gw.session_start_limit.max_concurrency), (4, 1));
        let cmds = json!([{"name": "pack", "description": "d", "default_member_permissions": "8",
            "options": [{"type": 3, "name": "theme", "description": "t", "required": true,
                          "choices": [{"name": "A", "value": "a"}]},
                         {"type": 1, "name": "sub", "description": "s", "options": [
                             {"type": 4, "name": "n", "description": "n", "min_value": 1}]}]},
            {"name": "Report", "type": 3}]);
        let built: Vec<Value> = cmds
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, c)| command_from_request(7000 + i as u64, 1, Some(GUILD_ID), c))
            .collect();
        let parsed: Vec<Command> = de(Value::Array(built));
        assert_eq!(parsed[0].options[0].choices.len(), 1);
    }

    #[test]
    fn message_echo_of_serenity_builders() {
        use serenity::builder::{
            CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter, CreateMessage,
        };
        let msg = CreateMessage::new()
            .content("hello")
            .embed(
                CreateEmbed::new()
                    .title("t")
                    .description("d")
                    .field("a", "b", true)
                    .footer(CreateEmbedFooter::new("f"))
                    .colour(0x00ff00)
                    .timestamp(serenity::model::Timestamp::now()),
            )
            .components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new("b1").label("One"),
                CreateButton::new_link("https://example.org").label("Link"),
            ])]);
        let body = serde_json::to_value(&msg).expect("serialise");
        let stored = message_from_request(9001, CHANNEL_ID, Author::Bot, &body, None);
        let parsed: Message = de(stored.clone());
        assert_eq!(parsed.embeds.len(), 1);
        assert_eq!(parsed.components.len(), 1);
        let webhook = message_from_request(
            9002,
            CHANNEL_ID,
            Author::InteractionWebhook,
            &body,
            Some((3001, USER_ID)),
        );
        de::<Message>(webhook);
        let mut edited = stored;
        edit_message(&mut edited, &json!({"content": "new", "components": []}));
        let parsed: Message = de(edited);
        assert_eq!(parsed.content, "new");
        assert!(parsed.edited_timestamp.is_some());
    }
}
