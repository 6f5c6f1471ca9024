//! Time, from a source that tests control.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Completes once `now()` has reached `at`. A clock that tests drive completes it when the
    /// test moves the time, so background work can be woken without real waiting.
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

/// The wall clock can jump (NTP, a suspended VM), so a long sleep is taken in slices and the
/// time read again after each.
const LONGEST_SLICE: std::time::Duration = std::time::Duration::from_secs(60);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        Box::pin(async move {
            loop {
                let Ok(left) = (at - Utc::now()).to_std() else {
                    return;
                };
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left.min(LONGEST_SLICE)).await;
            }
        })
    }
}

/// A clock that only moves when a test moves it.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    moved: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(at)),
            moved: Arc::new(watch::channel(at).0),
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.lock() = at;
        self.moved.send_replace(at);
    }

    pub fn advance(&self, by: chrono::Duration) {
        let at = {
            let mut now = self.lock();
            *now += by;
            *now
        };
        self.moved.send_replace(at);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock, which outlives this borrow.
            let _ = moved.wait_for(|now| *now >= at).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleep_ends_only_when_the_test_moves_time() {
        let start: DateTime<Utc> = "2027-01-04T08:59:00Z".parse().expect("time");
        let clock = ManualClock::new(start);
        let target = start + chrono::Duration::minutes(1);
        let mut sleeping = std::pin::pin!(clock.sleep_until(target));
        assert!(futures_poll_once(&mut sleeping).await.is_none());
        clock.advance(chrono::Duration::seconds(30));
        assert!(futures_poll_once(&mut sleeping).await.is_none());
        clock.advance(chrono::Duration::seconds(30));
        sleeping.await;
        assert_eq!(clock.now(), target);
    }

    async fn futures_poll_once(sleep: &mut Pin<&mut Sleep<'_>>) -> Option<()> {
        tokio::select! {
            biased;
            () = sleep.as_mut() => Some(()),
            () = tokio::task::yield_now() => None,
        }
    }
}
