//! The threads that make pages not yet in the page cache: one per core at the lowest CPU
//! priority (nice 19), so that a crowd asking for pages never asked before (crawlers, link
//! previews) uses the cores the bot leaves idle and cannot starve its commands and deliveries
//! (`crate::low_priority`).
//! On tokio's blocking pool, 32 such requests had 32 threads sharing the cores with the bot at
//! equal weight: command round trips went from p99 1.4 ms to 72 ms (BENCHMARKS.md).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// The page threads, fed by a queue.
pub struct Makers {
    jobs: Sender<Job>,
}

/// A page's making panicked (the thread goes on with the next).
#[derive(Debug)]
pub struct Panicked;

impl Makers {
    /// One thread per core.
    pub fn start() -> Makers {
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        Makers::with_threads(threads)
    }

    pub fn with_threads(threads: usize) -> Makers {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("paperbell-pages-{i}"))
                .spawn(move || work(&queue))
                .expect("a page thread starts");
        }
        Makers { jobs }
    }

    /// Makes `make` on a page thread.
    pub async fn run<T: Send + 'static>(
        &self,
        make: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Panicked> {
        let (done, made) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(make)));
        });
        self.jobs.send(job).map_err(|_| Panicked)?;
        made.await.map_err(|_| Panicked)?.map_err(|_| Panicked)
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    crate::low_priority::lower_this_thread();
    loop {
        // One thread waits on the queue at a time; the lock goes before the job runs.
        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match job {
            Ok(job) => {
                // The similar papers' backfill waits while pages are being made.
                crate::low_priority::busy_now();
                job();
                crate::low_priority::busy_now();
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn pages_are_made_on_lower_priority_threads_and_a_panic_is_one_pages() {
        // SAFETY: reads this thread's priority.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as _) };
        let makers = Makers::with_threads(2);
        let (name, nice) = makers
            .run(|| {
                let name = std::thread::current().name().map(str::to_string);
                // SAFETY: reads this thread's priority.
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as _) };
                (name, nice)
            })
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("paperbell-pages-"));
        assert_eq!(nice, (ours + crate::low_priority::NICE).min(19));
        assert!(makers.run(|| panic!("a bad page")).await.is_err());
        // The threads go on.
        assert_eq!(makers.run(|| 2 + 2).await.unwrap(), 4);
        assert_eq!(makers.run(|| 3).await.unwrap(), 3);
    }
}
