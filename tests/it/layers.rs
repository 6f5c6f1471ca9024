//! The layering `src/lib.rs` describes holds: each group of `pub mod` lines there is a layer,
//! from the bottom, and no file under `src/` uses a module of a layer above its own. Test code
//! (the item after a `#[cfg(test)]`, such as a `mod tests { … }`, and `*_tests.rs` files) may
//! reach up, since it is not shipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Each top-level module's layer: its group's place in `lib.rs`.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    let mut layer = 0;
    for line in lib.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !layers.is_empty() {
                layer += 1;
            }
            continue;
        }
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|rest| rest.strip_suffix(';'))
        {
            layers.insert(name.to_string(), layer);
        }
    }
    layers
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The modules `crate::name` names in `code`.
fn crate_modules(code: &str) -> Vec<&str> {
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // `careprompt::crate::` cannot occur; `$crate::` in macros is a path of its own.
            !code[..*at].ends_with('$')
        })
        .map(|(at, prefix)| {
            let rest = &code[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// The code of a file that is shipped: without its comments, and without each item a
/// `#[cfg(test)]` marks (a `mod tests { … }` to its closing brace, or a `mod tests;`), so shipped
/// code after a test module is checked too.
fn shipped(code: &str) -> String {
    const TEST_ONLY: &str = "#[cfg(test)]";
    let code = without_comments(code);
    let mut kept = String::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find(TEST_ONLY) {
        kept.push_str(&rest[..at]);
        let item = &rest[at + TEST_ONLY.len()..];
        rest = &item[item_end(item)..];
    }
    kept.push_str(rest);
    kept
}

/// Where the item at the start of `code` ends: after the `;` or the `}` that closes it at the
/// depth it began, with braces inside strings and characters not counted.
fn item_end(code: &str) -> usize {
    let mut depth = 0usize;
    let mut chars = code.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            // A raw string (r#"…"#) ends at its quote and hashes; backslashes escape nothing.
            '"' if raw_hashes(&code[..at]).is_some() => {
                let hashes = "#".repeat(raw_hashes(&code[..at]).unwrap_or_default());
                let close = code[at + 1..]
                    .find(&format!("\"{hashes}"))
                    .map_or(code.len(), |end| at + 1 + end + 1 + hashes.len());
                while chars.peek().is_some_and(|(next, _)| *next < close) {
                    chars.next();
                }
            }
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            // A character literal ('{', '\'') rather than a lifetime ('a).
            '\'' => {
                let literal = &code[at..];
                if literal.starts_with("'\\") {
                    let close = literal[3..].find('\'').map_or(literal.len(), |end| end + 4);
                    while chars.peek().is_some_and(|(next, _)| *next < at + close) {
                        chars.next();
                    }
                } else if literal.chars().nth(2) == Some('\'') {
                    chars.next();
                    chars.next();
                }
            }
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at + 1;
                }
            }
            ';' if depth == 0 => return at + 1,
            _ => {}
        }
    }
    code.len()
}

/// The number of `#`s of a raw string whose opening quote follows `before`.
fn raw_hashes(before: &str) -> Option<usize> {
    let hashes = before.len() - before.trim_end_matches('#').len();
    let prefix = &before[..before.len() - hashes];
    let starts_raw = prefix.ends_with('r')
        && !prefix[..prefix.len() - 1]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let byte_raw = prefix.ends_with("br");
    (starts_raw || byte_raw).then_some(hashes)
}

/// `code` without its `//` comments (doc comments too), line by line.
fn without_comments(code: &str) -> String {
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let root = source();
    let lib = std::fs::read_to_string(root.join("lib.rs")).expect("lib.rs");
    let layers = layers(&lib);
    assert!(
        layers.len() >= 8
            && layers["domain"] < layers["store"]
            && layers["insights"] < layers["cards"]
            && layers["cards"] < layers["discord"]
            && layers["scheduler"] < layers["app"]
            && layers["app"] < layers["ops"]
            && layers["bot"] < layers["cli"],
        "lib.rs lists the layers in groups: {layers:?}"
    );
    // The interfaces a platform implements sit above what they speak of (the store, the
    // cards) and below each platform's side and the scheduler that calls them.
    assert!(
        layers["cards"] < layers["platform"]
            && layers["platform"] < layers["discord"]
            && layers["discord"] < layers["scheduler"],
        "platform is a layer of its own, between cards and discord: {layers:?}"
    );
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut breaches = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).expect("under src");
        let top = relative
            .components()
            .next()
            .and_then(|part| part.as_os_str().to_str())
            .map(|name| name.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        let Some(&own) = layers.get(&top) else {
            continue;
        };
        if relative.to_string_lossy().ends_with("_tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        for module in crate_modules(&shipped(&text)) {
            if layers.get(module).is_some_and(|&layer| layer > own) {
                breaches.push(format!("{} uses crate::{module}", relative.display()));
            }
        }
    }
    assert!(breaches.is_empty(), "{breaches:#?}");
}

#[test]
fn the_checker_sees_a_use_of_a_higher_layer() {
    let layers = layers("pub mod domain;\n\npub mod store;\npub mod other;\n\npub mod bot;\n");
    assert_eq!(layers["domain"], 0);
    assert_eq!(layers["store"], layers["other"]);
    assert_eq!(layers["bot"], 2);
    assert_eq!(
        crate_modules("use crate::bot::data::Data;\nlet x = $crate::store::Y; crate::domain"),
        vec!["bot", "domain"]
    );
}

#[test]
fn the_checker_reads_past_a_test_module() {
    let code = r#"use crate::domain::Theme;

#[cfg(test)]
mod tests {
    use crate::bot::Data;
    fn brace() -> (char, &'static str, char, &'static str) { ('{', "}}{", '\'', r"\") }
}

#[cfg(test)]
mod other_tests;

pub fn shipped() { crate::store::Store::new(); }
"#;
    assert_eq!(crate_modules(&shipped(code)), vec!["domain", "store"]);
}

/// A file's module, as the names after `crate`: `bot/commands/session.rs` is `bot::commands::
/// session`, and a folder's `mod.rs` is the folder's module.
fn module_of(relative: &Path) -> Vec<String> {
    let mut names: Vec<String> = relative
        .with_extension("")
        .components()
        .filter_map(|part| part.as_os_str().to_str().map(str::to_string))
        .collect();
    if names.last().is_some_and(|name| name == "mod") {
        names.pop();
    }
    names
}

/// The paths a `use` tree names, its `{ … }` groups opened: `a::{b::C, d}` names `a::b::C` and
/// `a::d` (`self` in a group names the path before it).
fn use_tree(code: &str) -> Vec<Vec<String>> {
    let mut path = Vec::new();
    let mut rest = code;
    loop {
        rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let mut named = Vec::new();
            let (mut depth, mut start) = (0usize, 0);
            for (at, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    ',' | '}' if depth == 0 => {
                        named.extend(use_tree(&group[start..at]));
                        start = at + 1;
                        if c == '}' {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            return named
                .into_iter()
                .map(|tail| path.iter().cloned().chain(tail).collect())
                .collect();
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        if &rest[..end] != "self" {
            path.push(rest[..end].to_string());
        }
        rest = &rest[end..];
        match rest.trim_start().strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    vec![path]
}

/// The modules `code`, in the module `own`, names by `crate::` and `super::` paths, whole.
fn named_paths(code: &str, own: &[String]) -> Vec<Vec<String>> {
    let mut named = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c == '$' || c == '_' || c.is_ascii_alphanumeric()) {
            continue;
        }
        named.extend(use_tree(&code[at + "crate::".len()..]));
    }
    for (at, _) in code.match_indices("super::") {
        let before = &code[..at];
        if before.ends_with(|c: char| c == ':' || c == '_' || c.is_ascii_alphanumeric()) {
            continue;
        }
        let mut base = own.to_vec();
        let mut rest = &code[at..];
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after;
        }
        for tail in use_tree(rest) {
            named.push(base.iter().cloned().chain(tail).collect());
        }
    }
    named
}

/// The file a path names: its longest start that is a file's module. A path into a folder's
/// `mod.rs` names no file, since a folder's `mod.rs` holds its children (and what they share).
fn file_named<'a>(path: &[String], files: &'a BTreeMap<Vec<String>, bool>) -> Option<&'a [String]> {
    (1..=path.len()).rev().find_map(|end| {
        files
            .get_key_value(&path[..end])
            .and_then(|(module, &folder)| (!folder).then_some(module.as_slice()))
    })
}

/// The groups of files that use each other, directly or through others in the group.
fn cycles(uses: &BTreeMap<Vec<String>, Vec<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    let reach = |from: &Vec<String>| {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(module) = stack.pop() {
            for next in uses.get(&module).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<_, _> = uses.keys().map(|module| (module, reach(module))).collect();
    let mut groups: Vec<Vec<Vec<String>>> = Vec::new();
    for (module, seen) in &reached {
        if !seen.contains(*module) {
            continue;
        }
        let group: Vec<Vec<String>> = seen
            .iter()
            .filter(|other| {
                reached
                    .get(other)
                    .is_some_and(|back| back.contains(*module))
            })
            .cloned()
            .collect();
        if group.len() > 1 && !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

/// Within each folder, the files that use each other in a circle: shipped code only, and a
/// folder's `mod.rs` aside (it holds its children).
fn folder_cycles(sources: &[(Vec<String>, bool, String)]) -> Vec<Vec<String>> {
    let files: BTreeMap<Vec<String>, bool> = sources
        .iter()
        .map(|(module, folder, _)| (module.clone(), *folder))
        .collect();
    let mut uses: BTreeMap<Vec<String>, Vec<Vec<String>>> = BTreeMap::new();
    for (module, folder, code) in sources {
        if *folder || module.len() < 2 {
            continue;
        }
        let used = uses.entry(module.clone()).or_default();
        for path in named_paths(&shipped(code), module) {
            if let Some(file) = file_named(&path, &files) {
                if file[0] == module[0]
                    && file != module.as_slice()
                    && !used.contains(&file.to_vec())
                {
                    used.push(file.to_vec());
                }
            }
        }
    }
    cycles(&uses)
        .into_iter()
        .map(|group| group.iter().map(|module| module.join("::")).collect())
        .collect()
}

#[test]
fn no_files_in_a_folder_use_each_other_in_a_circle() {
    let root = source();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let sources: Vec<(Vec<String>, bool, String)> = files
        .iter()
        .filter(|file| !file.to_string_lossy().ends_with("_tests.rs"))
        .map(|file| {
            let relative = file.strip_prefix(&root).expect("under src");
            (
                module_of(relative),
                relative.ends_with("mod.rs"),
                std::fs::read_to_string(file).expect("readable"),
            )
        })
        .collect();
    assert!(sources.len() > 50, "src is read: {}", sources.len());
    let circles = folder_cycles(&sources);
    assert!(circles.is_empty(), "{circles:#?}");
}

#[test]
fn the_checker_sees_files_that_use_each_other() {
    let file = |name: &str, code: &str| {
        let module: Vec<String> = name.split("::").map(str::to_string).collect();
        (module, false, code.to_string())
    };
    let folder = |name: &str| (vec![name.to_string()], true, String::new());
    let sources = vec![
        folder("bot"),
        file("bot::data", "use crate::bot::events::Departed;"),
        file(
            "bot::events",
            "use crate::bot::{self, components::{handle, Stale}};",
        ),
        file("bot::components", "use crate::bot::Data;\nuse super::data;"),
        file("bot::gate", "use crate::bot::data::Data;"),
        file(
            "bot::on_error",
            "use crate::bot::gate;\n#[cfg(test)]\nmod tests { use crate::bot::on_error; }",
        ),
        folder("discord"),
        file("discord::cards", "use crate::discord::session_cards::Card;"),
        file("discord::session_cards", "crate::discord::cards::note()"),
        file("discord::limits", "use crate::bot::gate::Gate;"),
    ];
    assert_eq!(
        use_tree("bot::{self, components::{handle, Stale}};"),
        vec![
            vec!["bot".to_string()],
            vec![
                "bot".to_string(),
                "components".to_string(),
                "handle".to_string()
            ],
            vec![
                "bot".to_string(),
                "components".to_string(),
                "Stale".to_string()
            ],
        ]
    );
    assert_eq!(
        folder_cycles(&sources),
        vec![
            vec!["bot::components", "bot::data", "bot::events"],
            vec!["discord::cards", "discord::session_cards"],
        ]
    );
}

/// The cards are built once for every platform: nothing under `src/cards/` that ships names
/// Discord's client (serenity, or poise above it); `discord/` renders them.
#[test]
fn the_cards_know_no_platform() {
    let root = source().join("cards");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 5, "src/cards is read: {}", files.len());
    let users: Vec<String> = files
        .iter()
        .filter(|file| !file.to_string_lossy().ends_with("_tests.rs"))
        .filter(|file| {
            let code = shipped(&std::fs::read_to_string(file).expect("readable"));
            code.contains("serenity") || code.contains("poise")
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(users.is_empty(), "{users:#?}");
}

/// The scheduler sends through the platform's interfaces (`platform::Outbox`), so that another
/// platform is a matter of implementing them: none of its shipped code (nor the platform layer's)
/// reaches `discord/`, serenity, or a Discord answer's status.
#[test]
fn the_scheduler_sends_through_the_platform_not_discord_s_client() {
    let root = source();
    let mut files = Vec::new();
    rust_files(&root.join("scheduler"), &mut files);
    rust_files(&root.join("platform"), &mut files);
    assert!(
        files.len() >= 6,
        "the scheduler and platform are read: {files:?}"
    );
    let mut reaching = Vec::new();
    for file in files {
        if file.to_string_lossy().ends_with("_tests.rs") {
            continue;
        }
        let code = shipped(&std::fs::read_to_string(&file).expect("readable"));
        for named in ["serenity", "crate::discord", "RestError", ".status()"] {
            if code.contains(named) {
                let relative = file.strip_prefix(&root).expect("under src");
                reaching.push(format!("{} names {named}", relative.display()));
            }
        }
    }
    assert!(reaching.is_empty(), "{reaching:#?}");
}

/// The stand-in for Discord is for `try` alone: nothing on the path of `careprompt run` may lean
/// on it, even in a module's own unit tests.
#[test]
fn only_tryout_uses_the_stand_in() {
    let root = source();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let users: Vec<String> = files
        .iter()
        .filter(|file| !file.starts_with(root.join("tryout")))
        .filter(|file| {
            std::fs::read_to_string(file)
                .expect("readable")
                .contains("discord_standin")
        })
        .map(|file| {
            file.strip_prefix(&root)
                .expect("under src")
                .display()
                .to_string()
        })
        .collect();
    assert!(users.is_empty(), "{users:#?}");
}
