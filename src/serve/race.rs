//! Planted races (`race-…` mutants): bugs only calls at once can show.
//!
//! Each splits one call into a check and an act under separate holds of the emulator's
//! lock, with a short wait between them in which other calls run — the check-then-act
//! of a service that does not hold its lock across both. Calls one at a time see no
//! difference; two at once can both pass the check. Only the server has them: the
//! in-process core answers one call at a time.

use std::time::{Duration, Instant};

use super::mutant::Mutant;
use super::pipeline::{Decided, Emulator};
use crate::api::Request;
use crate::expect::Observed;

/// How long a planted race leaves between its check and its act: long enough for a
/// racing call on another connection to arrive on a loaded machine.
pub const WINDOW: Duration = Duration::from_millis(50);

/// A call caught between its check and its act.
#[derive(Debug)]
pub(super) enum Window {
    /// Decided on the state as it was; acted on as it will be.
    Stale(Box<Decided>),
    /// The ClientRequestToken was looked up (found or not); the call has not run yet.
    LateToken {
        /// The token.
        token: String,
        /// Whether a response was recorded for it at the lookup.
        known: bool,
    },
}

/// The check half of `request` under a planted race, when one applies to it (with the
/// lock held); `None` when the call runs as one step.
pub(super) fn check(mutants: &[Mutant], request: &Request, emulator: &mut Emulator) -> Option<Window> {
    mutants.iter().find_map(|m| match (m, request) {
        (Mutant::RaceAssociateOwnerCheck, Request::AssociateFaces(_))
        | (Mutant::RaceCreateUserTwice, Request::CreateUser(_)) => {
            Some(Window::Stale(Box::new(emulator.decide(request, Instant::now()))))
        }
        (Mutant::RaceTokenRecordedLate, _) => request.client_request_token().map(|token| Window::LateToken {
            token: token.to_string(),
            known: emulator.token_recorded(token),
        }),
        _ => None,
    })
}

/// The act half (with the lock held again, after [`WINDOW`]).
pub(super) fn act(
    window: Window,
    request: &Request,
    emulator: &mut Emulator,
    epoch_seconds: f64,
) -> Observed {
    let now = Instant::now();
    match window {
        Window::Stale(decided) => emulator.commit(request, *decided, now, epoch_seconds),
        Window::LateToken { token, known } => {
            // Recorded by a racing call since the lookup: this one never saw it.
            if !known && emulator.token_recorded(&token) {
                emulator.forget_token(&token);
            }
            emulator.answer(request, now, epoch_seconds)
        }
    }
}
