//! Errors a person using the bot can act on. Their text is shown to them, privately.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("I don't know the theme \"{given}\". Try one of: {known}. /themes lists them all.")]
    UnknownTheme { given: String, known: String },
    #[error("That command only works in a server channel, not in a direct message.")]
    GuildOnly,
    #[error("That command only works in a direct message with me.")]
    DmOnly,
    #[error("You need the {0} permission in this server to use that command.")]
    MissingPermission(String),
    #[error("careprompt is restarting. Please try again in a minute.")]
    ShuttingDown,
    #[error(
        "Something in that command wasn't quite right: {0}. /help shows how to use each command."
    )]
    BadInput(String),
    #[error("There is no schedule in <#{0}>. Use /schedule set to make one.")]
    NoSchedule(u64),
    #[error("The schedule in <#{0}> is switched off, because {1} Use /schedule set in that channel to set it again.")]
    UnreadableSchedule(u64, String),
    #[error("{0}")]
    Conflict(String),
    #[error("I can't post in <#{0}>: {1}")]
    CannotPost(u64, String),
    #[error("That button is on someone else's private message, so it does nothing for you. /bookmarks list and /forget-me work on your own.")]
    NotYourButton,
    #[error("Only the person running this session can move it on.")]
    NotFacilitator,
    #[error("To run a reflective session here you need the Manage Server permission{0}.")]
    NotAllowedToFacilitate(String),
    #[error("To see insights here you need the Manage Server permission{0}.")]
    NotAllowedToSeeInsights(String),
}

impl UserError {
    /// A name for logs, which never carry what the person typed.
    pub fn kind(&self) -> &'static str {
        match self {
            UserError::UnknownTheme { .. } => "unknown theme",
            UserError::GuildOnly => "guild only",
            UserError::DmOnly => "dm only",
            UserError::MissingPermission(_) => "missing permission",
            UserError::ShuttingDown => "shutting down",
            UserError::BadInput(_) => "bad input",
            UserError::NoSchedule(_) => "no schedule",
            UserError::UnreadableSchedule(..) => "unreadable schedule",
            UserError::Conflict(_) => "conflict",
            UserError::CannotPost(..) => "cannot post",
            UserError::NotYourButton => "not your button",
            UserError::NotFacilitator => "not the facilitator",
            UserError::NotAllowedToFacilitate(_) => "not allowed to facilitate",
            UserError::NotAllowedToSeeInsights(_) => "not allowed to see insights",
        }
    }
}

/// What every command returns: a `UserError` inside is shown to the person as it is; anything
/// else is logged and they see a general apology.
pub type Error = anyhow::Error;

pub const GENERIC_FAILURE: &str =
    "Sorry, something went wrong on my side and I couldn't do that. Please try again in a minute; if it keeps happening, let whoever runs careprompt here know.";
