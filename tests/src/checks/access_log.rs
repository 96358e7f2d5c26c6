//! Lesson 14: the access log says what happened, not what was meant to
//! happen: the bytes that were really sent, and the request line as the
//! client sent it, even when a later part of the request was bad.

use std::fs::{self, File};
use std::thread;
use std::time::{Duration, Instant};

use super::keep_alive::ask;
use super::{ACCESS_LOG, Failure, connect, expect_status_in};
use crate::client::{Exchange, Request};
use crate::fixture;
use crate::server::Session;

/// How long the access log may lag behind the responses.
const LOG_DEADLINE: Duration = Duration::from_secs(3);

/// The pause between two looks at the access log.
const LOG_POLL: Duration = Duration::from_millis(20);

/// The size of the download that the client breaks off. It is far larger
/// than what the operating system's buffers on both ends can hold, so a
/// server cannot have sent all of it when the client resets.
const DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// How long we wait for the download's head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits for the access log's line with `"REQUEST LINE"` and returns what
/// follows it, `STATUS BYTES`; or the problem, once `LOG_DEADLINE` has
/// passed.
fn logged(session: &Session, request_line: &str) -> Result<String, String> {
    let path = session.fixture().access_log();
    let quoted = format!("\"{request_line}\" ");
    let deadline = Instant::now() + LOG_DEADLINE;
    loop {
        let log = fs::read_to_string(&path).unwrap_or_default();
        if let Some(rest) = log.lines().find_map(|line| line.split_once(&quoted)) {
            return Ok(rest.1.to_owned());
        }
        if Instant::now() >= deadline {
            return Err(if log.is_empty() {
                format!(
                    "the access log {} is empty or missing (the server was started with --access-log {{access_log}})",
                    path.display()
                )
            } else {
                format!(
                    "the access log has no line with the request line as the client sent it, {}",
                    quoted.trim_end()
                )
            });
        }
        thread::sleep(LOG_POLL);
    }
}

/// A request on a connection of its own, answered with one of `statuses`,
/// whose log line must say `"REQUEST LINE" STATUS`.
fn logs_request_line(
    session: &Session,
    request: &Request,
    statuses: &[u16],
) -> Result<(), Failure> {
    let mut connection = connect(session)?;
    let exchange: Exchange = ask(&mut connection, request);
    let response = expect_status_in(session, &exchange, statuses)?;
    drop(connection);
    let request_line = String::from_utf8_lossy(&request.head_bytes())
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let status = response.code.unwrap_or_default();
    let rest = logged(session, &request_line)
        .map_err(|problem| Failure::new(&exchange, problem).in_section(ACCESS_LOG))?;
    if rest.starts_with(&format!("{status} ")) {
        Ok(())
    } else {
        Err(Failure::new(
            &exchange,
            format!("the access log line for \"{request_line}\" should go on with the status {status}, not {rest:?}"),
        )
        .in_section(ACCESS_LOG))
    }
}

pub(super) fn access_log_version(session: &Session) -> Result<(), Failure> {
    let token = format!("{:016x}", fixture::random_number());
    let request = Request::get(format!("/style.css?log={token}")).version("HTTP/1.2");
    logs_request_line(session, &request, &[200])
}

pub(super) fn access_log_bad_field(session: &Session) -> Result<(), Failure> {
    let token = format!("{:016x}", fixture::random_number());
    let request = Request::get(format!("/index.html?log={token}")).field("Bad Name", "x");
    logs_request_line(session, &request, &[400])
}

pub(super) fn access_log_bytes_sent(session: &Session) -> Result<(), Failure> {
    // A sparse file: it takes no room on the disk and is made at once.
    let name = format!("download-{:016x}.bin", fixture::random_number());
    let path = session.fixture().root().join(&name);
    File::create(&path)
        .and_then(|file| file.set_len(DOWNLOAD_BYTES))
        .map_err(|error| {
            Failure::without_exchange(format!("cannot make {}: {error}", path.display()))
        })?;
    let request = Request::get(format!("/{name}")).field("Connection", "close");
    let mut connection = connect(session)?;
    connection.send_requests(std::slice::from_ref(&request));
    let head = connection.wait_for_head(HEAD_TIMEOUT);
    // Closing a connection whose received bytes we have not read makes our
    // side reset it: the client has gone, and the rest cannot arrive.
    drop(connection);
    let received = head.as_ref().map_or(0, |response| response.body.len());
    let result = match head.and_then(|response| response.code) {
        Some(200) => {
            let request_line = format!("GET /{name} HTTP/1.1");
            let problem =
                |problem: String| Failure::without_exchange(problem).in_section(ACCESS_LOG);
            let rest = logged(session, &request_line).map_err(problem)?;
            let bytes = rest.split_once(' ').map_or("", |(_, bytes)| bytes);
            let sent = if bytes == "-" {
                Some(0)
            } else {
                bytes.parse::<u64>().ok()
            };
            match sent {
                Some(sent) if sent < DOWNLOAD_BYTES && sent >= received as u64 => Ok(()),
                _ => Err(problem(format!(
                    "a download of {DOWNLOAD_BYTES} bytes that the client reset after {received} bytes of body was logged with {bytes:?} bytes: the access log must show the bytes really sent, at least those {received} and fewer than {DOWNLOAD_BYTES}"
                ))),
            }
        }
        code => Err(Failure::without_exchange(format!(
            "GET /{name} (a file of {DOWNLOAD_BYTES} bytes) should get 200, not {}",
            code.map_or_else(|| "no response".to_owned(), |code| code.to_string())
        ))),
    };
    let _ = fs::remove_file(&path);
    result
}
