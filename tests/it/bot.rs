//! careprompt's commands end to end: the real serenity/poise client against the fake Discord,
//! through a rate-limit proxy ("proxy mode") and straight to discord.com ("default mode").

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use careprompt::cards::PATIENT_VOICES_DNA_OF_CARE_URL;
use careprompt::clock::ManualClock;
use careprompt::config::{self, Config, OrgSupport, PackOverride, Token};
use careprompt::discord::RetryPolicy;
use careprompt::domain::content::{Library, Nation, DNA_OF_CARE_URL};
use careprompt::ops::Shards;
use careprompt::scheduler::SchedulerOptions;
use careprompt::startup::{load_content, Application, Loaded, StartOptions};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::{
    CommandInvocation, FakeDiscord, Fault, InteractionReply, RouteMatch, GATEWAY_WAIT, TOKEN,
};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Proxy,
    Default,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shipped_library() -> Library {
    careprompt::library::built_in().expect("shipped content loads")
}

/// A bot running in this process against `fake`.
pub struct RunningBot {
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<anyhow::Result<()>>,
    built: Option<oneshot::Receiver<Arc<Shards>>>,
}

impl RunningBot {
    /// Waits until every shard has connected and settled which servers careprompt is in, so
    /// data the test then writes for a server cannot be mistaken for a server left while away.
    pub async fn wait_settled(&mut self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let built = self.built.take().expect("waited for once");
        let shards = tokio::time::timeout_at(deadline, built)
            .await
            .expect("the bot is built in time")
            .expect("the bot was built");
        while !shards.all_connected() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot's shards did not settle in time"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asks the bot to shut down as SIGTERM would, and returns how `run` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("the bot stops in time")
            .expect("the bot task did not panic")
    }

    /// Waits for `run` to end by itself (a failed start).
    pub async fn ended(self) -> anyhow::Result<()> {
        tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("the bot ends in time")
            .expect("the bot task did not panic")
    }
}

pub fn base_config(fake: &FakeDiscord, mode: Mode) -> Config {
    let mut config = Config::default();
    config.content.dir = Some(repo().join("prompts"));
    config.database.url = "sqlite::memory:".to_string();
    if mode == Mode::Proxy {
        config.discord.proxy_url = Some(fake.proxy_base_url());
    }
    config
}

/// The time every bot test starts at, unless it brings its own clock.
pub const TEST_START: &str = "2027-03-20T12:00:00Z";

pub fn spawn_bot(fake: &FakeDiscord, mode: Mode, token: &str, config: Config) -> RunningBot {
    let clock = ManualClock::new(TEST_START.parse().expect("time"));
    spawn_bot_with_clock(fake, mode, token, config, clock)
}

/// A bot on a clock the test moves, so scheduled posts fall due when the test says.
pub fn spawn_bot_with_clock(
    fake: &FakeDiscord,
    mode: Mode,
    token: &str,
    config: Config,
    clock: ManualClock,
) -> RunningBot {
    let loaded = config::LoadedConfig::from_config(config);
    let Loaded { settings, library } = load_content(&loaded).expect("content and config are valid");
    let options = StartOptions {
        http_client: (mode == Mode::Default).then(|| fake.default_mode_client()),
        retry: RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(20),
        },
        clock: Arc::new(clock),
        shutdown_grace: Duration::from_secs(10),
        scheduler: SchedulerOptions::default(),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let (built, built_rx) = oneshot::channel();
    let token = Token::new(token);
    let handle = tokio::spawn(async move {
        let application = Application::build(settings, library, token, options).await?;
        let _ = built.send(application.shards());
        application
            .run_until_stopped(async move {
                let _ = stopped.await;
            })
            .await
    });
    RunningBot {
        stop: Some(stop),
        handle,
        built: Some(built_rx),
    }
}

/// Starts the fake and a bot connected to it.
pub async fn start(mode: Mode, tweak: impl FnOnce(&mut Config)) -> (FakeDiscord, RunningBot) {
    let fake = FakeDiscord::start().await;
    let mut config = base_config(&fake, mode);
    tweak(&mut config);
    let mut bot = spawn_bot(&fake, mode, TOKEN, config);
    bot.wait_settled(GATEWAY_WAIT).await;
    (fake, bot)
}

pub async fn finish(fake: FakeDiscord, bot: RunningBot) {
    bot.stop().await.expect("the bot shuts down cleanly");
    fake.assert_no_violations();
}

pub(crate) fn assert_pings_nobody(reply: &InteractionReply) {
    assert_pings_at_most(&reply.data, None);
}

/// A message as the bot sent it (a reply, an edit or a post) lets nothing in it ping anyone,
/// except `role`, when an admin configured that role ping.
pub(crate) fn assert_pings_at_most(message: &Value, role: Option<u64>) {
    let mentions = message
        .get("allowed_mentions")
        .filter(|mentions| !mentions.is_null())
        .unwrap_or_else(|| panic!("every message sets allowed_mentions: {message}"));
    assert_eq!(mentions["parse"], json!([]), "{mentions}");
    assert!(
        mentions
            .get("users")
            .is_none_or(|users| users == &json!([])),
        "{mentions}"
    );
    let configured = json!(role
        .map(|role| role.to_string())
        .into_iter()
        .collect::<Vec<_>>());
    assert!(
        mentions
            .get("roles")
            .is_none_or(|roles| roles == &json!([]) || roles == &configured),
        "{mentions}"
    );
}

fn embed(reply: &InteractionReply) -> Value {
    let embeds = reply.embeds();
    assert_eq!(embeds.len(), 1, "one embed expected: {:?}", reply.data);
    embeds[0].clone()
}

/// The link buttons; the only other button a card may carry is Save.
fn link_buttons(reply: &InteractionReply) -> Vec<(String, String)> {
    reply
        .buttons()
        .iter()
        .filter(|button| {
            !button["custom_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("cp:save:"))
        })
        .map(|button| {
            assert_eq!(button["style"], 5, "only link buttons: {button}");
            (
                button["label"].as_str().unwrap_or_default().to_string(),
                button["url"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// An ephemeral error reply: short text, no embed.
fn assert_private_error(reply: &InteractionReply, hint: &str) {
    assert!(reply.ephemeral(), "errors are private: {:?}", reply.data);
    let text = reply.content().expect("an error says what to do");
    assert!(text.contains(hint), "wanted {hint:?} in {text:?}");
    assert_pings_nobody(reply);
}

async fn themes_are_listed_privately(mode: Mode) {
    let (fake, bot) = start(mode, |_| {}).await;
    let reply = fake
        .run_command(CommandInvocation::guild("themes"))
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    assert_pings_nobody(&reply);
    let library = shipped_library();
    let fields = embed(&reply)["fields"].as_array().cloned().expect("fields");
    let names: Vec<&str> = fields
        .iter()
        .filter_map(|field| field["name"].as_str())
        .collect();
    let titles: Vec<&str> = library
        .themes
        .iter()
        .map(|theme| theme.title.as_str())
        .collect();
    assert_eq!(names, titles);
    assert!(fields[0]["value"]
        .as_str()
        .unwrap_or_default()
        .contains(&library.themes[0].summary));
    let tls = fake
        .requests()
        .iter()
        .filter(|request| request.is("POST", "/interactions/"))
        .all(|request| request.tls);
    assert_eq!(
        tls,
        mode == Mode::Default,
        "default mode talks to discord.com over TLS; proxy mode to the proxy"
    );
    finish(fake, bot).await;
}

#[tokio::test]
async fn pack_is_shared_in_the_channel_with_its_links_and_stories() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let library = shipped_library();
    let reply = fake
        .run_command(CommandInvocation::guild("pack").option_str("theme", "compassion"))
        .await
        .expect("answered");
    assert!(!reply.ephemeral(), "a pack is for sharing");
    assert_pings_nobody(&reply);
    let card = embed(&reply);
    assert!(
        card["title"]
            .as_str()
            .unwrap_or_default()
            .contains("Compassion"),
        "{card}"
    );
    let theme = library.theme("compassion").expect("theme");
    assert_eq!(card["color"], theme.colour);
    let stories = card["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|field| field["name"] == "Stories careprompt pairs with this theme")
        .expect("stories field")
        .clone();
    for story in library.stories_for("compassion") {
        assert!(
            stories["value"]
                .as_str()
                .unwrap_or_default()
                .contains(&story.url),
            "{} missing",
            story.title
        );
    }
    // The guide and the presentation are on one NHS Employers page: one honest button.
    assert_eq!(
        link_buttons(&reply),
        [(
            "Facilitator packs at NHS Employers".to_string(),
            DNA_OF_CARE_URL.to_string()
        )]
    );

    let compassion_private = fake
        .run_command(
            CommandInvocation::guild("pack")
                .option_str("theme", "compassion")
                .option_bool("private", true),
        )
        .await
        .expect("answered");
    assert!(compassion_private.ephemeral());

    // Looking up bullying and harassment says something about the person: private by default.
    let private = fake
        .run_command(
            CommandInvocation::guild("pack").option_str("theme", "bullying-and-harassment"),
        )
        .await
        .expect("answered");
    assert!(private.ephemeral());
    let shared = fake
        .run_command(
            CommandInvocation::guild("pack")
                .option_str("theme", "bullying-and-harassment")
                .option_bool("share", true),
        )
        .await
        .expect("answered");
    assert!(!shared.ephemeral());
    let labels: Vec<String> = link_buttons(&private)
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    assert_eq!(
        labels,
        ["Facilitator packs at NHS Employers"],
        "bullying and harassment has a guide only, on the NHS Employers page"
    );
    finish(fake, bot).await;
}

#[tokio::test]
async fn pack_links_to_the_organisations_own_copy_when_configured() {
    let own = "https://intranet.example.nhs.uk/dna/resilience-guide.pdf";
    let (fake, bot) = start(Mode::Proxy, |config| {
        config.packs.insert(
            "resilience".into(),
            PackOverride {
                guide_url: Some(own.into()),
                presentation_url: None,
            },
        );
    })
    .await;
    let reply = fake
        .run_command(CommandInvocation::guild("pack").option_str("theme", "resilience"))
        .await
        .expect("answered");
    assert_eq!(
        link_buttons(&reply)[0],
        ("Facilitator guide".to_string(), own.to_string())
    );
    assert_eq!(link_buttons(&reply)[1].1, DNA_OF_CARE_URL);
    finish(fake, bot).await;
}

#[tokio::test]
async fn prompt_is_private_unless_shared_and_comes_from_the_theme() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let library = shipped_library();
    let theme = library.theme("resilience").expect("theme");
    let reply = fake
        .run_command(CommandInvocation::guild("prompt").option_str("theme", "resilience"))
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    assert_pings_nobody(&reply);
    let card = embed(&reply);
    let text = card["description"].as_str().expect("prompt text");
    assert!(
        theme.prompts.iter().any(|prompt| prompt.text == text),
        "{text} is not a resilience prompt"
    );
    assert!(card["title"]
        .as_str()
        .unwrap_or_default()
        .contains(&theme.title));

    let shared = fake
        .run_command(
            CommandInvocation::guild("prompt")
                .option_str("theme", "resilience")
                .option_bool("share", true),
        )
        .await
        .expect("answered");
    assert!(!shared.ephemeral());
    assert_pings_nobody(&shared);

    let any = fake
        .run_command(CommandInvocation::dm("prompt"))
        .await
        .expect("answered in a DM too");
    let text = embed(&any)["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(library
        .themes
        .iter()
        .flat_map(|theme| &theme.prompts)
        .any(|prompt| prompt.text == text));
    finish(fake, bot).await;
}

#[tokio::test]
async fn story_comes_from_the_theme_with_credit_and_a_watch_button() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let library = shipped_library();
    let reply = fake
        .run_command(
            CommandInvocation::guild("story").option_str("theme", "improvement-and-change"),
        )
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    let card = embed(&reply);
    let url = card["url"].as_str().expect("story url");
    let story = library
        .stories_for("improvement-and-change")
        .find(|story| story.url == url)
        .expect("a story of the theme");
    assert_eq!(card["title"], story.title.as_str());
    assert!(card["footer"]["text"]
        .as_str()
        .unwrap_or_default()
        .contains("Pilgrim Projects"));
    assert_eq!(
        link_buttons(&reply),
        [("Watch the story".to_string(), story.url.clone())]
    );
    let shared = fake
        .run_command(CommandInvocation::guild("story").option_bool("share", true))
        .await
        .expect("answered");
    assert!(!shared.ephemeral());
    assert_pings_nobody(&shared);
    finish(fake, bot).await;
}

/// A theme with no story is answered, not refused: plainly, with the way to the whole collection.
#[tokio::test]
async fn story_for_a_theme_without_one_points_to_the_dna_of_care_collection() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let library = shipped_library();
    assert_eq!(
        library.stories_for("equality-and-diversity").count(),
        0,
        "this test needs a theme with no story"
    );
    let reply = fake
        .run_command(
            CommandInvocation::guild("story").option_str("theme", "equality-and-diversity"),
        )
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    assert_pings_nobody(&reply);
    let card = embed(&reply);
    assert!(
        card["description"]
            .as_str()
            .unwrap_or_default()
            .contains("careprompt's library has no story for Equality and diversity yet"),
        "{card}"
    );
    assert_eq!(
        link_buttons(&reply),
        [(
            "DNA of Care stories at Patient Voices".to_string(),
            PATIENT_VOICES_DNA_OF_CARE_URL.to_string()
        )]
    );
    let shared = fake
        .run_command(
            CommandInvocation::guild("story")
                .option_str("theme", "equality-and-diversity")
                .option_bool("share", true),
        )
        .await
        .expect("answered");
    assert!(!shared.ephemeral(), "a facilitator may share where to look");
    finish(fake, bot).await;
}

#[tokio::test]
async fn support_is_always_private_and_puts_the_organisation_first() {
    let (fake, bot) = start(Mode::Proxy, |config| {
        config.support.org = Some(OrgSupport {
            name: "Ward 7 wellbeing service".into(),
            how: "Call 01234 567890".into(),
            when: Some("Weekdays 8am to 6pm".into()),
            url: None,
        });
    })
    .await;
    for invocation in [
        CommandInvocation::guild("support"),
        CommandInvocation::dm("support"),
    ] {
        let reply = fake.run_command(invocation).await.expect("answered");
        assert!(
            reply.ephemeral(),
            "nobody else may see that someone asked for support"
        );
        assert_pings_nobody(&reply);
        let fields = embed(&reply)["fields"].as_array().cloned().expect("fields");
        assert_eq!(fields[0]["name"], "Ward 7 wellbeing service");
        assert_eq!(fields[1]["name"], "Emergency", "999 straight after ours");
        let all = serde_json::to_string(&fields).expect("json");
        for fact in ["116 123", "SHOUT", "85258", "0300 0303 300", "999"] {
            assert!(all.contains(fact), "{fact} missing from support");
        }
    }
    finish(fake, bot).await;
}

/// A nation, what its `/support` shows and must not show, what its concern part says, and the
/// lines `/support` lists after the organisation's own, in order.
type NationCase = (
    Nation,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// What `/support` and the shared bullying-and-harassment pack say in each nation, and the order
/// `/support` lists its lines in: 999, then the lines open around the clock, then those with
/// hours, then those to look up.
#[tokio::test]
async fn support_and_the_bullying_pack_follow_the_configured_nation() {
    let cases: [NationCase; 4] = [
        (
            Nation::England,
            &[
                "0300 0303 300",
                "116 123",
                "85258",
                "999",
                "choose the mental health option",
            ],
            &[
                "0808 164 0123",
                "Breathing Space",
                "Lifeline",
                "Workforce Specialist",
            ],
            &[
                "Freedom to Speak Up Guardian",
                "Acas",
                "0300 123 1100",
                "Equality Act 2010",
                "Sexual Safety Charter",
                "reasonable steps to prevent",
            ],
            &[
                "Emergency",
                "Samaritans",
                "Shout",
                "NHS 111 (England)",
                "NHS Practitioner Health (England)",
            ],
        ),
        (
            Nation::Wales,
            &["option 2", "hhpwales.nhs.wales", "116 123", "999"],
            &[
                "0300 0303 300",
                "Breathing Space",
                "Lifeline",
                // Third party only, and at risk: out until a person confirms it for a release.
                "0808 164 0123",
            ],
            &[
                "Respect and Resolution",
                "Speaking Up Safely",
                "Acas",
                "Equality Act 2010",
                "reasonable steps to prevent sexual harassment",
            ],
            &[
                "Emergency",
                "Samaritans",
                "Shout",
                "NHS 111 Wales",
                "Health for Health Professionals Wales",
            ],
        ),
        (
            Nation::Scotland,
            &[
                "Breathing Space",
                "0800 83 85 87",
                "NHS 24",
                "116 123",
                "999",
            ],
            &[
                "0300 0303 300",
                "0808 164 0123",
                "Lifeline",
                "Workforce Specialist",
            ],
            &[
                "NHSScotland Bullying and Harassment Policy",
                "Acas",
                "Equality Act 2010",
                "reasonable steps to prevent sexual harassment",
                "Independent National Whistleblowing Officer",
                "your employer's procedure",
            ],
            &[
                "Emergency",
                "Samaritans",
                "Shout",
                "NHS 24 mental health hub",
                "Breathing Space",
            ],
        ),
        (
            Nation::NorthernIreland,
            &[
                "Lifeline",
                "0808 808 8000",
                "occupational health",
                "116 123",
                "999",
            ],
            &["0300 0303 300", "Breathing Space", "0808 164 0123"],
            &[
                "dignity at work policy",
                "Equality Commission for Northern Ireland",
                "028 9050 0600",
                "raising a concern policy",
                "RQIA",
                "Labour Relations Agency",
                "lra.org.uk",
            ],
            &[
                "Emergency",
                "Samaritans",
                "Shout",
                "Lifeline",
                "Your Trust's occupational health service",
            ],
        ),
    ];
    let names = |nation: Nation| -> &'static str {
        match nation {
            Nation::England => "England",
            Nation::Wales => "Wales",
            Nation::Scotland => "Scotland",
            Nation::NorthernIreland => "Northern Ireland",
        }
    };
    for (nation, shown, hidden, concern, order) in cases {
        let (fake, bot) = start(Mode::Proxy, |config| {
            config.support.nation = nation;
            config.support.org = Some(OrgSupport {
                name: "Our wellbeing team".into(),
                how: "Call 01234 567890".into(),
                when: None,
                url: None,
            });
        })
        .await;
        let reply = fake
            .run_command(CommandInvocation::guild("support"))
            .await
            .expect("answered");
        assert!(reply.ephemeral());
        let card = embed(&reply);
        assert_eq!(
            card["title"],
            format!("Support when you need it (lines for {})", names(nation)),
            "the title names the nation"
        );
        assert!(
            card["description"]
                .as_str()
                .is_some_and(|text| text.contains("If someone's life is at risk, call 999.")),
            "{nation}: 999 in the first words: {card}"
        );
        let fields = card["fields"].as_array().cloned().expect("fields");
        assert_eq!(
            fields[0]["name"], "Our wellbeing team",
            "{nation}: ours first"
        );
        assert_eq!(
            fields[1]["name"], "Emergency",
            "{nation}: 999 straight after ours"
        );
        let listed: Vec<&str> = fields[1..]
            .iter()
            .filter_map(|field| field["name"].as_str())
            .collect();
        assert_eq!(
            listed, order,
            "{nation}: 999, then around the clock, then hours, then look-ups"
        );
        let all = serde_json::to_string(&fields).expect("json");
        for fact in shown {
            assert!(all.contains(fact), "{nation}: {fact} missing from {all}");
        }
        for fact in hidden {
            assert!(!all.contains(fact), "{nation}: {fact} shown in {all}");
        }

        let pack = fake
            .run_command(
                CommandInvocation::guild("pack")
                    .option_str("theme", "bullying-and-harassment")
                    .option_bool("share", true),
            )
            .await
            .expect("answered");
        let card = embed(&pack);
        let part = card["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|field| field["name"] == "Raising a concern")
            .unwrap_or_else(|| panic!("{nation}: no concern part in {card}"))
            .clone();
        let text = part["value"].as_str().unwrap_or_default();
        for fact in concern
            .iter()
            .chain(&["a manager who is not involved", "/support"])
        {
            assert!(text.contains(fact), "{nation}: {fact} missing from {text}");
        }
        let prompt = fake
            .run_command(
                CommandInvocation::guild("prompt").option_str("theme", "bullying-and-harassment"),
            )
            .await
            .expect("answered");
        assert!(
            embed(&prompt).to_string().contains(concern[0]),
            "{nation}: the prompt card has the concern part too"
        );
        let compassion = fake
            .run_command(CommandInvocation::guild("pack").option_str("theme", "compassion"))
            .await
            .expect("answered");
        assert!(!embed(&compassion).to_string().contains("Raising a concern"));
        finish(fake, bot).await;
    }
}

#[tokio::test]
async fn help_and_about_are_private_and_describe_the_commands_and_data() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let help = fake
        .run_command(CommandInvocation::guild("help"))
        .await
        .expect("answered");
    assert!(help.ephemeral());
    let names: Vec<String> = embed(&help)["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|field| field["name"].as_str().map(str::to_string))
        .collect();
    for command in [
        "/themes",
        "/pack",
        "/prompt",
        "/story",
        "/support",
        "/upcoming",
        "/schedule",
        "/about",
    ] {
        assert!(
            names.iter().any(|name| name.starts_with(command)),
            "{command} missing from help"
        );
    }
    let about = fake
        .run_command(CommandInvocation::dm("about"))
        .await
        .expect("answered");
    assert!(about.ephemeral());
    let card = embed(&about);
    assert!(serde_json::to_string(&card["fields"])
        .unwrap_or_default()
        .contains("never reads the messages"));
    let fields = serde_json::to_string(&card["fields"]).unwrap_or_default();
    assert!(
        fields.contains("schedule") && fields.contains("Save button"),
        "about says what is kept: {fields}"
    );
    assert_eq!(link_buttons(&about)[0].1, DNA_OF_CARE_URL);
    finish(fake, bot).await;
}

#[tokio::test]
async fn upcoming_shows_the_channel_s_schedule_or_says_there_is_none() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let none = fake
        .run_command(CommandInvocation::guild("upcoming"))
        .await
        .expect("answered");
    assert!(none.ephemeral());
    assert!(
        serde_json::to_string(&none.embeds())
            .unwrap_or_default()
            .contains("no reflection post schedule"),
        "{none:?}"
    );
    let set = fake
        .run_command(
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", crate::support::CHANNEL_ID, 0)
                .permissions(crate::support::ADMIN_PERMISSIONS),
        )
        .await
        .expect("answered");
    assert!(set.ephemeral());
    let reply = fake
        .run_command(CommandInvocation::guild("upcoming"))
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    let fields = embed(&reply)["fields"].as_array().cloned().expect("fields");
    // The bot's clock says Saturday 20 March 2027: the next Monday is 22 March, then Easter
    // Monday (29 March) is skipped, and 9 o'clock is in summer time from 28 March.
    assert_eq!(fields[0]["name"], "Mon 22 Mar 2027, 09:00 GMT");
    assert!(fields[0]["value"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Bringing your whole self to work"));
    assert!(
        fields[1]["value"]
            .as_str()
            .unwrap_or_default()
            .contains("Easter Monday"),
        "{fields:?}"
    );
    assert_eq!(fields[2]["name"], "Mon 5 Apr 2027, 09:00 BST");

    let dm = fake
        .run_command(CommandInvocation::dm("upcoming"))
        .await
        .expect("answered");
    assert_private_error(&dm, "only works in a server");
    finish(fake, bot).await;
}

#[tokio::test]
async fn bad_options_get_a_private_explanation() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let cases: [(CommandInvocation, &[&str]); 5] = [
        (
            CommandInvocation::guild("pack").option_str("theme", "kindness"),
            &[
                "I don't know the theme \"kindness\"",
                "compassionate-leadership",
            ],
        ),
        (
            CommandInvocation::guild("story").option_str("theme", "nope"),
            &["/themes"],
        ),
        (
            CommandInvocation::guild("pack").option_int("theme", 3),
            &["wasn't quite right"],
        ),
        (CommandInvocation::guild("pack"), &["wasn't quite right"]),
        (
            CommandInvocation::guild("checkin"),
            &["I don't have that command"],
        ),
    ];
    for (invocation, hints) in cases {
        let reply = fake.run_command(invocation).await.expect("answered");
        for hint in hints {
            assert_private_error(&reply, hint);
        }
    }
    finish(fake, bot).await;
}

#[tokio::test]
async fn registration_is_global_and_valid_against_the_schema() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let put = fake
        .wait_request(
            |request| request.method == "PUT" && request.path.ends_with("/commands"),
            GATEWAY_WAIT,
        )
        .await
        .expect("registered");
    assert_eq!(put.path, "/api/v10/applications/1000/commands");
    assert_eq!(put.status, 200);
    let commands = fake.registered_commands().expect("registered");
    let names: Vec<&str> = commands
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|command| command["name"].as_str())
        .collect();
    assert_eq!(names.len(), 18, "{names:?}");
    for personal in ["bookmarks", "mydata", "forget-me"] {
        assert!(names.contains(&personal), "{names:?}");
    }
    let find = |name: &str| {
        commands
            .as_array()
            .expect("array")
            .iter()
            .find(|command| command["name"] == name)
            .unwrap_or_else(|| panic!("{name} is registered"))
            .clone()
    };
    // /insights is offered to everyone, as /session is, because Discord cannot offer it to the
    // facilitator role careprompt keeps; careprompt checks who may see it (tests/it/sessions.rs).
    let insights = find("insights");
    assert!(
        insights["default_member_permissions"].is_null(),
        "{insights}"
    );
    assert_eq!(
        insights["options"][0]["choices"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        find("pack")["options"][0]["choices"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    // /session is offered to everyone (facilitators may hold a role rather than Manage
    // Server), and its subcommands' theme options list the themes too.
    let session = find("session");
    assert!(session["default_member_permissions"].is_null());
    let start = session["options"]
        .as_array()
        .and_then(|subcommands| subcommands.iter().find(|sub| sub["name"] == "start"))
        .expect("/session start");
    assert_eq!(
        start["options"][0]["choices"].as_array().map(Vec::len),
        Some(7)
    );
    finish(fake, bot).await;
}

#[tokio::test]
async fn registration_goes_to_the_dev_guilds_when_set() {
    let (fake, bot) = start(Mode::Default, |config| {
        config.discord.dev_guild_ids = vec![2000]
    })
    .await;
    let registrations = fake.registrations();
    assert_eq!(registrations.len(), 1);
    assert_eq!(registrations[0].0, Some(2000));
    let reply = fake
        .run_command(CommandInvocation::guild("themes"))
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    finish(fake, bot).await;
}

#[tokio::test]
async fn the_bot_asks_for_no_privileged_intent() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    let identify = fake
        .gateway_frames()
        .into_iter()
        .find(|frame| frame["op"] == 2)
        .expect("IDENTIFY");
    let intents = identify["d"]["intents"].as_u64().expect("intents");
    const PRIVILEGED: u64 = (1 << 1) | (1 << 8) | (1 << 15);
    assert_eq!(intents & PRIVILEGED, 0, "intents {intents:#b}");
    assert_eq!(intents, 1, "GUILDS only");
    finish(fake, bot).await;
}

async fn commands_answered_after_gateway_trouble(mode: Mode) {
    let (fake, bot) = start(mode, |_| {}).await;
    fake.run_command(CommandInvocation::guild("themes"))
        .await
        .expect("answered before");

    fake.gateway_close(4000).await;
    fake.wait_resumed_count(1, GATEWAY_WAIT)
        .await
        .expect("resumes after close 4000");
    fake.run_command(CommandInvocation::guild("help"))
        .await
        .expect("answered after close 4000");

    fake.gateway_drop_tcp().await;
    fake.wait_resumed_count(2, GATEWAY_WAIT)
        .await
        .expect("resumes after a dropped connection");
    fake.run_command(CommandInvocation::guild("support"))
        .await
        .expect("answered after a dropped connection");

    fake.gateway_reconnect_op7().await;
    fake.wait_resumed_count(3, GATEWAY_WAIT)
        .await
        .expect("resumes after op 7");
    let reply = fake
        .run_command(CommandInvocation::guild("pack").option_str("theme", "resilience"))
        .await
        .expect("answered after op 7");
    assert!(!reply.ephemeral());
    assert_eq!(fake.identify_count(), 1, "resumed, never re-identified");
    finish(fake, bot).await;
}

fn callbacks(fake: &FakeDiscord) -> Vec<u16> {
    fake.requests()
        .iter()
        .filter(|request| request.is("POST", "/interactions/"))
        .map(|request| request.status)
        .collect()
}

async fn rate_limited_reply_is_retried(mode: Mode) {
    let (fake, bot) = start(mode, |_| {}).await;
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/interactions/"),
        retry_after_secs: 0.2,
        global: false,
        times: 1,
    });
    let reply = fake
        .run_command(CommandInvocation::guild("support"))
        .await
        .expect("answered after the 429");
    assert!(reply.ephemeral());
    assert_eq!(callbacks(&fake), [429, 204]);
    let attempts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|request| request.is("POST", "/interactions/"))
        .collect();
    // A lower bound only: it holds however slow the machine is.
    assert!(
        attempts[1].received - attempts[0].received >= Duration::from_millis(200),
        "the retry came before the 0.2 s Discord asked for"
    );
    finish(fake, bot).await;
}

async fn unavailable_reply_is_retried(mode: Mode) {
    let (fake, bot) = start(mode, |_| {}).await;
    fake.inject(Fault::ServerError {
        route: RouteMatch::new("POST", "/interactions/"),
        status: 503,
        times: 1,
    });
    fake.inject(Fault::ServerError {
        route: RouteMatch::new("POST", "/interactions/"),
        status: 502,
        times: 1,
    });
    let reply = fake
        .run_command(CommandInvocation::guild("themes"))
        .await
        .expect("answered after the 503 and 502");
    assert!(reply.ephemeral());
    assert_eq!(callbacks(&fake), [503, 502, 204]);
    finish(fake, bot).await;
}

#[tokio::test]
async fn a_dropped_connection_on_reply_is_retried() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    fake.inject(Fault::DropConnection {
        route: RouteMatch::new("POST", "/interactions/"),
        times: 1,
    });
    let reply = fake
        .run_command(CommandInvocation::guild("about"))
        .await
        .expect("answered after the drop");
    assert!(reply.ephemeral());
    assert_eq!(callbacks(&fake), [0, 204]);
    finish(fake, bot).await;
}

#[tokio::test]
async fn registration_that_keeps_failing_ends_the_run_with_an_error() {
    let fake = FakeDiscord::start().await;
    fake.inject(Fault::ServerError {
        route: RouteMatch::new("PUT", "/applications/"),
        status: 503,
        times: usize::MAX,
    });
    let bot = spawn_bot(&fake, Mode::Proxy, TOKEN, base_config(&fake, Mode::Proxy));
    let err = bot
        .ended()
        .await
        .expect_err("a bot that cannot register must not run");
    assert!(
        format!("{err:#}").contains("registering slash commands"),
        "{err:#}"
    );
    let attempts = fake
        .requests()
        .iter()
        .filter(|request| request.is("PUT", "/applications/"))
        .count();
    assert_eq!(attempts, 4, "retried within the policy, then gave up");
    assert_eq!(
        fake.connection_count(),
        0,
        "never went online without its commands"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn registration_rejected_outright_is_not_retried() {
    let fake = FakeDiscord::start().await;
    fake.inject(Fault::Status {
        route: RouteMatch::new("PUT", "/applications/"),
        status: 403,
        body: json!({"message": "Missing Access", "code": 50001}),
        times: usize::MAX,
    });
    let bot = spawn_bot(
        &fake,
        Mode::Default,
        TOKEN,
        base_config(&fake, Mode::Default),
    );
    let err = bot.ended().await.expect_err("fails");
    assert!(format!("{err:#}").contains("403"), "{err:#}");
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|request| request.is("PUT", "/applications/"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_bad_token_stops_the_bot_with_a_clear_message() {
    for mode in [Mode::Proxy, Mode::Default] {
        let fake = FakeDiscord::start().await;
        let bot = spawn_bot(
            &fake,
            mode,
            crate::support::BAD_TOKEN,
            base_config(&fake, mode),
        );
        let err = bot.ended().await.expect_err("a bad token cannot run");
        let text = format!("{err:#}");
        assert!(
            text.contains("token") && text.contains("DISCORD_TOKEN"),
            "{mode:?}: {text}"
        );
        assert!(
            !text.contains(crate::support::BAD_TOKEN),
            "the token is never printed"
        );
    }
}

#[tokio::test]
async fn shutdown_finishes_a_command_that_is_still_being_answered() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/interactions/"),
        retry_after_secs: 1.0,
        global: false,
        times: 1,
    });
    let interaction = fake.command_interaction(&CommandInvocation::guild("support"));
    let token = fake.send_interaction(interaction).await.expect("sent");
    fake.wait_request(
        |request| request.is("POST", "/interactions/") && request.status == 429,
        GATEWAY_WAIT,
    )
    .await
    .expect("first attempt rate limited");
    bot.stop().await.expect("clean shutdown");
    let reply = fake
        .wait_reply(&token, Duration::ZERO)
        .await
        .expect("answered before the bot stopped");
    assert!(reply.ephemeral());
    fake.assert_no_violations();
}

#[tokio::test]
async fn commands_arriving_during_shutdown_are_told_to_try_again() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    // Hold one command in flight so shutdown has to wait for it.
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/interactions/"),
        retry_after_secs: 1.0,
        global: false,
        times: 1,
    });
    let first = fake
        .send_interaction(fake.command_interaction(&CommandInvocation::guild("help")))
        .await
        .expect("sent");
    fake.wait_request(|request| request.status == 429, GATEWAY_WAIT)
        .await
        .expect("held");
    let stopping = tokio::spawn(bot.stop());
    // Until the bot notices the stop request, commands are answered as usual; from then on each
    // one is told to try again. Every one of them gets an answer either way.
    let mut refused = None;
    for _ in 0..200 {
        let reply = fake
            .run_command(CommandInvocation::guild("themes"))
            .await
            .expect("every command is answered during shutdown");
        assert!(reply.ephemeral());
        if reply.content().is_some() {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.expect("commands are refused once shutdown has begun");
    assert_private_error(&refused, "restarting");
    stopping.await.expect("join").expect("clean shutdown");
    fake.wait_reply(&first, Duration::ZERO)
        .await
        .expect("the held command was answered before the bot stopped");
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_token_revoked_while_connected_stops_the_bot() {
    let (fake, bot) = start(Mode::Proxy, |_| {}).await;
    fake.gateway_close(4004).await;
    let err = bot
        .ended()
        .await
        .expect_err("authentication failed ends the run");
    let text = format!("{err:#}");
    assert!(
        text.contains("4004") && text.contains("DISCORD_TOKEN"),
        "{text}"
    );
    fake.assert_no_violations();
}

/// Each scenario runs once through a proxy and once straight to discord.com.
macro_rules! in_both_modes {
    ($($proxy:ident, $default:ident => $scenario:ident;)*) => {$(
        #[tokio::test]
        async fn $proxy() {
            $scenario(Mode::Proxy).await;
        }

        #[tokio::test]
        async fn $default() {
            $scenario(Mode::Default).await;
        }
    )*};
}

in_both_modes! {
    themes_in_proxy_mode, themes_in_default_mode => themes_are_listed_privately;
    gateway_trouble_in_proxy_mode, gateway_trouble_in_default_mode => commands_answered_after_gateway_trouble;
    rate_limit_in_proxy_mode, rate_limit_in_default_mode => rate_limited_reply_is_retried;
    service_unavailable_in_proxy_mode, service_unavailable_in_default_mode => unavailable_reply_is_retried;
}
