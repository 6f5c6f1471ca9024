//! Counts interactions in flight, so shutdown can finish them before the process exits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// Counts commands in flight and closes the door to new ones at shutdown.
#[derive(Debug)]
pub struct Gate {
    accepting: AtomicBool,
    in_flight: watch::Sender<usize>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            accepting: AtomicBool::new(true),
            in_flight: watch::channel(0).0,
        }
    }
}

#[derive(Debug)]
pub struct Pass<'a>(&'a Gate);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

impl Gate {
    /// Counts an interaction in. `Err` means shutdown has begun; the pass is still held so that
    /// telling the person to try again also finishes before the process exits.
    pub fn enter(&self) -> Result<Pass<'_>, Pass<'_>> {
        // Counting first and checking after means a command is never missed by `drain`.
        self.in_flight.send_modify(|count| *count += 1);
        let pass = Pass(self);
        if self.accepting.load(Ordering::SeqCst) {
            Ok(pass)
        } else {
            Err(pass)
        }
    }

    /// Stops taking new commands and waits up to `grace` for the ones in flight.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.accepting.store(false, Ordering::SeqCst);
        let mut receiver = self.in_flight.subscribe();
        let drained = tokio::time::timeout(grace, receiver.wait_for(|count| *count == 0)).await;
        drained.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn gate_waits_for_commands_in_flight_and_refuses_new_ones() {
        let gate = Arc::new(Gate::default());
        let pass = gate.enter().expect("open before shutdown");
        let draining = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.drain(Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        assert!(!draining.is_finished());
        drop(pass);
        assert!(
            draining.await.expect("join"),
            "drain completes once the command is done"
        );
        assert!(gate.enter().is_err(), "closed after shutdown began");
    }

    #[tokio::test]
    async fn gate_gives_up_after_the_grace_period() {
        let gate = Gate::default();
        let _stuck = gate.enter();
        assert!(!gate.drain(Duration::from_millis(1)).await);
    }
}
