//! How the process holds memory. careprompt is idle nearly all the time between short bursts (a
//! gateway's GUILD_CREATEs at start-up, a Monday-morning fan-out), and glibc's allocator keeps
//! what a burst freed unless told otherwise. BENCHMARKS.md has what each setting saves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// glibc gives each thread that allocates its own arena, up to eight per core, and keeps each
/// arena's freed memory; careprompt's threads (tokio's workers, SQLite's connection threads) would
/// each hold some. Two arenas are enough for two busy worker threads. A large free block at the
/// top of an arena goes back to the system past 128 KiB, and blocks of 128 KiB or more are
/// mapped on their own so freeing them returns them; fixing both stops glibc from raising them
/// after a burst of large buffers, which would keep that burst's memory for good.
///
/// An operator's `MALLOC_ARENA_MAX`, `MALLOC_TRIM_THRESHOLD_` or `MALLOC_MMAP_THRESHOLD_` wins.
/// Call before any thread starts.
pub fn hold_less_when_idle() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const ARENAS: libc::c_int = 2;
        const RETURN_ABOVE: libc::c_int = 128 * 1024;
        for (variable, parameter, value) in [
            ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, ARENAS),
            (
                "MALLOC_TRIM_THRESHOLD_",
                libc::M_TRIM_THRESHOLD,
                RETURN_ABOVE,
            ),
            (
                "MALLOC_MMAP_THRESHOLD_",
                libc::M_MMAP_THRESHOLD,
                RETURN_ABOVE,
            ),
        ] {
            if std::env::var_os(variable).is_none() {
                // SAFETY: mallopt only changes the allocator's tuning; it is called at start-up,
                // before careprompt starts any thread.
                unsafe {
                    libc::mallopt(parameter, value);
                }
            }
        }
    }
}

/// How many events of any kind careprompt has handled: `hand_back_when_quiet` trims after a
/// burst, once this stops moving.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// How long nothing must happen before a burst counts as over.
const QUIET: Duration = Duration::from_secs(2);

/// Something happened (a gateway event, a batch of posts) that may have allocated a lot.
pub fn note_activity() {
    ACTIVITY.fetch_add(1, Ordering::Relaxed);
}

/// glibc returns memory to the system only from the top of its heap, so a burst leaves the freed
/// pages below whatever was allocated last resident: measured, a gateway's thousand GUILD_CREATEs
/// left 20 MiB behind on PostgreSQL. Once a burst is over (nothing for `QUIET`), the free pages
/// go back. Started once, by the application; it stops with `shutdown`.
pub async fn hand_back_when_quiet(shutdown: CancellationToken) {
    let mut seen = ACTIVITY.load(Ordering::Relaxed);
    let mut trimmed = seen;
    loop {
        tokio::select! {
            () = tokio::time::sleep(QUIET) => {}
            () = shutdown.cancelled() => return,
        }
        let now = ACTIVITY.load(Ordering::Relaxed);
        if now == seen && now != trimmed {
            hand_back_freed();
            trimmed = now;
        }
        seen = now;
    }
}

fn hand_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it takes the allocator's own
    // locks, so it is safe while other threads allocate.
    unsafe {
        libc::malloc_trim(0);
    }
}
