//! Logging. Message content and tokens are never passed to a log macro anywhere in careprompt;
//! this module decides how loud each crate is, and keeps third-party crates that can print whole
//! payloads quiet whatever `RUST_LOG` says.

use tracing_subscriber::filter::{FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// serenity and the HTTP stack are chatty at info; careprompt's own lines are what an operator
/// wants to see.
pub const DEFAULT_FILTER: &str = "info,serenity=warn,poise=warn,tungstenite=warn,tokio_tungstenite=warn,hyper=warn,reqwest=warn,rustls=warn,sqlx=warn";

/// `careprompt try` is for someone looking at the page, not running a service: only its one line
/// with the address, and what went wrong.
pub const TRY_FILTER: &str = "warn,careprompt::tryout=info";

/// Caps that `RUST_LOG` cannot lift: these modules print whole gateway payloads or request
/// bodies (interaction tokens, what people typed) at the levels above them.
pub const PRIVACY_CAPS: [(&str, LevelFilter); 4] = [
    ("serenity::gateway::ws", LevelFilter::ERROR),
    ("serenity::http", LevelFilter::WARN),
    ("tungstenite", LevelFilter::DEBUG),
    ("tokio_tungstenite", LevelFilter::DEBUG),
];

/// The filter from `RUST_LOG` (or the default).
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    filter_or(rust_log, DEFAULT_FILTER)
}

/// The filter from `RUST_LOG`, or else `default`.
pub fn filter_or(rust_log: Option<&str>, default: &str) -> EnvFilter {
    rust_log
        .and_then(|value| EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| EnvFilter::new(default))
}

/// The privacy caps as a filter that every line must pass as well as the level filter: a cap
/// only ever takes away, where a directive added to the level filter would also lift a module
/// that the level filter keeps quieter.
pub fn privacy_caps() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(PRIVACY_CAPS)
}

/// Installs the global subscriber; `RUST_LOG` overrides the default levels, within the caps.
pub fn init() {
    init_with_default(DEFAULT_FILTER);
}

/// As [`init`], with `default` in place of [`DEFAULT_FILTER`] when `RUST_LOG` is not set.
pub fn init_with_default(default: &str) {
    let levels = filter_or(std::env::var("RUST_LOG").ok().as_deref(), default);
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(levels.and(privacy_caps()));
    // A second call (as in tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::registry().with(lines).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_cannot_lift_the_privacy_caps() {
        let caps = privacy_caps();
        assert!(!caps.would_enable("serenity::gateway::ws", &tracing::Level::WARN));
        assert!(!caps.would_enable("serenity::http::client", &tracing::Level::INFO));
        assert!(!caps.would_enable("tungstenite::protocol", &tracing::Level::TRACE));
        assert!(caps.would_enable("careprompt::scheduler", &tracing::Level::TRACE));
        assert!(filter(None).to_string().contains("serenity=warn"));
        assert!(filter(Some("not a filter ==="))
            .to_string()
            .contains("serenity=warn"));
    }
}
