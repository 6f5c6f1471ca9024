//! A TCP link between careprompt and PostgreSQL that a test can cut and restore, as a database
//! restart looks from the client: every open connection ends at once, and new ones are refused
//! until the server is back. Cutting the link rather than stopping the server keeps the other
//! tests, which share the server, running.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Default)]
struct LinkState {
    down: bool,
    connections: Vec<AbortHandle>,
    /// Connections refused while the link was down.
    refused: usize,
}

pub struct DatabaseLink {
    address: SocketAddr,
    state: Arc<Mutex<LinkState>>,
    accept: AbortHandle,
}

impl DatabaseLink {
    /// Forwards connections to `target` from a new port on 127.0.0.1.
    pub async fn start(target: SocketAddr) -> DatabaseLink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("bound");
        let state = Arc::new(Mutex::new(LinkState::default()));
        let accepting = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if lock(&accepting).down {
                    lock(&accepting).refused += 1;
                    drop(client);
                    continue;
                }
                let forward = tokio::spawn(forward(client, target));
                let mut state = lock(&accepting);
                state.connections.retain(|handle| !handle.is_finished());
                state.connections.push(forward.abort_handle());
            }
        })
        .abort_handle();
        DatabaseLink {
            address,
            state,
            accept,
        }
    }

    /// `url` (`postgres://user@host:port/db`) with its host and port replaced by the link's.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (authority, path) = rest.split_once('/').expect("a database name");
        let user = authority
            .rsplit_once('@')
            .map_or(String::new(), |(user, _)| format!("{user}@"));
        format!("{scheme}://{user}{}/{path}", self.address)
    }

    /// The database goes away: open connections end and new ones are refused.
    pub fn cut(&self) {
        let mut state = lock(&self.state);
        state.down = true;
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        lock(&self.state).down = false;
    }

    /// How many connections were refused while the link was cut.
    pub fn refused(&self) -> usize {
        lock(&self.state).refused
    }
}

impl Drop for DatabaseLink {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

fn lock(state: &Mutex<LinkState>) -> std::sync::MutexGuard<'_, LinkState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn forward(mut client: TcpStream, target: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}
