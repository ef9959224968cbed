//! Threads that live as long as the run, each owning one lane's state.
//!
//! The fuzzer runs a batch of cases side by side many times a second. Starting a thread
//! per lane for every batch cost more than it looks: each new thread starts with a cold
//! allocator heap and faults in fresh pages for what the last one had freed, and the
//! lanes' caches and connections move between threads. A [`Pool`] starts its threads
//! once; each owns its state (`W`: an executor and its loader) for the whole run and runs
//! the jobs it is sent, one at a time, in order.
//!
//! A job that panics is caught on its thread: the caller gets no result for it
//! (`None`), and the thread goes on with the next job.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

type Job<W> = Box<dyn FnOnce(&mut W) + Send>;

/// The results to come of a job queued on every worker ([`Pool::submit_all`]), in
/// worker order: `None` for a worker that is gone.
pub type Pending<R> = Vec<Option<mpsc::Receiver<R>>>;

/// One thread per state, for the pool's lifetime.
pub struct Pool<W> {
    workers: Vec<Worker<W>>,
}

struct Worker<W> {
    /// `None` once the pool is dropped, which ends the thread's loop.
    jobs: Option<mpsc::Sender<Job<W>>>,
    thread: Option<JoinHandle<()>>,
}

impl<W> std::fmt::Debug for Pool<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("workers", &self.workers.len()).finish()
    }
}

impl<W: Send + 'static> Pool<W> {
    /// A thread for each of `states`, named `{name}-{i}`. A thread the system cannot
    /// start leaves its worker out, so the pool may be smaller than `states`.
    pub fn new(states: Vec<W>, name: &str) -> Pool<W> {
        let workers = states
            .into_iter()
            .enumerate()
            .filter_map(|(i, mut state)| {
                let (jobs, inbox) = mpsc::channel::<Job<W>>();
                let thread = std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        for job in inbox {
                            // The job's own panic message has been printed by the hook;
                            // its caller sees a missing result.
                            let _ = catch_unwind(AssertUnwindSafe(|| job(&mut state)));
                        }
                    })
                    .ok()?;
                Some(Worker { jobs: Some(jobs), thread: Some(thread) })
            })
            .collect();
        Pool { workers }
    }

    /// How many threads the pool has.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Whether the pool has no thread at all.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Runs `job` on worker `i`'s thread, after the jobs sent to it before, and waits for
    /// its result: `None` when there is no such worker or the job panicked.
    pub fn on<R: Send + 'static>(
        &self,
        i: usize,
        job: impl FnOnce(&mut W) -> R + Send + 'static,
    ) -> Option<R> {
        self.submit(i, job)?.recv().ok()
    }

    /// Runs `job` on every worker at once and waits for all of them; the results come in
    /// worker order, `None` for a worker whose job panicked.
    pub fn on_all<R: Send + 'static>(
        &self,
        job: impl Fn(&mut W) -> R + Send + Sync + 'static,
    ) -> Vec<Option<R>> {
        wait_all(self.submit_all(job))
    }

    /// Queues `job` on worker `i` (after the jobs sent to it before) without waiting:
    /// its result arrives on the receiver, which disconnects if the job panicked.
    pub fn submit<R: Send + 'static>(
        &self,
        i: usize,
        job: impl FnOnce(&mut W) -> R + Send + 'static,
    ) -> Option<mpsc::Receiver<R>> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(
            i,
            Box::new(move |state: &mut W| {
                // The caller may have stopped waiting; nothing is lost then.
                let _ = reply.send(job(state));
            }),
        )?;
        Some(answer)
    }

    /// Queues `job` on every worker without waiting (see [`wait_all`]).
    pub fn submit_all<R: Send + 'static>(
        &self,
        job: impl Fn(&mut W) -> R + Send + Sync + 'static,
    ) -> Pending<R> {
        let job = Arc::new(job);
        (0..self.workers.len())
            .map(|i| {
                let job = Arc::clone(&job);
                self.submit(i, move |state: &mut W| job(state))
            })
            .collect()
    }

    fn send(&self, i: usize, job: Job<W>) -> Option<()> {
        self.workers.get(i)?.jobs.as_ref()?.send(job).ok()
    }
}

/// The results of jobs queued with [`Pool::submit_all`], in worker order: `None` for a
/// worker that is gone or whose job panicked.
pub fn wait_all<R>(answers: Pending<R>) -> Vec<Option<R>> {
    answers.into_iter().map(|answer| answer.and_then(|a| a.recv().ok())).collect()
}

impl<W> Drop for Pool<W> {
    /// Ends every thread after the jobs it was sent, and waits for it: the states
    /// (executors holding runtimes and connections) are dropped on their own threads.
    fn drop(&mut self) {
        for worker in &mut self.workers {
            worker.jobs = None;
        }
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_worker_keeps_its_state_and_its_thread() {
        let pool = Pool::new(vec![0u32, 100], "test");
        assert_eq!(pool.len(), 2);
        let first = pool.on(0, |n: &mut u32| {
            *n += 1;
            std::thread::current().id()
        });
        let again = pool.on(0, |n: &mut u32| {
            *n += 1;
            (std::thread::current().id(), *n)
        });
        assert_eq!(first.map(|id| (id, 2)), again, "the same thread, the state kept");
        assert_eq!(pool.on_all(|n: &mut u32| *n), vec![Some(2), Some(100)]);
        assert_eq!(pool.on(2, |n: &mut u32| *n), None, "no third worker");
    }

    #[test]
    fn a_panicking_job_loses_its_result_and_not_its_worker() {
        let pool = Pool::new(vec![7u32], "test");
        let lost = pool.on(0, |n: &mut u32| {
            if *n == 7 {
                panic!("a planted panic");
            }
            *n
        });
        assert_eq!(lost, None);
        assert_eq!(pool.on(0, |n: &mut u32| *n + 1), Some(8), "the worker goes on");
    }

    #[test]
    fn all_workers_run_a_job_at_once() {
        // Each worker waits for the other: only threads running side by side get past.
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let pool = Pool::new(vec![1u32, 2], "test");
        let b = Arc::clone(&barrier);
        let sums = pool.on_all(move |n: &mut u32| {
            b.wait();
            *n * 10
        });
        assert_eq!(sums, vec![Some(10), Some(20)]);
    }
}
