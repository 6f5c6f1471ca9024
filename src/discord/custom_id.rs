//! What a button on careprompt's messages does (`crate::cards::Act`), written into its custom id.
//! Everything needed to answer a click is in the id itself, so a click is answered after a
//! restart, and a post can be recognised later by the delivery it carries.

use crate::cards::{Act, SessionBegin, SessionControl};
use crate::store::BookmarkKind;

/// The prefix of every custom id careprompt writes; anything else is not ours.
const PREFIX: &str = "cp";

/// The controls of a stage card.
const CONTROLS: [SessionControl; 4] = [
    SessionControl::Next,
    SessionControl::Pause,
    SessionControl::Resume,
    SessionControl::End,
];

/// The word a control is written as.
fn word(control: SessionControl) -> &'static str {
    match control {
        SessionControl::Next => "next",
        SessionControl::Pause => "pause",
        SessionControl::Resume => "resume",
        SessionControl::End => "end",
    }
}

/// Bookmarked items are written `<letter>.<id>` in a Save id; the letter names the kind.
fn kind_letter(kind: BookmarkKind) -> char {
    match kind {
        BookmarkKind::Prompt => 'p',
        BookmarkKind::Story => 's',
        BookmarkKind::Pack => 'k',
    }
}

/// `p.com-03`, `s.story-1` or `k.resilience`; a bare reference is a prompt, as the Save buttons
/// on posts made before stories and packs could be saved carry.
fn parse_item(text: &str) -> Option<(BookmarkKind, String)> {
    let (kind, item) = match text.split_once('.') {
        Some(("p", item)) => (BookmarkKind::Prompt, item),
        Some(("s", item)) => (BookmarkKind::Story, item),
        Some(("k", item)) => (BookmarkKind::Pack, item),
        Some(_) => return None,
        None => (BookmarkKind::Prompt, text),
    };
    is_reference(item).then(|| (kind, item.to_string()))
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

/// Digits only, no sign or leading zeros, so one page has one id.
fn is_number(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 6
        && text.chars().all(|c| c.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

impl Act {
    pub fn custom_id(&self) -> String {
        match self {
            Act::Save {
                delivery,
                kind,
                item_id,
            } => format!(
                "{PREFIX}:save:{}:{}.{item_id}",
                delivery_part(*delivery),
                kind_letter(*kind)
            ),
            Act::Pack { delivery, theme } => {
                format!("{PREFIX}:pack:{}:{theme}", delivery_part(*delivery))
            }
            Act::Support { delivery } => {
                format!("{PREFIX}:support:{}", delivery_part(*delivery))
            }
            Act::BookmarksPage { page } => format!("{PREFIX}:bookmarks:-:{page}"),
            Act::ForgetConfirm => format!("{PREFIX}:forget:-:erase"),
            Act::ForgetCancel => format!("{PREFIX}:forget:-:cancel"),
            Act::Session {
                session,
                stage,
                control,
            } => format!("{PREFIX}:session:{session}:{}.{stage}", word(*control)),
            Act::SessionBegin(SessionBegin {
                asked_at,
                minutes,
                auto,
                theme,
                story,
            }) => format!(
                "{PREFIX}:begin:{asked_at}:{minutes}.{}.{theme}.{}",
                if *auto { "a" } else { "m" },
                story.as_deref().unwrap_or_default()
            ),
            Act::SessionCancel => format!("{PREFIX}:begin:-:cancel"),
        }
    }

    /// Reads a custom id. Ids come back from Discord as the client sent them, and a client can
    /// send anything, so every part is checked.
    pub fn parse(custom_id: &str) -> Result<Act, UnknownButton> {
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
            ("save", Some(item)) => {
                let (kind, item_id) = parse_item(item).ok_or(UnknownButton)?;
                Ok(Act::Save {
                    delivery,
                    kind,
                    item_id,
                })
            }
            ("bookmarks", Some(page)) if delivery.is_none() && is_number(page) => {
                Ok(Act::BookmarksPage {
                    page: page.parse().map_err(|_| UnknownButton)?,
                })
            }
            ("forget", Some("erase")) if delivery.is_none() => Ok(Act::ForgetConfirm),
            ("forget", Some("cancel")) if delivery.is_none() => Ok(Act::ForgetCancel),
            ("pack", Some(theme)) if is_reference(theme) => Ok(Act::Pack {
                delivery,
                theme: theme.to_string(),
            }),
            ("support", None) => Ok(Act::Support { delivery }),
            ("session", Some(reference)) => {
                let session = delivery.ok_or(UnknownButton)?;
                let (said, stage) = reference.split_once('.').ok_or(UnknownButton)?;
                let control = CONTROLS
                    .into_iter()
                    .find(|control| word(*control) == said)
                    .ok_or(UnknownButton)?;
                if !is_number(stage) {
                    return Err(UnknownButton);
                }
                Ok(Act::Session {
                    session,
                    stage: stage.parse().map_err(|_| UnknownButton)?,
                    control,
                })
            }
            ("begin", Some("cancel")) if delivery.is_none() => Ok(Act::SessionCancel),
            ("begin", Some(reference)) => {
                let asked_at = delivery.ok_or(UnknownButton)?;
                let parts: Vec<&str> = reference.split('.').collect();
                let [minutes, auto, theme, story] = parts[..] else {
                    return Err(UnknownButton);
                };
                let auto = match auto {
                    "a" => true,
                    "m" => false,
                    _ => return Err(UnknownButton),
                };
                if !is_number(minutes) || !is_reference(theme) {
                    return Err(UnknownButton);
                }
                let story = match story {
                    "" => None,
                    story if is_reference(story) => Some(story.to_string()),
                    _ => return Err(UnknownButton),
                };
                Ok(Act::SessionBegin(SessionBegin {
                    asked_at,
                    minutes: minutes.parse().map_err(|_| UnknownButton)?,
                    auto,
                    theme: theme.to_string(),
                    story,
                }))
            }
            _ => Err(UnknownButton),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips() {
        for action in [
            Act::Save {
                delivery: Some(42),
                kind: BookmarkKind::Prompt,
                item_id: "com-03".into(),
            },
            Act::Save {
                delivery: None,
                kind: BookmarkKind::Prompt,
                item_id: "ws-01".into(),
            },
            Act::Save {
                delivery: None,
                kind: BookmarkKind::Story,
                item_id: "s".repeat(64),
            },
            Act::Save {
                delivery: Some(i64::MAX),
                kind: BookmarkKind::Pack,
                item_id: "bullying-and-harassment".into(),
            },
            Act::BookmarksPage { page: 0 },
            Act::BookmarksPage { page: 49 },
            Act::ForgetConfirm,
            Act::ForgetCancel,
            Act::Pack {
                delivery: Some(i64::MAX),
                theme: "bullying-and-harassment".into(),
            },
            Act::Support { delivery: Some(7) },
            Act::Session {
                session: i64::MAX,
                stage: 5,
                control: SessionControl::Resume,
            },
            Act::Session {
                session: 1,
                stage: 0,
                control: SessionControl::Next,
            },
            Act::SessionBegin(SessionBegin {
                asked_at: 1_800_000_000,
                minutes: 45,
                auto: false,
                theme: "bullying-and-harassment".into(),
                story: Some("choice".into()),
            }),
            Act::SessionBegin(SessionBegin {
                asked_at: i64::MAX,
                minutes: 60,
                auto: true,
                theme: "equality-and-diversity".into(),
                story: None,
            }),
            Act::SessionCancel,
        ] {
            let id = action.custom_id();
            assert!(id.chars().count() <= 100, "{id}");
            assert_eq!(Act::parse(&id), Ok(action));
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
            "cp:save:1:x.com-03",
            "cp:save:1:p.",
            "cp:save:1:p.com.03",
            "cp:save:1:.com-03",
            "cp:bookmarks:-:",
            "cp:bookmarks:-:01",
            "cp:bookmarks:-:-1",
            "cp:bookmarks:-:1.5",
            "cp:bookmarks:-:9999999",
            "cp:bookmarks:7:1",
            "cp:forget:-:",
            "cp:forget:-:yes",
            "cp:forget:123:erase",
            "cp:forget:-:erase:123",
            "cp:session:-:next.1",
            "cp:session:3:next",
            "cp:session:3:skip.1",
            "cp:session:3:next.01",
            "cp:session:3:next.-1",
            "cp:begin:-:30.m.bullying-and-harassment.",
            "cp:begin:0:30.m.bullying-and-harassment.",
            "cp:begin:1:30.x.bullying-and-harassment.",
            "cp:begin:1:030.m.bullying-and-harassment.",
            "cp:begin:1:30.m..",
            "cp:begin:1:30.m.bullying-and-harassment",
            "cp:begin:1:30.m.bullying-and-harassment.choice.more",
            "cp:begin:1:30.m.bullying/harassment.",
            "cp:begin:5:cancel",
        ] {
            assert_eq!(Act::parse(id), Err(UnknownButton), "{id}");
        }
    }

    #[test]
    fn save_buttons_on_older_posts_still_save_their_prompt() {
        assert_eq!(
            Act::parse("cp:save:42:com-03"),
            Ok(Act::Save {
                delivery: Some(42),
                kind: BookmarkKind::Prompt,
                item_id: "com-03".into(),
            })
        );
    }
}
