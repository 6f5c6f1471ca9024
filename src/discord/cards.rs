//! The messages careprompt sends, built once here so `check` can prove every one of them fits
//! Discord's limits before the bot ever posts it.

use poise::serenity_prelude::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateMessage, Nonce, RoleId,
};

use crate::discord::custom_id::ButtonAction;
use crate::discord::limits;
use crate::store::{Bookmark, BookmarkKind, Erased};

use crate::config::OrgSupport;
use crate::domain::content::{Library, Nation, Prompt, Story, SupportLine, Theme, DNA_OF_CARE_URL};
use crate::domain::session::{STORIES_NOTE, STORY_NOTE};

/// NHS blue, for cards that belong to no single theme.
pub const NEUTRAL_COLOUR: u32 = 0x005EB8;

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

/// Discord allows at most 5 buttons in a row.
const BUTTONS_PER_ROW: usize = 5;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Card {
    pub content: Option<String>,
    pub embeds: Vec<CreateEmbed>,
    pub buttons: Vec<CreateButton>,
}

impl Card {
    pub fn components(&self) -> Vec<CreateActionRow> {
        self.buttons
            .chunks(BUTTONS_PER_ROW)
            .map(|row| CreateActionRow::Buttons(row.to_vec()))
            .collect()
    }

    /// The JSON body Discord receives for this card as a message.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components(),
            "allowed_mentions": no_pings(),
        })
    }

    /// A channel or direct message.
    pub fn message(self) -> CreateMessage {
        let components = self.components();
        let mut message = CreateMessage::new()
            .embeds(self.embeds)
            .components(components)
            .allowed_mentions(no_pings());
        if let Some(content) = self.content {
            message = message.content(content);
        }
        message
    }
}

/// Nobody is pinged by anything careprompt writes unless an admin has configured a role ping.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().empty_users().empty_roles()
}

fn link_button(label: &str, url: &str) -> CreateButton {
    CreateButton::new_link(url).label(label)
}

/// Saves the item for whoever clicks, privately.
fn save_button(delivery: Option<i64>, kind: BookmarkKind, item_id: &str) -> CreateButton {
    CreateButton::new(
        ButtonAction::Save {
            delivery,
            kind,
            item_id: item_id.to_string(),
        }
        .custom_id(),
    )
    .label("Save")
    .style(ButtonStyle::Primary)
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
pub(crate) fn with_concern(embed: CreateEmbed, concern: Option<&str>) -> CreateEmbed {
    match concern {
        Some(concern) => embed.field(
            CONCERN_FIELD,
            format!("{concern}\n/support lists people who can help, whenever you need it."),
            false,
        ),
        None => embed,
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
fn optional_field(embed: CreateEmbed) -> CreateEmbed {
    embed.field("\u{200b}", OPTIONAL_AND_SUPPORT, false)
}

/// The pack's link buttons. One page that holds both the guide and the presentation gets one
/// button, so nobody clicks "Presentation" and lands where "Facilitator guide" took them; an
/// organisation's own separate copies get one button each.
pub(crate) fn pack_buttons(theme: &Theme, dna_of_care_url: &str) -> Vec<CreateButton> {
    match &theme.presentation_url {
        Some(presentation) if presentation != &theme.guide_url => vec![
            link_button("Facilitator guide", &theme.guide_url),
            link_button("Presentation", presentation),
        ],
        _ if theme.guide_url == dna_of_care_url => vec![link_button(
            "Facilitator packs at NHS Employers",
            &theme.guide_url,
        )],
        Some(_) => vec![link_button(
            "Facilitator guide and presentation",
            &theme.guide_url,
        )],
        None => vec![link_button("Facilitator guide", &theme.guide_url)],
    }
}

fn dna_of_care_footer(extra: &str) -> CreateEmbedFooter {
    CreateEmbedFooter::new(format!("DNA of Care · {extra}"))
}

/// A scheduled reflection post in a team channel. `delivery` is the ledger row it is sent for,
/// carried in its buttons' custom ids so a click is answered after a restart and the post can be
/// recognised later.
pub fn post_card(
    theme: &Theme,
    prompt: &Prompt,
    story: Option<&Story>,
    delivery: Option<i64>,
) -> Card {
    let mut embed = CreateEmbed::new()
        .title(format!("Time to reflect: {}", theme.title))
        .description(format!(
            "{}\n\nThink about it on your own, or talk it over with your team if you want to. There is no right answer.",
            prompt.text
        ))
        .colour(theme.colour);
    if let Some(story) = story {
        embed = embed.field(
            "A story to watch",
            format!("{}\n{STORY_NOTE}", story_line(story)),
            false,
        );
    }
    embed = with_concern(embed, concern_of(Some(theme), story.into_iter()));
    embed = optional_field(embed).footer(dna_of_care_footer(&format!("prompt {}", prompt.id)));
    let mut buttons = vec![
        save_button(delivery, BookmarkKind::Prompt, &prompt.id),
        CreateButton::new(
            ButtonAction::Pack {
                delivery,
                theme: theme.slug.clone(),
            }
            .custom_id(),
        )
        .label("Facilitator pack")
        .style(ButtonStyle::Secondary),
        CreateButton::new(ButtonAction::Support { delivery }.custom_id())
            .label("Support")
            .style(ButtonStyle::Secondary),
    ];
    if let Some(story) = story {
        buttons.push(link_button("Watch the story", &story.url));
    }
    Card {
        content: None,
        embeds: vec![embed],
        buttons,
    }
}

/// The exact message a scheduled post sends. The nonce, with `enforce_nonce`, lets Discord drop
/// a re-send after a crash; the role ping, when an admin chose one, is the only mention careprompt
/// ever allows.
pub fn post_message(card: Card, nonce: &str, role_ping: Option<u64>) -> CreateMessage {
    let components = card.components();
    let mut mentions = no_pings();
    let mut message = CreateMessage::new()
        .embeds(card.embeds)
        .components(components)
        .nonce(Nonce::String(nonce.to_string()))
        .enforce_nonce(true);
    if let Some(role) = role_ping {
        message = message.content(format!("<@&{role}>"));
        mentions = CreateAllowedMentions::new()
            .empty_users()
            .roles([RoleId::new(role.max(1))]);
    }
    message.allowed_mentions(mentions)
}

/// The JSON body of [`post_message`], as Discord receives it.
pub fn post_body(card: Card, nonce: &str, role_ping: Option<u64>) -> serde_json::Value {
    serde_json::to_value(post_message(card, nonce, role_ping)).unwrap_or_default()
}

/// A theme's facilitator pack, for sharing in a channel before a session.
pub fn pack_card(library: &Library, theme: &Theme) -> Card {
    let stories: Vec<String> = library.stories_for(&theme.slug).map(story_line).collect();
    let concern = concern_of(Some(theme), library.stories_for(&theme.slug));
    let mut embed = CreateEmbed::new()
        .title(format!("Facilitator pack: {}", theme.title))
        .description(format!("{}\n\n{}", theme.summary, theme.about))
        .colour(theme.colour)
        .footer(dna_of_care_footer(&format!(
            "{} reflection prompts in this theme · /prompt theme:{}",
            theme.prompts.len(),
            theme.slug
        )));
    let mut buttons = pack_buttons(theme, DNA_OF_CARE_URL);
    let resources = match (&theme.presentation_url, buttons.len()) {
        (Some(_), 1) => "The facilitator's guide helps you plan and run a session; the presentation supports it on screen. Both are on the page the button opens.",
        (Some(_), _) => "The facilitator's guide helps you plan and run a session; the presentation supports it on screen.",
        (None, _) => "The facilitator's guide helps you plan and run a session on this theme.",
    };
    embed = embed.field("What is in the pack", resources, false);
    if !stories.is_empty() {
        // No source says which story fits which theme: the pairing is ours, and says so.
        embed = embed.field(
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
    embed = with_concern(embed, concern);
    buttons.push(save_button(None, BookmarkKind::Pack, &theme.slug));
    Card {
        content: None,
        embeds: vec![embed],
        buttons,
    }
}

/// One reflection prompt, asked for with `/prompt`.
pub fn prompt_card(theme: &Theme, prompt: &Prompt) -> Card {
    let embed = CreateEmbed::new()
        .title(format!("A moment to reflect: {}", theme.title))
        .description(prompt.text.clone())
        .colour(theme.colour)
        .footer(dna_of_care_footer(&format!("prompt {}", prompt.id)));
    let embed = optional_field(with_concern(embed, theme.concern.as_deref()));
    Card {
        content: None,
        embeds: vec![embed],
        buttons: vec![
            save_button(None, BookmarkKind::Prompt, &prompt.id),
            link_button("About this theme", &theme.guide_url),
        ],
    }
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
        .map_or(NEUTRAL_COLOUR, |theme| theme.colour);
    let embed = CreateEmbed::new()
        .title(story.title.clone())
        .url(story.url.clone())
        .description(format!("Told by {}. {STORY_NOTE}", story.storyteller))
        .field("Themes", themes.join(", "), false)
        .colour(colour)
        .footer(CreateEmbedFooter::new(STORY_CREDIT));
    // A story tagged for a theme about bullying carries the same safe next step as that theme's
    // cards.
    let embed = optional_field(with_concern(embed, story.concern.as_deref()));
    Card {
        content: None,
        embeds: vec![embed],
        buttons: vec![
            save_button(None, BookmarkKind::Story, &story.id),
            link_button("Watch the story", &story.url),
        ],
    }
}

/// The answer to `/story` for a theme with no story yet: said plainly, with the way to the whole
/// DNA of Care collection, rather than an error that leaves the person with nothing to watch.
pub fn no_story_card(theme: &Theme) -> Card {
    let embed = CreateEmbed::new()
        .title(format!("No story for {} yet", theme.title))
        .description(format!(
            "careprompt's library has no story for {} yet. The Patient Voices DNA of Care collection has more staff stories to watch; /story without a theme picks one of ours.",
            theme.title
        ))
        .colour(theme.colour);
    let embed = with_concern(embed, theme.concern.as_deref());
    Card {
        content: None,
        embeds: vec![embed],
        buttons: vec![link_button(
            "DNA of Care stories at Patient Voices",
            PATIENT_VOICES_DNA_OF_CARE_URL,
        )],
    }
}

/// The list of themes, for `/themes`.
pub fn themes_card(library: &Library) -> Card {
    let mut embed = CreateEmbed::new()
        .title("DNA of Care themes")
        .description("Each theme has a facilitator pack, staff stories and reflection prompts. Use /pack to share a pack with your team.")
        .colour(NEUTRAL_COLOUR);
    for theme in &library.themes {
        let note = if theme.in_rotation {
            ""
        } else {
            "\n(Not in the weekly rotation; always available on request.)"
        };
        embed = embed.field(
            theme.title.clone(),
            format!("{}{note}", theme.summary),
            false,
        );
    }
    Card {
        content: None,
        embeds: vec![embed],
        buttons: Vec::new(),
    }
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
    let embed = CreateEmbed::new()
        .title(format!("Support when you need it (lines for {})", nation.name()))
        .description("You do not have to manage on your own. If someone's life is at risk, call 999. Only you can see this message.")
        .colour(NEUTRAL_COLOUR)
        .fields(fields);
    Card {
        content: None,
        embeds: vec![embed],
        buttons: Vec::new(),
    }
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
    let embed = CreateEmbed::new()
        .title("careprompt: how to use it")
        .description("careprompt brings the DNA of Care programme into your team chat: a reflection prompt and a staff story in your channel on a regular schedule, rotating through the themes, and the facilitator packs when you want to run a session. Replying to a post is always optional.\n\nWant to show someone before they join Discord? `careprompt try` runs the real careprompt on one computer with a web page standing in for Discord: nothing leaves that computer, and it is a try-out, not a way to run careprompt for a team (see the README).")
        .colour(NEUTRAL_COLOUR)
        .fields(commands.iter().map(|(name, text)| (*name, *text, false)));
    Card {
        content: None,
        embeds: vec![embed],
        buttons: Vec::new(),
    }
}

/// What careprompt is and what it keeps, for `/about`.
pub fn about_card(dna_of_care_url: &str) -> Card {
    let embed = CreateEmbed::new()
        .title("About careprompt")
        .description("careprompt shares the NHS DNA of Care programme in team chat. DNA of Care was created by NHS England with NHS Employers and Patient Voices from the stories of NHS staff.")
        .colour(NEUTRAL_COLOUR)
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
    Card {
        content: None,
        embeds: vec![embed],
        buttons: vec![link_button("DNA of Care at NHS Employers", dna_of_care_url)],
    }
}

/// Bookmarks shown on one page of `/bookmarks`.
pub const BOOKMARKS_PER_PAGE: u32 = 10;

/// Cuts `text` to at most `max` characters, marking the cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

fn kind_label(kind: BookmarkKind) -> &'static str {
    match kind {
        BookmarkKind::Prompt => "Prompt",
        BookmarkKind::Story => "Story",
        BookmarkKind::Pack => "Pack",
    }
}

/// How a bookmark is named in `/bookmarks remove`'s suggestions (Discord allows 100 characters).
/// A prompt is known by its words, anything else by its title.
pub fn bookmark_name(kind: BookmarkKind, title: &str, body: Option<&str>) -> String {
    let name = match (kind, body) {
        (BookmarkKind::Prompt, Some(body)) => format!("{title}: {body}"),
        _ => title.to_string(),
    };
    shorten(&format!("{} · {name}", kind_label(kind)), 100)
}

/// The longest link a bookmark shows; longer ones are left out so ten always fit in a message.
const LONGEST_BOOKMARK_LINK: usize = 240;

/// One page (from 0) of the person's bookmarks, newest first, as they were when saved. Each field
/// stays under 600 characters, so ten of them and the rest fit Discord's 6000.
pub fn bookmarks_card(bookmarks: &[Bookmark], page: u32, total: u64) -> Card {
    if total == 0 {
        return text_card(
            "You have no bookmarks yet. Use the Save button on a reflection post, or on the answer to /prompt, /story or /pack, to keep something here. Only you can see this.",
        );
    }
    let pages = total.div_ceil(u64::from(BOOKMARKS_PER_PAGE)).max(1);
    let first = u64::from(page) * u64::from(BOOKMARKS_PER_PAGE);
    let fields = bookmarks.iter().enumerate().map(|(index, bookmark)| {
        let name = shorten(
            &format!(
                "{}. {}: {}",
                first + index as u64 + 1,
                kind_label(bookmark.kind),
                bookmark.title
            ),
            100,
        );
        let mut value = bookmark
            .body
            .as_deref()
            .map(|body| shorten(body, 180))
            .unwrap_or_default();
        if let Some(url) = bookmark
            .url
            .as_deref()
            .filter(|url| url.chars().count() <= LONGEST_BOOKMARK_LINK)
        {
            if !value.is_empty() {
                value.push('\n');
            }
            value.push_str(url);
        }
        value.push_str(&format!(
            "\nSaved {}",
            bookmark.created_at.format("%-d %B %Y")
        ));
        (name, value, false)
    });
    let embed = CreateEmbed::new()
        .title("Your bookmarks")
        .description("Newest first, as each was when you saved it. Only you can see this. /bookmarks remove takes one away.")
        .colour(NEUTRAL_COLOUR)
        .fields(fields)
        .footer(CreateEmbedFooter::new(format!(
            "Page {} of {pages} · {total} saved",
            u64::from(page) + 1
        )));
    let mut buttons = Vec::new();
    if page > 0 {
        buttons.push(
            CreateButton::new(ButtonAction::BookmarksPage { page: page - 1 }.custom_id())
                .label("Previous")
                .style(ButtonStyle::Secondary),
        );
    }
    if u64::from(page) + 1 < pages {
        buttons.push(
            CreateButton::new(ButtonAction::BookmarksPage { page: page + 1 }.custom_id())
                .label("Next")
                .style(ButtonStyle::Secondary),
        );
    }
    Card {
        content: None,
        embeds: vec![embed],
        buttons,
    }
}

/// The question `/forget-me` asks before erasing anything.
pub fn forget_me_card() -> Card {
    let embed = CreateEmbed::new()
        .title("Erase everything careprompt holds about you?")
        .description("This erases, in every server: your bookmarks, your DM opt-ins, the themes you muted, and careprompt's record of the DMs it sent you. Schedules you set up stay for your team, but no longer say who set them up. It cannot be undone. /mydata gives you a copy first, if you want one.")
        .colour(NEUTRAL_COLOUR);
    Card {
        content: None,
        embeds: vec![embed],
        buttons: vec![
            CreateButton::new(ButtonAction::ForgetConfirm.custom_id())
                .label("Erase my data")
                .style(ButtonStyle::Danger),
            CreateButton::new(ButtonAction::ForgetCancel.custom_id())
                .label("Cancel")
                .style(ButtonStyle::Secondary),
        ],
    }
}

fn count(number: u64, one: &str, many: &str) -> String {
    if number == 1 {
        format!("1 {one}")
    } else {
        format!("{number} {many}")
    }
}

/// What `/forget-me` erased.
pub fn forgotten_card(erased: &Erased) -> Card {
    let lines = [
        count(erased.bookmarks, "bookmark", "bookmarks"),
        count(erased.dm_optins, "DM opt-in", "DM opt-ins"),
        count(erased.theme_mutes, "muted theme", "muted themes"),
        count(erased.dm_deliveries, "record of a DM", "records of DMs"),
        count(
            erased.dm_status,
            "note about your DMs",
            "notes about your DMs",
        ),
        count(
            erased.usage_records,
            "usage record (what /insights counts, without your name)",
            "usage records (what /insights counts, without your name)",
        ),
    ];
    let mut text = format!(
        "Done. careprompt has erased everything it held about you, in every server:\n- {}",
        lines.join("\n- ")
    );
    if erased.schedules_anonymised > 0 {
        text.push_str(&format!(
            "\n{} you set up {} for your team, without your name.",
            count(erased.schedules_anonymised, "schedule", "schedules"),
            if erased.schedules_anonymised == 1 {
                "stays"
            } else {
                "stay"
            }
        ));
    }
    if erased.sessions_anonymised > 0 {
        text.push_str(&format!(
            "\n{} you ran {} for your team, without your name; any still running has ended.",
            count(
                erased.sessions_anonymised,
                "reflective session",
                "reflective sessions"
            ),
            if erased.sessions_anonymised == 1 {
                "stays"
            } else {
                "stay"
            }
        ));
    }
    text.push_str("\nIf you use careprompt again, it starts from nothing.");
    text_card(&text)
}

/// The message that carries `/mydata`'s file.
pub fn my_data_card() -> Card {
    text_card("Here is everything careprompt holds about you, in every server, as a JSON file. It includes how many usage records /insights counts you by: each holds a keyed hash of you, not your name or id, with a week, a theme and what you did. Only you can see this. /forget-me erases it.")
}

/// A short confirmation in a neutral box, such as "Paused posts in #wellbeing". Cut to fit, as
/// Discord refuses a longer one and the person would get no answer at all.
pub fn note_card(text: String) -> Card {
    let text = shorten(&text, limits::MAX_EMBED_DESCRIPTION);
    Card {
        content: None,
        embeds: vec![CreateEmbed::new().description(text).colour(NEUTRAL_COLOUR)],
        buttons: Vec::new(),
    }
}

/// A short private message in plain text: what went wrong and what to do, or a confirmation.
/// Cut to fit, as Discord refuses a longer one and the person would get no answer at all.
pub fn text_card(message: &str) -> Card {
    Card {
        content: Some(shorten(message, limits::MAX_CONTENT)),
        embeds: Vec::new(),
        buttons: Vec::new(),
    }
}

/// What a new schedule would post next, for `/upcoming`.
pub fn upcoming_card(
    library: &Library,
    cron: &str,
    slots: &[crate::domain::planning::Slot],
) -> Card {
    use crate::domain::planning::Slot;
    let fields: Vec<(String, String, bool)> = slots
        .iter()
        .map(|slot| match slot {
            Slot::Post(post) => {
                let theme = library
                    .theme(&post.pick.theme)
                    .map_or(post.pick.theme.as_str(), |theme| theme.title.as_str());
                (
                    post.at_local.format("%A %-d %B %Y, %H:%M %Z").to_string(),
                    format!("{theme} (prompt {})", post.pick.prompt_id),
                    false,
                )
            }
            Slot::Skipped { at_local, holiday } => (
                at_local.format("%A %-d %B %Y").to_string(),
                format!("No post: {}", holiday.name),
                false,
            ),
        })
        .collect();
    let embed = CreateEmbed::new()
        .title("Coming up on the default schedule")
        .description(format!(
            "A new schedule (crontab `{cron}`) would post these next. Prompts are drawn at random within each theme, so the exact prompt may differ."
        ))
        .colour(NEUTRAL_COLOUR)
        .fields(fields);
    Card {
        content: None,
        embeds: vec![embed],
        buttons: Vec::new(),
    }
}
