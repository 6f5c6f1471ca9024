//! The layering `src/lib.rs` describes holds: each group of `pub mod` lines there is a layer,
//! from the bottom, and no file under `src/` uses a module of a layer above its own. Test code
//! (after a file's `#[cfg(test)]`, and `*_tests.rs` files) may reach up, since it is not shipped.

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
        let shipped: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for module in crate_modules(&shipped) {
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
