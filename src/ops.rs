//! The operator's view: `/metrics` in the Prometheus text format, `/healthz` (the process is up)
//! and `/readyz` (its shards are connected and the database answers), on an optional listener.
//! Labels name commands and outcomes only: never an id, and nothing anyone typed.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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

/// Serves the operator's endpoints until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    shards: Arc<Shards>,
    store: Store,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let handle = handle.clone();
        let shards = shards.clone();
        let store = store.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let handle = handle.clone();
                let shards = shards.clone();
                let store = store.clone();
                async move { Ok::<_, Infallible>(answer(&request, &handle, &shards, &store).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(err) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(error = %err, "an operator's connection ended early");
            }
        });
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

async fn answer(
    request: &Request<Incoming>,
    handle: &PrometheusHandle,
    shards: &Shards,
    store: &Store,
) -> Response<Full<Bytes>> {
    const PLAIN: &str = "text/plain; charset=utf-8";
    if request.method() != hyper::Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "GET only\n".into());
    }
    match request.uri().path() {
        "/metrics" => text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            handle.render(),
        ),
        "/healthz" => text(StatusCode::OK, PLAIN, "ok\n".into()),
        "/readyz" => {
            let connected = shards.connected();
            let expected = shards.expected.load(Ordering::Relaxed);
            let database = store.ping().await;
            if shards.all_connected() && database.is_ok() {
                text(
                    StatusCode::OK,
                    PLAIN,
                    format!(
                        "ready: {connected} of {expected} shards connected, database answers\n"
                    ),
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
                    format!(
                        "not ready: {connected} of {expected} shards connected, database {database}\n"
                    ),
                )
            }
        }
        _ => text(StatusCode::NOT_FOUND, PLAIN, "not found\n".into()),
    }
}
