//! Logging. Message content and tokens are never passed to a log macro anywhere in careprompt;
//! this module decides how loud each crate is, and keeps third-party crates that can print whole
//! payloads quiet whatever `RUST_LOG` says.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

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
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A second call (as in tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::registry()
        .with(lines(levels, std::io::stderr, ansi))
        .try_init();
}

/// careprompt's log lines: what `levels` lets through that the privacy caps also let through,
/// written to `writer`.
///
/// The two filters are layers in front of the writer, which filter for the whole stack, rather
/// than a filter of the writer's layer alone: tracing-subscriber's per-layer filters drop the next
/// line from a callsite that is always enabled after a `tracing::enabled!` check that said no on
/// the same thread, which sqlx makes after every query (tokio-rs/tracing#2519). That dropped
/// `careprompt try`'s one line whenever it came right after a query.
pub fn lines<S, W>(levels: EnvFilter, writer: W, ansi: bool) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    levels.and_then(privacy_caps()).and_then(
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Everything written, shared with the test.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut written) = self.0.lock() {
                written.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What careprompt's log lines would show of a few events, with `levels`.
    fn logged_with(levels: EnvFilter) -> String {
        let written = Written::default();
        let writer = written.clone();
        let subscriber =
            tracing_subscriber::registry().with(lines(levels, move || writer.clone(), false));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "serenity::gateway::ws", "gateway payload");
            tracing::info!(target: "serenity::http::client", "request body");
            tracing::debug!(target: "tungstenite::protocol", "tungstenite debug");
            tracing::trace!(target: "tungstenite::protocol", "tungstenite frame");
            tracing::trace!(target: "careprompt::scheduler", "careprompt trace");
            tracing::info!(target: "careprompt::tryout", "careprompt info");
        });
        let bytes = written.0.lock().map(|w| w.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn rust_log_cannot_lift_the_privacy_caps() {
        let logged = logged_with(filter(Some("trace")));
        for capped in ["gateway payload", "request body", "tungstenite frame"] {
            assert!(!logged.contains(capped), "{capped} logged:\n{logged}");
        }
        for allowed in ["tungstenite debug", "careprompt trace", "careprompt info"] {
            assert!(logged.contains(allowed), "{allowed} missing:\n{logged}");
        }
        assert!(filter(Some("not a filter ==="))
            .to_string()
            .contains("serenity=warn"));
    }

    #[test]
    fn the_caps_never_lift_what_the_levels_keep_quiet() {
        let logged = logged_with(filter_or(None, TRY_FILTER));
        assert_eq!(logged.lines().count(), 1, "{logged}");
        assert!(logged.contains("careprompt info"), "{logged}");
    }
}
