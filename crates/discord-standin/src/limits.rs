//! The documented limits of `shared/discord-limits.md` that the OpenAPI spec does not
//! encode, or encodes more loosely. Each check reports [`SchemaError`]s with Discord's
//! error path so the fake answers them as a 400 "Invalid Form Body".
//!
//! Checked here: message content 2000, empty message (answered as Discord's 50006), all
//! embeds together 6000, legacy messages' top level (at most 5 action rows and nothing
//! else), an action row holding up to 5 buttons or exactly one select menu, custom_id unique
//! within a message, link / premium / other buttons' fields, command and option names
//! (pattern and lower case), slash command descriptions 1-100, required options first,
//! autocomplete not with choices, string choice values at most 100, one command at most 8000
//! characters, commands per application (100 slash, 15 user, 15 message) and unique names.
//!
//! The time and rate limits (3 s first response, 15 min token, 50 requests a second, 120
//! gateway sends a minute) are enforced where requests arrive (`rest.rs`, `gateway.rs`).

use std::collections::HashSet;

use serde_json::Value;

use super::routes::SchemaError;

/// Code of the pseudo form error that the fake answers with Discord's
/// `{"code": 50006, "message": "Cannot send an empty message"}`.
pub const EMPTY_MESSAGE: &str = "EMPTY_MESSAGE";

pub const MESSAGE_CONTENT_MAX: usize = 2000;
pub const EMBEDS_TOTAL_MAX: usize = 6000;
pub const LEGACY_ACTION_ROWS_MAX: usize = 5;
pub const ROW_BUTTONS_MAX: usize = 5;
pub const COMMAND_SIZE_MAX: usize = 8000;
pub const STRING_CHOICE_VALUE_MAX: usize = 100;
pub const SLASH_COMMANDS_MAX: usize = 100;
pub const USER_COMMANDS_MAX: usize = 15;
pub const MESSAGE_COMMANDS_MAX: usize = 15;
/// The largest file the fake accepts: 8 MiB, the smallest upload limit Discord has applied to
/// bots (servers without boosts before 2024), so a file that passes here passes anywhere.
/// Source: Discord developer documentation, resources/message.mdx, "Uploading Files" (the limit
/// itself is set per server and has been raised since; this is the floor).
pub const ATTACHMENT_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Message flag IS_COMPONENTS_V2.
pub const FLAG_COMPONENTS_V2: u64 = 1 << 15;

fn chars(v: Option<&Value>) -> usize {
    v.and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

fn at(prefix: &[String], rest: &[&str]) -> Vec<String> {
    let mut p = prefix.to_vec();
    p.extend(rest.iter().map(|s| s.to_string()));
    p
}

fn non_empty_array(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

/// How a message body is being used.
#[derive(Clone, Copy, Debug)]
pub struct MessageUse {
    /// A new message (create, follow-up, type-4 callback): it must not be empty.
    pub creating: bool,
    /// The multipart request carried files.
    pub has_files: bool,
}

/// Checks a message-shaped body (create, edit, follow-up or callback `data`) found at
/// `prefix` in the request.
pub fn check_message(
    msg: &Value,
    usage: MessageUse,
    prefix: &[String],
    out: &mut Vec<SchemaError>,
) {
    let Some(obj) = msg.as_object() else {
        if usage.creating && msg.is_null() {
            out.push(SchemaError::new(
                prefix,
                EMPTY_MESSAGE,
                "Cannot send an empty message",
            ));
        }
        return;
    };
    let flags = obj.get("flags").and_then(Value::as_u64).unwrap_or(0);
    let v2 = flags & FLAG_COMPONENTS_V2 != 0;

    if chars(obj.get("content")) > MESSAGE_CONTENT_MAX {
        out.push(SchemaError::new(
            &at(prefix, &["content"]),
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MESSAGE_CONTENT_MAX} or fewer in length."),
        ));
    }

    if usage.creating {
        let has_content = obj
            .get("content")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        let has_poll = obj.get("poll").is_some_and(|p| !p.is_null());
        let non_empty = has_content
            || non_empty_array(obj.get("embeds"))
            || non_empty_array(obj.get("components"))
            || non_empty_array(obj.get("attachments"))
            || non_empty_array(obj.get("sticker_ids"))
            || has_poll
            || usage.has_files;
        if !non_empty {
            out.push(SchemaError::new(
                prefix,
                EMPTY_MESSAGE,
                "Cannot send an empty message",
            ));
        }
    }

    if let Some(embeds) = obj.get("embeds").and_then(Value::as_array) {
        let total: usize = embeds.iter().map(embed_size).sum();
        if total > EMBEDS_TOTAL_MAX {
            out.push(SchemaError::new(
                &at(prefix, &["embeds"]),
                "MAX_EMBED_SIZE_EXCEEDED",
                format!("Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}"),
            ));
        }
    }

    if let Some(components) = obj.get("components").and_then(Value::as_array) {
        let comp_path = at(prefix, &["components"]);
        if v2 {
            for field in ["content", "embeds"] {
                let present = match obj.get(field) {
                    Some(Value::String(s)) => !s.is_empty(),
                    Some(Value::Array(a)) => !a.is_empty(),
                    _ => false,
                };
                if present {
                    out.push(SchemaError::new(
                        &at(prefix, &[field]),
                        "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                        "The 'content' and 'embeds' fields cannot be used when using the \
                         IS_COMPONENTS_V2 flag",
                    ));
                }
            }
        } else {
            if components.len() > LEGACY_ACTION_ROWS_MAX {
                out.push(SchemaError::new(
                    &comp_path,
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {LEGACY_ACTION_ROWS_MAX} or fewer in length."),
                ));
            }
            for (i, row) in components.iter().enumerate() {
                let idx = i.to_string();
                if row.get("type").and_then(Value::as_u64) != Some(1) {
                    out.push(SchemaError::new(
                        &at(&comp_path, &[&idx, "type"]),
                        "BASE_TYPE_CHOICES",
                        "Value must be one of {1}.",
                    ));
                    continue;
                }
                check_row_width(row, &at(&comp_path, &[&idx, "components"]), out);
            }
        }
        let mut seen = HashSet::new();
        for (i, c) in components.iter().enumerate() {
            walk_component(c, &at(&comp_path, &[&i.to_string()]), &mut seen, out);
        }
    }
}

fn embed_size(embed: &Value) -> usize {
    let mut n = chars(embed.get("title")) + chars(embed.get("description"));
    n += chars(embed.pointer("/footer/text")) + chars(embed.pointer("/author/name"));
    if let Some(fields) = embed.get("fields").and_then(Value::as_array) {
        for f in fields {
            n += chars(f.get("name")) + chars(f.get("value"));
        }
    }
    n
}

fn is_select(kind: u64) -> bool {
    matches!(kind, 3 | 5 | 6 | 7 | 8)
}

fn check_row_width(row: &Value, path: &[String], out: &mut Vec<SchemaError>) {
    let Some(children) = row.get("components").and_then(Value::as_array) else {
        return;
    };
    let kinds: Vec<u64> = children
        .iter()
        .filter_map(|c| c.get("type").and_then(Value::as_u64))
        .collect();
    let buttons = kinds.iter().filter(|k| **k == 2).count();
    let selects = kinds.iter().filter(|k| is_select(**k)).count();
    if buttons > ROW_BUTTONS_MAX || (selects > 0 && (selects > 1 || buttons > 0)) {
        out.push(SchemaError::new(
            path,
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        ));
    }
}

fn walk_component(
    c: &Value,
    path: &[String],
    seen: &mut HashSet<String>,
    out: &mut Vec<SchemaError>,
) {
    let kind = c.get("type").and_then(Value::as_u64).unwrap_or(0);
    if let Some(id) = c.get("custom_id").and_then(Value::as_str) {
        if !seen.insert(id.to_string()) {
            out.push(SchemaError::new(
                &at(path, &["custom_id"]),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            ));
        }
    }
    if kind == 2 {
        check_button(c, path, out);
    }
    if let Some(children) = c.get("components").and_then(Value::as_array) {
        for (i, child) in children.iter().enumerate() {
            walk_component(child, &at(path, &["components", &i.to_string()]), seen, out);
        }
    }
    if let Some(acc) = c.get("accessory") {
        walk_component(acc, &at(path, &["accessory"]), seen, out);
    }
}

fn present(c: &Value, field: &str) -> bool {
    c.get(field).is_some_and(|v| !v.is_null())
}

fn check_button(c: &Value, path: &[String], out: &mut Vec<SchemaError>) {
    let style = c.get("style").and_then(Value::as_u64).unwrap_or(0);
    let (required, forbidden): (&[&str], &[&str]) = match style {
        5 => (&["url"], &["custom_id", "sku_id"]),
        6 => (&["sku_id"], &["custom_id", "url", "label", "emoji"]),
        1..=4 => (&["custom_id"], &["url", "sku_id"]),
        _ => return, // the schema reports an unknown style
    };
    for f in required {
        if !present(c, f) {
            out.push(SchemaError::new(
                &at(path, &[f]),
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        }
    }
    for f in forbidden {
        if present(c, f) {
            out.push(SchemaError::new(
                &at(path, &[f]),
                "BUTTON_COMPONENT_INVALID_FIELD",
                format!("A button of style {style} cannot have a {f}"),
            ));
        }
    }
}

/// A command or option name: `^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lower case
/// where the letter has a lower-case form.
pub fn valid_slash_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name.chars().all(|c| {
            (matches!(c, '-' | '_' | '\'')
                || c.is_alphabetic()
                || c.is_numeric()
                || is_deva_or_thai(c))
                && !c.is_uppercase()
        })
}

/// `\p{sc=Deva}` or `\p{sc=Thai}` (their main blocks), which include combining signs.
fn is_deva_or_thai(c: char) -> bool {
    matches!(c, '\u{0900}'..='\u{097F}' | '\u{A8E0}'..='\u{A8FF}' | '\u{0E00}'..='\u{0E7F}')
        && !matches!(c, '\u{0964}' | '\u{0965}' | '\u{0E3F}')
}

/// Length of a localisable field: the longest of the default and its localisations.
fn localised_len(obj: &Value, field: &str) -> usize {
    let base = chars(obj.get(field));
    let local = obj
        .get(format!("{field}_localizations"))
        .and_then(Value::as_object)
        .map_or(0, |m| m.values().map(|v| chars(Some(v))).max().unwrap_or(0));
    base.max(local)
}

fn option_size(opt: &Value) -> usize {
    let mut n = localised_len(opt, "name") + localised_len(opt, "description");
    if let Some(choices) = opt.get("choices").and_then(Value::as_array) {
        for ch in choices {
            n += localised_len(ch, "name");
            n += match ch.get("value") {
                Some(Value::String(s)) => s.chars().count(),
                Some(other) => other.to_string().len(),
                None => 0,
            };
        }
    }
    if let Some(sub) = opt.get("options").and_then(Value::as_array) {
        n += sub.iter().map(option_size).sum::<usize>();
    }
    n
}

/// Size of one command as Discord counts it against the 8000-character limit.
pub fn command_size(cmd: &Value) -> usize {
    let mut n = localised_len(cmd, "name") + localised_len(cmd, "description");
    if let Some(opts) = cmd.get("options").and_then(Value::as_array) {
        n += opts.iter().map(option_size).sum::<usize>();
    }
    n
}

/// Checks a bulk-overwrite body (an array of commands).
pub fn check_commands(body: &Value, out: &mut Vec<SchemaError>) {
    let Some(cmds) = body.as_array() else { return };
    let mut counts = [0usize; 4];
    let mut names: HashSet<(u64, String)> = HashSet::new();
    for (i, cmd) in cmds.iter().enumerate() {
        let path = vec![i.to_string()];
        check_command(cmd, &path, out);
        let kind = cmd.get("type").and_then(Value::as_u64).unwrap_or(1);
        if (1..=3).contains(&kind) {
            counts[kind as usize] += 1;
        }
        if let Some(name) = cmd.get("name").and_then(Value::as_str) {
            if !names.insert((kind, name.to_string())) {
                out.push(SchemaError::new(
                    &at(&path, &["name"]),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                ));
            }
        }
    }
    for (kind, max, what) in [
        (1, SLASH_COMMANDS_MAX, "slash"),
        (2, USER_COMMANDS_MAX, "user"),
        (3, MESSAGE_COMMANDS_MAX, "message"),
    ] {
        if counts[kind] > max {
            out.push(SchemaError::new(
                &[],
                "MAX_APPLICATION_COMMANDS",
                format!("Maximum number of {what} application commands reached ({max})"),
            ));
        }
    }
}

/// Checks one command (create, edit or one element of a bulk overwrite) at `path`.
pub fn check_command(cmd: &Value, path: &[String], out: &mut Vec<SchemaError>) {
    if !cmd.is_object() {
        return;
    }
    let kind = cmd.get("type").and_then(Value::as_u64).unwrap_or(1);
    let slash = kind == 1;
    if slash {
        if let Some(name) = cmd.get("name").and_then(Value::as_str) {
            if !valid_slash_name(name) {
                out.push(SchemaError::new(
                    &at(path, &["name"]),
                    "APPLICATION_COMMAND_INVALID_NAME",
                    format!("Command name is invalid: {name:?}"),
                ));
            }
        }
        check_description(cmd, path, out);
    } else if cmd
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.is_empty())
    {
        out.push(SchemaError::new(
            &at(path, &["description"]),
            "APPLICATION_COMMAND_DESCRIPTION_NOT_ALLOWED",
            "User and message commands cannot have a description",
        ));
    }
    if let Some(opts) = cmd.get("options").and_then(Value::as_array) {
        check_options(opts, &at(path, &["options"]), out);
    }
    let size = command_size(cmd);
    if size > COMMAND_SIZE_MAX {
        out.push(SchemaError::new(
            path,
            "APPLICATION_COMMAND_TOO_LARGE",
            format!("Command exceeds maximum size ({COMMAND_SIZE_MAX}): {size}"),
        ));
    }
}

fn check_description(obj: &Value, path: &[String], out: &mut Vec<SchemaError>) {
    match obj.get("description") {
        None | Some(Value::Null) => out.push(SchemaError::new(
            &at(path, &["description"]),
            "BASE_TYPE_REQUIRED",
            "This field is required",
        )),
        Some(Value::String(s)) if s.chars().count() < 1 || s.chars().count() > 100 => {
            out.push(SchemaError::new(
                &at(path, &["description"]),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ))
        }
        _ => {}
    }
}

fn check_options(opts: &[Value], path: &[String], out: &mut Vec<SchemaError>) {
    let mut seen_optional = false;
    let mut names = HashSet::new();
    for (i, opt) in opts.iter().enumerate() {
        let p = at(path, &[&i.to_string()]);
        let kind = opt.get("type").and_then(Value::as_u64).unwrap_or(0);
        if let Some(name) = opt.get("name").and_then(Value::as_str) {
            if !valid_slash_name(name) {
                out.push(SchemaError::new(
                    &at(&p, &["name"]),
                    "APPLICATION_COMMAND_INVALID_NAME",
                    format!("Option name is invalid: {name:?}"),
                ));
            }
            if !names.insert(name.to_string()) {
                out.push(SchemaError::new(
                    &at(&p, &["name"]),
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                ));
            }
        }
        check_description(opt, &p, out);
        let subcommand = matches!(kind, 1 | 2);
        if !subcommand {
            let required = opt
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if required && seen_optional {
                out.push(SchemaError::new(
                    &at(&p, &["required"]),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                ));
            }
            seen_optional |= !required;
        }
        let has_choices = non_empty_array(opt.get("choices"));
        if has_choices && opt.get("autocomplete").and_then(Value::as_bool) == Some(true) {
            out.push(SchemaError::new(
                &at(&p, &["autocomplete"]),
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                "Autocomplete cannot be enabled on an option with choices",
            ));
        }
        if let Some(choices) = opt.get("choices").and_then(Value::as_array) {
            for (j, ch) in choices.iter().enumerate() {
                if chars(ch.get("value")) > STRING_CHOICE_VALUE_MAX {
                    out.push(SchemaError::new(
                        &at(&p, &["choices", &j.to_string(), "value"]),
                        "BASE_TYPE_MAX_LENGTH",
                        format!("Must be {STRING_CHOICE_VALUE_MAX} or fewer in length."),
                    ));
                }
            }
        }
        if let Some(sub) = opt.get("options").and_then(Value::as_array) {
            check_options(sub, &at(&p, &["options"]), out);
        }
    }
}

/// Checks an interaction callback body: type 4 must carry a non-empty message, type 7 is an
/// edit of the component's message.
/// The files of a multipart request against the message's `attachments`: each file part is
/// `files[N]` for an attachment with id N, no part is sent twice, every new attachment has its
/// part, and no file is larger than [`ATTACHMENT_BYTES_MAX`]. `prefix` is where the message is
/// in the body (`data` for a callback).
pub fn check_files(
    message: &Value,
    files: &[(String, Vec<u8>)],
    prefix: &[String],
    out: &mut Vec<SchemaError>,
) {
    let attachments_path = at(prefix, &["attachments"]);
    let ids: Vec<String> = message
        .get("attachments")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|a| a.get("id"))
                .map(|id| match id {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut seen = HashSet::new();
    for (name, content) in files {
        if !seen.insert(name.clone()) {
            out.push(SchemaError::new(
                &attachments_path,
                "DUPLICATE_FILE_PART",
                format!("The file part {name} was sent twice"),
            ));
        }
        if content.len() > ATTACHMENT_BYTES_MAX {
            out.push(SchemaError::new(
                &attachments_path,
                "FILE_TOO_LARGE",
                format!(
                    "{name} is {} bytes, more than {ATTACHMENT_BYTES_MAX}",
                    content.len()
                ),
            ));
        }
        let index = name
            .strip_prefix("files[")
            .and_then(|rest| rest.strip_suffix(']'));
        match index {
            Some(index) if ids.iter().any(|id| id == index) => {}
            _ => out.push(SchemaError::new(
                &attachments_path,
                "ATTACHMENT_NOT_FOUND",
                format!("The file part {name} matches no entry of attachments"),
            )),
        }
    }
    for id in &ids {
        // An id that is a snowflake keeps an existing attachment; small ones are new files.
        let new = id.parse::<u64>().is_ok_and(|n| n < 10_000);
        if new
            && !files
                .iter()
                .any(|(name, _)| name == &format!("files[{id}]"))
        {
            out.push(SchemaError::new(
                &attachments_path,
                "ATTACHMENT_NOT_FOUND",
                format!("attachments names id {id}, but no file part files[{id}] was sent"),
            ));
        }
    }
}

pub fn check_callback(body: &Value, has_files: bool, out: &mut Vec<SchemaError>) {
    let data_path = vec!["data".to_string()];
    let data = body.get("data").unwrap_or(&Value::Null);
    match body.get("type").and_then(Value::as_u64) {
        Some(4) => check_message(
            data,
            MessageUse {
                creating: true,
                has_files,
            },
            &data_path,
            out,
        ),
        Some(7) => check_message(
            data,
            MessageUse {
                creating: false,
                has_files,
            },
            &data_path,
            out,
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file_errors(message: Value, files: &[(&str, usize)]) -> Vec<String> {
        let files: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(name, size)| (name.to_string(), vec![0u8; *size]))
            .collect();
        let mut out = Vec::new();
        check_files(&message, &files, &[], &mut out);
        out.iter().map(|e| e.code.to_string()).collect()
    }

    #[test]
    fn file_parts_must_match_attachments_and_fit() {
        let one = json!({"attachments": [{"id": 0, "filename": "a.png"}]});
        assert!(file_errors(one.clone(), &[("files[0]", 10)]).is_empty());
        assert_eq!(
            file_errors(one.clone(), &[("files[0]", ATTACHMENT_BYTES_MAX + 1)]),
            vec!["FILE_TOO_LARGE"]
        );
        assert_eq!(
            file_errors(one.clone(), &[("files[0]", 1), ("files[0]", 1)]),
            vec!["DUPLICATE_FILE_PART"]
        );
        assert_eq!(
            file_errors(one, &[("files[1]", 1)]),
            vec!["ATTACHMENT_NOT_FOUND", "ATTACHMENT_NOT_FOUND"]
        );
    }

    fn msg(v: Value) -> Vec<String> {
        let mut out = Vec::new();
        check_message(
            &v,
            MessageUse {
                creating: true,
                has_files: false,
            },
            &[],
            &mut out,
        );
        out.iter()
            .map(|e| format!("{}:{}", e.dotted_path(), e.code))
            .collect()
    }

    fn cmds(v: Value) -> Vec<String> {
        let mut out = Vec::new();
        check_commands(&v, &mut out);
        out.iter()
            .map(|e| format!("{}:{}", e.dotted_path(), e.code))
            .collect()
    }

    fn button(id: &str) -> Value {
        json!({"type": 2, "style": 1, "custom_id": id, "label": "b"})
    }

    #[test]
    fn message_limits() {
        assert!(msg(json!({"content": "é".repeat(2000)})).is_empty());
        assert_eq!(
            msg(json!({"content": "x".repeat(2001)})),
            ["content:BASE_TYPE_MAX_LENGTH"]
        );
        assert_eq!(msg(json!({"content": "  "})), [":EMPTY_MESSAGE"]);
        assert_eq!(msg(json!({})), [":EMPTY_MESSAGE"]);
        let big = json!({"title": "t".repeat(256), "description": "d".repeat(4096)});
        assert!(msg(json!({"embeds": [big.clone()]})).is_empty());
        assert_eq!(
            msg(json!({"embeds": [big.clone(), big]})),
            ["embeds:MAX_EMBED_SIZE_EXCEEDED"]
        );
        let row = |n: usize| json!({"type": 1, "components": (0..n).map(|i| button(&format!("r{n}b{i}"))).collect::<Vec<_>>()});
        assert!(msg(json!({"components": [row(5)]})).is_empty());
        assert_eq!(
            msg(json!({"components": [row(1), row(2), row(3), row(4), row(5), row(6)]})),
            [
                "components:BASE_TYPE_MAX_LENGTH",
                "components.5.components:COMPONENT_LAYOUT_WIDTH_EXCEEDED"
            ]
        );
        assert_eq!(
            msg(json!({"components": [button("a")]})),
            ["components.0.type:BASE_TYPE_CHOICES"]
        );
        let select = json!({"type": 3, "custom_id": "s", "options": []});
        assert_eq!(
            msg(json!({"components": [{"type": 1, "components": [select, button("a")]}]})),
            ["components.0.components:COMPONENT_LAYOUT_WIDTH_EXCEEDED"]
        );
        assert_eq!(
            msg(
                json!({"components": [{"type": 1, "components": [button("a")]},
                                      {"type": 1, "components": [button("a")]}]})
            ),
            ["components.1.components.0.custom_id:COMPONENT_CUSTOM_ID_DUPLICATED"]
        );
        let link_with_id = json!({"type": 2, "style": 5, "custom_id": "a", "label": "l"});
        let plain_with_url = json!({"type": 2, "style": 1, "url": "https://x.y", "label": "l"});
        assert_eq!(
            msg(json!({"components": [{"type": 1, "components": [link_with_id, plain_with_url]}]})),
            [
                "components.0.components.0.url:BASE_TYPE_REQUIRED",
                "components.0.components.0.custom_id:BUTTON_COMPONENT_INVALID_FIELD",
                "components.0.components.1.custom_id:BASE_TYPE_REQUIRED",
                "components.0.components.1.url:BUTTON_COMPONENT_INVALID_FIELD",
            ]
        );
    }

    #[test]
    fn command_limits() {
        let good = json!([{"name": "pack", "description": "d", "options": [
            {"type": 3, "name": "theme", "description": "t", "required": true},
            {"type": 5, "name": "private", "description": "p"}]},
            {"name": "Report Message", "type": 3}]);
        assert!(cmds(good).is_empty());
        assert_eq!(
            cmds(json!([{"name": "Pack", "description": ""}, {"name": "a b", "description": "x"}])),
            [
                "0.name:APPLICATION_COMMAND_INVALID_NAME",
                "0.description:BASE_TYPE_BAD_LENGTH",
                "1.name:APPLICATION_COMMAND_INVALID_NAME"
            ]
        );
        assert!(valid_slash_name("добро-пожаловать_1'"));
        assert!(valid_slash_name("नमस्ते"));
        assert!(!valid_slash_name(&"a".repeat(33)));
        assert_eq!(
            cmds(json!([{"name": "p", "description": "d", "options": [
                {"type": 3, "name": "a", "description": "a"},
                {"type": 3, "name": "b", "description": "b", "required": true,
                 "autocomplete": true, "choices": [{"name": "n", "value": "v".repeat(101)}]}]}])),
            [
                "0.options.1.required:APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "0.options.1.autocomplete:APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                "0.options.1.choices.0.value:BASE_TYPE_MAX_LENGTH"
            ]
        );
        let choices: Vec<Value> = (0..25)
            .map(|i| json!({"name": "n".repeat(100), "value": format!("{i:0>100}")}))
            .collect();
        let opts: Vec<Value> = (0..2)
            .map(|i| json!({"type": 3, "name": format!("o{i}"), "description": "d", "choices": choices}))
            .collect();
        assert_eq!(
            cmds(json!([{"name": "big", "description": "d", "options": opts}])),
            ["0:APPLICATION_COMMAND_TOO_LARGE"]
        );
        let many: Vec<Value> = (0..101)
            .map(|i| json!({"name": format!("c{i}"), "description": "d"}))
            .collect();
        assert_eq!(cmds(Value::Array(many)), [":MAX_APPLICATION_COMMANDS"]);
        assert_eq!(
            cmds(json!([{"name": "a", "description": "d"}, {"name": "a", "description": "d"}])),
            ["1.name:APPLICATION_COMMANDS_DUPLICATE_NAME"]
        );
    }
}
