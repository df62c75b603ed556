//! Work that can wait for the cores the bot leaves idle: threads at the lowest CPU priority
//! (Linux's nice, added to the process's and capped at 19: a bot thread then weighs about 70
//! times such a thread when both want a core), and, for work that can wait for hours, Linux's
//! idle class (it runs when nothing else of the machine's wants the core), which also waits
//! while pages are being made (`wait_for_quiet`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long idle-class work waits after low-priority work last ran (`wait_for_quiet`): a crowd
/// of pages keeps it waiting, a crawler's few pages a second do not.
pub const QUIET: Duration = Duration::from_millis(20);

/// When low-priority work last ran, in milliseconds since `EPOCH` (0: not yet).
static BUSY_AT: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn millis_now() -> u64 {
    // +1: a mark at the epoch's first millisecond is not "never".
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// Marks low-priority work (a page being made) as running now: idle-class work waits for it
/// (`wait_for_quiet`).
pub fn busy_now() {
    BUSY_AT.store(millis_now(), Ordering::Relaxed);
}

/// Sleeps until no low-priority work has run for `quiet`, or `stop`. Linux's idle class alone
/// does not keep such work off the cores the pages use: beside nice-19 threads it weighs a
/// fifth of one, and it takes every gap between pages, so a backfill under a crowd of new pages
/// took a quarter of the service's CPU (BENCHMARKS.md).
pub fn wait_for_quiet(quiet: Duration, stop: &tokio_util::sync::CancellationToken) {
    let quiet = quiet.as_millis() as u64;
    loop {
        let at = BUSY_AT.load(Ordering::Relaxed);
        let since = millis_now().saturating_sub(at);
        if at == 0 || since >= quiet || stop.is_cancelled() {
            return;
        }
        std::thread::sleep(Duration::from_millis(quiet - since));
    }
}

/// How much lower than the bot's threads such work runs. Nice 10 (nine times) left a fan-out
/// beside 32 connections of new pages at 90-97 % of its rate; 19 at 96-99 % (BENCHMARKS.md).
pub const NICE: i32 = 19;

/// Lowers this thread's priority by `NICE` (Linux applies nice per thread; an unprivileged
/// thread cannot raise it again, so only threads made for such work call this).
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority read and change only this thread's scheduling.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (now + NICE).min(19));
    }
}

/// Puts this thread in Linux's idle scheduling class (weighed about a fifth of a nice-19 thread).
fn idle_this_thread() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler with pid 0 changes only the calling thread's policy.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}

/// Runs `work` on a thread of its own named `name` in the idle class (at the lowest priority
/// where there is none), and waits for it without holding a runtime thread; `None` when it
/// panicked (the panic is logged by Rust's hook as any thread's).
pub async fn when_idle<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let started = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            lower_this_thread();
            idle_this_thread();
            let _ = done.send(work());
        });
    if let Err(e) = started {
        tracing::error!(error = %e, thread = name, "could not start a thread");
        return None;
    }
    result.await.ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn idle_work_waits_for_a_quiet_spell_after_pages() {
        let stop = tokio_util::sync::CancellationToken::new();
        super::busy_now();
        let t = std::time::Instant::now();
        super::wait_for_quiet(std::time::Duration::from_millis(80), &stop);
        assert!(t.elapsed() >= std::time::Duration::from_millis(70));
        // Stopping does not wait.
        super::busy_now();
        stop.cancel();
        let t = std::time::Instant::now();
        super::wait_for_quiet(std::time::Duration::from_secs(30), &stop);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn work_that_can_wait_runs_in_the_idle_class_on_its_own_thread() {
        let (name, policy) = super::when_idle("paperbell-test-idle", || {
            // SAFETY: reads this thread's policy.
            let policy = unsafe { libc::sched_getscheduler(0) };
            (std::thread::current().name().map(str::to_string), policy)
        })
        .await
        .unwrap();
        assert_eq!(name.as_deref(), Some("paperbell-test-idle"));
        assert_eq!(policy, libc::SCHED_IDLE);
        // SAFETY: reads this thread's policy.
        assert_ne!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_IDLE);
        assert_eq!(
            super::when_idle("paperbell-test-idle", || panic!("lost")).await,
            None::<()>
        );
    }
}
