//! The shipped library in `prompts/`, built into the binary so `careprompt run` needs nothing
//! beside it.

/// Each shipped file's name and text.
pub(super) const FILES: [(&str, &str); 9] = [
    (
        "bullying-and-harassment.toml",
        include_str!("../../prompts/bullying-and-harassment.toml"),
    ),
    (
        "compassion.toml",
        include_str!("../../prompts/compassion.toml"),
    ),
    (
        "compassionate-leadership.toml",
        include_str!("../../prompts/compassionate-leadership.toml"),
    ),
    (
        "equality-and-diversity.toml",
        include_str!("../../prompts/equality-and-diversity.toml"),
    ),
    (
        "improvement-and-change.toml",
        include_str!("../../prompts/improvement-and-change.toml"),
    ),
    (
        "resilience.toml",
        include_str!("../../prompts/resilience.toml"),
    ),
    ("stories.toml", include_str!("../../prompts/stories.toml")),
    ("support.toml", include_str!("../../prompts/support.toml")),
    (
        "whole-self.toml",
        include_str!("../../prompts/whole-self.toml"),
    ),
];
