//! The chat platforms careprompt serves. Every row keyed by a server, channel or person says whose
//! key it is: Discord's own snowflake, or for another platform the number careprompt gave the
//! place or person (see `store::places`).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Discord,
    /// Microsoft Teams.
    Teams,
}

impl Platform {
    /// As the `platform` columns hold it.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Discord => "discord",
            Platform::Teams => "teams",
        }
    }

    pub fn parse(text: &str) -> Option<Platform> {
        match text {
            "discord" => Some(Platform::Discord),
            "teams" => Some(Platform::Teams),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_reads_back_as_itself_and_nothing_else_reads() {
        for platform in [Platform::Discord, Platform::Teams] {
            assert_eq!(Platform::parse(platform.as_str()), Some(platform));
        }
        assert_eq!(Platform::parse("Discord"), None);
        assert_eq!(Platform::parse(""), None);
    }
}
