//! Logging. Message content and tokens are never passed to a log macro anywhere in careprompt;
//! this module only decides how loud each crate is.

use tracing_subscriber::EnvFilter;

/// serenity and the HTTP stack are chatty at info; careprompt's own lines are what an operator
/// wants to see.
pub const DEFAULT_FILTER: &str = "info,serenity=warn,poise=warn,tungstenite=warn,tokio_tungstenite=warn,hyper=warn,reqwest=warn,rustls=warn,sqlx=warn";

/// Installs the global subscriber; `RUST_LOG` overrides the default filter.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second call (as in tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
