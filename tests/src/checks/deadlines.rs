//! Lessons 02 and 07: deadlines for slow clients.
//!
//! A read timeout limits only each single wait for bytes. A client that
//! sends one byte every fraction of a second never runs into it, and can
//! hold a connection (and, from lesson 12 on, one of the server's few
//! slots) for as long as it likes. So a request head gets a deadline as a
//! whole (`--head-timeout`), and a body a minimum rate after a first grace
//! period (`--body-timeout`, `--min-body-rate`), as Apache's
//! `mod_reqtimeout` does. The grader starts a server with short values, so
//! these checks take a few seconds only.

use std::thread;
use std::time::{Duration, Instant};

use super::keep_alive::expect_closed;
use super::{Failure, connect, expect_status_in};
use crate::client::{Connection, Exchange, TIMEOUT, seconds};
use crate::server::{self, Session};

/// The pause between two bytes of a trickling client: about ten bytes a
/// second, far below any sensible minimum rate.
const TRICKLE_PAUSE: Duration = Duration::from_millis(100);

/// How much longer than its deadline we give a server to answer a
/// trickling client: time enough for a busy computer.
const MARGIN: Duration = Duration::from_secs(3);

/// Sends `start`, then one byte of `filler` every `TRICKLE_PAUSE`, until
/// the server answers or `within` has passed. Returns the response (empty
/// when none came) and how long the client trickled.
fn trickle(
    session: &Session,
    start: &[u8],
    filler: u8,
    within: Duration,
) -> Result<(Connection, Exchange, Duration), Failure> {
    let mut connection = connect(session)?;
    let started = Instant::now();
    let mut sending = connection.send(start);
    while sending && started.elapsed() < within && !connection.has_answered() {
        thread::sleep(TRICKLE_PAUSE);
        sending = connection.send(&[filler]);
    }
    let waited = started.elapsed();
    // A server that answered has sent its whole response by now, or is
    // about to; one that did not gets no more time.
    let rest = if connection.has_answered() {
        TIMEOUT
    } else {
        Duration::from_millis(1)
    };
    let exchange = connection.next_response(rest);
    Ok((connection, exchange, waited))
}

/// Expects a 408 after which the server closes, or says what the server
/// did instead to a client that trickled for `waited`.
fn expect_timeout(
    session: &Session,
    mut connection: Connection,
    exchange: &Exchange,
    waited: Duration,
    what: &str,
    options: &str,
) -> Result<(), Failure> {
    if exchange.received.is_empty() {
        return Err(Failure::new(
            exchange,
            format!(
                "a client that sent {what} one byte every {} s still had no answer after {} s; the server was started with {options} and should have answered 408 Request Timeout by then",
                seconds(TRICKLE_PAUSE),
                seconds(waited)
            ),
        ));
    }
    expect_status_in(session, exchange, &[408])?;
    expect_closed(
        &mut connection,
        exchange,
        "after a request that did not arrive in time, the rest of it may still come",
    )
}

pub(super) fn trickled_head(session: &Session) -> Result<(), Failure> {
    let deadline = server::HEAD_TIMEOUT;
    let (connection, exchange, waited) = trickle(
        session,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
        b'a',
        deadline + MARGIN,
    )?;
    let options = format!("--head-timeout {}", seconds(deadline));
    expect_timeout(session, connection, &exchange, waited, "its head", &options)
}

pub(super) fn trickled_body(session: &Session) -> Result<(), Failure> {
    let deadline = server::BODY_TIMEOUT;
    let (connection, exchange, waited) = trickle(
        session,
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n",
        b'a',
        deadline + MARGIN,
    )?;
    let options = format!(
        "--body-timeout {} --min-body-rate {}",
        seconds(deadline),
        server::MIN_BODY_RATE
    );
    expect_timeout(session, connection, &exchange, waited, "its body", &options)
}
