//! The README's one test command, `cargo test --all-targets` at the root, runs the tests of a crate
//! of the workspace only if it is a default member: a crate added under `crates/` must be both.

use std::collections::BTreeSet;
use std::path::Path;

fn workspace_list(workspace: &toml::Table, key: &str) -> BTreeSet<String> {
    workspace
        .get(key)
        .and_then(toml::Value::as_array)
        .unwrap_or_else(|| panic!("Cargo.toml has no [workspace] {key}"))
        .iter()
        .map(|member| member.as_str().expect("a path").to_string())
        .collect()
}

#[test]
fn every_crate_is_a_default_member_of_the_workspace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .expect("Cargo.toml")
        .parse()
        .expect("Cargo.toml is TOML");
    let workspace = manifest["workspace"].as_table().expect("a [workspace]");
    let members = workspace_list(workspace, "members");
    assert_eq!(members, workspace_list(workspace, "default-members"));
    assert!(members.contains("."), "careprompt itself: {members:?}");
    for entry in std::fs::read_dir(root.join("crates")).expect("crates/") {
        let name = entry.expect("an entry").file_name();
        let member = format!("crates/{}", name.to_string_lossy());
        assert!(members.contains(&member), "{member} is not a member");
    }
}
