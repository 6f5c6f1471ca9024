//! How careprompt serves HTTP: each server (the operators' endpoints, the try-out page) is an axum
//! router of its own, bounded by [`Limits`] (a cap on a request's body, enforced before anything
//! parses it, and a deadline for the answer), and served by [`serve`] until shutdown. Another
//! endpoint is another router: bound it with its own limits, then serve it on its own listener or
//! merge it into one that is served already.

use std::future::Future;
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// What one router's requests may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A larger body is refused (413) before a handler reads any of it.
    pub largest_body: usize,
    /// A handler that has not answered by then is cut short with 503; a body that streams on
    /// after the answer (the try-out page's events) is not.
    pub answer_within: Duration,
}

/// `router`, bounded by `limits`.
pub fn limited(router: Router, limits: Limits) -> Router {
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.answer_within,
        ))
        .layer(RequestBodyLimitLayer::new(limits.largest_body))
}

/// Serves `router` on `listener` until `shutdown` completes; then it accepts no more connections,
/// and returns once those open have finished their answers. `what` names the server in the log.
pub async fn serve(
    what: &'static str,
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(err) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::warn!(server = what, error = %err, "an HTTP server stopped");
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::post;

    use super::*;

    /// A body over the cap is refused before the handler runs; an answer past the deadline is
    /// cut short; the server stops when asked.
    #[tokio::test]
    async fn limits_bound_each_request() {
        let router = Router::new()
            .route("/echo", post(|body: axum::body::Bytes| async move { body }))
            .route("/never", post(std::future::pending::<()>));
        let router = limited(
            router,
            Limits {
                largest_body: 16,
                answer_within: Duration::from_millis(100),
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let stop = tokio_util::sync::CancellationToken::new();
        let served = tokio::spawn(serve(
            "test",
            listener,
            router,
            stop.clone().cancelled_owned(),
        ));
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a client");
        let status = |path: &str, body: &'static str| {
            let request = client.post(format!("{base}{path}")).body(body);
            async move { request.send().await.expect("an answer").status() }
        };
        assert_eq!(status("/echo", "sixteen bytes ok").await, StatusCode::OK);
        assert_eq!(
            status("/echo", "seventeen bytes!!").await,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(status("/never", "").await, StatusCode::SERVICE_UNAVAILABLE);
        stop.cancel();
        served.await.expect("the server stops");
    }
}
