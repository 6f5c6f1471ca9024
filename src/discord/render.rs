//! A card (`crate::cards`) as Discord shows it: each box an embed, the buttons in rows of five,
//! each button's act written into its custom id (`custom_id`), and nobody pinged.

use poise::serenity_prelude::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateMessage, Nonce, RoleId,
};

use crate::cards::{Action, Card, Panel, Style};

/// Discord allows at most 5 buttons in a row.
const BUTTONS_PER_ROW: usize = 5;

/// Nobody is pinged by anything careprompt writes unless an admin has configured a role ping.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().empty_users().empty_roles()
}

fn embed(panel: &Panel) -> CreateEmbed {
    let mut embed = CreateEmbed::new()
        .description(panel.text.clone())
        .colour(panel.colour.rgb())
        .fields(
            panel
                .fields
                .iter()
                .map(|field| (field.name.clone(), field.value.clone(), field.inline)),
        );
    if let Some(title) = &panel.title {
        embed = embed.title(title.clone());
    }
    if let Some(link) = &panel.link {
        embed = embed.url(link.clone());
    }
    if let Some(footer) = &panel.footer {
        embed = embed.footer(CreateEmbedFooter::new(footer.clone()));
    }
    embed
}

/// The card's boxes, an embed each.
pub fn embeds(card: &Card) -> Vec<CreateEmbed> {
    card.panels.iter().map(embed).collect()
}

fn button(action: &Action) -> CreateButton {
    match action {
        Action::Link { label, url } => CreateButton::new_link(url.clone()).label(label.clone()),
        Action::Do { label, style, act } => {
            let style = match style {
                Style::Primary => ButtonStyle::Primary,
                Style::Secondary => ButtonStyle::Secondary,
                Style::Positive => ButtonStyle::Success,
                Style::Destructive => ButtonStyle::Danger,
            };
            CreateButton::new(act.custom_id())
                .label(label.clone())
                .style(style)
        }
    }
}

/// The card's buttons, in rows.
pub fn components(card: &Card) -> Vec<CreateActionRow> {
    card.actions
        .chunks(BUTTONS_PER_ROW)
        .map(|row| CreateActionRow::Buttons(row.iter().map(button).collect()))
        .collect()
}

/// The card as Discord's message fields: what `check` proves fits Discord's limits.
pub fn json(card: &Card) -> serde_json::Value {
    serde_json::json!({
        "content": card.note,
        "embeds": embeds(card),
        "components": components(card),
        "allowed_mentions": no_pings(),
    })
}

/// The exact message a scheduled post (or a stage card, or a DM) sends. The nonce, with
/// `enforce_nonce`, lets Discord drop a re-send after a crash; the role ping, when an admin chose
/// one, is the only mention careprompt ever allows.
fn post_message(card: &Card, nonce: &str, role_ping: Option<u64>) -> CreateMessage {
    let mut mentions = no_pings();
    let mut message = CreateMessage::new()
        .embeds(embeds(card))
        .components(components(card))
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
pub fn post_body(card: &Card, nonce: &str, role_ping: Option<u64>) -> serde_json::Value {
    serde_json::to_value(post_message(card, nonce, role_ping)).unwrap_or_default()
}
