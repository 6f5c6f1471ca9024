//! Logging. Message content and tokens are never passed to a log macro anywhere in careprompt;
//! this module decides how loud each crate is, and keeps third-party crates that can print whole
//! payloads quiet whatever `RUST_LOG` says.

use tracing_subscriber::EnvFilter;

/// serenity and the HTTP stack are chatty at info; careprompt's own lines are what an operator
/// wants to see.
pub const DEFAULT_FILTER: &str = "info,serenity=warn,poise=warn,tungstenite=warn,tokio_tungstenite=warn,hyper=warn,reqwest=warn,rustls=warn,sqlx=warn";

/// Caps that `RUST_LOG` cannot lift: these modules print whole gateway payloads or request
/// bodies (interaction tokens, what people typed) at the levels above them.
pub const PRIVACY_CAPS: [&str; 4] = [
    "serenity::gateway::ws=error",
    "serenity::http=warn",
    "tungstenite=debug",
    "tokio_tungstenite=debug",
];

/// The filter from `RUST_LOG` (or the default), with the privacy caps on top.
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    let mut filter = rust_log
        .and_then(|value| EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    for cap in PRIVACY_CAPS {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber; `RUST_LOG` overrides the default levels, within the caps.
pub fn init() {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref());
    // A second call (as in tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_cannot_lift_the_privacy_caps() {
        let text = filter(Some("trace")).to_string();
        for cap in PRIVACY_CAPS {
            assert!(text.contains(cap), "{cap} missing from {text}");
        }
        assert!(filter(None).to_string().contains("serenity=warn"));
        assert!(filter(Some("not a filter ==="))
            .to_string()
            .contains("serenity=warn"));
    }
}
