//! Work that can wait for the cores the bot leaves idle: threads at the lowest CPU priority
//! (Linux's nice, added to the process's and capped at 19: a bot thread then weighs about 70
//! times such a thread when both want a core), and, for work that can wait for hours, Linux's
//! idle class (it runs when nothing else of the machine's wants the core, pages included).

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
