//! Where a library's files come from, and the list of mistakes found in them.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::built_in;
use crate::domain::content::{ContentError, Location};

/// A string from a file, with where it was written.
pub(super) type Text = Spanned<String>;

/// The folder in the source tree that the built-in library is compiled from.
const BUILT_IN_FOLDER: &str = "prompts";

/// Where a library's files come from: an organisation's own folder, or the library built in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSource {
    Dir(PathBuf),
    BuiltIn,
}

impl ContentSource {
    /// The folder that file names are shown in. The built-in files are named as they are in the
    /// source tree, so a mistake or a dead link points at the file a facilitator edits.
    pub(super) fn base(&self) -> PathBuf {
        match self {
            ContentSource::Dir(dir) => dir.clone(),
            ContentSource::BuiltIn => PathBuf::from(BUILT_IN_FOLDER),
        }
    }

    /// Which library this is, for `check` to say what it validated.
    pub fn describe(&self) -> String {
        match self {
            ContentSource::Dir(dir) => format!("the library in {}", dir.display()),
            ContentSource::BuiltIn => "the built-in library".to_string(),
        }
    }

    /// Every `.toml` file of the library, sorted.
    pub fn files(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = match self {
            ContentSource::Dir(dir) => std::fs::read_dir(dir)?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                .collect(),
            ContentSource::BuiltIn => built_in::FILES
                .iter()
                .map(|(name, _)| self.base().join(name))
                .collect(),
        };
        files.sort();
        Ok(files)
    }

    pub fn read(&self, path: &Path) -> std::io::Result<String> {
        match self {
            ContentSource::Dir(_) => std::fs::read_to_string(path),
            ContentSource::BuiltIn => built_in::FILES
                .iter()
                .find(|(name, _)| path.file_name().and_then(|file| file.to_str()) == Some(*name))
                .map(|(_, text)| (*text).to_string())
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }
}

/// Every mistake found in one pass, so a facilitator fixes them all in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentErrors(pub Vec<ContentError>);

impl ContentErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn push_plain(&mut self, file: &Path, message: String) {
        self.0.push(ContentError {
            file: file.to_path_buf(),
            location: None,
            message,
        });
    }

    pub(super) fn push_at(&mut self, file: &Path, text: &str, offset: usize, message: String) {
        self.0.push(ContentError {
            file: file.to_path_buf(),
            location: Some(Location::from_offset(file, text, offset)),
            message,
        });
    }
}

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContentErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_files_are_named_as_the_files_a_facilitator_edits() {
        let source = ContentSource::BuiltIn;
        let files = source.files().expect("built in");
        assert_eq!(files.len(), built_in::FILES.len());
        assert!(
            files.iter().all(|file| file.starts_with("prompts")),
            "{files:?}"
        );
        let support = Path::new("prompts/support.toml");
        assert!(files.iter().any(|file| file == support), "{files:?}");
        assert!(source.read(support).expect("read").contains("[[line]]"));
    }
}
