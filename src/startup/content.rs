//! The library the running bot serves, and the settings it runs with: loaded and checked
//! together, since the configuration names the library's themes.

use crate::config::{LoadedConfig, PackOverride, Settings};
use crate::domain::content::Library;
use std::collections::BTreeMap;

/// What start-up has once the configuration and the library are loaded and agree.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub library: Library,
}

/// Loads the library from the configured folder (or the built-in one), checks the configuration
/// against it, and applies the organisation's own pack links and nation. Every problem is
/// returned, one per line.
pub fn load_content(loaded: &LoadedConfig) -> Result<Loaded, Vec<String>> {
    let mut library = crate::library::load(&loaded.config.content.source())
        .map_err(|errors| errors.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let slugs: Vec<&str> = library
        .themes
        .iter()
        .map(|theme| theme.slug.as_str())
        .collect();
    let settings = loaded.validate(&slugs).map_err(|err| {
        err.to_string()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    })?;
    apply_pack_overrides(&mut library, &settings.packs);
    library.set_nation(settings.support.nation);
    Ok(Loaded { settings, library })
}

pub fn apply_pack_overrides(library: &mut Library, packs: &BTreeMap<String, PackOverride>) {
    for theme in &mut library.themes {
        if let Some(pack) = packs.get(&theme.slug) {
            if let Some(url) = &pack.guide_url {
                theme.guide_url = url.clone();
            }
            if let Some(url) = &pack.presentation_url {
                theme.presentation_url = Some(url.clone());
            }
        }
    }
}
