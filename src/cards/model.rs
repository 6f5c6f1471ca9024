//! What a card is, on any platform: a few boxes of words and the buttons under them. A platform's
//! adapter lays it out in its own way (`crate::discord::render` for Discord).

use crate::cards::act::Act;

/// NHS blue, for cards that belong to no single theme.
pub const NHS_BLUE: u32 = 0x005EB8;

/// A message careprompt sends: plain words, boxes, buttons, or any of them together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Card {
    /// Plain words outside any box; a short answer is only this (on Discord, the message's
    /// content).
    pub note: Option<String>,
    /// The boxes, most cards one (on Discord, an embed each). A second box keeps apart what must
    /// not be taken for part of the first, such as a facilitator's brief.
    pub panels: Vec<Panel>,
    /// The buttons, in order.
    pub actions: Vec<Action>,
}

/// One box of a card.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: Option<String>,
    /// Where the title leads, such as a story's page.
    pub link: Option<String>,
    pub text: String,
    pub colour: Colour,
    pub fields: Vec<Field>,
    /// Small print at the foot of the box.
    pub footer: Option<String>,
}

/// A named part of a box. `inline` fields may sit side by side where there is room.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// A box's colour: NHS blue, or the colour of the theme it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Neutral,
    /// The theme's colour as the library gives it, `0xRRGGBB`.
    Theme(u32),
}

impl Colour {
    /// As red, green and blue, `0xRRGGBB`.
    pub fn rgb(self) -> u32 {
        match self {
            Colour::Neutral => NHS_BLUE,
            Colour::Theme(rgb) => rgb,
        }
    }
}

/// A button: a link, or something careprompt does when it is pressed.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Link {
        label: String,
        url: String,
    },
    Do {
        label: String,
        style: Style,
        act: Act,
    },
}

/// How a button looks: the main choice, a plain one, one that goes ahead, or one that cannot be
/// undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Primary,
    Secondary,
    Positive,
    Destructive,
}

impl Action {
    pub fn link(label: &str, url: &str) -> Action {
        Action::Link {
            label: label.to_string(),
            url: url.to_string(),
        }
    }

    pub fn button(label: &str, style: Style, act: Act) -> Action {
        Action::Do {
            label: label.to_string(),
            style,
            act,
        }
    }
}

impl Panel {
    pub fn new(title: impl Into<String>, text: impl Into<String>, colour: Colour) -> Panel {
        Panel {
            title: Some(title.into()),
            ..Panel::untitled(text, colour)
        }
    }

    pub fn untitled(text: impl Into<String>, colour: Colour) -> Panel {
        Panel {
            title: None,
            link: None,
            text: text.into(),
            colour,
            fields: Vec::new(),
            footer: None,
        }
    }

    pub fn field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        inline: bool,
    ) -> Panel {
        self.fields.push(Field {
            name: name.into(),
            value: value.into(),
            inline,
        });
        self
    }

    /// Fields as `(name, value, inline)`.
    pub fn fields<N: Into<String>, V: Into<String>>(
        self,
        fields: impl IntoIterator<Item = (N, V, bool)>,
    ) -> Panel {
        fields
            .into_iter()
            .fold(self, |panel, (name, value, inline)| {
                panel.field(name, value, inline)
            })
    }

    pub fn footer(mut self, footer: impl Into<String>) -> Panel {
        self.footer = Some(footer.into());
        self
    }

    pub fn link(mut self, url: impl Into<String>) -> Panel {
        self.link = Some(url.into());
        self
    }
}

impl Card {
    /// A card of one box and these buttons.
    pub fn new(panel: Panel, actions: Vec<Action>) -> Card {
        Card {
            note: None,
            panels: vec![panel],
            actions,
        }
    }
}
