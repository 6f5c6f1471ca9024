//! The two people a visitor can act as.

use discord_standin::payloads::MEMBER_PERMISSIONS;
use discord_standin::ADMIN_PERMISSIONS;

#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// How the page names the person in a request (`?as=sam`).
    pub key: &'static str,
    pub user_id: u64,
    pub name: &'static str,
    /// What the person switcher shows.
    pub label: &'static str,
    pub permissions: u64,
}

pub const PEOPLE: [Person; 2] = [
    Person {
        key: "sam",
        user_id: 4_100,
        name: "Sam",
        label: "Sam (admin, Manage Server)",
        permissions: ADMIN_PERMISSIONS,
    },
    Person {
        key: "alex",
        user_id: 4_200,
        name: "Alex",
        label: "Alex (staff)",
        permissions: MEMBER_PERMISSIONS,
    },
];

pub fn person(key: &str) -> Option<Person> {
    PEOPLE.iter().copied().find(|p| p.key == key)
}

pub fn name_of(user_id: u64) -> Option<&'static str> {
    PEOPLE.iter().find(|p| p.user_id == user_id).map(|p| p.name)
}
