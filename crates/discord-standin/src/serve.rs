//! How the stand-in's routers are served: axum on 127.0.0.1 until the stand-in stops, with what
//! Discord's servers do that a plain server does not. They answer at once (`TCP_NODELAY`: without
//! it a small write can wait for the client's delayed ACK, 40 ms, which would be timed as the
//! bot's), and a fault can close a connection without an answer ([`Sever`]); with the test
//! controls, the REST side also speaks TLS as `discord.com`.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener, ListenerExt};
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `router` on `listener` until `stop` says so; then open connections finish their answer
/// and close.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    axum::serve(plain(listener), router)
        .with_graceful_shutdown(stopped(stop))
        .await
}

/// Serves `router` on `listener` as [`serve`] does, and lets each request's handler close its
/// connection without an answer, through the [`Sever`] it extracts as `ConnectInfo<Sever>`.
pub(crate) async fn serve_severable<L>(
    listener: L,
    router: Router,
    stop: watch::Receiver<bool>,
) -> io::Result<()>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    let service = router.into_make_service_with_connect_info::<Sever>();
    axum::serve(Severing(listener), service)
        .with_graceful_shutdown(stopped(stop))
        .await
}

/// A plain listener (no TLS) whose connections answer at once.
pub(crate) fn plain(listener: TcpListener) -> impl Listener<Addr = std::net::SocketAddr> {
    listener.tap_io(answer_at_once)
}

fn answer_at_once(tcp: &mut tokio::net::TcpStream) {
    let _ = tcp.set_nodelay(true);
}

/// Resolves once the stand-in stops (or is gone).
pub(crate) async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Closes one connection without an answer: once severed, every read and write of the
/// connection fails, so hyper drops it before it writes a byte of the answer in hand.
#[derive(Clone, Debug)]
pub(crate) struct Sever(Arc<AtomicBool>);

impl Sever {
    pub fn sever(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn is_severed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl<L: Listener> Connected<IncomingStream<'_, Severing<L>>> for Sever {
    fn connect_info(stream: IncomingStream<'_, Severing<L>>) -> Sever {
        stream.io().sever.clone()
    }
}

/// A listener whose connections a [`Sever`] can close.
pub(crate) struct Severing<L>(L);

impl<L: Listener> Listener for Severing<L> {
    type Io = Severable<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, address) = self.0.accept().await;
        let sever = Sever(Arc::new(AtomicBool::new(false)));
        (Severable { io, sever }, address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// One connection of a [`Severing`] listener.
pub(crate) struct Severable<Io> {
    io: Io,
    sever: Sever,
}

impl<Io> Severable<Io> {
    fn check(&self) -> io::Result<()> {
        if self.sever.is_severed() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "fault: connection dropped",
            ));
        }
        Ok(())
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Severable<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Severable<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// HTTPS as `discord.com`: each connection's TLS handshake, then HTTP as on the plain listener.
#[cfg(feature = "test-controls")]
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

#[cfg(feature = "test-controls")]
impl TlsListener {
    pub fn new(tcp: TcpListener, acceptor: tokio_rustls::TlsAcceptor) -> TlsListener {
        TlsListener { tcp, acceptor }
    }
}

#[cfg(feature = "test-controls")]
impl Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // One handshake at a time: the clients are a test's few, on this machine. A client that
        // stalls its handshake is given up on, as a server would.
        const HANDSHAKE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
        loop {
            let (mut tcp, address) = Listener::accept(&mut self.tcp).await;
            answer_at_once(&mut tcp);
            let handshake = self.acceptor.accept(tcp);
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_WAIT, handshake).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
