//! The cards of the content library: a scheduled post, a theme's pack, a prompt, a story, the
//! themes, where to get support, help and about; and what the cards that show a theme or a story
//! share (its concern part, its pack's links, the way out).

use crate::cards::act::Act;
use crate::cards::model::{Action, Card, Colour, Panel, Style};
use crate::config::OrgSupport;
use crate::domain::bookmark::BookmarkKind;
use crate::domain::content::{Library, Nation, Prompt, Story, SupportLine, Theme, DNA_OF_CARE_URL};
use crate::domain::session::{STORIES_NOTE, STORY_NOTE};

/// Patient Voices asks that stories are credited to Pilgrim Projects.
// Source: http://www.patientvoices.org.uk/dnaoc.htm (terms of use for the stories).
pub const STORY_CREDIT: &str = "A Patient Voices digital story by Pilgrim Projects, shared for health and social-care education";

/// Where to find more DNA of Care stories when careprompt's library has none for a theme.
// Source: the Patient Voices DNA of Care page (../shared/content-facts.md, "Patient Voices"),
// in the one `https://patientvoices.org.uk/...` form the facts file asks for. It is not in
// `prompts/`, so `check --links` does not fetch it: check it by hand before a release.
pub const PATIENT_VOICES_DNA_OF_CARE_URL: &str = "https://patientvoices.org.uk/dnaoc.htm";

/// The way out on every card that asks something of a reader or shows a story, whether it came
/// as a post, by `/prompt` or `/story`, or was shared in the channel: a card fetched at 4 a.m.
/// needs it as much as a scheduled one.
pub const OPTIONAL_AND_SUPPORT: &str = "Replying is optional. If this brings something up, /support is always there, and only you see it.";

/// Saves the item for whoever clicks, privately.
fn save_button(delivery: Option<i64>, kind: BookmarkKind, item_id: &str) -> Action {
    Action::button(
        "Save",
        Style::Primary,
        Act::Save {
            delivery,
            kind,
            item_id: item_id.to_string(),
        },
    )
}

pub(crate) fn story_line(story: &Story) -> String {
    format!(
        "[{}]({}), told by {}",
        story.title, story.url, story.storyteller
    )
}

/// The field that heads where to raise a concern, in full or as a pointer.
pub(crate) const CONCERN_FIELD: &str = "Raising a concern";

/// The fixed part of every card of a theme about bullying or harassment, and of every card that
/// shows a story tagged for one: where to raise a concern in the configured nation, and
/// `/support`. Other cards are unchanged.
pub(crate) fn with_concern(panel: Panel, concern: Option<&str>) -> Panel {
    match concern {
        Some(concern) => panel.field(
            CONCERN_FIELD,
            format!("{concern}\n/support lists people who can help, whenever you need it."),
            false,
        ),
        None => panel,
    }
}

/// The concern part a card carries: its theme's, or else that of any story it shows.
pub(crate) fn concern_of<'a>(
    theme: Option<&'a Theme>,
    mut stories: impl Iterator<Item = &'a Story>,
) -> Option<&'a str> {
    theme
        .and_then(|theme| theme.concern.as_deref())
        .or_else(|| stories.find_map(|story| story.concern.as_deref()))
}

/// The way out, last on the card: replying is optional, and `/support` is there.
fn optional_field(panel: Panel) -> Panel {
    panel.field("\u{200b}", OPTIONAL_AND_SUPPORT, false)
}

/// The pack's link buttons. One page that holds both the guide and the presentation gets one
/// button, so nobody clicks "Presentation" and lands where "Facilitator guide" took them; an
/// organisation's own separate copies get one button each.
pub(crate) fn pack_buttons(theme: &Theme, dna_of_care_url: &str) -> Vec<Action> {
    match &theme.presentation_url {
        Some(presentation) if presentation != &theme.guide_url => vec![
            Action::link("Facilitator guide", &theme.guide_url),
            Action::link("Presentation", presentation),
        ],
        _ if theme.guide_url == dna_of_care_url => vec![Action::link(
            "Facilitator packs at NHS Employers",
            &theme.guide_url,
        )],
        Some(_) => vec![Action::link(
            "Facilitator guide and presentation",
            &theme.guide_url,
        )],
        None => vec![Action::link("Facilitator guide", &theme.guide_url)],
    }
}

fn dna_of_care_footer(extra: &str) -> String {
    format!("DNA of Care · {extra}")
}

/// A scheduled reflection post in a team channel. `delivery` is the ledger row it is sent for,
/// carried in its buttons so a click is answered after a restart and the post can be recognised
/// later.
pub fn post_card(
    theme: &Theme,
    prompt: &Prompt,
    story: Option<&Story>,
    delivery: Option<i64>,
) -> Card {
    let mut panel = Panel::new(
        format!("Time to reflect: {}", theme.title),
        format!(
            "{}\n\nThink about it on your own, or talk it over with your team if you want to. There is no right answer.",
            prompt.text
        ),
        Colour::Theme(theme.colour),
    );
    if let Some(story) = story {
        panel = panel.field(
            "A story to watch",
            format!("{}\n{STORY_NOTE}", story_line(story)),
            false,
        );
    }
    panel = with_concern(panel, concern_of(Some(theme), story.into_iter()));
    panel = optional_field(panel).footer(dna_of_care_footer(&format!("prompt {}", prompt.id)));
    let mut actions = vec![
        save_button(delivery, BookmarkKind::Prompt, &prompt.id),
        Action::button(
            "Facilitator pack",
            Style::Secondary,
            Act::Pack {
                delivery,
                theme: theme.slug.clone(),
            },
        ),
        Action::button("Support", Style::Secondary, Act::Support { delivery }),
    ];
    if let Some(story) = story {
        actions.push(Action::link("Watch the story", &story.url));
    }
    Card::new(panel, actions)
}

/// A theme's facilitator pack, for sharing in a channel before a session.
pub fn pack_card(library: &Library, theme: &Theme) -> Card {
    let stories: Vec<String> = library.stories_for(&theme.slug).map(story_line).collect();
    let concern = concern_of(Some(theme), library.stories_for(&theme.slug));
    let mut panel = Panel::new(
        format!("Facilitator pack: {}", theme.title),
        format!("{}\n\n{}", theme.summary, theme.about),
        Colour::Theme(theme.colour),
    )
    .footer(dna_of_care_footer(&format!(
        "{} reflection prompts in this theme · /prompt theme:{}",
        theme.prompts.len(),
        theme.slug
    )));
    let mut actions = pack_buttons(theme, DNA_OF_CARE_URL);
    let resources = match (&theme.presentation_url, actions.len()) {
        (Some(_), 1) => "The facilitator's guide helps you plan and run a session; the presentation supports it on screen. Both are on the page the button opens.",
        (Some(_), _) => "The facilitator's guide helps you plan and run a session; the presentation supports it on screen.",
        (None, _) => "The facilitator's guide helps you plan and run a session on this theme.",
    };
    panel = panel.field("What is in the pack", resources, false);
    if !stories.is_empty() {
        // No source says which story fits which theme: the pairing is ours, and says so.
        panel = panel.field(
            "Stories careprompt pairs with this theme",
            format!(
                "{}\n{}",
                stories.join("\n"),
                if stories.len() == 1 {
                    STORY_NOTE
                } else {
                    STORIES_NOTE
                }
            ),
            false,
        );
    }
    panel = with_concern(panel, concern);
    actions.push(save_button(None, BookmarkKind::Pack, &theme.slug));
    Card::new(panel, actions)
}

/// One reflection prompt, asked for with `/prompt`.
pub fn prompt_card(theme: &Theme, prompt: &Prompt) -> Card {
    let panel = Panel::new(
        format!("A moment to reflect: {}", theme.title),
        prompt.text.clone(),
        Colour::Theme(theme.colour),
    )
    .footer(dna_of_care_footer(&format!("prompt {}", prompt.id)));
    let panel = optional_field(with_concern(panel, theme.concern.as_deref()));
    Card::new(
        panel,
        vec![
            save_button(None, BookmarkKind::Prompt, &prompt.id),
            Action::link("About this theme", &theme.guide_url),
        ],
    )
}

/// One story, asked for with `/story`.
pub fn story_card(library: &Library, story: &Story) -> Card {
    let themes: Vec<&str> = story
        .themes
        .iter()
        .filter_map(|slug| library.theme(slug).map(|theme| theme.title.as_str()))
        .collect();
    let colour = story
        .themes
        .first()
        .and_then(|slug| library.theme(slug))
        .map_or(Colour::Neutral, |theme| Colour::Theme(theme.colour));
    let panel = Panel::new(
        story.title.clone(),
        format!("Told by {}. {STORY_NOTE}", story.storyteller),
        colour,
    )
    .link(story.url.clone())
    .field("Themes", themes.join(", "), false)
    .footer(STORY_CREDIT);
    // A story tagged for a theme about bullying carries the same safe next step as that theme's
    // cards.
    let panel = optional_field(with_concern(panel, story.concern.as_deref()));
    Card::new(
        panel,
        vec![
            save_button(None, BookmarkKind::Story, &story.id),
            Action::link("Watch the story", &story.url),
        ],
    )
}

/// The answer to `/story` for a theme with no story yet: said plainly, with the way to the whole
/// DNA of Care collection, rather than an error that leaves the person with nothing to watch.
pub fn no_story_card(theme: &Theme) -> Card {
    let panel = Panel::new(
        format!("No story for {} yet", theme.title),
        format!(
            "careprompt's library has no story for {} yet. The Patient Voices DNA of Care collection has more staff stories to watch; /story without a theme picks one of ours.",
            theme.title
        ),
        Colour::Theme(theme.colour),
    );
    Card::new(
        with_concern(panel, theme.concern.as_deref()),
        vec![Action::link(
            "DNA of Care stories at Patient Voices",
            PATIENT_VOICES_DNA_OF_CARE_URL,
        )],
    )
}

/// The list of themes, for `/themes`.
pub fn themes_card(library: &Library) -> Card {
    let fields = library.themes.iter().map(|theme| {
        let note = if theme.in_rotation {
            ""
        } else {
            "\n(Not in the weekly rotation; always available on request.)"
        };
        (
            theme.title.clone(),
            format!("{}{note}", theme.summary),
            false,
        )
    });
    let panel = Panel::new(
        "DNA of Care themes",
        "Each theme has a facilitator pack, staff stories and reflection prompts. Use /pack to share a pack with your team.",
        Colour::Neutral,
    )
    .fields(fields);
    Card::new(panel, Vec::new())
}

fn support_field(
    name: &str,
    how: &str,
    when: Option<&str>,
    url: Option<&str>,
) -> (String, String, bool) {
    let mut value = how.to_string();
    if let Some(when) = when {
        value.push_str(&format!("\n{when}"));
    }
    if let Some(url) = url {
        value.push_str(&format!("\n{url}"));
    }
    (name.to_string(), value, false)
}

/// Where to get help, for `/support`: 999 in the first words, then the organisation's own
/// service, then the nation's lines in the order `Library::support_lines_for` gives. The title
/// names the nation, so staff can tell when careprompt was set up for another one.
pub fn support_card(org: Option<&OrgSupport>, lines: &[SupportLine], nation: Nation) -> Card {
    let mut fields = Vec::new();
    if let Some(org) = org {
        fields.push(support_field(
            &org.name,
            &org.how,
            org.when.as_deref(),
            org.url.as_deref(),
        ));
    }
    for line in lines {
        fields.push(support_field(
            &line.name,
            &line.how,
            Some(&line.when),
            line.url.as_deref(),
        ));
    }
    // Not "these services are confidential": 999 and several lines are not, and a claim about a
    // line belongs on that line, with its source.
    let panel = Panel::new(
        format!("Support when you need it (lines for {})", nation.name()),
        "You do not have to manage on your own. If someone's life is at risk, call 999. Only you can see this message.",
        Colour::Neutral,
    )
    .fields(fields);
    Card::new(panel, Vec::new())
}

/// The commands and what they do, for `/help`.
pub fn help_card() -> Card {
    let commands = [
        ("/themes", "The DNA of Care themes, each in a sentence."),
        ("/pack theme", "A theme's facilitator pack: the guide, the presentation and its stories. Shared in the channel; add private:true to see it on your own. Bullying and harassment stays private unless you add share:true."),
        ("/prompt [theme]", "A reflection prompt, just for you. Add share:true to post it for the team."),
        ("/story [theme]", "A staff story to watch, just for you. Add share:true to post it for the team."),
        ("/support", "Where to get help. Only you see the answer."),
        ("/upcoming", "The next reflection posts in this channel, if it has a schedule."),
        ("/schedule", "For server admins (Manage Server): post a reflection prompt and a staff story in a channel on a schedule, weekly by default. set, list, preview, pause, resume, skip, remove and post-now. The buttons on a post let anyone save it, open the facilitator pack or find support, privately."),
        ("/bookmarks list", "What you saved with a Save button, newest first, ten a page, as each was when you saved it. /bookmarks remove takes one away. Only you see them."),
        ("/optin, /optout", "Get this server's scheduled posts by direct message as well, or stop. /mute and /unmute leave a theme out of your DMs."),
        ("/session", "For facilitators (Manage Server, or the role set with /session role): run a reflective session on a theme in a thread, stage by stage. plan shows you the outline and a brief for you alone; start opens the thread (30, 45 or 60 minutes, add auto:true to move on by the clock), though bullying and harassment, and equality and diversity, ask you a question privately first; end finishes it. Anyone in the channel can read the thread, also after it is archived. A session still running 4 hours after it started (or the time whoever runs careprompt set) is ended for you."),
        ("/insights [weeks]", "For server admins (Manage Server) and facilitators: how careprompt is used here, per theme and week, sessions included, as a summary, a chart and a CSV file, with small counts of people hidden. Only you see it."),
        ("/mydata", "A file with everything careprompt holds about you, in every server. Only you see it."),
        ("/forget-me", "Erase everything careprompt holds about you, in every server, after you confirm."),
        ("/about", "What careprompt is, what it keeps about you, for how long, and how to erase it."),
    ];
    let panel = Panel::new(
        "careprompt: how to use it",
        "careprompt brings the DNA of Care programme into your team chat: a reflection prompt and a staff story in your channel on a regular schedule, rotating through the themes, and the facilitator packs when you want to run a session. Replying to a post is always optional.\n\nWant to show someone before they join Discord? `careprompt try` runs the real careprompt on one computer with a web page standing in for Discord: nothing leaves that computer, and it is a try-out, not a way to run careprompt for a team (see the README).",
        Colour::Neutral,
    )
    .fields(commands.iter().map(|(name, text)| (*name, *text, false)));
    Card::new(panel, Vec::new())
}

/// What careprompt is and what it keeps, for `/about`.
pub fn about_card(dna_of_care_url: &str) -> Card {
    let panel = Panel::new(
        "About careprompt",
        "careprompt shares the NHS DNA of Care programme in team chat. DNA of Care was created by NHS England with NHS Employers and Patient Voices from the stories of NHS staff.",
        Colour::Neutral,
    )
    .field(
            "What it keeps about your team",
            "Each channel's schedule (when to post, its place in the themes, and who set it up) and a record of each scheduled post, so nothing is posted twice or lost. For a reflective session: its channel, thread, theme, stage and times, and who runs it, never what anyone writes in the thread (Discord keeps the thread, and anyone in the channel can read it); it is deleted 30 days after it ends (or the period whoever runs careprompt set). When careprompt is removed from a server, that server's schedules and its members' DM opt-ins for it are erased after 30 days (or the period whoever runs careprompt set).",
            false,
        )
    .field(
            "What it keeps about you",
            "Only what you choose: the items you keep with the Save button (with their text as it was when you saved them), the servers you asked for DMs from (/optin), the themes you muted (/mute), and a record of the DMs it sent you, so it never sends one twice and stops if your DMs are closed. When you save a card or opt in, a usage record of the week, the theme and a keyed hash in place of your name, so that /insights can count people without naming anyone. It never reads the messages in your channels and does not record who uses its commands.",
            false,
        )
    .field(
            "How long, and how to erase it",
            "Until you remove it: /bookmarks remove, /optout and /unmute take single things away, /mydata shows you all of it, and /forget-me erases all of it at once, in every server. Usage records go by themselves after 53 weeks. Schedules you set up stay for your team without your name; a session you are running is ended, and the sessions you ran no longer say who ran them.",
            false,
        )
    .field(
            "What it posts",
            "Only what a server admin scheduled: a prompt and a story in the chosen channel, and by DM to those who asked with /optin. It pings nobody unless an admin chose one role to ping.",
            false,
        )
    .field("Who sees your answers", "Replies about you, such as /support, are shown only to you.", false);
    Card::new(
        panel,
        vec![Action::link(
            "DNA of Care at NHS Employers",
            dna_of_care_url,
        )],
    )
}
