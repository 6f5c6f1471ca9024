//! Pacing under Discord's global limit, which counts every request of the bot (interaction
//! answers aside) in one window.

use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::http::Route;

/// Discord allows a bot 50 requests a second in all (interaction answers aside), and answers more
/// with a global 429 that holds up everything. careprompt sends at most 48 in any one second: the
/// two it leaves spare absorb the jitter between when a request leaves and when Discord counts it
/// (a request delayed on the way lands in the same second as one sent a second later). Each
/// process paces this way, and a bot's own count is all Discord looks at.
///
/// Why not an evenly spaced tick (the pacer used to tick 45 times a second, so a fan-out could
/// never pass 0.90 of the limit): a tick nobody was ready for is lost, and in a fan-out the sends
/// keep pausing for the database between requests. The window below counts what was actually
/// sent in the last second, so a pause is made up for straight after it, and the rate stays at
/// 48/s while there is work: 0.96 of Discord's limit (0.959 measured over a fan-out of 22,000
/// requests, BENCHMARKS.md).
pub const GLOBAL_REQUESTS_PER_SECOND: u32 = 48;

/// What several processes of one bot share out between them by their shards: they cannot see each
/// other's requests, and their paces drift into each other, so they keep a wider margin.
pub const SHARED_REQUESTS_PER_SECOND: u32 = 40;

/// The window Discord counts its global limit in.
const PACER_WINDOW: Duration = Duration::from_secs(1);

/// A window-exact limiter: a request goes when fewer than `per_second` went in the last second,
/// and not sooner than `spacing` after the previous one. The spacing (half as much again as the
/// average rate allows) keeps a made-up pause from leaving as one burst, which Discord would
/// count bunched together with whatever jitter the network adds.
#[derive(Debug)]
pub(super) struct Pacer {
    per_second: usize,
    spacing: Duration,
    /// When each of the requests of the last second went, oldest first. The lock is held while
    /// waiting, so requests go in the order they asked.
    sent: tokio::sync::Mutex<std::collections::VecDeque<tokio::time::Instant>>,
    /// Set by a global 429: Discord wants every request of the bot held until then, not only the
    /// one it refused, and each request sent sooner would only draw another 429.
    held_until: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    pub(super) fn new(per_second: u32) -> Pacer {
        let per_second = per_second.max(1);
        Pacer {
            per_second: per_second as usize,
            spacing: PACER_WINDOW * 2 / (per_second * 3),
            sent: tokio::sync::Mutex::new(std::collections::VecDeque::new()),
            held_until: std::sync::Mutex::new(None),
        }
    }

    /// A pacer at `per_second` that starts from what this one sent in the last second
    /// (registration at start-up), which Discord still counts: a fresh window would let a fan-out
    /// due at start-up send a full second's worth on top of it and draw a global 429.
    pub(super) fn repaced(&self, per_second: u32) -> Pacer {
        let pacer = Pacer::new(per_second);
        if let (Ok(before), Ok(mut after)) = (self.sent.try_lock(), pacer.sent.try_lock()) {
            after.clone_from(&before);
        }
        pacer
    }

    /// Holds every paced request until `until` (or later, if held longer already).
    pub(super) fn hold(&self, until: tokio::time::Instant) {
        let mut held = self
            .held_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *held = Some(held.map_or(until, |current| current.max(until)));
    }

    fn held_until(&self) -> Option<tokio::time::Instant> {
        *self
            .held_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) async fn wait_turn(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            // Another global 429 may extend the hold while this one waits it out.
            if let Some(until) = self
                .held_until()
                .filter(|until| *until > tokio::time::Instant::now())
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            let now = tokio::time::Instant::now();
            let turn = self.turn(&mut sent, now);
            if turn <= now {
                sent.push_back(now);
                return;
            }
            tokio::time::sleep_until(turn).await;
        }
    }

    /// When a request that asks at `now` may go, forgetting the sends older than the window.
    fn turn(
        &self,
        sent: &mut std::collections::VecDeque<tokio::time::Instant>,
        now: tokio::time::Instant,
    ) -> tokio::time::Instant {
        while sent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= PACER_WINDOW)
        {
            sent.pop_front();
        }
        let mut turn = now;
        if sent.len() >= self.per_second {
            if let Some(oldest) = sent.front() {
                turn = turn.max(*oldest + PACER_WINDOW);
            }
        }
        if let Some(last) = sent.back() {
            turn = turn.max(*last + self.spacing);
        }
        turn
    }
}

/// Interaction answers have their own limits and must never queue behind a fan-out of posts.
pub(super) fn is_global_limited(route: &Route<'_>) -> bool {
    !matches!(
        route,
        Route::InteractionResponse { .. }
            | Route::WebhookOriginalInteractionResponse { .. }
            | Route::WebhookFollowupMessage { .. }
            | Route::WebhookFollowupMessages { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_never_sends_more_than_its_rate_in_any_second() {
        let pacer = Pacer::new(48);
        let start = tokio::time::Instant::now();
        let mut now = start;
        let mut sent = std::collections::VecDeque::new();
        let mut times = Vec::new();
        for n in 0..200 {
            // A pause now and then, as when a send waits for the database.
            if n % 30 == 0 {
                now += Duration::from_millis(300);
            }
            now = now.max(pacer.turn(&mut sent, now));
            sent.push_back(now);
            times.push(now);
        }
        for (i, at) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|later| later.duration_since(*at) < PACER_WINDOW)
                .count();
            assert!(in_window <= 48, "{in_window} requests within a second");
        }
        for pair in times.windows(2) {
            assert!(pair[1].duration_since(pair[0]) >= pacer.spacing);
        }
        // With work always waiting, it sends 48 a second, not fewer.
        let mut sent = std::collections::VecDeque::new();
        let mut now = start;
        for _ in 0..=480 {
            now = now.max(pacer.turn(&mut sent, now));
            sent.push_back(now);
        }
        let span = now.duration_since(start);
        assert!(
            span <= Duration::from_secs(10),
            "{span:?} for 480 intervals"
        );
    }

    #[tokio::test]
    async fn a_global_429_holds_every_paced_request() {
        let pacer = Pacer::new(GLOBAL_REQUESTS_PER_SECOND);
        pacer.wait_turn().await;
        let start = tokio::time::Instant::now();
        let until = start + Duration::from_millis(300);
        pacer.hold(until);
        // A shorter hold that comes later does not cut the longer one short.
        pacer.hold(start + Duration::from_millis(100));
        assert_eq!(pacer.held_until(), Some(until));
        pacer.wait_turn().await;
        assert!(tokio::time::Instant::now() >= until);
    }
}
