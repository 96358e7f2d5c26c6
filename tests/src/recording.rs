//! Recording the exchanges a check makes, for `--verbose`.
//!
//! A check that passes returns nothing but `Ok(())`, so to show what it
//! sent and what came back, the client hands every finished exchange to
//! `record`. Recording is off until `start` turns it on, and `finish`
//! returns what was recorded since and turns it off again. It is one list
//! for the whole process, so that the exchanges of a check's own threads
//! (lesson 12's checks use several) are recorded too; the grader runs one
//! check at a time.

use std::sync::{Mutex, PoisonError};

use crate::client::Exchange;

/// At most this many exchanges of one check are kept; the rest are only
/// counted.
pub const MAX_RECORDED: usize = 50;

/// What one check sent and received.
#[derive(Debug, Default)]
pub struct Recorded {
    /// The first `MAX_RECORDED` exchanges, in the order they ended.
    pub exchanges: Vec<Exchange>,
    /// How many more there were.
    pub left_out: usize,
}

/// `None` while recording is off.
static RECORDING: Mutex<Option<Recorded>> = Mutex::new(None);

/// Starts recording, forgetting anything recorded before.
pub fn start() {
    *RECORDING.lock().unwrap_or_else(PoisonError::into_inner) = Some(Recorded::default());
}

/// Stops recording and returns what was recorded since `start`.
pub fn finish() -> Recorded {
    RECORDING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .unwrap_or_default()
}

/// Keeps a copy of `exchange`, when recording is on.
pub fn record(exchange: &Exchange) {
    let mut recording = RECORDING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(recorded) = recording.as_mut() {
        if recorded.exchanges.len() < MAX_RECORDED {
            recorded.exchanges.push(exchange.clone());
        } else {
            recorded.left_out += 1;
        }
    }
}

impl Exchange {
    /// Records the exchange (see `record`) and returns it: the client ends
    /// every exchange it builds with this.
    pub(crate) fn recorded(self) -> Exchange {
        record(&self);
        self
    }
}
