//! `careprompt try`: its page driven in Debian's headless chromium (through chromedriver and
//! fantoccini), and its stand-in and command box answering as Discord and careprompt do.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use careprompt::tryout::{TryOptions, TryOut};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::{FakeDiscord, CHANNEL_ID, TOKEN};

/// Generous: a slow CI machine may take seconds to draw, never this long.
const PAGE_WAIT: Duration = Duration::from_secs(60);

async fn start_try() -> TryOut {
    start_try_at(None).await
}

async fn start_try_at(starts_at: Option<chrono::DateTime<chrono::Utc>>) -> TryOut {
    let options = TryOptions {
        listen: "127.0.0.1:0".parse().expect("address"),
        database: None,
        starts_at,
    };
    TryOut::start(options).await.expect("try starts")
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/try-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// chromedriver on a free port, ended when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // Its own process group, which chromium joins: a test that fails before closing the
        // browser still ends it, rather than leaving a page that keeps asking a port for /events
        // after another test's fake Discord has taken it.
        let child = Command::new("chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (apt-get install chromium chromium-driver; .ci/run does)");
        Driver { child, port }
    }

    async fn client(&self) -> Client {
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"]
            }
        });
        let capabilities = capabilities.as_object().cloned().expect("an object");
        let url = format!("http://127.0.0.1:{}", self.port);
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return client,
                Err(err) if Instant::now() < deadline => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => panic!("chromium did not start: {err}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(group) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group and touches no memory.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn page_text(client: &Client) -> String {
    match client.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn wait_for_text(client: &Client, wanted: &str) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let text = page_text(client).await;
        if text.contains(wanted) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {wanted:?}; it shows:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn type_command(client: &Client, command: &str) {
    let input = client
        .find(Locator::Css("input[aria-label='Type a command']"))
        .await
        .expect("the command box");
    input.clear().await.expect("clear");
    input.send_keys(command).await.expect("type");
    input.send_keys("\u{E007}").await.expect("press Enter");
}

/// Clicks the element at `xpath`, finding it again if a redraw replaced it first.
async fn click(client: &Client, xpath: &str) {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let clicked = match client.find(Locator::XPath(xpath)).await {
            Ok(element) => {
                let reference = serde_json::to_value(&element).unwrap_or(Value::Null);
                let _ = client
                    .execute(
                        "arguments[0].scrollIntoView({block: 'center'})",
                        vec![reference],
                    )
                    .await;
                element.click().await.is_ok()
            }
            Err(_) => false,
        };
        if clicked {
            return;
        }
        assert!(Instant::now() < deadline, "never could click {xpath}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Switches the person and waits for the page to show that person's DMs.
async fn act_as(client: &Client, who: &str) {
    client
        .find(Locator::Css("select[aria-label='Acting as']"))
        .await
        .expect("the person switcher")
        .select_by_value(who)
        .await
        .expect("switch person");
    let name = format!(
        "Direct messages to {}{}",
        who[..1].to_uppercase(),
        &who[1..]
    );
    wait_for_text(client, &name).await;
}

/// Types `command` and waits for the page to show `wanted`.
async fn command_shows(client: &Client, command: &str, wanted: &str) {
    type_command(client, command).await;
    wait_for_text(client, wanted).await;
}

async fn screenshot(client: &Client, width: u32, height: u32, name: &str) {
    client.set_window_size(width, height).await.expect("resize");
    // The newest messages, as a person would look at them.
    let _ = client
        .execute(
            "document.getElementById('messages').lastElementChild.scrollIntoView({block: 'end'})",
            vec![],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(name), png).expect("save screenshot");
}

/// Every piece of text on the page whose contrast with what is behind it, as chromium drew it,
/// is below WCAG AA (4.5:1, or 3:1 for large text). Disabled controls are exempt, as in WCAG.
async fn low_contrast_text(client: &Client) -> Vec<Value> {
    const SCRIPT: &str = r##"
        const rgba = (text) => (text.match(/[\d.]+/g) || []).map(Number);
        const luminance = ([r, g, b]) => {
            const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
            return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
        };
        const background = (node) => {
            for (let at = node; at && at.nodeType === 1; at = at.parentElement) {
                const colour = rgba(getComputedStyle(at).backgroundColor);
                if (colour.length === 3 || (colour.length === 4 && colour[3] > 0)) return colour.slice(0, 3);
            }
            return [255, 255, 255];
        };
        const low = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
            const node = text.parentElement;
            if (!text.textContent.trim() || !node || node.closest(":disabled, .visually-hidden, script")) continue;
            const style = getComputedStyle(node);
            if (style.visibility === "hidden" || style.display === "none") continue;
            const fore = luminance(rgba(style.color).slice(0, 3));
            const back = luminance(background(node));
            const ratio = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
            const size = parseFloat(style.fontSize);
            const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
            if (ratio < (large ? 3 : 4.5)) {
                low.push({ text: text.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100, colour: style.color });
            }
        }
        return low;
    "##;
    let found = client
        .execute(SCRIPT, vec![])
        .await
        .expect("the contrast script");
    found.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_page_runs_the_whole_journey_in_chromium() {
    let running = start_try().await;
    let driver = Driver::start();
    let client = driver.client().await;
    client
        .goto(&format!("http://{}/", running.address()))
        .await
        .expect("open the page");
    wait_for_text(&client, "No messages yet").await;
    let notice = page_text(&client).await;
    assert!(notice.contains("nothing leaves this machine"), "{notice}");

    // Sam, an admin, sets the schedule and jumps to its first post.
    act_as(&client, "sam").await;
    command_shows(
        &client,
        "/schedule set channel:#wellbeing",
        "Scheduled: reflection posts",
    )
    .await;
    let jump = client
        .find(Locator::XPath(
            "//button[normalize-space()='Jump to the next post']",
        ))
        .await
        .expect("the jump button");
    let jumped = Instant::now();
    jump.click().await.expect("jump");
    wait_for_text(&client, "Time to reflect").await;
    eprintln!(
        "try: jump to the card on the page took {:?}",
        jumped.elapsed()
    );

    // Alex, staff, opts in and saves the card.
    act_as(&client, "alex").await;
    command_shows(&client, "/optin", "From now on").await;
    click(
        &client,
        "//ol[@id='messages']/li[.//h3[contains(., 'Time to reflect')]]//button[normalize-space()='Save']",
    )
    .await;
    wait_for_text(&client, "Saved to your bookmarks").await;
    command_shows(&client, "/bookmarks list", "Your bookmarks").await;
    // The next post reaches Alex by DM too, now Alex has opted in. This jump is made from the
    // keyboard: Enter on the focused button, as a person who does not use a mouse would.
    let jump = client
        .find(Locator::XPath(
            "//button[normalize-space()='Jump to the next post']",
        ))
        .await
        .expect("the jump button");
    jump.send_keys("\u{E007}")
        .await
        .expect("press Enter on the jump button");
    let dm_card = "//ol[@id='dm-messages']//h3[contains(., 'Time to reflect')]";
    let deadline = Instant::now() + PAGE_WAIT;
    while client.find(Locator::XPath(dm_card)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "Alex's DM pane never showed the card"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    screenshot(&client, 360, 800, "try-phone.png").await;
    screenshot(&client, 1280, 900, "try-desktop.png").await;

    // Sam sees neither Alex's bookmarks nor Alex's private answers.
    act_as(&client, "sam").await;
    let sams = page_text(&client).await;
    assert!(!sams.contains("Your bookmarks"), "{sams}");
    assert!(!sams.contains("Saved to your bookmarks"), "{sams}");
    assert!(sams.contains("Time to reflect"), "{sams}");

    // Alex erases everything, and the bookmark with it.
    act_as(&client, "alex").await;
    command_shows(&client, "/forget-me", "Erase my data").await;
    click(&client, "//button[normalize-space()='Erase my data']").await;
    wait_for_text(&client, "1 bookmark").await;
    command_shows(&client, "/bookmarks list", "You have no bookmarks yet").await;

    // Sam runs a reflective session: its thread shows in the channel, and moves on with Next.
    act_as(&client, "sam").await;
    command_shows(
        &client,
        "/session start theme:compassion",
        "Welcome and ground rules",
    )
    .await;
    wait_for_text(&client, "Thread: ").await;
    click(
        &client,
        "//li[contains(@class, 'thread')]//button[normalize-space()='Next']",
    )
    .await;
    wait_for_text(&client, "The story").await;
    // Focus follows to the new card's Next, so a keyboard user carries on from there.
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let focused = client
            .execute(
                "const b = document.activeElement; \
                 return !!b && b.dataset.label === 'Next' && \
                 b.closest('li.message').textContent.includes('The story');",
                vec![],
            )
            .await
            .expect("read the focus");
        if focused == json!(true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "focus did not follow to the story card's Next"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    screenshot(&client, 1280, 900, "try-session.png").await;
    screenshot(&client, 360, 800, "try-session-phone.png").await;
    client.set_window_size(1280, 900).await.expect("resize");
    let low = low_contrast_text(&client).await;
    assert!(low.is_empty(), "text below WCAG AA contrast: {low:#?}");
    command_shows(&client, "/session end", "(archived)").await;

    client.close().await.expect("close chromium");
    drop(driver);
    running.stop().await.expect("try stops");
}

async fn post_message(base: &str, content: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v10/channels/{CHANNEL_ID}/messages"))
        .header("authorization", format!("Bot {TOKEN}"))
        .header("content-type", "application/json")
        .body(json!({ "content": content }).to_string())
        .send()
        .await
        .expect("the stand-in answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn try_stand_in_refuses_an_over_long_body_as_the_tests_fake_does() {
    let running = start_try().await;
    let fake = FakeDiscord::start().await;
    let too_long = "x".repeat(2001);
    let in_try = post_message(&running.discord().proxy_base_url(), &too_long).await;
    let in_tests = post_message(&fake.proxy_base_url(), &too_long).await;
    assert_eq!(in_try.0, 400);
    assert_eq!(in_try.1["code"], 50035, "{}", in_try.1);
    assert!(
        in_try.1["errors"]["content"]["_errors"].is_array(),
        "{}",
        in_try.1
    );
    assert_eq!(in_try, in_tests);
    running.stop().await.expect("try stops");
}

async fn page_call(address: SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{address}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the page answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn view(address: SocketAddr, who: &str) -> Value {
    let text = reqwest::get(format!("http://{address}/api/view?as={who}"))
        .await
        .expect("the page answers")
        .text()
        .await
        .expect("a body");
    serde_json::from_str(&text).expect("JSON")
}

#[tokio::test]
async fn try_bad_input_gets_a_private_clear_answer_and_changes_nothing() {
    let running = start_try().await;
    let address = running.address();
    let long = format!("/prompt theme:{}", "x".repeat(10_000));
    for typed in ["/no-such-command", "/insights weeks:lots", long.as_str()] {
        let (status, answer) =
            page_call(address, "/api/command", json!({"as": "sam", "text": typed})).await;
        assert_eq!(status, 200, "{typed}: {answer}");
    }
    let sams = view(address, "sam").await;
    let answers = sams["channel"].as_array().expect("messages");
    assert_eq!(answers.len(), 3, "{sams}");
    for answer in answers {
        assert_eq!(answer["private"], true, "{answer}");
        let text = answer.to_string();
        assert!(
            text.contains("I don't have that command")
                || text.contains("wasn't quite right")
                || text.contains("I don't know the theme"),
            "{answer}"
        );
    }
    assert_eq!(view(address, "alex").await["channel"], json!([]));
    // Nothing changed: no schedule to jump to, nothing posted.
    let (status, _) = page_call(address, "/api/jump", json!({})).await;
    assert_eq!(status, 409);
    assert!(running.discord().created_messages().is_empty());
    running.stop().await.expect("try stops");
}

#[tokio::test]
async fn try_jump_passes_over_a_bank_holiday_to_the_next_card() {
    // Monday 21 December 2026, after that week's post: the next Monday, 28 December, is the
    // substitute Boxing Day bank holiday in England and Wales.
    let monday = chrono::DateTime::parse_from_rfc3339("2026-12-21T12:00:00Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let running = start_try_at(Some(monday)).await;
    let address = running.address();
    let (status, answer) = page_call(
        address,
        "/api/command",
        json!({"as": "sam", "text": "/schedule set channel:#wellbeing"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, jumped) = page_call(address, "/api/jump", json!({})).await;
    assert_eq!(status, 200, "{jumped}");
    assert!(
        jumped["now"]
            .as_str()
            .is_some_and(|now| now.starts_with("2027-01-04T09:00:00")),
        "{jumped}"
    );
    let cards: Vec<Value> = running
        .discord()
        .created_messages()
        .into_iter()
        .filter(|message| message["embeds"].as_array().is_some_and(|e| !e.is_empty()))
        .collect();
    assert_eq!(cards.len(), 1, "one card, on 4 January: {cards:?}");
    running.stop().await.expect("try stops");
}
