//! A load of web pages never asked before, beside another bench's measurements: 32 keep-alive
//! connections on a thread and runtime of their own, each request a page the service must make
//! (paper pages and topic days of the store; past the end of the list, each again with
//! `?pass=N`, which the page cache keys apart), until stopped.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paperbell::store::Store;

/// Paths of up to `papers` paper pages and the topic days of the store's newest days (every
/// shipped topic), shuffled so that consecutive pages are unrelated. Read before the service
/// opens the store.
pub fn first_views(data: &Path, papers: usize) -> Vec<String> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let store = Store::open(data).unwrap();
    let topics = super::shipped_topics();
    let mut paths = Vec::new();
    let mut day = store.latest_day().unwrap();
    let mut n = 0;
    while let Some(d) = day {
        for t in &topics.topics {
            paths.push(format!("/topics/{}/{d}", t.id));
        }
        for sp in store.papers_between(d, d).unwrap() {
            if n < papers {
                paths.push(format!("/papers/{}", sp.paper.id.as_str()));
                n += 1;
            }
        }
        if n >= papers {
            break;
        }
        day = store.day_before(d).unwrap();
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    paths.shuffle(&mut rng);
    paths
}

/// A running load.
pub struct PageLoad {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    started: Instant,
    thread: std::thread::JoinHandle<()>,
}

/// What a load did.
pub struct Loaded {
    pub pages: usize,
    pub secs: f64,
}

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pages never asked before, 32 connections, alongside: {} in {:.1} s = {:.0} pages/s",
            self.pages,
            self.secs,
            self.pages as f64 / self.secs
        )
    }
}

impl PageLoad {
    /// Starts asking `base` (`http://127.0.0.1:PORT`) for `paths` over 32 connections, never
    /// the same page twice.
    pub fn start(base: String, paths: Vec<String>) -> PageLoad {
        assert!(!paths.is_empty(), "no pages to ask for");
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let (s, d) = (stop.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            // The clients stand in for remote ones: on this machine they take a core's share
            // only when the service and the platform's fake leave it (nice 10, like the
            // service's page threads; the runtime's one worker inherits it).
            // SAFETY: changes only this thread's scheduling priority.
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(64)
                    .build()
                    .unwrap();
                let paths = Arc::new(paths);
                let next = Arc::new(AtomicUsize::new(0));
                let mut tasks = Vec::new();
                for _ in 0..32 {
                    let (http, base, paths, next) =
                        (http.clone(), base.clone(), paths.clone(), next.clone());
                    let (stop, done) = (s.clone(), d.clone());
                    tasks.push(tokio::spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            let (path, pass) = (&paths[n % paths.len()], n / paths.len());
                            let url = match pass {
                                0 => format!("{base}{path}"),
                                _ => format!("{base}{path}?pass={pass}"),
                            };
                            let Ok(r) = http.get(url).send().await else {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            };
                            if r.bytes().await.is_ok() {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        });
        PageLoad {
            stop,
            done,
            started: Instant::now(),
            thread,
        }
    }

    /// Stops the load and says what it did.
    pub fn stop(self) -> Loaded {
        let secs = self.started.elapsed().as_secs_f64();
        let pages = self.done.load(Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        Loaded { pages, secs }
    }
}

/// A free port on 127.0.0.1 for the service's listener.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
