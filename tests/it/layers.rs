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
        layers.len() >= 8 && layers["domain"] < layers["store"] && layers["bot"] < layers["cli"],
        "lib.rs lists the layers in groups: {layers:?}"
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
