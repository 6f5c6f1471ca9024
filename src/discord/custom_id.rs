//! What a button on careprompt's messages does, written into its custom id. Everything needed to
//! answer a click is in the id itself, so a click is answered after a restart, and a post can be
//! recognised later by the delivery it carries.

use crate::store::BookmarkKind;

/// The prefix of every custom id careprompt writes; anything else is not ours.
const PREFIX: &str = "cp";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    /// Bookmark a prompt, story or pack for whoever clicks.
    Save {
        delivery: Option<i64>,
        kind: BookmarkKind,
        item_id: String,
    },
    /// The theme's facilitator pack, privately.
    Pack {
        delivery: Option<i64>,
        theme: String,
    },
    /// Where to get support, privately.
    Support {
        delivery: Option<i64>,
    },
    /// A page (from 0) of the clicker's own bookmarks, in place of the one shown.
    BookmarksPage {
        page: u32,
    },
    /// Erase everything about the clicker, who is always the one erased: the id names nobody.
    ForgetConfirm,
    ForgetCancel,
    /// The facilitator's controls on a session's stage card: the session and the stage the card
    /// shows, so a click on an older card does not move the session on twice.
    Session {
        session: i64,
        stage: u32,
        control: SessionControl,
    },
    /// The facilitator's yes to the private question a sensitive theme asks before its session
    /// starts. Nothing is stored until this click.
    SessionBegin(SessionBegin),
    /// The facilitator's no to that question: nothing is posted.
    SessionCancel,
}

/// What a Start button carries: everything `/session start` was given, and when it asked (Unix
/// seconds), so a late answer starts nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBegin {
    pub asked_at: i64,
    pub minutes: u32,
    pub auto: bool,
    pub theme: String,
    pub story: Option<String>,
}

/// What a button on a stage card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionControl {
    Next,
    Pause,
    Resume,
    End,
}

impl SessionControl {
    const ALL: [SessionControl; 4] = [
        SessionControl::Next,
        SessionControl::Pause,
        SessionControl::Resume,
        SessionControl::End,
    ];

    fn word(self) -> &'static str {
        match self {
            SessionControl::Next => "next",
            SessionControl::Pause => "pause",
            SessionControl::Resume => "resume",
            SessionControl::End => "end",
        }
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

impl ButtonAction {
    pub fn custom_id(&self) -> String {
        match self {
            ButtonAction::Save {
                delivery,
                kind,
                item_id,
            } => format!(
                "{PREFIX}:save:{}:{}.{item_id}",
                delivery_part(*delivery),
                kind_letter(*kind)
            ),
            ButtonAction::Pack { delivery, theme } => {
                format!("{PREFIX}:pack:{}:{theme}", delivery_part(*delivery))
            }
            ButtonAction::Support { delivery } => {
                format!("{PREFIX}:support:{}", delivery_part(*delivery))
            }
            ButtonAction::BookmarksPage { page } => format!("{PREFIX}:bookmarks:-:{page}"),
            ButtonAction::ForgetConfirm => format!("{PREFIX}:forget:-:erase"),
            ButtonAction::ForgetCancel => format!("{PREFIX}:forget:-:cancel"),
            ButtonAction::Session {
                session,
                stage,
                control,
            } => format!("{PREFIX}:session:{session}:{}.{stage}", control.word()),
            ButtonAction::SessionBegin(SessionBegin {
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
            ButtonAction::SessionCancel => format!("{PREFIX}:begin:-:cancel"),
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
            ("save", Some(item)) => {
                let (kind, item_id) = parse_item(item).ok_or(UnknownButton)?;
                Ok(ButtonAction::Save {
                    delivery,
                    kind,
                    item_id,
                })
            }
            ("bookmarks", Some(page)) if delivery.is_none() && is_number(page) => {
                Ok(ButtonAction::BookmarksPage {
                    page: page.parse().map_err(|_| UnknownButton)?,
                })
            }
            ("forget", Some("erase")) if delivery.is_none() => Ok(ButtonAction::ForgetConfirm),
            ("forget", Some("cancel")) if delivery.is_none() => Ok(ButtonAction::ForgetCancel),
            ("pack", Some(theme)) if is_reference(theme) => Ok(ButtonAction::Pack {
                delivery,
                theme: theme.to_string(),
            }),
            ("support", None) => Ok(ButtonAction::Support { delivery }),
            ("session", Some(reference)) => {
                let session = delivery.ok_or(UnknownButton)?;
                let (word, stage) = reference.split_once('.').ok_or(UnknownButton)?;
                let control = SessionControl::ALL
                    .into_iter()
                    .find(|control| control.word() == word)
                    .ok_or(UnknownButton)?;
                if !is_number(stage) {
                    return Err(UnknownButton);
                }
                Ok(ButtonAction::Session {
                    session,
                    stage: stage.parse().map_err(|_| UnknownButton)?,
                    control,
                })
            }
            ("begin", Some("cancel")) if delivery.is_none() => Ok(ButtonAction::SessionCancel),
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
                Ok(ButtonAction::SessionBegin(SessionBegin {
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

    /// What the button does, for logs: never what it acts on, nor for whom.
    pub fn name(&self) -> &'static str {
        match self {
            ButtonAction::Save { .. } => "save",
            ButtonAction::Pack { .. } => "pack",
            ButtonAction::Support { .. } => "support",
            ButtonAction::BookmarksPage { .. } => "bookmarks page",
            ButtonAction::ForgetConfirm => "forget-me erase",
            ButtonAction::ForgetCancel => "forget-me cancel",
            ButtonAction::Session { control, .. } => match control {
                SessionControl::Next => "session next",
                SessionControl::Pause => "session pause",
                SessionControl::Resume => "session resume",
                SessionControl::End => "session end",
            },
            ButtonAction::SessionBegin(_) => "session start",
            ButtonAction::SessionCancel => "session cancel",
        }
    }

    /// The delivery a button belongs to, when it is on a scheduled post.
    pub fn delivery(&self) -> Option<i64> {
        match self {
            ButtonAction::Save { delivery, .. }
            | ButtonAction::Pack { delivery, .. }
            | ButtonAction::Support { delivery } => *delivery,
            ButtonAction::BookmarksPage { .. }
            | ButtonAction::ForgetConfirm
            | ButtonAction::ForgetCancel
            | ButtonAction::Session { .. }
            | ButtonAction::SessionBegin(_)
            | ButtonAction::SessionCancel => None,
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
                kind: BookmarkKind::Prompt,
                item_id: "com-03".into(),
            },
            ButtonAction::Save {
                delivery: None,
                kind: BookmarkKind::Prompt,
                item_id: "ws-01".into(),
            },
            ButtonAction::Save {
                delivery: None,
                kind: BookmarkKind::Story,
                item_id: "s".repeat(64),
            },
            ButtonAction::Save {
                delivery: Some(i64::MAX),
                kind: BookmarkKind::Pack,
                item_id: "bullying-and-harassment".into(),
            },
            ButtonAction::BookmarksPage { page: 0 },
            ButtonAction::BookmarksPage { page: 49 },
            ButtonAction::ForgetConfirm,
            ButtonAction::ForgetCancel,
            ButtonAction::Pack {
                delivery: Some(i64::MAX),
                theme: "bullying-and-harassment".into(),
            },
            ButtonAction::Support { delivery: Some(7) },
            ButtonAction::Session {
                session: i64::MAX,
                stage: 5,
                control: SessionControl::Resume,
            },
            ButtonAction::Session {
                session: 1,
                stage: 0,
                control: SessionControl::Next,
            },
            ButtonAction::SessionBegin(SessionBegin {
                asked_at: 1_800_000_000,
                minutes: 45,
                auto: false,
                theme: "bullying-and-harassment".into(),
                story: Some("choice".into()),
            }),
            ButtonAction::SessionBegin(SessionBegin {
                asked_at: i64::MAX,
                minutes: 60,
                auto: true,
                theme: "equality-and-diversity".into(),
                story: None,
            }),
            ButtonAction::SessionCancel,
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
            assert_eq!(ButtonAction::parse(id), Err(UnknownButton), "{id}");
        }
    }

    #[test]
    fn save_buttons_on_older_posts_still_save_their_prompt() {
        assert_eq!(
            ButtonAction::parse("cp:save:42:com-03"),
            Ok(ButtonAction::Save {
                delivery: Some(42),
                kind: BookmarkKind::Prompt,
                item_id: "com-03".into(),
            })
        );
    }
}
