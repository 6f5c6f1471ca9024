//! `careprompt run` as a real process: signals, exit codes, and what reaches its logs.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::bot::repo;
use crate::support::{CommandInvocation, FakeDiscord, Fault, RouteMatch, GATEWAY_WAIT, TOKEN};

fn spawn_careprompt(fake: &FakeDiscord, token: &str) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_careprompt"));
    command
        .arg("run")
        .current_dir(repo())
        .env("DISCORD_TOKEN", token)
        .env("CAREPROMPT_DISCORD__PROXY_URL", fake.proxy_base_url())
        .env("CAREPROMPT_DATABASE__URL", "sqlite::memory:")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("careprompt starts")
}

async fn wait_exit(child: Child) -> Output {
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("careprompt exits in time")
        .expect("join")
        .expect("output")
}

fn send_sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_during_a_command_answers_it_then_exits_zero() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/interactions/"),
        retry_after_secs: 1.0,
        global: false,
        times: 1,
    });
    let token = fake
        .send_interaction(fake.command_interaction(&CommandInvocation::guild("support")))
        .await
        .expect("sent");
    fake.wait_request(
        |request| request.is("POST", "/interactions/") && request.status == 429,
        GATEWAY_WAIT,
    )
    .await
    .expect("the command is in flight");
    send_sigterm(&child);
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    let reply = fake
        .wait_reply(&token, Duration::from_secs(1))
        .await
        .expect("answered before exit");
    assert!(reply.ephemeral());
    assert!(logs.contains("shutting down"), "{logs}");
    fake.assert_no_violations();
}

#[tokio::test]
async fn failed_registration_exits_non_zero_with_a_reason() {
    let fake = FakeDiscord::start().await;
    fake.inject(Fault::Status {
        route: RouteMatch::new("PUT", "/applications/"),
        status: 400,
        body: serde_json::json!({"message": "Invalid Form Body", "code": 50035}),
        times: usize::MAX,
    });
    let output = wait_exit(spawn_careprompt(&fake, TOKEN)).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{logs}");
    assert!(logs.contains("registering slash commands"), "{logs}");
    assert_eq!(fake.connection_count(), 0);
}

#[tokio::test]
async fn a_bad_token_exits_non_zero() {
    let fake = FakeDiscord::start().await;
    let output = wait_exit(spawn_careprompt(&fake, crate::support::BAD_TOKEN)).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{logs}");
    assert!(logs.contains("DISCORD_TOKEN"), "{logs}");
}

#[tokio::test]
async fn logs_hold_neither_tokens_nor_message_content() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let mut shown = Vec::new();
    for invocation in [
        CommandInvocation::guild("prompt").option_str("theme", "compassion"),
        CommandInvocation::guild("pack").option_str("theme", "kindness and care"),
        CommandInvocation::guild("support"),
    ] {
        let reply = fake.run_command(invocation).await.expect("answered");
        shown.push(reply.token.clone());
        for embed in reply.embeds() {
            if let Some(text) = embed["description"].as_str() {
                shown.push(text.to_string());
            }
        }
    }
    // A dropped connection and then a refused reply make the bot log about both; reqwest's own
    // errors would carry the URL with the interaction token in it.
    fake.inject(Fault::DropConnection {
        route: RouteMatch::new("POST", "/interactions/"),
        times: 1,
    });
    fake.inject(Fault::Status {
        route: RouteMatch::new("POST", "/interactions/"),
        status: 400,
        body: serde_json::json!({"message": "x", "code": 50035}),
        times: 1,
    });
    let failed = fake.command_interaction(&CommandInvocation::guild("help"));
    shown.push(failed["token"].as_str().unwrap_or_default().to_string());
    fake.send_interaction(failed).await.expect("sent");
    fake.wait_request(
        |request| request.is("POST", "/interactions/") && request.status == 400,
        GATEWAY_WAIT,
    )
    .await
    .expect("the retried reply was refused");
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(
        logs.contains("command failed"),
        "the failure is logged:\n{logs}"
    );
    assert!(!logs.contains(TOKEN), "bot token in logs:\n{logs}");
    assert!(
        !logs.contains("kindness and care"),
        "typed input in logs:\n{logs}"
    );
    for secret in shown {
        assert!(!logs.contains(&secret), "{secret:?} in logs:\n{logs}");
    }
    fake.assert_no_violations();
}

#[tokio::test]
async fn sigterm_while_the_gateway_is_unreachable_still_exits() {
    let fake = FakeDiscord::start().await;
    // Point the bot at a gateway address where nothing listens, so no shard ever connects.
    fake.inject(Fault::Status {
        route: RouteMatch::new("GET", "/gateway"),
        status: 200,
        body: serde_json::json!({"url": "ws://127.0.0.1:9"}),
        times: usize::MAX,
    });
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_request(|request| request.is("GET", "/gateway"), GATEWAY_WAIT)
        .await
        .expect("the bot asked where the gateway is");
    send_sigterm(&child);
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    assert!(logs.contains("received SIGTERM"), "{logs}");
    assert_eq!(fake.connection_count(), 0);
}

#[tokio::test]
async fn sigint_stops_the_bot_cleanly_too() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    assert!(
        logs.contains("received SIGINT") && logs.contains("goodbye"),
        "{logs}"
    );
    fake.assert_no_violations();
}
