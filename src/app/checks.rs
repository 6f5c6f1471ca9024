//! Every check of who may act and what they named, for commands and buttons on any platform:
//! managing the server, running sessions and seeing insights (Manage Server, or the server's
//! facilitator role), and naming a theme. Each is checked here on every command and button, not
//! left to the platform's own command permissions, which cannot name careprompt's facilitator
//! role.

use crate::app::{Request, Rights};
use crate::cards::Who;
use crate::domain::content::{Library, Theme};
use crate::error::{Error, UserError};
use crate::store::Store;

/// The server or team it was asked in; commands about a place make no sense in a direct message.
pub fn require_place(request: &Request) -> Result<u64, UserError> {
    request.place.ok_or(UserError::GuildOnly)
}

/// The server, once the person is known to be allowed to manage it.
pub fn require_admin(request: &Request) -> Result<u64, UserError> {
    let place = require_place(request)?;
    if request.rights.manage_server {
        Ok(place)
    } else {
        Err(UserError::MissingPermission("Manage Server".to_string()))
    }
}

/// Whether someone with `rights` may run sessions (and see `/insights`) in `place`: managing the
/// server, or holding its facilitator role. `refusal` words the answer to anyone else.
pub async fn may_facilitate(
    store: &Store,
    place: u64,
    rights: &Rights,
    refusal: fn(String) -> UserError,
) -> Result<(), Error> {
    if rights.manage_server {
        return Ok(());
    }
    let role = store.facilitator_role(place).await?;
    if role.is_some_and(|role| rights.holds(role)) {
        return Ok(());
    }
    let or_role = role.map_or_else(String::new, |role| format!(" or the <@&{role}> role"));
    Err(refusal(or_role).into())
}

/// The server, once the person who asked is known to be allowed to run sessions (and see
/// `/insights`) there; `refusal` words the answer to anyone else.
pub async fn require_facilitator(
    store: &Store,
    request: &Request,
    refusal: fn(String) -> UserError,
) -> Result<u64, Error> {
    let place = require_place(request)?;
    may_facilitate(store, place, &request.rights, refusal).await?;
    Ok(place)
}

/// Whether `person` may press a button that `who` may press, on a card shown to `shown_to` (the
/// person it answered, when the platform says). A private card's buttons act for whoever presses
/// them, so only the person it answered may.
pub fn may_press(who: Who, shown_to: Option<u64>, person: u64) -> Result<(), UserError> {
    if who == Who::Asker && shown_to.is_some_and(|shown_to| shown_to != person) {
        return Err(UserError::NotYourButton);
    }
    Ok(())
}

/// Only the session's facilitator moves it on with its buttons.
pub fn require_session_facilitator(facilitator: u64, person: u64) -> Result<(), UserError> {
    if facilitator == person {
        Ok(())
    } else {
        Err(UserError::NotFacilitator)
    }
}

/// Who may end a session with `/session end`: its facilitator, or someone who manages the
/// server, so a channel is never stuck with a session whose facilitator has gone.
pub fn may_end_session(request: &Request, facilitator: u64) -> Result<(), UserError> {
    if facilitator == request.who.id || require_admin(request).is_ok() {
        Ok(())
    } else {
        Err(UserError::NotFacilitator)
    }
}

/// Finds a theme by the slug a choice list sends; typed input is forgiven its case and spaces.
pub fn find_theme<'a>(library: &'a Library, given: &str) -> Result<&'a Theme, UserError> {
    let wanted = given.trim().to_lowercase().replace(' ', "-");
    library
        .themes
        .iter()
        .find(|theme| theme.slug == wanted || theme.title.eq_ignore_ascii_case(given.trim()))
        .ok_or_else(|| UserError::UnknownTheme {
            given: crate::domain::excerpt(given),
            known: library
                .themes
                .iter()
                .map(|theme| theme.slug.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Person;
    use crate::domain::platform::Platform;

    #[test]
    fn themes_are_found_by_slug_or_title_forgivingly() {
        let library = crate::library::built_in().expect("shipped");
        assert_eq!(
            find_theme(&library, "Compassionate Leadership").map(|t| t.slug.as_str()),
            Ok("compassionate-leadership")
        );
        assert_eq!(
            find_theme(&library, " resilience ").map(|t| t.slug.as_str()),
            Ok("resilience")
        );
        let err = find_theme(&library, &"x".repeat(500)).expect_err("unknown");
        assert!(
            err.to_string().len() < 400,
            "the echo of what was typed is cut short"
        );
    }

    fn request(place: Option<u64>, manage_server: bool) -> Request {
        Request {
            who: Person {
                id: 7,
                platform: Platform::Discord,
            },
            place,
            channel: 9,
            rights: Rights {
                manage_server,
                roles: vec![3],
            },
        }
    }

    #[test]
    fn only_a_manager_in_a_server_is_an_admin() {
        assert_eq!(require_admin(&request(Some(5), true)), Ok(5));
        assert_eq!(
            require_admin(&request(Some(5), false)),
            Err(UserError::MissingPermission("Manage Server".to_string()))
        );
        assert_eq!(
            require_admin(&request(None, true)),
            Err(UserError::GuildOnly),
            "a direct message has no server to manage"
        );
    }

    #[test]
    fn a_private_cards_buttons_are_for_the_person_it_answered() {
        assert_eq!(may_press(Who::Asker, Some(7), 7), Ok(()));
        assert_eq!(
            may_press(Who::Asker, Some(8), 7),
            Err(UserError::NotYourButton)
        );
        assert_eq!(
            may_press(Who::Asker, None, 7),
            Ok(()),
            "a card whose asker is unknown"
        );
        assert_eq!(may_press(Who::Anyone, Some(8), 7), Ok(()));
    }

    #[test]
    fn a_session_is_ended_by_its_facilitator_or_a_manager() {
        assert_eq!(require_session_facilitator(7, 7), Ok(()));
        assert_eq!(
            require_session_facilitator(8, 7),
            Err(UserError::NotFacilitator)
        );
        assert_eq!(may_end_session(&request(Some(5), false), 7), Ok(()));
        assert_eq!(may_end_session(&request(Some(5), true), 8), Ok(()));
        assert_eq!(
            may_end_session(&request(Some(5), false), 8),
            Err(UserError::NotFacilitator)
        );
    }

    #[tokio::test]
    async fn a_facilitator_manages_the_server_or_holds_its_role() {
        let store = Store::connect("sqlite::memory:", 1).await.expect("a store");
        let now = chrono::Utc::now();
        let refusal = UserError::NotAllowedToFacilitate;
        let manager = request(Some(5), true);
        let member = request(Some(5), false);
        assert_eq!(
            require_facilitator(&store, &manager, refusal)
                .await
                .expect("a manager may"),
            5
        );
        let refused = require_facilitator(&store, &member, refusal)
            .await
            .expect_err("no role is set, so a member may not");
        assert_eq!(
            refused.downcast_ref::<UserError>(),
            Some(&UserError::NotAllowedToFacilitate(String::new()))
        );
        store
            .set_facilitator_role(5, Some(3), now)
            .await
            .expect("role");
        assert_eq!(
            require_facilitator(&store, &member, refusal)
                .await
                .expect("a holder of the role may"),
            5
        );
        store
            .set_facilitator_role(5, Some(4), now)
            .await
            .expect("role");
        let refused = require_facilitator(&store, &member, refusal)
            .await
            .expect_err("another role is not enough");
        assert_eq!(
            refused.downcast_ref::<UserError>(),
            Some(&UserError::NotAllowedToFacilitate(
                " or the <@&4> role".to_string()
            ))
        );
    }
}
