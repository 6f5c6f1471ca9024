//! Discord's documented message limits (see `discord-limits.md`), checked against the JSON that
//! would be sent, so content that would be rejected is caught by `careprompt check` instead.

use serde_json::Value;

pub const MAX_CONTENT: usize = 2000;
pub const MAX_NONCE: usize = 25;
pub const MAX_EMBEDS: usize = 10;
pub const MAX_EMBED_TITLE: usize = 256;
pub const MAX_EMBED_DESCRIPTION: usize = 4096;
pub const MAX_EMBED_FIELDS: usize = 25;
pub const MAX_FIELD_NAME: usize = 256;
pub const MAX_FIELD_VALUE: usize = 1024;
pub const MAX_FOOTER: usize = 2048;
pub const MAX_AUTHOR: usize = 256;
pub const MAX_EMBEDS_TOTAL: usize = 6000;
pub const MAX_ACTION_ROWS: usize = 5;
pub const MAX_BUTTONS_PER_ROW: usize = 5;
pub const MAX_CUSTOM_ID: usize = 100;
pub const MAX_BUTTON_LABEL: usize = 80;
pub const MAX_BUTTON_URL: usize = 512;

fn chars(value: Option<&Value>) -> usize {
    value
        .and_then(Value::as_str)
        .map_or(0, |text| text.chars().count())
}

fn check_len(problems: &mut Vec<String>, path: &str, value: Option<&Value>, max: usize) -> usize {
    let count = chars(value);
    if count > max {
        problems.push(format!(
            "{path} is {count} characters; Discord allows {max}"
        ));
    }
    count
}

/// Returns every limit the message body breaks, each with its JSON path.
pub fn check_message(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_len(&mut problems, "content", body.get("content"), MAX_CONTENT);
    check_len(&mut problems, "nonce", body.get("nonce"), MAX_NONCE);
    let embeds = body
        .get("embeds")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let components = body
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if chars(body.get("content")) == 0 && embeds.is_empty() && components.is_empty() {
        problems
            .push("the message is empty: it needs content, an embed or a component".to_string());
    }
    if embeds.len() > MAX_EMBEDS {
        problems.push(format!(
            "{} embeds; Discord allows {MAX_EMBEDS}",
            embeds.len()
        ));
    }
    let mut total = 0;
    for (index, embed) in embeds.iter().enumerate() {
        let at = format!("embeds[{index}]");
        total += check_len(
            &mut problems,
            &format!("{at}.title"),
            embed.get("title"),
            MAX_EMBED_TITLE,
        );
        total += check_len(
            &mut problems,
            &format!("{at}.description"),
            embed.get("description"),
            MAX_EMBED_DESCRIPTION,
        );
        total += check_len(
            &mut problems,
            &format!("{at}.footer.text"),
            embed.pointer("/footer/text"),
            MAX_FOOTER,
        );
        total += check_len(
            &mut problems,
            &format!("{at}.author.name"),
            embed.pointer("/author/name"),
            MAX_AUTHOR,
        );
        let fields = embed
            .get("fields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if fields.len() > MAX_EMBED_FIELDS {
            problems.push(format!(
                "{at} has {} fields; Discord allows {MAX_EMBED_FIELDS}",
                fields.len()
            ));
        }
        for (field_index, field) in fields.iter().enumerate() {
            let field_at = format!("{at}.fields[{field_index}]");
            let name = check_len(
                &mut problems,
                &format!("{field_at}.name"),
                field.get("name"),
                MAX_FIELD_NAME,
            );
            let value = check_len(
                &mut problems,
                &format!("{field_at}.value"),
                field.get("value"),
                MAX_FIELD_VALUE,
            );
            if name == 0 || value == 0 {
                problems.push(format!("{field_at} needs a name and a value"));
            }
            total += name + value;
        }
    }
    if total > MAX_EMBEDS_TOTAL {
        problems.push(format!(
            "the embeds hold {total} characters together; Discord allows {MAX_EMBEDS_TOTAL}"
        ));
    }
    if components.len() > MAX_ACTION_ROWS {
        problems.push(format!(
            "{} action rows; Discord allows {MAX_ACTION_ROWS}",
            components.len()
        ));
    }
    let mut custom_ids = Vec::new();
    for (row_index, row) in components.iter().enumerate() {
        let at = format!("components[{row_index}]");
        if row.get("type").and_then(Value::as_u64) != Some(1) {
            problems.push(format!("{at} must be an action row (type 1)"));
            continue;
        }
        let children = row
            .get("components")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if children.is_empty() || children.len() > MAX_BUTTONS_PER_ROW {
            problems.push(format!(
                "{at} holds {} components; an action row holds 1 to {MAX_BUTTONS_PER_ROW}",
                children.len()
            ));
        }
        for (index, button) in children.iter().enumerate() {
            let button_at = format!("{at}.components[{index}]");
            check_len(
                &mut problems,
                &format!("{button_at}.label"),
                button.get("label"),
                MAX_BUTTON_LABEL,
            );
            let is_link = button.get("style").and_then(Value::as_u64) == Some(5);
            let url = button.get("url").and_then(Value::as_str);
            let custom_id = button.get("custom_id").and_then(Value::as_str);
            match (is_link, url, custom_id) {
                (true, Some(url), None) => {
                    check_len(&mut problems, &format!("{button_at}.url"), button.get("url"), MAX_BUTTON_URL);
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        problems.push(format!("{button_at}.url is not an http(s) link"));
                    }
                }
                (false, None, Some(id)) => {
                    let count = id.chars().count();
                    if count == 0 || count > MAX_CUSTOM_ID {
                        problems.push(format!("{button_at}.custom_id must be 1 to {MAX_CUSTOM_ID} characters"));
                    }
                    if custom_ids.contains(&id.to_string()) {
                        problems.push(format!("{button_at}.custom_id \"{id}\" is not unique in the message"));
                    }
                    custom_ids.push(id.to_string());
                }
                _ => problems.push(format!("{button_at}: a link button has a url and no custom_id; other buttons the reverse")),
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_small_message_passes() {
        let body = json!({"embeds": [{"title": "t", "description": "d"}], "components": [
            {"type": 1, "components": [{"type": 2, "style": 5, "label": "Guide", "url": "https://example.org"}]}
        ]});
        assert_eq!(check_message(&body), Vec::<String>::new());
    }

    #[test]
    fn each_limit_is_caught() {
        let long = |n: usize| "x".repeat(n);
        let body = json!({
            "content": long(2001),
            "embeds": [{"title": long(257), "description": long(4097), "fields": [{"name": long(10), "value": long(1025)}]}],
            "components": [{"type": 1, "components": [
                {"type": 2, "style": 5, "label": long(81), "url": "ftp://x"},
                {"type": 2, "style": 1, "label": "a", "custom_id": "same"},
                {"type": 2, "style": 1, "label": "b", "custom_id": "same"},
                {"type": 2, "style": 5, "label": "c", "custom_id": "both", "url": "https://e.org"}
            ]}]
        });
        let problems = check_message(&body).join("\n");
        for expected in [
            "content",
            "embeds[0].title",
            "embeds[0].description",
            "fields[0].value",
            "label",
            "not an http(s)",
            "not unique",
            "a link button",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected} in:\n{problems}"
            );
        }
    }

    #[test]
    fn total_across_embeds_is_capped_at_6000() {
        let embed = json!({"description": "x".repeat(3000)});
        let body = json!({"embeds": [embed.clone(), embed.clone(), embed]});
        assert!(check_message(&body)
            .iter()
            .any(|problem| problem.contains("together")));
    }

    #[test]
    fn empty_message_is_refused() {
        assert!(!check_message(&json!({})).is_empty());
    }
}

pub const MAX_COMMAND_NAME: usize = 32;
pub const MAX_COMMAND_DESCRIPTION: usize = 100;
pub const MAX_OPTIONS: usize = 25;
pub const MAX_CHOICES: usize = 25;
pub const MAX_CHOICE_NAME: usize = 100;
pub const MAX_CHOICE_VALUE: usize = 100;
pub const MAX_COMMAND_TOTAL: usize = 8000;
pub const MAX_SLASH_COMMANDS: usize = 100;

fn valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=MAX_COMMAND_NAME).contains(&count)
        && name
            .chars()
            .all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || matches!(c, '-' | '_' | '\''))
}

/// Returns every limit a bulk command registration breaks, each with the command it is in.
pub fn check_commands(commands: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    if commands.len() > MAX_SLASH_COMMANDS {
        problems.push(format!(
            "{} commands; Discord allows {MAX_SLASH_COMMANDS}",
            commands.len()
        ));
    }
    for command in commands {
        let name = command
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let at = format!("command /{name}");
        let mut total = name.chars().count();
        if !valid_name(name) {
            problems.push(format!("{at}: the name must be 1 to {MAX_COMMAND_NAME} lower-case letters, digits, '-' or '_'"));
        }
        total += check_range(
            &mut problems,
            &format!("{at} description"),
            command.get("description"),
            1,
            MAX_COMMAND_DESCRIPTION,
        );
        let options = command
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if options.len() > MAX_OPTIONS {
            problems.push(format!(
                "{at} has {} options; Discord allows {MAX_OPTIONS}",
                options.len()
            ));
        }
        let mut seen_optional = false;
        for option in &options {
            let option_name = option
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let option_at = format!("{at} option {option_name}");
            total += option_name.chars().count();
            if !valid_name(option_name) {
                problems.push(format!("{option_at}: the name must be 1 to {MAX_COMMAND_NAME} lower-case letters, digits, '-' or '_'"));
            }
            total += check_range(
                &mut problems,
                &format!("{option_at} description"),
                option.get("description"),
                1,
                MAX_COMMAND_DESCRIPTION,
            );
            let required = option
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if required && seen_optional {
                problems.push(format!(
                    "{option_at}: required options must come before optional ones"
                ));
            }
            seen_optional |= !required;
            let choices = option
                .get("choices")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if choices.len() > MAX_CHOICES {
                problems.push(format!(
                    "{option_at} offers {} choices; Discord allows {MAX_CHOICES}",
                    choices.len()
                ));
            }
            for choice in &choices {
                total += check_range(
                    &mut problems,
                    &format!("{option_at} choice name"),
                    choice.get("name"),
                    1,
                    MAX_CHOICE_NAME,
                );
                if let Some(value) = choice.get("value").and_then(Value::as_str) {
                    total += value.chars().count();
                    if value.chars().count() > MAX_CHOICE_VALUE {
                        problems.push(format!("{option_at}: the choice value \"{value}\" is longer than {MAX_CHOICE_VALUE} characters"));
                    }
                }
            }
        }
        if total > MAX_COMMAND_TOTAL {
            problems.push(format!("{at} holds {total} characters in names, descriptions and choices; Discord allows {MAX_COMMAND_TOTAL}"));
        }
    }
    problems
}

fn check_range(
    problems: &mut Vec<String>,
    what: &str,
    value: Option<&Value>,
    min: usize,
    max: usize,
) -> usize {
    let count = chars(value);
    if !(min..=max).contains(&count) {
        problems.push(format!(
            "{what} is {count} characters; Discord needs {min} to {max}"
        ));
    }
    count
}

#[cfg(test)]
mod command_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_valid_command_passes() {
        let command = json!({"name": "pack", "description": "A pack", "options": [
            {"name": "theme", "description": "Which", "type": 3, "required": true, "choices": [{"name": "Compassion", "value": "compassion"}]},
            {"name": "private", "description": "Only you", "type": 5}
        ]});
        assert_eq!(check_commands(&[command]), Vec::<String>::new());
    }

    #[test]
    fn each_command_limit_is_caught() {
        let choices: Vec<Value> = (0..26)
            .map(|n| json!({"name": format!("c{n}"), "value": format!("v{n}")}))
            .collect();
        let command = json!({"name": "Pack", "description": "", "options": [
            {"name": "opt", "description": "x", "type": 5},
            {"name": "theme", "description": "x".repeat(101), "type": 3, "required": true, "choices": choices}
        ]});
        let problems = check_commands(&[command]).join("\n");
        for expected in [
            "the name must be",
            "description is 0",
            "description is 101",
            "required options",
            "26 choices",
        ] {
            assert!(
                problems.contains(expected),
                "missing {expected} in:\n{problems}"
            );
        }
    }
}
