//! Lesson 11: persistent connections, pipelining, when to close, and the
//! idle timeout.
//!
//! Every check here first makes sure that the connection stays open when
//! it should, so that a server that simply closes after every response
//! (as lessons 01 to 10 do) fails them: closing when the client asks, or when
//! a body was left unread, only means something on a server that otherwise
//! keeps the connection.

use std::slice;
use std::time::{Duration, Instant};

use super::conditional::if_modified_since;
use super::uploads::{expect_stored, upload};
use super::{Failure, IDLE, PERSISTENT, WHEN_TO_CLOSE, connect, expect_content, expect_status_in};
use crate::client::{Connection, Ending, Exchange, Request, TIMEOUT, seconds};
use crate::fixture::{self, SiteFile};
use crate::server::{self, Session};

/// How much longer than the idle timeout we give a server to close an
/// idle connection: time enough for a busy computer.
const IDLE_MARGIN: Duration = Duration::from_secs(4);

/// Sends `request` on `connection` and reads its response.
pub(super) fn ask(connection: &mut Connection, request: &Request) -> Exchange {
    connection.send_requests(slice::from_ref(request));
    connection.next_response(TIMEOUT)
}

/// Fails unless the response says `Connection: keep-alive` and the
/// connection was still open after it.
pub(super) fn expect_kept_open(exchange: &Exchange) -> Result<(), Failure> {
    let value = exchange.response.field("Connection").unwrap_or_default();
    if !value.eq_ignore_ascii_case("keep-alive") {
        return Err(Failure::new(
            exchange,
            format!(
                "the request lets the connection stay open, so the response should say Connection: keep-alive, not {value:?}"
            ),
        )
        .in_section(PERSISTENT));
    }
    if exchange.ending != Ending::Open {
        return Err(Failure::new(
            exchange,
            format!(
                "the response said Connection: keep-alive, but {}",
                exchange.ending
            ),
        )
        .in_section(PERSISTENT));
    }
    Ok(())
}

/// Fails unless the response says `Connection: close` and the server then
/// closes the connection, without answering anything sent after it;
/// `because` says why it must close.
pub(super) fn expect_closed(
    connection: &mut Connection,
    exchange: &Exchange,
    because: &str,
) -> Result<(), Failure> {
    let value = exchange.response.field("Connection").unwrap_or_default();
    if !value.eq_ignore_ascii_case("close") {
        return Err(Failure::new(
            exchange,
            format!("{because}, so the response should say Connection: close, not {value:?}"),
        )
        .in_section(WHEN_TO_CLOSE));
    }
    let after = connection.wait_for_close(TIMEOUT);
    if !after.received.is_empty() {
        return Err(Failure::new(
            &after,
            "after a response with Connection: close, the server answered the request sent after it, instead of closing",
        )
        .in_section(WHEN_TO_CLOSE));
    }
    match &after.ending {
        Ending::Closed => Ok(()),
        ending => Err(Failure::new(
            &after,
            format!(
                "after a response with Connection: close, {ending} instead of closing it normally"
            ),
        )
        .in_section(WHEN_TO_CLOSE)),
    }
}

/// Sends `request` on `connection` and expects `file`, with the
/// connection kept open.
fn expect_file_kept_open(
    session: &Session,
    connection: &mut Connection,
    request: &Request,
    file: &SiteFile,
) -> Result<(), Failure> {
    let exchange = ask(connection, request);
    expect_served(session, &exchange, file)
}

/// Fails unless `exchange` brought `file`, with the connection kept open.
pub(super) fn expect_served(
    session: &Session,
    exchange: &Exchange,
    file: &SiteFile,
) -> Result<(), Failure> {
    expect_status_in(session, exchange, &[200])?;
    expect_content(exchange, file.path, file.content_type, &(file.content)())?;
    expect_kept_open(exchange)
}

/// Opens a connection and proves that it stays open: `GET /` must come
/// back with `Connection: keep-alive`.
fn open_kept_alive(session: &Session) -> Result<Connection, Failure> {
    let mut connection = connect(session)?;
    expect_file_kept_open(
        session,
        &mut connection,
        &Request::get("/"),
        &fixture::INDEX,
    )?;
    Ok(connection)
}

/// Prefixes a failure's problem with which of several responses it is.
fn nth(number: usize, count: usize) -> impl Fn(Failure) -> Failure + Copy {
    move |failure| Failure {
        problem: format!("response {number} of {count}: {}", failure.problem),
        ..failure
    }
}

pub(super) fn two_requests(session: &Session) -> Result<(), Failure> {
    let mut connection = connect(session)?;
    for file in [fixture::INDEX, fixture::STYLE] {
        expect_file_kept_open(session, &mut connection, &Request::get(file.target), &file)?;
    }
    Ok(())
}

/// Sends `request` on `connection` with a GET right behind it, and
/// expects `status`, then the end of the connection: the GET gets no
/// answer. `because` says why the server must close.
fn expect_last_answer(
    session: &Session,
    connection: &mut Connection,
    request: Request,
    status: u16,
    because: &str,
) -> Result<(), Failure> {
    connection.send_requests(&[request, Request::get(fixture::STYLE.target)]);
    let exchange = connection.next_response(TIMEOUT);
    expect_status_in(session, &exchange, &[status])?;
    expect_closed(connection, &exchange, because)
}

pub(super) fn connection_close(session: &Session) -> Result<(), Failure> {
    expect_last_answer(
        session,
        &mut open_kept_alive(session)?,
        Request::get(fixture::INDEX.target).field("Connection", "close"),
        200,
        "the request said Connection: close",
    )
}

pub(super) fn http10_keep_alive(session: &Session) -> Result<(), Failure> {
    let mut connection = connect(session)?;
    let request = Request::get(fixture::STYLE.target)
        .version("HTTP/1.0")
        .field("Connection", "keep-alive");
    expect_file_kept_open(session, &mut connection, &request, &fixture::STYLE)?;
    expect_last_answer(
        session,
        &mut connection,
        Request::get(fixture::INDEX.target).version("HTTP/1.0"),
        200,
        "an HTTP/1.0 request without Connection: keep-alive closes the connection",
    )
}

pub(super) fn pipelining(session: &Session) -> Result<(), Failure> {
    let files = [fixture::STYLE, fixture::LARGE, fixture::IMAGE];
    let mut connection = connect(session)?;
    let requests = files.map(|file| Request::get(file.target));
    connection.send_requests(&requests);
    for (index, file) in files.iter().enumerate() {
        let exchange = connection.next_response(TIMEOUT);
        expect_served(session, &exchange, file).map_err(nth(index + 1, files.len()))?;
    }
    Ok(())
}

pub(super) fn pipelining_bodiless(session: &Session) -> Result<(), Failure> {
    let expected = [
        (Request::head(fixture::STYLE.target), 200, None),
        (
            if_modified_since(Request::get(fixture::STYLE.target), 0),
            304,
            None,
        ),
        (Request::get("/no-such-file.html"), 404, None),
        (
            Request::get(fixture::IMAGE.target),
            200,
            Some(fixture::IMAGE),
        ),
    ];
    let mut connection = connect(session)?;
    let requests: Vec<Request> = expected
        .iter()
        .map(|(request, _, _)| request.clone())
        .collect();
    connection.send_requests(&requests);
    for (index, (_, status, file)) in expected.iter().enumerate() {
        let numbered = nth(index + 1, expected.len());
        let exchange = connection.next_response(TIMEOUT);
        expect_status_in(session, &exchange, &[*status]).map_err(numbered)?;
        expect_kept_open(&exchange).map_err(numbered)?;
        if let Some(file) = file {
            expect_content(&exchange, file.path, file.content_type, &(file.content)())
                .map_err(numbered)?;
        }
    }
    Ok(())
}

pub(super) fn body_then_request(session: &Session) -> Result<(), Failure> {
    // A body that looks like a request: a server that does not read it
    // would answer it as the second request.
    let body = b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut connection = connect(session)?;
    connection.send_requests(&[
        upload("looks-like-a-request.txt", body),
        Request::get(fixture::INDEX.target),
    ]);
    let exchange_one = connection.next_response(TIMEOUT);
    expect_status_in(session, &exchange_one, &[201]).map_err(nth(1, 2))?;
    expect_kept_open(&exchange_one).map_err(nth(1, 2))?;
    let exchange = connection.next_response(TIMEOUT);
    expect_served(session, &exchange, &fixture::INDEX).map_err(nth(2, 2))?;
    expect_stored(session, &exchange_one, "the uploaded file", body)
}

/// Sends each request on a kept-open connection of its own, and expects
/// its status, then the end of the connection.
fn each_ends_its_connection(
    session: &Session,
    requests: impl IntoIterator<Item = (Request, u16)>,
    because: &str,
) -> Result<(), Failure> {
    requests.into_iter().try_for_each(|(request, status)| {
        let mut connection = open_kept_alive(session)?;
        expect_last_answer(session, &mut connection, request, status, because)
    })
}

pub(super) fn unread_body_closes(session: &Session) -> Result<(), Failure> {
    let refused = [
        (
            Request::post("/guestbook")
                .field("Content-Type", "text/plain")
                .body("name=Anna&message=Hallo"),
            415,
        ),
        (Request::post(fixture::STYLE.target).body("x=1"), 405),
    ];
    each_ends_its_connection(
        session,
        refused,
        "the body of the request is still unread, and would be taken for the next request",
    )
}

pub(super) fn malformed_closes(session: &Session) -> Result<(), Failure> {
    let malformed = [
        // The builder writes `name: value`, so this is `X-Test : x`.
        (Request::get("/").field("X-Test ", "x"), 400),
        (Request::new("BREW", "/"), 501),
        (
            Request::post("/guestbook")
                .field("Content-Length", "abc")
                .raw_body("hello"),
            400,
        ),
        (
            Request::post("/guestbook")
                .field("Transfer-Encoding", "chunked")
                .raw_body("5\r\nhello\r\n0\r\n\r\n"),
            501,
        ),
    ];
    each_ends_its_connection(
        session,
        malformed,
        "after a request the server refuses to read, it cannot tell where the next one starts",
    )
}

pub(super) fn idle_timeout(session: &Session) -> Result<(), Failure> {
    let mut connection = open_kept_alive(session)?;
    let started = Instant::now();
    let after = connection.wait_for_close(server::IDLE_TIMEOUT + IDLE_MARGIN);
    let waited = started.elapsed();
    let idle = seconds(server::IDLE_TIMEOUT);
    let problem = match &after.ending {
        _ if !after.received.is_empty() => {
            "the server sent something on the idle connection; it should close it without a word"
                .to_owned()
        }
        Ending::Closed if waited >= server::IDLE_TIMEOUT / 2 => return Ok(()),
        Ending::Closed => format!(
            "the server closed the connection {} s after the response, before the idle timeout of {idle} s had passed",
            seconds(waited)
        ),
        Ending::TimedOut(_) => format!(
            "the idle connection was still open after {} s; the server was started with an idle timeout of {idle} s (--idle-timeout {{idle_timeout}})",
            seconds(waited)
        ),
        ending => format!("while the connection was idle, {ending}"),
    };
    Err(Failure::new(&after, problem).in_section(IDLE))
}
