//! The operator's view: `/metrics` in the Prometheus text format, `/healthz` (the process is up)
//! and `/readyz` (its shards are connected and the database answers), on an optional listener.
//! Labels name commands and outcomes only: never an id, and nothing anyone typed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::serve::{self, Limits};
use crate::store::Store;

/// The process-wide recorder: metrics have one global recorder, installed once.
pub fn recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
                .ok()?
                .install_recorder()
                .map_err(|err| tracing::warn!(error = %err, "metrics are off: another recorder is installed"))
                .ok()
        })
        .clone()
}

/// Which shards are connected, kept from gateway events, out of how many this process runs.
#[derive(Debug, Default)]
pub struct Shards {
    connected: Mutex<BTreeSet<u32>>,
    expected: AtomicUsize,
}

impl Shards {
    /// How many shards this process runs, once it knows.
    pub fn set_expected(&self, count: usize) {
        self.expected.store(count, Ordering::Relaxed);
        metrics::gauge!("careprompt_shards").set(count as f64);
    }

    pub fn set(&self, shard: u32, connected: bool) {
        let mut shards = self
            .connected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if connected {
            shards.insert(shard);
        } else {
            shards.remove(&shard);
        }
        metrics::gauge!("careprompt_shards_connected").set(shards.len() as f64);
    }

    pub fn connected(&self) -> usize {
        self.connected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Every shard this process runs is connected.
    pub fn all_connected(&self) -> bool {
        let expected = self.expected.load(Ordering::Relaxed);
        expected > 0 && self.connected() >= expected
    }
}

/// What the operators' endpoints may cost: they read no body, and `/readyz` asks the database,
/// which must answer well within a prober's own timeout.
const LIMITS: Limits = Limits {
    largest_body: 1024,
    answer_within: Duration::from_secs(10),
};

const PLAIN: &str = "text/plain; charset=utf-8";

/// What the handlers share.
#[derive(Clone)]
struct Operators {
    handle: PrometheusHandle,
    shards: Arc<Shards>,
    store: Store,
}

/// Serves the operator's endpoints until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    shards: Arc<Shards>,
    store: Store,
    shutdown: CancellationToken,
) {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(elsewhere)
        .method_not_allowed_fallback(get_only)
        .with_state(Operators {
            handle,
            shards,
            store,
        });
    let router = serve::limited(router, LIMITS);
    serve::serve("operators", listener, router, shutdown.cancelled_owned()).await;
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn metrics(State(operators): State<Operators>) -> Response {
    text(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        operators.handle.render(),
    )
}

async fn healthz() -> Response {
    text(StatusCode::OK, PLAIN, "ok\n".into())
}

async fn readyz(State(operators): State<Operators>) -> Response {
    let Operators { shards, store, .. } = &operators;
    let connected = shards.connected();
    let expected = shards.expected.load(Ordering::Relaxed);
    let database = store.ping().await;
    if shards.all_connected() && database.is_ok() {
        text(
            StatusCode::OK,
            PLAIN,
            format!("ready: {connected} of {expected} shards connected, database answers\n"),
        )
    } else {
        let database = if database.is_ok() {
            "answers"
        } else {
            "does not answer"
        };
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            PLAIN,
            format!("not ready: {connected} of {expected} shards connected, database {database}\n"),
        )
    }
}

/// Any other path: not found, unless it was not asked with GET.
async fn elsewhere(method: Method) -> Response {
    if method == Method::GET {
        text(StatusCode::NOT_FOUND, PLAIN, "not found\n".into())
    } else {
        get_only().await
    }
}

async fn get_only() -> Response {
    text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "GET only\n".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only GET is answered, on any path; an unknown path is not found.
    #[tokio::test]
    async fn the_endpoints_answer_get_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let store = Store::connect("sqlite::memory:", 1).await.expect("a store");
        let handle = PrometheusBuilder::new().build_recorder().handle();
        let stop = CancellationToken::new();
        let served = tokio::spawn(serve(
            listener,
            handle,
            Arc::new(Shards::default()),
            store,
            stop.clone(),
        ));
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a client");
        let answer = |method: reqwest::Method, path: &str| {
            let request = client.request(method, format!("{base}{path}"));
            async move {
                let response = request.send().await.expect("an answer");
                let status = response.status().as_u16();
                (status, response.text().await.expect("a body"))
            }
        };
        assert_eq!(
            answer(reqwest::Method::GET, "/healthz").await,
            (200, "ok\n".to_string())
        );
        assert_eq!(
            answer(reqwest::Method::GET, "/readyz").await,
            (
                503,
                "not ready: 0 of 0 shards connected, database answers\n".to_string()
            )
        );
        for path in ["/healthz", "/metrics", "/elsewhere"] {
            assert_eq!(
                answer(reqwest::Method::POST, path).await,
                (405, "GET only\n".to_string()),
                "{path}"
            );
        }
        assert_eq!(
            answer(reqwest::Method::GET, "/elsewhere").await,
            (404, "not found\n".to_string())
        );
        stop.cancel();
        served.await.expect("the server stops when asked");
    }
}
