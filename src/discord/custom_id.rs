//! What a button on careprompt's messages does, written into its custom id. Everything needed to
//! answer a click is in the id itself, so a click is answered after a restart, and a post can be
//! recognised later by the delivery it carries.

/// The prefix of every custom id careprompt writes; anything else is not ours.
const PREFIX: &str = "cp";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    /// Bookmark a prompt for whoever clicks.
    Save {
        delivery: Option<i64>,
        prompt_id: String,
    },
    /// The theme's facilitator pack, privately.
    Pack {
        delivery: Option<i64>,
        theme: String,
    },
    /// Where to get support, privately.
    Support { delivery: Option<i64> },
}

/// Why a custom id was not understood; clicks carrying one are answered with a private apology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a button careprompt does not recognise")]
pub struct UnknownButton;

fn delivery_part(delivery: Option<i64>) -> String {
    delivery.map_or_else(|| "-".to_string(), |id| id.to_string())
}

fn is_reference(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

impl ButtonAction {
    pub fn custom_id(&self) -> String {
        match self {
            ButtonAction::Save {
                delivery,
                prompt_id,
            } => format!("{PREFIX}:save:{}:{prompt_id}", delivery_part(*delivery)),
            ButtonAction::Pack { delivery, theme } => {
                format!("{PREFIX}:pack:{}:{theme}", delivery_part(*delivery))
            }
            ButtonAction::Support { delivery } => {
                format!("{PREFIX}:support:{}", delivery_part(*delivery))
            }
        }
    }

    /// Reads a custom id. Ids come back from Discord as the client sent them, and a client can
    /// send anything, so every part is checked.
    pub fn parse(custom_id: &str) -> Result<ButtonAction, UnknownButton> {
        let mut parts = custom_id.split(':');
        if parts.next() != Some(PREFIX) {
            return Err(UnknownButton);
        }
        let action = parts.next().ok_or(UnknownButton)?;
        let delivery = match parts.next().ok_or(UnknownButton)? {
            "-" => None,
            number => Some(
                number
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or(UnknownButton)?,
            ),
        };
        let reference = parts.next();
        if parts.next().is_some() {
            return Err(UnknownButton);
        }
        match (action, reference) {
            ("save", Some(prompt_id)) if is_reference(prompt_id) => Ok(ButtonAction::Save {
                delivery,
                prompt_id: prompt_id.to_string(),
            }),
            ("pack", Some(theme)) if is_reference(theme) => Ok(ButtonAction::Pack {
                delivery,
                theme: theme.to_string(),
            }),
            ("support", None) => Ok(ButtonAction::Support { delivery }),
            _ => Err(UnknownButton),
        }
    }

    /// The delivery a button belongs to, when it is on a scheduled post.
    pub fn delivery(&self) -> Option<i64> {
        match self {
            ButtonAction::Save { delivery, .. }
            | ButtonAction::Pack { delivery, .. }
            | ButtonAction::Support { delivery } => *delivery,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips() {
        for action in [
            ButtonAction::Save {
                delivery: Some(42),
                prompt_id: "com-03".into(),
            },
            ButtonAction::Save {
                delivery: None,
                prompt_id: "ws-01".into(),
            },
            ButtonAction::Pack {
                delivery: Some(i64::MAX),
                theme: "bullying-and-harassment".into(),
            },
            ButtonAction::Support { delivery: Some(7) },
        ] {
            let id = action.custom_id();
            assert!(id.chars().count() <= 100, "{id}");
            assert_eq!(ButtonAction::parse(&id), Ok(action));
        }
    }

    #[test]
    fn tampered_ids_are_refused() {
        for id in [
            "",
            "cp",
            "xx:save:1:com-03",
            "cp:save:1",
            "cp:save:abc:com-03",
            "cp:save:-5:com-03",
            "cp:save:1:com 03",
            "cp:save:1:com-03:extra",
            "cp:support:1:extra",
            "cp:delete:1:everything",
            "cp:pack:1:../../etc",
            "cp:save:99999999999999999999:com-03",
        ] {
            assert_eq!(ButtonAction::parse(id), Err(UnknownButton), "{id}");
        }
    }
}
