//! Lesson 12: many clients at once, and a cap on how many.
//!
//! A stalled client here is one that sends part of a request head and
//! then nothing: a server that serves one connection at a time waits for
//! the rest until its read timeout (10 s in the course), and everybody
//! else waits with it. Each stalled client is first served one request on
//! its connection, which proves that it holds one of the server's slots.

use std::thread;
use std::time::{Duration, Instant};

use super::keep_alive::{expect_closed, expect_served};
use super::{Failure, SLOW_CLIENTS, THREADS, connect, expect_status_in};
use crate::client::{Connection, Ending, Request, seconds};
use crate::fixture;
use crate::server::Session;

/// How soon a client must be served while others stall: well below the
/// read timeout a server that serves one connection at a time would make
/// it wait, with room for a busy computer.
const SERVED_WITHIN: Duration = Duration::from_secs(4);

/// How soon the slots of clients that have left must be free again.
const FREED_WITHIN: Duration = Duration::from_secs(3);

/// The pause before asking again when a slot is not free yet.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// How many stalled clients `many_stalled_clients` opens, and the cap the
/// server gets for that check (the course's default).
const MANY_STALLED: usize = 50;
const CAP_FOR_MANY: usize = 64;

/// The start of a request head, and the rest of it.
const HALF_HEAD: &[u8] = b"GET /style.css HTTP/1.1\r\nHost: loc";
const REST_OF_HEAD: &[u8] = b"alhost\r\n\r\n";

/// Opens a connection and expects `GET /style.css` on it to be served
/// within `within`, the connection kept open. A 503 means that the slot of
/// a client that has just left is not free yet, so it asks again until
/// `within` has passed. `meanwhile` says what else is going on, for the
/// failure when no response comes.
fn served(session: &Session, within: Duration, meanwhile: &str) -> Result<Connection, Failure> {
    let deadline = Instant::now() + within;
    loop {
        let mut connection = connect(session)?;
        connection.send_requests(&[Request::get(fixture::STYLE.target)]);
        let exchange = connection.next_response(deadline.saturating_duration_since(Instant::now()));
        if exchange.response.code == Some(503) && Instant::now() + RETRY_PAUSE < deadline {
            thread::sleep(RETRY_PAUSE);
            continue;
        }
        if exchange.received.is_empty() {
            let how = match &exchange.ending {
                Ending::TimedOut(_) => String::new(),
                ending => format!(" ({ending})"),
            };
            return Err(Failure::new(
                &exchange,
                format!(
                    "{meanwhile}, a new client got no response within {} s{how}: does the server serve one connection at a time?",
                    seconds(within)
                ),
            )
            .in_section(SLOW_CLIENTS));
        }
        expect_served(session, &exchange, &fixture::STYLE)?;
        return Ok(connection);
    }
}

/// What goes on while `count` clients stall, for a failure.
fn stalling(count: usize) -> String {
    match count {
        0 => "with no other client connected".to_owned(),
        1 => "while 1 other client stalled in the middle of a request head".to_owned(),
        count => format!("while {count} other clients stalled in the middle of a request head"),
    }
}

/// Opens `count` connections that each hold a slot of the server and then
/// stall in the middle of their next request head.
fn stalled_clients(session: &Session, count: usize) -> Result<Vec<Connection>, Failure> {
    let mut stalled = Vec::with_capacity(count);
    for number in 0..count {
        let mut connection = served(session, SERVED_WITHIN, &stalling(number))?;
        connection.send(HALF_HEAD);
        stalled.push(connection);
    }
    Ok(stalled)
}

pub(super) fn stalled_clients_wait_alone(session: &Session) -> Result<(), Failure> {
    let count = session.max_connections().saturating_sub(1);
    let stalled = stalled_clients(session, count)?;
    drop(served(session, SERVED_WITHIN, &stalling(count))?);
    for mut connection in stalled {
        connection.send(REST_OF_HEAD);
        let exchange = connection.finish();
        expect_status_in(session, &exchange, &[200]).map_err(|failure| Failure {
            problem: format!(
                "a stalled client finished its request head: {}",
                failure.problem
            ),
            ..failure
        })?;
    }
    Ok(())
}

pub(super) fn connection_limit(session: &Session) -> Result<(), Failure> {
    let cap = session.max_connections();
    let held = stalled_clients(session, cap)?;
    let mut extra = connect(session)?;
    let exchange = extra.next_response(SERVED_WITHIN);
    if exchange.received.is_empty() {
        return Err(Failure::new(
            &exchange,
            format!(
                "with {cap} connections open (the server was started with --max-connections {cap}), one more should get 503 Service Unavailable at once, before it sends a request; instead {}",
                exchange.ending
            ),
        )
        .in_section(THREADS));
    }
    expect_status_in(session, &exchange, &[503])?;
    let retry_after = exchange.response.field("Retry-After").unwrap_or_default();
    let says_when = retry_after.bytes().all(|byte| byte.is_ascii_digit())
        || httpdate::parse_http_date(retry_after).is_ok();
    if retry_after.is_empty() || !says_when {
        return Err(Failure::new(
            &exchange,
            format!(
                "a 503 should say when to try again, in seconds or as a date (Retry-After: 1), not {retry_after:?}"
            ),
        ));
    }
    expect_closed(&mut extra, &exchange, "a refused connection is not served")?;
    drop(held);
    let meanwhile = format!("after the {cap} connections that filled every slot had closed");
    drop(served(session, FREED_WITHIN, &meanwhile)?);
    Ok(())
}

pub(super) fn many_stalled_clients(session: &mut Session) -> Result<(), Failure> {
    let usual_cap = session.max_connections();
    restart(session, CAP_FOR_MANY)?;
    let result = stalled_clients(session, MANY_STALLED).and_then(|stalled| {
        drop(served(session, SERVED_WITHIN, &stalling(MANY_STALLED))?);
        drop(stalled);
        Ok(())
    });
    let restored = restart(session, usual_cap);
    result.and(restored)
}

/// Restarts the server with `--max-connections cap`.
fn restart(session: &mut Session, cap: usize) -> Result<(), Failure> {
    session.restart_with_max_connections(cap).map_err(|error| {
        Failure::without_exchange(format!(
            "could not restart the server with --max-connections {cap}: {error}"
        ))
    })
}
