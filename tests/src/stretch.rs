//! Stretch checks: one for each exercise of a chapter that changes what a
//! client sees. They run only with `--stretch`, after the lesson's own
//! checks, and never count toward passing a lesson: a reference lesson
//! fails every one of them, since it does not do the exercises.
//!
//! They use the same `Check` type as the lesson's checks; `section` names
//! the chapter's exercises, and each rule says which exercise it is. A
//! stretch check belongs to the lessons from the one whose chapter has the
//! exercise on, until a later lesson teaches the same thing itself
//! (lesson 06 teaches HEAD, lesson 13 `If-Unmodified-Since`).

use std::time::Duration;

use crate::checks::uploads::upload;
use crate::checks::{Check, Failure, custom};
use crate::client::{self, Connection, Ending, Exchange, Request};
use crate::fixture::{self, SiteFile};
use crate::server::Session;

pub static STRETCH_CHECKS: &[Check] = &[
    custom(
        "stretch-server-field",
        2,
        None,
        "lesson02.md#exercises",
        "exercise 1 of lesson 02 (Sign your answers): every response, an error too, has a Server field",
        server_field,
    ),
    custom(
        "stretch-head-early",
        3,
        Some(5),
        "lesson03.md#exercises",
        "exercise 2 of lesson 03 (A second method): HEAD gets the status, Content-Type and Content-Length of GET, and no body",
        head_early,
    ),
    custom(
        "stretch-if-unmodified-since",
        6,
        Some(12),
        "lesson06.md#exercises",
        "exercise 3 of lesson 06 (If-Unmodified-Since): a date earlier than the file's gets 412, a later one the file",
        if_unmodified_since,
    ),
    custom(
        "stretch-chunked-echo",
        7,
        None,
        "lesson07.md#exercises",
        "exercise 3 of lesson 07 (Chunked bodies): POST /echo with Transfer-Encoding: chunked gets 200 and the decoded body",
        chunked_echo,
    ),
    custom(
        "stretch-upload-fresh-name",
        10,
        None,
        "lesson10.md#exercises",
        "exercise 1 of lesson 10 (A fresh name instead of 409): a second upload with a taken name gets 201 and another Location, and the first file stays",
        upload_fresh_name,
    ),
    custom(
        "stretch-keep-alive-field",
        11,
        None,
        "lesson11.md#exercises",
        "exercise 4 of lesson 11 (Tell the client): a response on a connection kept open has Keep-Alive: timeout=N",
        keep_alive_field,
    ),
    custom(
        "stretch-multiple-ranges",
        13,
        None,
        "lesson13.md#exercises",
        "exercise 3 of lesson 13 (Several ranges): Range: bytes=0-4,10-14 gets 206 with a multipart/byteranges body of both ranges",
        multiple_ranges,
    ),
];

/// The stretch checks for `lesson`, in the order they run.
pub fn for_lesson(lesson: u8) -> impl Iterator<Item = &'static Check> {
    STRETCH_CHECKS
        .iter()
        .filter(move |check| check.applies_to(lesson))
}

/// The file the checks of single files ask for.
const FILE: SiteFile = fixture::STYLE;

fn send(session: &Session, request: &[u8]) -> Result<Exchange, Failure> {
    client::exchange(session.address(), request).map_err(|error| {
        problem_without_exchange(format!("cannot connect to {}: {error}", session.address()))
    })
}

fn problem(exchange: &Exchange, problem: impl Into<String>) -> Failure {
    Failure {
        exchange: Some(Box::new(exchange.clone())),
        problem: problem.into(),
        section: None,
    }
}

fn problem_without_exchange(problem: impl Into<String>) -> Failure {
    Failure {
        exchange: None,
        problem: problem.into(),
        section: None,
    }
}

/// The status code as text: `404`, or `no status` for what is not a
/// response.
fn status_of(exchange: &Exchange) -> String {
    exchange
        .response
        .code
        .map_or_else(|| "no status".to_owned(), |code| code.to_string())
}

fn expect_code(exchange: &Exchange, code: u16) -> Result<(), Failure> {
    if exchange.response.code == Some(code) {
        return Ok(());
    }
    Err(problem(
        exchange,
        format!("expected {code}, got {}", status_of(exchange)),
    ))
}

fn server_field(session: &Session) -> Result<(), Failure> {
    let good = Request::get("/").bytes();
    let bad = b"GET / HTTP/1.1\nHost: localhost\r\n\r\n";
    for request in [good.as_slice(), bad] {
        let exchange = send(session, request)?;
        let has_server = exchange
            .response
            .field("Server")
            .is_some_and(|value| !value.is_empty());
        if !has_server {
            return Err(problem(
                &exchange,
                format!(
                    "the response ({}) has no Server field",
                    status_of(&exchange)
                ),
            ));
        }
    }
    Ok(())
}

fn head_early(session: &Session) -> Result<(), Failure> {
    let get = send(session, &Request::get("/").bytes())?;
    expect_code(&get, 200)?;
    let head = send(session, &Request::head("/").bytes())?;
    if head.response.code != get.response.code {
        return Err(problem(
            &head,
            format!(
                "HEAD got {} where GET got {}",
                status_of(&head),
                status_of(&get)
            ),
        ));
    }
    let content_type = get.response.field("Content-Type");
    if head.response.field("Content-Type") != content_type {
        return Err(problem(
            &head,
            format!(
                "HEAD's Content-Type is not GET's ({})",
                content_type.unwrap_or("none")
            ),
        ));
    }
    if head.response.field("Content-Length").is_none() {
        return Err(problem(
            &head,
            "HEAD's response has no Content-Length: it must be the length GET's body would have",
        ));
    }
    if !head.response.body.is_empty() {
        return Err(problem(
            &head,
            format!(
                "the response to HEAD has a body ({} bytes)",
                head.response.body.len()
            ),
        ));
    }
    Ok(())
}

fn if_unmodified_since(session: &Session) -> Result<(), Failure> {
    let day = Duration::from_secs(24 * 60 * 60);
    let earlier = httpdate::fmt_http_date(fixture::modified() - day);
    let request = Request::get(FILE.target).field("If-Unmodified-Since", earlier);
    expect_code(&send(session, &request.bytes())?, 412)?;
    let later = httpdate::fmt_http_date(fixture::modified() + day);
    let request = Request::get(FILE.target).field("If-Unmodified-Since", later);
    let exchange = send(session, &request.bytes())?;
    expect_code(&exchange, 200)?;
    if exchange.response.body != (FILE.content)() {
        return Err(problem(&exchange, "the body is not the file"));
    }
    Ok(())
}

fn chunked_echo(session: &Session) -> Result<(), Failure> {
    let request = Request::post("/echo")
        .field("Transfer-Encoding", "chunked")
        .raw_body(b"5\r\nHallo\r\n7\r\n, Welt!\r\n0\r\n\r\n".to_vec());
    let exchange = send(session, &request.bytes())?;
    expect_code(&exchange, 200)?;
    if exchange.response.body != b"Hallo, Welt!" {
        return Err(problem(
            &exchange,
            "the body sent back is not the decoded body, Hallo, Welt!",
        ));
    }
    Ok(())
}

/// Expects 201 and returns the path of the `Location` field.
fn created(exchange: &Exchange) -> Result<String, Failure> {
    expect_code(exchange, 201)?;
    let location = exchange
        .response
        .field("Location")
        .ok_or_else(|| problem(exchange, "the 201 response has no Location"))?;
    let path = match location.split_once("://") {
        Some((_scheme, rest)) => rest.find('/').and_then(|slash| rest.get(slash..)),
        None => Some(location),
    };
    Ok(path.unwrap_or("/").to_owned())
}

fn expect_served(session: &Session, path: &str, content: &[u8]) -> Result<(), Failure> {
    let exchange = send(session, &Request::get(path).bytes())?;
    expect_code(&exchange, 200)?;
    if exchange.response.body != content {
        return Err(problem(
            &exchange,
            format!("{path} does not hold the file uploaded there"),
        ));
    }
    Ok(())
}

fn upload_fresh_name(session: &Session) -> Result<(), Failure> {
    let name = format!("fresh-{:x}.txt", fixture::random_number());
    let first = b"The first file.\n";
    let first_path = created(&send(session, &upload(&name, first).bytes())?)?;
    let second = b"The second file, with the same name.\n";
    let exchange = send(session, &upload(&name, second).bytes())?;
    let second_path = created(&exchange)?;
    if second_path == first_path {
        return Err(problem(
            &exchange,
            format!("the second upload got the first one's Location, {first_path}"),
        ));
    }
    expect_served(session, &first_path, first)?;
    expect_served(session, &second_path, second)
}

fn keep_alive_field(session: &Session) -> Result<(), Failure> {
    let mut connection = Connection::open(session.address()).map_err(|error| {
        problem_without_exchange(format!("cannot connect to {}: {error}", session.address()))
    })?;
    connection.send_requests(&[Request::get("/")]);
    let exchange = connection.next_response(client::TIMEOUT);
    expect_code(&exchange, 200)?;
    if exchange.ending != Ending::Open {
        return Err(problem(
            &exchange,
            format!("the connection did not stay open: {}", exchange.ending),
        ));
    }
    let timeout = exchange.response.field("Keep-Alive").and_then(|value| {
        value.split(',').find_map(|parameter| {
            let (name, seconds) = parameter.split_once('=')?;
            let is_number = !seconds.trim().is_empty()
                && seconds.trim().bytes().all(|byte| byte.is_ascii_digit());
            (name.trim().eq_ignore_ascii_case("timeout") && is_number).then_some(seconds)
        })
    });
    if timeout.is_none() {
        return Err(problem(
            &exchange,
            "the response has no Keep-Alive field with timeout=N (whole seconds)",
        ));
    }
    Ok(())
}

fn multiple_ranges(session: &Session) -> Result<(), Failure> {
    let content = (FILE.content)();
    let request = Request::get(FILE.target).field("Range", "bytes=0-4,10-14");
    let exchange = send(session, &request.bytes())?;
    expect_code(&exchange, 206)?;
    let content_type = exchange.response.field("Content-Type").unwrap_or_default();
    let boundary = content_type
        .strip_prefix("multipart/byteranges")
        .and_then(|rest| rest.split_once("boundary="))
        .map(|(_, boundary)| boundary.trim_matches('"'));
    let Some(boundary) = boundary else {
        return Err(problem(
            &exchange,
            format!(
                "expected Content-Type: multipart/byteranges; boundary=..., got {content_type:?}"
            ),
        ));
    };
    let body = exchange.response.body_text();
    let length = content.len();
    for (first, last) in [(0, 4), (10, 14)] {
        let part = content.get(first..=last).unwrap_or_default();
        let range = format!("bytes {first}-{last}/{length}");
        let has_part = body
            .to_ascii_lowercase()
            .contains(&format!("content-range: {range}"))
            && body.contains(&String::from_utf8_lossy(part).into_owned());
        if !has_part {
            return Err(problem(
                &exchange,
                format!("the body has no part with Content-Range: {range} and its bytes"),
            ));
        }
    }
    if !body.contains(&format!("--{boundary}--")) {
        return Err(problem(
            &exchange,
            format!("the body does not end with the closing delimiter --{boundary}--"),
        ));
    }
    Ok(())
}
