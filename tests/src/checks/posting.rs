//! Lesson 07: reading a body and `Expect: 100-continue`, watched through
//! the course's echo resource, `POST /echo`, which answers 200 with the
//! body it received. Lesson 08: forms and the guestbook.

use std::time::Duration;

use super::{
    Failure, connect, expect_allowed, expect_in_order, expect_page, expect_status,
    expect_status_for_each, expect_status_in, percent_encode, send, send_in_pieces,
};
use crate::client::{Exchange, Request};
use crate::fixture;
use crate::server::Session;

/// A `Content-Length` far above any server's limit: 10^15 bytes, which
/// fits every integer type a server might parse it into.
const HUGE_LENGTH: &str = "1000000000000000";

/// How long we wait for `100 Continue`, or for the answer to a head whose
/// body we hold back. (curl waits one second, then sends the body anyway.)
const WAIT_FOR_ANSWER: Duration = Duration::from_secs(3);

const FORM_TYPE: &str = "application/x-www-form-urlencoded";

/// The course's echo resource: a POST to it is answered with 200 and the
/// body the server received. It must accept bodies of at least
/// `ECHO_AT_LEAST` bytes.
const ECHO: &str = "/echo";
const ECHO_AT_LEAST: usize = 48 * 1024;

/// A text no earlier grading run has used, so that an old guestbook entry
/// cannot make a check pass.
fn unique(label: &str) -> String {
    format!("{label}-{:016x}", fixture::random_number())
}

/// Encodes fields as a browser encodes a form: `name=value&...`, with `+`
/// for a space.
fn form(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| percent_encode(text).replace("%20", "+");
    let pairs: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    pairs.join("&")
}

/// A form POST to the guestbook with `body`, already encoded.
fn guestbook_post(body: &str) -> Request {
    guestbook_head().body(body)
}

/// The head of a form POST to the guestbook, without a length.
fn guestbook_head() -> Request {
    Request::post("/guestbook").field("Content-Type", FORM_TYPE)
}

/// A POST to the echo resource with `body`.
fn echo_post(body: impl Into<Vec<u8>>) -> Request {
    echo_head().body(body)
}

/// The head of a POST to the echo resource, without a length.
fn echo_head() -> Request {
    Request::post(ECHO)
}

/// Fails unless the response is a strictly framed 200 whose body is
/// exactly `sent`.
fn expect_echo(session: &Session, exchange: &Exchange, sent: &[u8]) -> Result<(), Failure> {
    let response = expect_status_in(session, exchange, &[200])?;
    if response.body == sent {
        return Ok(());
    }
    Err(Failure::new(
        exchange,
        format!(
            "{ECHO} should answer with the {} bytes of the body it received, but sent {} other bytes back",
            sent.len(),
            response.body.len()
        ),
    ))
}

/// A body of `length` bytes that no earlier request has sent: a unique
/// token, then letters.
fn unique_body(length: usize) -> Vec<u8> {
    unique("Piece")
        .bytes()
        .chain((b'a'..=b'z').cycle())
        .take(length)
        .collect()
}

/// Fails unless `Location` names `path`, alone or in an absolute URL.
pub(super) fn expect_location(exchange: &Exchange, path: &str) -> Result<(), Failure> {
    let location = exchange.response.field("Location").unwrap_or_default();
    let location_path = match location.split_once("://") {
        Some((_scheme, rest)) => rest.find('/').and_then(|start| rest.get(start..)),
        None => Some(location),
    };
    if location_path == Some(path) {
        return Ok(());
    }
    Err(Failure::new(
        exchange,
        format!("the response should have Location: {path}, not {location:?}"),
    ))
}

/// Posts a guestbook entry and expects 303 See Other to the guestbook.
fn post_entry(session: &Session, name: &str, message: &str) -> Result<(), Failure> {
    post_form(session, &form(&[("name", name), ("message", message)]))
}

/// Posts an encoded form body and expects 303 See Other to the guestbook.
fn post_form(session: &Session, body: &str) -> Result<(), Failure> {
    let exchange = expect_status(session, &guestbook_post(body).bytes(), 303)?;
    expect_location(&exchange, "/guestbook")
}

fn guestbook_page(session: &Session) -> Result<Exchange, Failure> {
    expect_page(session, &Request::get("/guestbook").bytes())
}

/// Fails unless the page shows each of `texts`, in any order.
fn expect_shown(page: &Exchange, texts: &[&str]) -> Result<(), Failure> {
    texts
        .iter()
        .try_for_each(|text| expect_in_order(page, &[text]))
}

/// Fails unless the response came without an interim `100 Continue`.
fn expect_no_interim(exchange: &Exchange) -> Result<(), Failure> {
    match exchange.response.interim.first() {
        None => Ok(()),
        Some(line) => Err(Failure::new(
            exchange,
            format!(
                "the server sent {line} for a request it refuses anyway: the client then sends a body for nothing"
            ),
        )),
    }
}

pub(super) fn body_in_pieces(session: &Session) -> Result<(), Failure> {
    let body = unique_body(ECHO_AT_LEAST);
    let exchange = send_in_pieces(session, &echo_post(body.clone()).bytes(), 16)?;
    if exchange.answered_early {
        return Err(Failure::new(
            &exchange,
            "the server answered before the whole body had come: read exactly Content-Length bytes, however they arrive",
        ));
    }
    expect_echo(session, &exchange, &body)
}

pub(super) fn length_required(session: &Session) -> Result<(), Failure> {
    expect_status_for_each(session, [echo_head()], 411)
}

pub(super) fn bad_content_length(session: &Session) -> Result<(), Failure> {
    let mut requests: Vec<Request> = [
        "-1",
        "1e3",
        "+5",
        "abc",
        "",
        "0x5",
        "5, 6",
        "18446744073709551616",
    ]
    .iter()
    .map(|length| echo_head().field("Content-Length", length))
    .collect();
    requests.push(
        echo_head()
            .field("Content-Length", "5")
            .field("Content-Length", "6"),
    );
    let requests = requests
        .into_iter()
        .map(|request| request.raw_body("Hallo!"));
    expect_status_for_each(session, requests, 400)
}

pub(super) fn repeated_content_length(session: &Session) -> Result<(), Failure> {
    for as_two_fields in [true, false] {
        let body = unique_body(40);
        let length = body.len().to_string();
        let request = if as_two_fields {
            echo_head()
                .field("Content-Length", &length)
                .field("Content-Length", &length)
        } else {
            echo_head().field("Content-Length", format!("{length}, {length}"))
        };
        let exchange = send(session, &request.raw_body(body.clone()).bytes())?;
        expect_echo(session, &exchange, &body)?;
    }
    Ok(())
}

/// Sends only the head of `request` and waits `WAIT_FOR_ANSWER` for an
/// answer before it stops sending. Returns the exchange and whether the
/// answer came while the connection was still open for the body.
fn send_head_and_wait(session: &Session, request: &Request) -> Result<(Exchange, bool), Failure> {
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    let answered = connection.wait_for_head(WAIT_FOR_ANSWER).is_some();
    Ok((connection.finish(), answered))
}

pub(super) fn body_too_large(session: &Session) -> Result<(), Failure> {
    let request = echo_head().field("Content-Length", HUGE_LENGTH);
    let (exchange, answered) = send_head_and_wait(session, &request)?;
    if !answered {
        return Err(Failure::new(
            &exchange,
            format!(
                "no answer within {} s: a body larger than the limit must be refused at once, without waiting for it",
                WAIT_FOR_ANSWER.as_secs()
            ),
        ));
    }
    expect_status_in(session, &exchange, &[413]).map(drop)
}

pub(super) fn transfer_encoding(session: &Session) -> Result<(), Failure> {
    let request = echo_head()
        .field("Transfer-Encoding", "chunked")
        .raw_body("5\r\nhello\r\n0\r\n\r\n");
    expect_status(session, &request.bytes(), 501).map(drop)
}

pub(super) fn transfer_encoding_with_length(session: &Session) -> Result<(), Failure> {
    let requests = [
        echo_head()
            .field("Transfer-Encoding", "chunked")
            .field("Content-Length", "5"),
        echo_head()
            .version("HTTP/1.0")
            .field("Transfer-Encoding", "chunked"),
    ];
    let requests = requests.map(|request| request.raw_body("5\r\nhello\r\n0\r\n\r\n"));
    expect_status_for_each(session, requests, 400)
}

pub(super) fn expect_continue(session: &Session) -> Result<(), Failure> {
    let body = unique_body(60);
    let request = echo_post(body.clone()).field("Expect", "100-continue");
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    let interim = connection.wait_for_head(WAIT_FOR_ANSWER);
    let got_continue = interim
        .as_ref()
        .is_some_and(|response| response.code == Some(100));
    if !got_continue {
        let exchange = connection.finish();
        let problem = match interim {
            None => format!(
                "no HTTP/1.1 100 Continue within {} s of the head: the client waits for it before it sends the body",
                WAIT_FOR_ANSWER.as_secs()
            ),
            Some(response) => format!(
                "before the body was sent, the server answered {:?} instead of HTTP/1.1 100 Continue",
                response.status_line
            ),
        };
        return Err(Failure::new(&exchange, problem));
    }
    connection.send(request.body_bytes());
    let exchange = connection.finish();
    if !exchange
        .received
        .starts_with(b"HTTP/1.1 100 Continue\r\n\r\n")
    {
        return Err(Failure::new(
            &exchange,
            "the interim response must be exactly HTTP/1.1 100 Continue, CR LF, and the empty line",
        ));
    }
    if exchange.response.interim.len() > 1 {
        return Err(Failure::new(
            &exchange,
            "the server sent 100 Continue twice",
        ));
    }
    expect_echo(session, &exchange, &body)
}

pub(super) fn no_continue_before_error(session: &Session) -> Result<(), Failure> {
    let request = echo_head()
        .field("Content-Length", HUGE_LENGTH)
        .field("Expect", "100-continue");
    let (exchange, _) = send_head_and_wait(session, &request)?;
    expect_no_interim(&exchange)?;
    expect_status_in(session, &exchange, &[413])?;

    let request = echo_head().field("Expect", "100-continue");
    let exchange = send(session, &request.bytes())?;
    expect_no_interim(&exchange)?;
    expect_status_in(session, &exchange, &[411]).map(drop)
}

pub(super) fn guestbook_form(session: &Session) -> Result<(), Failure> {
    let page = guestbook_page(session)?;
    let body = page.response.body_text().to_ascii_lowercase();
    let form_tag = body
        .split("<form")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .map(|tag| tag.replace(['"', '\''], ""));
    let Some(form_tag) = form_tag else {
        return Err(Failure::new(&page, "the page has no <form>"));
    };
    if !form_tag.contains("method=post") || !form_tag.contains("action=/guestbook") {
        return Err(Failure::new(
            &page,
            "the form should have method=\"post\" and action=\"/guestbook\"",
        ));
    }
    for field in ["name", "message"] {
        let named = [format!("name=\"{field}\""), format!("name={field}")];
        if !named.iter().any(|named| body.contains(named.as_str())) {
            return Err(Failure::new(
                &page,
                format!("the form has no field named {field}"),
            ));
        }
    }
    Ok(())
}

pub(super) fn guestbook_post_redirects(session: &Session) -> Result<(), Failure> {
    let (name, message) = (unique("Anna"), unique("Hallo aus dem Grader"));
    post_entry(session, &name, &message)?;
    let page = guestbook_page(session)?;
    expect_shown(&page, &[&name, &message])
}

pub(super) fn guestbook_escapes_html(session: &Session) -> Result<(), Failure> {
    let token = unique("x");
    let name = format!("<script>{token}</script>");
    let message = format!("{token} & <b>bold</b>");
    post_entry(session, &name, &message)?;
    let page = guestbook_page(session)?;
    if page.response.body_text().contains(&name) {
        return Err(Failure::new(
            &page,
            format!("the entry {name} appears unescaped: the browser would run it as a script"),
        ));
    }
    expect_shown(
        &page,
        &[
            &format!("&lt;script&gt;{token}&lt;/script&gt;"),
            &format!("{token} &amp; &lt;b&gt;bold&lt;/b&gt;"),
        ],
    )
}

pub(super) fn guestbook_form_decoding(session: &Session) -> Result<(), Failure> {
    let token = unique("Post");
    let body = format!("name=Gr%C3%BC%C3%9Fe+an+alle%2B&message={token}+%26+mehr");
    post_form(session, &body)?;
    let page = guestbook_page(session)?;
    expect_shown(&page, &["Grüße an alle+", &format!("{token} &amp; mehr")])
}

pub(super) fn guestbook_missing_field(session: &Session) -> Result<(), Failure> {
    let bodies = [
        "name=Anna",
        "message=Hallo",
        "name=&message=Hallo",
        "name=Anna&message=+%20%09+",
        "",
    ];
    expect_status_for_each(session, bodies.map(guestbook_post), 400)
}

pub(super) fn guestbook_wrong_type(session: &Session) -> Result<(), Failure> {
    let request = Request::post("/guestbook")
        .field("Content-Type", "text/plain")
        .body(form(&[("name", "Anna"), ("message", "Hallo")]));
    expect_status(session, &request.bytes(), 415).map(drop)
}

pub(super) fn guestbook_survives_restart(session: &mut Session) -> Result<(), Failure> {
    let (name, message) = (unique("Lena"), unique("Still here after a restart"));
    post_entry(session, &name, &message)?;
    session.restart().map_err(|error| {
        Failure::without_exchange(format!("could not restart the server: {error}"))
    })?;
    let page = guestbook_page(session)?;
    expect_shown(&page, &[&name, &message])
}

pub(super) fn allow_lists_post(session: &Session) -> Result<(), Failure> {
    let request = Request::new("PUT", ECHO).body("x");
    let exchange = expect_status(session, &request.bytes(), 405)?;
    expect_allowed(&exchange, &["POST"])?;
    let request = Request::post(fixture::STYLE.target).body("x");
    let exchange = expect_status(session, &request.bytes(), 405)?;
    expect_allowed(&exchange, &["GET", "HEAD"])?;
    if super::allowed_methods(&exchange.response).contains(&"POST") {
        return Err(Failure::new(
            &exchange,
            "Allow lists POST for a path where POST just got 405",
        ));
    }
    Ok(())
}

pub(super) fn guestbook_allow(session: &Session) -> Result<(), Failure> {
    let request = Request::new("PUT", "/guestbook").body("x");
    let exchange = expect_status(session, &request.bytes(), 405)?;
    expect_allowed(&exchange, &["GET", "HEAD", "POST"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_forms_like_a_browser() {
        assert_eq!(
            form(&[("name", "Grüße an alle+"), ("message", "a&b=c")]),
            "name=Gr%C3%BC%C3%9Fe+an+alle%2B&message=a%26b%3Dc"
        );
    }

    #[test]
    fn unique_texts_differ() {
        assert_ne!(unique("a"), unique("a"));
    }
}
