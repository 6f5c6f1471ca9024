//! The raising-a-concern part on every bullying-and-harassment card, and honest pack buttons.

use super::*;
use crate::discord::render;
use crate::domain::content::{Library, Nation, DNA_OF_CARE_URL};

fn shipped() -> Library {
    crate::library::built_in().expect("shipped")
}

fn text(card: &Card) -> String {
    render::json(card).to_string()
}

#[test]
fn every_bullying_and_harassment_card_says_where_to_raise_a_concern() {
    let mut library = shipped();
    for (nation, route) in [
        (Nation::England, "Freedom to Speak Up Guardian"),
        (Nation::Wales, "Speaking Up Safely"),
        (
            Nation::Scotland,
            "NHSScotland Bullying and Harassment Policy",
        ),
        (Nation::NorthernIreland, "Labour Relations Agency"),
    ] {
        library.set_nation(nation);
        let theme = library.theme("bullying-and-harassment").expect("theme");
        let mut cards = vec![pack_card(&library, theme)];
        for prompt in &theme.prompts {
            cards.push(prompt_card(theme, prompt));
            cards.push(post_card(theme, prompt, library.stories.first(), Some(1)));
        }
        for card in &cards {
            let text = text(card);
            assert!(text.contains("Raising a concern"), "{text}");
            assert!(text.contains(route), "{nation}: {text}");
            assert!(text.contains("a manager who is not involved"), "{text}");
            assert!(
                text.contains("/support lists people who can help"),
                "{text}"
            );
        }
    }
    let compassion = library.theme("compassion").expect("theme");
    assert!(!text(&pack_card(&library, compassion)).contains("Raising a concern"));
    assert!(!text(&prompt_card(compassion, &compassion.prompts[0])).contains("Raising a concern"));
}

#[test]
fn a_story_tagged_with_the_bullying_theme_carries_the_concern_part() {
    let mut library = shipped();
    library.stories[0]
        .themes
        .push("bullying-and-harassment".to_string());
    // The tag is read when the library is pointed at its nation, as at start-up.
    library.set_nation(library.nation);
    let story = library.stories[0].clone();
    assert!(text(&story_card(&library, &story)).contains("Freedom to Speak Up Guardian"));
    let other = library.stories[1].clone();
    assert!(!text(&story_card(&library, &other)).contains("Freedom to Speak Up Guardian"));
}

#[test]
fn choice_a_story_about_raising_concerns_says_where_to_raise_one() {
    let library = shipped();
    let choice = library.story("choice").expect("story");
    assert!(text(&story_card(&library, choice)).contains("Raising a concern"));
}

#[test]
fn a_theme_with_no_story_points_to_the_collection_and_keeps_its_concern_part() {
    let library = shipped();
    let equality = library.theme("equality-and-diversity").expect("theme");
    let card = text(&no_story_card(equality));
    assert!(card.contains("careprompt's library has no story for Equality and diversity yet"));
    assert!(card.contains(PATIENT_VOICES_DNA_OF_CARE_URL));
    assert!(!card.contains("Raising a concern"));
    let bullying = library.theme("bullying-and-harassment").expect("theme");
    assert!(text(&no_story_card(bullying)).contains("Raising a concern"));
}

/// The link buttons (the Save button beside them is not a link).
fn labels(card: &Card) -> Vec<(String, String)> {
    render::json(card)["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter(|button| button.get("url").is_some())
        .map(|button| {
            (
                button["label"].as_str().unwrap_or_default().to_string(),
                button["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn one_page_gets_one_button_and_own_copies_get_one_each() {
    let mut library = shipped();
    let packs = (
        "Facilitator packs at NHS Employers".to_string(),
        DNA_OF_CARE_URL.to_string(),
    );
    for slug in ["compassion", "bullying-and-harassment"] {
        let theme = library.theme(slug).expect("theme");
        assert_eq!(
            labels(&pack_card(&library, theme)),
            std::slice::from_ref(&packs),
            "{slug}"
        );
    }
    let own = "https://intranet.example.nhs.uk/compassion";
    if let Some(theme) = library
        .themes
        .iter_mut()
        .find(|theme| theme.slug == "compassion")
    {
        theme.guide_url = format!("{own}/guide.pdf");
        theme.presentation_url = Some(format!("{own}/slides.pptx"));
    }
    let theme = library.theme("compassion").expect("theme");
    assert_eq!(
        labels(&pack_card(&library, theme)),
        [
            ("Facilitator guide".to_string(), format!("{own}/guide.pdf")),
            ("Presentation".to_string(), format!("{own}/slides.pptx")),
        ]
    );
}

#[test]
fn a_page_of_the_longest_bookmarks_fits_in_one_message() {
    use crate::store::{Bookmark, BookmarkKind, Erased};
    let longest = Bookmark {
        id: i64::MAX,
        kind: BookmarkKind::Prompt,
        item_id: "p".repeat(64),
        title: "T".repeat(500),
        body: Some("B".repeat(5000)),
        url: Some(format!("https://example.nhs.uk/{}", "u".repeat(210))),
        created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
    };
    let page = vec![longest; 10];
    let card = bookmarks_card(&page, 4, 500);
    assert_eq!(
        crate::discord::limits::check_message(&render::json(&card)),
        Vec::<String>::new()
    );
    let erased = Erased {
        bookmarks: 500,
        dm_optins: 100,
        theme_mutes: 7,
        dm_status: 1,
        dm_deliveries: 100_000,
        schedules_anonymised: 3,
        usage_records: 1_000,
        sessions_anonymised: 2,
    };
    for card in [
        forget_me_card(),
        forgotten_card(&erased),
        bookmarks_card(&[], 0, 0),
    ] {
        assert_eq!(
            crate::discord::limits::check_message(&render::json(&card)),
            Vec::<String>::new()
        );
    }
}

/// Every card the bot can build, in every nation, and every scheduled post.
fn every_card_in_every_nation() -> Vec<(String, Card)> {
    let mut library = shipped();
    let mut cards = Vec::new();
    for nation in Nation::ALL {
        library.set_nation(nation);
        for (label, card) in all_cards(&library, None, DNA_OF_CARE_URL)
            .into_iter()
            .chain(all_posts(&library))
        {
            cards.push((format!("{nation} {label}"), card));
        }
    }
    cards
}

#[test]
fn no_card_promises_the_thread_is_private_or_tells_people_not_to_raise_complaints() {
    for (label, card) in every_card_in_every_nation() {
        let text = text(&card).to_lowercase();
        for wrong in [
            "stays here",
            "stays in the room",
            "complaint",
            "these services are confidential",
            "a few minutes long",
        ] {
            assert!(!text.contains(wrong), "{label} says \"{wrong}\"");
        }
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README")
        .to_lowercase();
    for wrong in ["stays in the room", "stays here", "raise complaints"] {
        assert!(!readme.contains(wrong), "README says \"{wrong}\"");
    }
}

#[test]
fn any_card_that_shows_a_story_tagged_for_a_concern_theme_carries_the_concern_part() {
    let library = shipped();
    let choice = library.story("choice").expect("story");
    let quiet = library.story("making-a-difference").expect("story");
    assert!(choice.concern.is_some() && quiet.concern.is_none());
    for theme in &library.themes {
        let prompt = &theme.prompts[0];
        let with_choice = text(&post_card(theme, prompt, Some(choice), Some(1)));
        assert!(
            with_choice.contains("Freedom to Speak Up Guardian"),
            "{}",
            theme.slug
        );
        let with_other = text(&post_card(theme, prompt, Some(quiet), Some(1)));
        assert_eq!(
            with_other.contains("Freedom to Speak Up Guardian"),
            theme.concern.is_some(),
            "{}",
            theme.slug
        );
    }
    let leadership = library.theme("compassionate-leadership").expect("theme");
    assert!(text(&pack_card(&library, leadership)).contains("Raising a concern"));
    assert!(text(&story_card(&library, choice)).contains("Raising a concern"));
    assert!(!text(&story_card(&library, quiet)).contains("Raising a concern"));
    assert!(!text(&prompt_card(leadership, &leadership.prompts[0])).contains("Raising a concern"));
    // The leadership session opens with another story unless Choice is asked for.
    let default = library
        .stories_for("compassionate-leadership")
        .next()
        .expect("a story");
    assert_ne!(default.id, "choice");
}

#[test]
fn prompt_and_story_cards_offer_a_way_out_and_a_content_note_not_a_length() {
    let library = shipped();
    for theme in &library.themes {
        for prompt in &theme.prompts {
            let card = text(&prompt_card(theme, prompt));
            assert!(card.contains(OPTIONAL_AND_SUPPORT), "{}", prompt.id);
        }
    }
    for story in &library.stories {
        let card = text(&story_card(&library, story));
        assert!(card.contains(OPTIONAL_AND_SUPPORT), "{}", story.id);
        assert!(
            card.contains(crate::domain::session::STORY_NOTE),
            "{}",
            story.id
        );
    }
    let theme = library.theme("compassion").expect("theme");
    let post = text(&post_card(
        theme,
        &theme.prompts[0],
        library.stories_for("compassion").next(),
        Some(1),
    ));
    assert!(post.contains(crate::domain::session::STORY_NOTE), "{post}");
    let pack = text(&pack_card(&library, theme));
    assert!(
        pack.contains("Stories careprompt pairs with this theme"),
        "{pack}"
    );
}

#[test]
fn the_support_card_names_its_nation_and_puts_999_in_its_first_words() {
    let library = shipped();
    for nation in Nation::ALL {
        let card = support_card(None, &library.support_lines_for(nation), nation);
        let json = render::json(&card);
        assert_eq!(
            json["embeds"][0]["title"],
            format!("Support when you need it (lines for {})", nation.name())
        );
        let description = json["embeds"][0]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains("If someone's life is at risk, call 999."),
            "{description}"
        );
        assert!(!description.contains("confidential"), "{description}");
    }
}
