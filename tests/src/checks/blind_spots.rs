//! Checks for rules that the other checks left open: found by mutating
//! lesson 14's code and seeing which mutants still passed every check.
//!
//! Each function grades one rule of an earlier lesson more closely: that
//! an error's body explains it (02), the Host rules for each version and
//! for IPv6 literals (04), the body limits at exactly the limit (07, 09),
//! that an upload never replaces a file and leaves nothing behind when it
//! fails (10), that SIGTERM lets a download or an upload finish (12), and
//! the forms of a range with an empty position (13).

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use super::uploads::{
    Part, curl_boundary, data_listing, expect_created, expect_served, location_path,
    multipart_body, unique, upload, upload_form,
};
use super::{
    Failure, LAST_LESSON_WITH_REQUEST_PAGE, connect, expect_status, expect_status_in, send,
};
use crate::client::{Exchange, Request, seconds};
use crate::fixture;
use crate::server::{MAX_BODY, Session};

// ---------------------------------------------------------------------
// Lesson 02 on: an error's body explains it.

/// Bad requests of lesson 02, which every later lesson refuses too. (A
/// later lesson's errors would reach the todo!() of a student's copy.)
fn error_requests() -> Vec<Vec<u8>> {
    vec![
        b"GET / HTTP/1.1\nHost: localhost\r\n\r\n".to_vec(),
        super::long_target_request(),
        super::large_header_section_request(),
    ]
}

/// Whether `body` says more than the status line of `code` and `reason`:
/// a word that is not the code, a word of the reason phrase, or markup.
fn says_more_than_status(body: &str, code: u16, reason: &str) -> bool {
    let mut text = String::new();
    let mut in_tag = false;
    for character in body.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    let code = code.to_string();
    let reason: Vec<String> = reason
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| word.chars().any(char::is_alphabetic))
        .map(str::to_ascii_lowercase)
        .any(|word| {
            word != code && !reason.contains(&word) && !["http", "error"].contains(&word.as_str())
        })
}

pub(super) fn error_bodies_explain(session: &Session) -> Result<(), Failure> {
    let mut errors = 0;
    for request in error_requests() {
        let exchange = send(session, &request)?;
        let response = super::answered(&exchange)?;
        let code = response.code.unwrap_or_default();
        // Which status answers each request is for other checks to say;
        // this one reads the body of every error that comes.
        if code < 400 {
            continue;
        }
        errors += 1;
        let reason = response
            .status_line
            .splitn(3, ' ')
            .nth(2)
            .unwrap_or_default();
        if !says_more_than_status(&response.body_text(), code, reason) {
            return Err(Failure::new(
                &exchange,
                format!(
                    "the body of a {code} only repeats the status line; it should say what was wrong with the request"
                ),
            ));
        }
    }
    if errors == 0 {
        return Err(Failure::without_exchange(
            "none of the bad requests (a bare LF, a 100 KiB target, 100 KiB of header fields, ...) got an error response",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Lesson 04 on: the Host rules.

pub(super) fn host_http10_optional(session: &Session) -> Result<(), Failure> {
    let exchange =
        expect_status(session, b"GET / HTTP/1.0\r\n\r\n", 200).map_err(|failure| Failure {
            problem: format!(
                "{} (only HTTP/1.1 requires Host; an HTTP/1.0 request without it is served)",
                failure.problem
            ),
            ..failure
        })?;
    if session.lesson() <= LAST_LESSON_WITH_REQUEST_PAGE {
        super::expect_page(session, &exchange.sent)?;
    }
    expect_status(session, b"GET / HTTP/1.1\r\n\r\n", 400).map(drop)
}

pub(super) fn host_exactly_one(session: &Session) -> Result<(), Failure> {
    for request in [
        &b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: localhost, localhost\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
    ] {
        expect_status(session, request, 400)?;
    }
    Ok(())
}

pub(super) fn host_ipv6_literal(session: &Session) -> Result<(), Failure> {
    for host in ["[::1]:8080", "[::1]", "[2001:db8::7]:80", "127.0.0.1:8080"] {
        let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        expect_status(session, request.as_bytes(), 200)?;
    }
    // nginx takes an unclosed bracket; a slash no server takes.
    expect_status(session, b"GET / HTTP/1.1\r\nHost: [::1]/x\r\n\r\n", 400).map(drop)
}

// ---------------------------------------------------------------------
// Lesson 07 and 09 on: the body limits, at exactly the limit.

/// How long we wait for the answer to a head whose body we hold back.
const WAIT_FOR_ANSWER: Duration = Duration::from_secs(3);

/// The limit of `/echo`, the course's echo resource.
const ECHO_LIMIT: usize = 64 * 1024;

/// Sends the head of `request`; if no answer comes within
/// `WAIT_FOR_ANSWER`, its body too. Returns the exchange.
fn send_patiently(session: &Session, request: &Request) -> Result<Exchange, Failure> {
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    if connection.wait_for_head(WAIT_FOR_ANSWER).is_none() {
        connection.send(request.body_bytes());
    }
    Ok(connection.finish())
}

pub(super) fn echo_limit_exact(session: &Session) -> Result<(), Failure> {
    let content = fixture::pseudo_random_bytes(ECHO_LIMIT);
    let request = Request::post("/echo")
        .field("Content-Type", "application/octet-stream")
        .body(content.clone());
    let exchange = expect_status(session, &request.bytes(), 200).map_err(|failure| Failure {
        problem: format!(
            "{} (a body of exactly 64 KiB, 65536 bytes, is within the limit of /echo)",
            failure.problem
        ),
        ..failure
    })?;
    if exchange.response.body != content {
        return Err(Failure::new(
            &exchange,
            "/echo must answer with exactly the 65536 bytes it received",
        ));
    }
    let mut one_more = content;
    one_more.push(b'!');
    let request = Request::post("/echo")
        .field("Content-Type", "application/octet-stream")
        .body(one_more);
    let exchange = send_patiently(session, &request)?;
    expect_status_in(session, &exchange, &[413]).map_err(|failure| Failure {
        problem: format!(
            "{} (65537 bytes are one more than the 64 KiB /echo accepts)",
            failure.problem
        ),
        ..failure
    })?;
    Ok(())
}

/// A form of one file whose body is exactly `length` bytes long.
fn form_of_length(name: &str, length: usize) -> Request {
    let boundary = curl_boundary();
    let empty = multipart_body(&boundary, &[Part::file(name, b"")]).len();
    let content = fixture::pseudo_random_bytes(length.saturating_sub(empty));
    upload_form(&boundary, &[Part::file(name, &content)])
}

pub(super) fn upload_limit_exact(session: &Session) -> Result<(), Failure> {
    let limit = usize::try_from(MAX_BODY).unwrap_or(usize::MAX);
    let name = format!("{}.bin", unique("limit"));
    // With Expect: 100-continue the server decides on the head alone: a
    // 100 Continue accepts the size (what it does with the form after is
    // for other checks).
    let exact = form_of_length(&name, limit).field("Expect", "100-continue");
    let mut connection = connect(session)?;
    connection.send(&exact.head_bytes());
    let interim = connection.wait_for_head(WAIT_FOR_ANSWER);
    let accepted = if interim.as_ref().is_some_and(|head| head.code == Some(100)) {
        drop(connection);
        None
    } else {
        connection.send(exact.body_bytes());
        Some(connection.finish())
    };
    if let Some(exchange) = accepted {
        expect_status_in(session, &exchange, &[200, 201]).map_err(|failure| Failure {
            problem: format!(
                "{} (the form's body is exactly --max-body {MAX_BODY} bytes, which is within the limit)",
                failure.problem
            ),
            ..failure
        })?;
    }
    let over = form_of_length(&format!("{}.bin", unique("over")), limit + 1);
    let exchange = send_patiently(session, &over)?;
    expect_status_in(session, &exchange, &[413]).map_err(|failure| Failure {
        problem: format!(
            "{} (the form's body is --max-body {MAX_BODY} bytes and one more)",
            failure.problem
        ),
        ..failure
    })?;
    Ok(())
}

// ---------------------------------------------------------------------
// Lesson 10 on: never replace, and nothing left when an upload fails.

/// The new paths in the data folder since `before` (hidden ones too).
fn new_in_data(session: &Session, before: &BTreeSet<std::path::PathBuf>) -> Vec<String> {
    data_listing(session)
        .difference(before)
        .map(|path| path.display().to_string())
        .collect()
}

/// Sends a form of `files`, one of which is named like a stored file, and
/// expects 409 with nothing stored, or 201 with each file served under a
/// name of its own.
fn expect_no_replacement(
    session: &Session,
    files: &[(&str, &[u8])],
    why: &str,
) -> Result<(), Failure> {
    let before = data_listing(session);
    let parts: Vec<Part> = files
        .iter()
        .map(|(name, content)| Part::file(name, content))
        .collect();
    let exchange = send(session, &upload_form(&curl_boundary(), &parts).bytes())?;
    if exchange.response.code == Some(201) {
        let urls = expect_created(session, &exchange)?;
        for (name, content) in files {
            let mut served = false;
            for url in &urls {
                let got = expect_status(session, &Request::get(url).bytes(), 200)?;
                served |= got.response.body == *content;
            }
            if !served {
                return Err(Failure::new(
                    &exchange,
                    format!(
                        "{why}: with 201, every file of the form must be stored under a name of its own, but none of {} serves {name} byte for byte",
                        urls.join(", ")
                    ),
                ));
            }
        }
        return Ok(());
    }
    expect_status_in(session, &exchange, &[409, 201])?;
    let new = new_in_data(session, &before);
    if new.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        &exchange,
        format!(
            "{why}: a 409 stores no file of the form (all or nothing), but the data folder now also holds {}",
            new.join(", ")
        ),
    ))
}

pub(super) fn upload_never_replaces(session: &Session) -> Result<(), Failure> {
    let taken = format!("{}.txt", unique("taken"));
    let first = b"The file that was there first.\n";
    let exchange = send(session, &upload(&taken, first).bytes())?;
    let first_url = expect_created(session, &exchange)?
        .first()
        .cloned()
        .unwrap_or_default();
    let fresh = format!("{}.txt", unique("fresh"));
    expect_no_replacement(
        session,
        &[
            (&fresh, b"A new file in the same form.\n"),
            (&taken, b"A file that must not replace the first.\n"),
        ],
        &format!("the form's second file is named {taken}, which exists"),
    )?;
    let twice = format!("{}.txt", unique("twice"));
    expect_no_replacement(
        session,
        &[
            (&twice, b"The first file of this name.\n"),
            (&twice, b"The second file of the same name.\n"),
        ],
        &format!("the form holds two files named {twice}"),
    )?;
    expect_served(session, &first_url, "first file", first)
}

pub(super) fn upload_failure_leaves_nothing(session: &Session) -> Result<(), Failure> {
    let boundary = curl_boundary();
    let whole = fixture::pseudo_random_bytes(50_000);
    let half = fixture::pseudo_random_bytes(100_000);
    let first = format!("{}.bin", unique("whole"));
    let second = format!("{}.bin", unique("broken"));
    // The server must store an ordinary upload, or storing nothing below
    // would prove nothing.
    let ordinary = send(session, &upload(&first, &whole).bytes())?;
    expect_created(session, &ordinary)?;
    let first = format!("{}.bin", unique("whole"));
    let request = upload_form(
        &boundary,
        &[Part::file(&first, &whole), Part::file(&second, &half)],
    );
    // The body stops in the middle of the second file, after the first
    // arrived whole.
    let cut = request.body_bytes().len() - 60_000;
    let before = data_listing(session);
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    connection.send(request.body_bytes().get(..cut).unwrap_or_default());
    let exchange = connection.finish();
    expect_status_in(session, &exchange, &[400])?;
    let new = new_in_data(session, &before);
    if !new.is_empty() {
        return Err(Failure::new(
            &exchange,
            format!(
                "an upload that broke off in its second file must leave nothing behind, not even the first file or a temporary file, but the data folder now also holds {}",
                new.join(", ")
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Lesson 12 on: SIGTERM lets what is in progress finish.

/// How long a server may take to exit once its last transfer is done.
const EXIT_WITHIN: Duration = Duration::from_secs(5);

/// How long a transfer may take to finish after SIGTERM.
const FINISH_WITHIN: Duration = Duration::from_secs(15);

/// The size of the file downloaded during the shutdown: more than the
/// socket buffers of both ends hold, so the server is still sending it.
const DOWNLOAD_BYTES: usize = 32 * 1024 * 1024;

/// The name of that file in the document root, there only during the check.
const DOWNLOAD_NAME: &str = "shutdown-download.bin";

/// Sends SIGTERM, or says why the grader cannot.
fn terminate(session: &Session) -> Result<(), Failure> {
    session.server().terminate().map_err(|error| {
        Failure::without_exchange(format!(
            "this check needs a server the grader starts itself (--cmd), because it sends it SIGTERM: {error}"
        ))
    })
}

/// Waits for the server to exit after SIGTERM and fails unless it did so
/// within `EXIT_WITHIN` with status 0. For `--cmd`, a shell that SIGTERM
/// ended may stand between the grader and the server: then every process
/// of the command must be gone, and only a status the shell returned (not
/// the signal that ended it) is judged.
fn expect_clean_exit(session: &mut Session, what: &str) -> Result<(), Failure> {
    let is_command = session.server().is_command();
    let status: Option<ExitStatus> = session.server_mut().wait_until_gone(EXIT_WITHIN);
    let Some(status) = status else {
        return Err(Failure::without_exchange(format!(
            "{what}, but the server still ran {} s later: after SIGTERM it should finish what is in progress and exit",
            seconds(EXIT_WITHIN)
        )));
    };
    let judged = !is_command || status.code().is_some();
    if judged && !status.success() {
        return Err(Failure::without_exchange(format!(
            "{what}, but the server then exited with {status}, not 0: a shutdown on SIGTERM is a clean end"
        )));
    }
    Ok(())
}

/// Starts the server again, for the checks that follow.
fn restart(session: &mut Session) -> Result<(), Failure> {
    session.restart().map_err(|error| {
        Failure::without_exchange(format!("cannot start the server again: {error}"))
    })
}

/// Reads from `stream` until `enough` says so, the server closes, or
/// `deadline` has passed.
fn read_until(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    deadline: Instant,
    enough: impl Fn(&[u8]) -> bool,
) {
    let mut buffer = vec![0; 64 * 1024];
    while !enough(received) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut buffer) {
            Ok(count) if count > 0 => {
                received.extend_from_slice(buffer.get(..count).unwrap_or_default())
            }
            _ => return,
        }
    }
}

/// Where the head of a response ends, if it has.
fn head_end(received: &[u8]) -> Option<usize> {
    received
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|position| position + 4)
}

pub(super) fn shutdown_finishes_download(session: &mut Session) -> Result<(), Failure> {
    let content = fixture::every_byte_value().repeat(DOWNLOAD_BYTES / 256);
    let path = session.fixture().root().join(DOWNLOAD_NAME);
    fs::write(&path, &content).map_err(|error| {
        Failure::without_exchange(format!("cannot write the file to download: {error}"))
    })?;
    let result = download_during_shutdown(session, &content);
    let _ = fs::remove_file(&path);
    let restarted = restart(session);
    result.and(restarted)
}

fn download_during_shutdown(session: &mut Session, content: &[u8]) -> Result<(), Failure> {
    let request = Request::get(format!("/{DOWNLOAD_NAME}")).field("Connection", "close");
    let mut stream = crate::client::connect(session.address())
        .map_err(|error| super::cannot_connect(session, &error))?;
    stream
        .write_all(&request.bytes())
        .map_err(|error| super::cannot_connect(session, &error))?;
    let mut received = Vec::new();
    let deadline = Instant::now() + crate::client::TIMEOUT;
    read_until(&mut stream, &mut received, deadline, |bytes| {
        head_end(bytes).is_some()
    });
    if head_end(&received).is_none() {
        return Err(Failure::without_exchange(format!(
            "GET /{DOWNLOAD_NAME} (a file of 32 MiB) got no response head within {} s",
            seconds(crate::client::TIMEOUT)
        )));
    }
    // The response has begun; most of it cannot have left the server yet.
    terminate(session)?;
    read_until(
        &mut stream,
        &mut received,
        Instant::now() + FINISH_WITHIN,
        |_| false,
    );
    drop(stream);
    let body = received
        .get(head_end(&received).unwrap_or_default()..)
        .unwrap_or_default();
    if body != content {
        return Err(Failure::without_exchange(format!(
            "SIGTERM came while the server sent a file of {} bytes, and only {} bytes of it arrived: a server that shuts down must finish the responses in progress",
            content.len(),
            body.len().min(content.len())
        )));
    }
    expect_clean_exit(session, "the download finished after SIGTERM")
}

pub(super) fn shutdown_finishes_upload(session: &mut Session) -> Result<(), Failure> {
    let result = upload_during_shutdown(session);
    let restarted = restart(session);
    let location = result?;
    restarted?;
    let (url, content) = location;
    expect_served(session, &url, "file (after the restart)", &content)
}

/// Uploads a file and sends SIGTERM while its body is still arriving;
/// returns the stored file's URL and content.
fn upload_during_shutdown(session: &mut Session) -> Result<(String, Vec<u8>), Failure> {
    let content = fixture::pseudo_random_bytes(200_000);
    let name = format!("{}.bin", unique("shutdown"));
    let request = upload(&name, &content)
        .field("Expect", "100-continue")
        .field("Connection", "close");
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    // The 100 Continue shows that the server reads this request.
    let _ = connection.wait_for_head(WAIT_FOR_ANSWER);
    let body = request.body_bytes();
    let half = body.len() / 2;
    connection.send(body.get(..half).unwrap_or_default());
    terminate(session)?;
    // A server that shuts down stops accepting connections; waiting for
    // that (briefly) makes sure the rest of the body arrives after the
    // server has begun to shut down.
    let address = session.address();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && TcpStream::connect(address).is_ok() {
        thread::sleep(Duration::from_millis(20));
    }
    connection.send(body.get(half..).unwrap_or_default());
    let mut exchange = connection.finish();
    // What came first was the 100 Continue; the final response follows it.
    if exchange.response.code == Some(100)
        && let Some(end) = head_end(&exchange.received)
    {
        let rest = exchange.received.split_off(end);
        exchange.received = rest;
        exchange.response = crate::client::Response::parse(&exchange.received, false);
    }
    let created = expect_status_in(session, &exchange, &[201]).map_err(|failure| Failure {
        problem: format!(
            "{} (SIGTERM came while the upload's body was still arriving; a server that shuts down must finish the requests in progress)",
            failure.problem
        ),
        ..failure
    });
    let created = created.map(drop);
    let url = location_path(&exchange);
    let exited = expect_clean_exit(session, "the upload finished after SIGTERM");
    created?;
    exited?;
    let url = url.ok_or_else(|| {
        Failure::new(
            &exchange,
            "a 201 Created needs a Location field with the file's URL",
        )
    })?;
    Ok((url, content))
}

// ---------------------------------------------------------------------
// Lesson 13 on: ranges with an empty first or last position.

pub(super) fn range_empty_positions(session: &Session) -> Result<(), Failure> {
    let file = fixture::ALL_BYTES;
    let content = (file.content)();
    // RFC 9110, section 14.1.1: an int-range may leave out its last
    // position (to the end), a suffix-range its first (the last N bytes).
    for (range, first, last) in [
        ("bytes=5-", 5, 255),
        ("bytes=255-", 255, 255),
        ("bytes=0-", 0, 255),
        ("bytes=-1", 255, 255),
        ("bytes=-256", 0, 255),
        ("bytes=0-0", 0, 0),
    ] {
        let request = Request::get(file.target).field("Range", range);
        let exchange = expect_status(session, &request.bytes(), 206)?;
        let content_range = format!("bytes {first}-{last}/256");
        let received = exchange.response.field("Content-Range").unwrap_or_default();
        let part = content.get(first..=last).unwrap_or_default();
        if received != content_range || exchange.response.body != part {
            return Err(Failure::new(
                &exchange,
                format!(
                    "Range: {range} should get the bytes {first} to {last} with Content-Range: {content_range} (got {received:?} and {} bytes)",
                    exchange.response.body.len()
                ),
            ));
        }
    }
    // A suffix of length 0 is valid but selects nothing: 416.
    expect_status(
        session,
        &Request::get(file.target).field("Range", "bytes=-0").bytes(),
        416,
    )?;
    // Without either position, or with nothing after "bytes=", it is no
    // range at all: the server ignores it (section 14.2).
    for range in ["bytes=-", "bytes=", "bytes=--5", "bytes=5", "bytes=-5-"] {
        let request = Request::get(file.target).field("Range", range);
        let exchange =
            expect_status(session, &request.bytes(), 200).map_err(|failure| Failure {
                problem: format!(
                    "{} (Range: {range} is not a valid range, so it is ignored)",
                    failure.problem
                ),
                ..failure
            })?;
        if exchange.response.body != content {
            return Err(Failure::new(
                &exchange,
                format!("Range: {range} is not a valid range: 200 with the whole file"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_only_repeats_the_status_says_nothing() {
        assert!(!says_more_than_status(
            "400 Bad Request\n",
            400,
            "Bad Request"
        ));
        assert!(!says_more_than_status(
            "400 Bad Request: \n",
            400,
            "Bad Request"
        ));
        assert!(!says_more_than_status(
            "<h1>404 Not Found</h1><p>.</p>",
            404,
            "Not Found"
        ));
        assert!(says_more_than_status(
            "400 Bad Request: a request must not have more than one Host header field\n",
            400,
            "Bad Request"
        ));
        assert!(says_more_than_status("missing Host", 400, ""));
    }

    #[test]
    fn a_form_of_length_is_that_long() {
        assert_eq!(form_of_length("x.bin", 5000).body_bytes().len(), 5000);
    }
}
