//! Where a key is in the configuration file, from the spans the TOML parser keeps, so that a
//! mistake found after parsing points at the line to fix. Dotted keys
//! (`packs.compassion.guide_url = …`) and inline tables (`packs = { compassion = { … } }`) are
//! found as well as keys under `[section]` headers.

use toml_edit::{ImDocument, Item, TableLike};

/// The byte offset where `dotted_key` is written: a key's own name, or a `[section]` header's
/// opening bracket. `None` when the text does not set it (or is not TOML).
pub fn locate_key(text: &str, dotted_key: &str) -> Option<usize> {
    let document = ImDocument::parse(text).ok()?;
    let mut table: &dyn TableLike = document.as_table();
    let mut found = None;
    let mut path = dotted_key.split('.').peekable();
    while let Some(part) = path.next() {
        let (key, item) = table.get_key_value(part)?;
        let header = match item {
            Item::Table(section) if !section.is_implicit() && !section.is_dotted() => {
                section.span()
            }
            _ => None,
        };
        found = header
            .or_else(|| key.span())
            .map(|span| span.start)
            .or(found);
        if path.peek().is_some() {
            table = item.as_table_like()?;
        }
    }
    found
}

/// The dotted key whose key or value holds `offset`, such as `database.max_connections`: what a
/// parse error at that offset is about. `None` when nothing there is a key (or the text is not
/// TOML).
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let document = ImDocument::parse(text).ok()?;
    let mut path = Vec::new();
    key_in(document.as_table(), offset, &mut path).then(|| path.join("."))
}

fn key_in(table: &dyn TableLike, offset: usize, path: &mut Vec<String>) -> bool {
    for (name, item) in table.iter() {
        path.push(name.to_string());
        let key_span = table.get_key_value(name).and_then(|(key, _)| key.span());
        let on_key = key_span.is_some_and(|span| span.contains(&offset));
        let on_item = item.span().is_some_and(|span| span.contains(&offset));
        // A section's children are spread over the file, outside its header's span.
        if let Some(inner) = item.as_table_like() {
            if key_in(inner, offset, path) {
                return true;
            }
        }
        if let Some(tables) = item.as_array_of_tables() {
            if tables.iter().any(|inner| key_in(inner, offset, path)) {
                return true;
            }
        }
        if on_key || on_item {
            return true;
        }
        path.pop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
        (line, column)
    }

    #[test]
    fn keys_under_sections_and_section_headers_are_found() {
        let text =
            "# ours\n[schedule]\n  cron = \"0 9 * * MON\"\n[packs.compassion]\nguide_url = \"x\"\n";
        let cron = locate_key(text, "schedule.cron").expect("cron");
        assert_eq!(line_and_column(text, cron), (3, 3));
        let section = locate_key(text, "packs.compassion").expect("section");
        assert_eq!(line_and_column(text, section), (4, 1));
        assert_eq!(locate_key(text, "schedule.timezone"), None);
    }

    #[test]
    fn dotted_keys_and_inline_tables_are_found() {
        let dotted = "packs.compassion.guide_url = \"https://a.example/g\"\n\
                      packs.resilience.guide_url = \"https://b.example/g\"\n";
        let offset = locate_key(dotted, "packs.resilience.guide_url").expect("dotted");
        assert_eq!(line_and_column(dotted, offset), (2, 18));
        assert_eq!(
            key_at(dotted, offset + 14).as_deref(),
            Some("packs.resilience.guide_url")
        );

        let inline = "[packs]\ncompassion = { guide_url = \"x\", presentation_url = \"y\" }\n";
        let offset = locate_key(inline, "packs.compassion.presentation_url").expect("inline");
        assert_eq!(line_and_column(inline, offset), (2, 33));
        let value = inline.find("\"y\"").expect("value");
        assert_eq!(
            key_at(inline, value).as_deref(),
            Some("packs.compassion.presentation_url")
        );
    }

    #[test]
    fn text_that_is_not_toml_has_no_keys() {
        assert_eq!(locate_key("[schedule\ncron = 1", "schedule.cron"), None);
        assert_eq!(key_at("[schedule\ncron = 1", 12), None);
    }
}
