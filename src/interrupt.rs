//! The signals that end a run early, watched alike by `rekcon run`, `rekcon fuzz` and
//! `rekcon serve`: SIGINT (Ctrl-C), SIGTERM (what `timeout`, `docker stop` and a cancelled
//! CI job send) and SIGHUP (a closed terminal or SSH session).
//!
//! The first signal asks the command to stop starting work, clean up and write its
//! reports; the command then exits with 128 + the signal's number (130, 143, 129). What a
//! second signal does is the command's choice (quit at once, or abandon the cleanup).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// A signal that interrupts a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, `timeout`, `docker stop`, a cancelled CI job.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl Signal {
    /// The signal's number on Linux and the BSDs (2, 15, 1).
    pub fn number(self) -> u8 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
            Signal::Hangup => 1,
        }
    }

    /// The conventional exit code of a process ended by this signal: 128 + its number.
    pub fn exit_code(self) -> u8 {
        128 + self.number()
    }

    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// How a message names it: `Ctrl-C` for SIGINT, else the signal's name.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            other => other.name(),
        }
    }
}

/// The signals seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Seen {
    /// How many arrived.
    count: u32,
    /// The first one.
    first: Option<Signal>,
}

/// Called on the watching thread for every signal, with how many have arrived (1 for the
/// first). It may print or end the process; it must not block.
pub type OnSignal = Box<dyn Fn(Signal, u32) + Send + 'static>;

/// A handle on the watched signals; clones share them.
#[derive(Debug, Clone)]
pub struct Interrupts {
    seen: watch::Receiver<Seen>,
    flag: Arc<AtomicBool>,
}

impl Interrupts {
    /// Starts watching SIGINT, SIGTERM and SIGHUP on a thread of its own (so synchronous
    /// and asynchronous commands alike can use it), calling `on_signal` for each. Returns
    /// once the handlers are in place, so a run never starts unwatched. When they cannot
    /// be installed, the handle never fires (and the signals keep their default action).
    pub fn watch(on_signal: OnSignal) -> Interrupts {
        let (tell, seen) = watch::channel(Seen::default());
        let flag = Arc::new(AtomicBool::new(false));
        let (ready, installed) = std::sync::mpsc::channel::<()>();
        let raised = Arc::clone(&flag);
        let spawned = std::thread::Builder::new().name("rekcon-signals".into()).spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let Ok(mut streams) = Streams::install() else { return };
                let _ = ready.send(());
                loop {
                    let signal = streams.next().await;
                    raised.store(true, Ordering::SeqCst);
                    let mut count = 0;
                    tell.send_modify(|seen| {
                        seen.count += 1;
                        seen.first.get_or_insert(signal);
                        count = seen.count;
                    });
                    on_signal(signal, count);
                }
            });
        });
        if spawned.is_ok() {
            // A dropped sender (no runtime, no handler) also ends the wait.
            let _ = installed.recv_timeout(Duration::from_secs(5));
        }
        Interrupts { seen, flag }
    }

    /// A handle that never fires, for runs driven by a library caller.
    pub fn never() -> Interrupts {
        let (tell, seen) = watch::channel(Seen::default());
        // Keep the channel open for ever: a closed channel would read as "never" anyway,
        // but leaking one sender keeps `nth` simply pending.
        std::mem::forget(tell);
        Interrupts { seen, flag: Arc::new(AtomicBool::new(false)) }
    }

    /// The first signal, once one arrived.
    pub fn first(&self) -> Option<Signal> {
        self.seen.borrow().first
    }

    /// How many signals arrived.
    pub fn count(&self) -> u32 {
        self.seen.borrow().count
    }

    /// A flag set when the first signal arrives, for synchronous loops that poll.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Resolves with the first signal once `n` signals have arrived (at once if they
    /// already have); never, when the signals are not watched.
    pub async fn nth(&self, n: u32) -> Signal {
        let mut seen = self.seen.clone();
        match seen.wait_for(|s| s.count >= n).await {
            Ok(s) => match s.first {
                Some(signal) => signal,
                None => std::future::pending().await,
            },
            Err(_) => std::future::pending().await,
        }
    }

    /// `code`, or the signal's exit code in place of `interrupted` when a signal ended
    /// the run: a run that reports "interrupted" exits 128 + the signal's number.
    pub fn exit_code(&self, code: u8, interrupted: u8) -> u8 {
        match self.first() {
            Some(signal) if code == interrupted => signal.exit_code(),
            _ => code,
        }
    }
}

/// The installed signal streams.
struct Streams {
    #[cfg(unix)]
    unix: [(Signal, tokio::signal::unix::Signal); 3],
}

impl Streams {
    #[cfg(unix)]
    fn install() -> std::io::Result<Streams> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Streams {
            unix: [
                (Signal::Interrupt, signal(SignalKind::interrupt())?),
                (Signal::Terminate, signal(SignalKind::terminate())?),
                (Signal::Hangup, signal(SignalKind::hangup())?),
            ],
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Streams> {
        Ok(Streams {})
    }

    /// The next signal.
    #[cfg(unix)]
    async fn next(&mut self) -> Signal {
        let [(a, sa), (b, sb), (c, sc)] = &mut self.unix;
        tokio::select! {
            Some(()) = sa.recv() => *a,
            Some(()) = sb.recv() => *b,
            Some(()) = sc.recv() => *c,
            else => std::future::pending().await,
        }
    }

    /// The next signal (Ctrl-C only, off Unix).
    #[cfg(not(unix))]
    async fn next(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
    }

    #[test]
    fn an_unfired_handle_keeps_the_code() {
        let never = Interrupts::never();
        assert_eq!(never.first(), None);
        assert_eq!(never.exit_code(130, 130), 130);
        assert_eq!(never.exit_code(1, 130), 1);
    }
}
