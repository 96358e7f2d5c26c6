//! Lesson 06: reading a body, `Expect: 100-continue`, the guestbook and
//! uploads.

use std::time::Duration;

use super::{
    Failure, connect, expect_allowed, expect_content, expect_in_order, expect_page, expect_status,
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
    Request::post("/guestbook")
        .field("Content-Type", FORM_TYPE)
        .body(body)
}

/// An upload of `content` as `name`.
pub(super) fn upload(name: &str, content: &[u8]) -> Request {
    Request::post(format!("/uploads/{name}"))
        .field("Content-Type", "application/octet-stream")
        .body(content)
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

/// Uploads `content` as `name`, expects 201 Created, and GETs it back.
fn expect_uploaded(
    session: &Session,
    exchange: &Exchange,
    name: &str,
    content_type: &str,
    content: &[u8],
) -> Result<(), Failure> {
    expect_status_in(session, exchange, &[201])?;
    let path = format!("/uploads/{name}");
    expect_location(exchange, &path)?;
    let served = expect_status(session, &Request::get(&path).bytes(), 200)?;
    expect_content(
        &served,
        &format!("the file uploaded as {name}"),
        content_type,
        content,
    )
}

/// Fails unless nothing was stored as `name`: GET gets 404.
fn expect_not_stored(session: &Session, name: &str) -> Result<(), Failure> {
    let request = Request::get(format!("/uploads/{name}"));
    expect_status(session, &request.bytes(), 404).map(drop)
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
    let content = fixture::pseudo_random_bytes(64 * 1024);
    let request = upload("pieces.bin", &content);
    let exchange = send_in_pieces(session, &request.bytes(), 16)?;
    if exchange.answered_early {
        return Err(Failure::new(
            &exchange,
            "the server answered before the whole body had come: read exactly Content-Length bytes, however they arrive",
        ));
    }
    expect_uploaded(
        session,
        &exchange,
        "pieces.bin",
        "application/octet-stream",
        &content,
    )
}

pub(super) fn length_required(session: &Session) -> Result<(), Failure> {
    let requests = [
        Request::post("/uploads/no-length.txt"),
        Request::post("/guestbook").field("Content-Type", FORM_TYPE),
    ];
    expect_status_for_each(session, requests, 411)
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
    .map(|length| Request::post("/uploads/bad-length.txt").field("Content-Length", length))
    .collect();
    requests.push(
        Request::post("/uploads/bad-length.txt")
            .field("Content-Length", "5")
            .field("Content-Length", "6"),
    );
    let requests = requests
        .into_iter()
        .map(|request| request.raw_body("hello!"));
    expect_status_for_each(session, requests, 400)
}

pub(super) fn repeated_content_length(session: &Session) -> Result<(), Failure> {
    let requests = [
        (
            "twice-a.txt",
            Request::post("/uploads/twice-a.txt")
                .field("Content-Length", "5")
                .field("Content-Length", "5"),
        ),
        (
            "twice-b.txt",
            Request::post("/uploads/twice-b.txt").field("Content-Length", "5, 5"),
        ),
    ];
    for (name, request) in requests {
        let exchange = send(session, &request.raw_body("hello").bytes())?;
        expect_uploaded(
            session,
            &exchange,
            name,
            "text/plain; charset=utf-8",
            b"hello",
        )?;
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
    let request = Request::post("/uploads/huge.bin").field("Content-Length", HUGE_LENGTH);
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
    expect_status_in(session, &exchange, &[413])?;
    expect_not_stored(session, "huge.bin")
}

pub(super) fn transfer_encoding(session: &Session) -> Result<(), Failure> {
    let request = Request::post("/uploads/chunked.txt")
        .field("Transfer-Encoding", "chunked")
        .raw_body("5\r\nhello\r\n0\r\n\r\n");
    expect_status(session, &request.bytes(), 501).map(drop)
}

pub(super) fn transfer_encoding_with_length(session: &Session) -> Result<(), Failure> {
    let requests = [
        Request::post("/uploads/chunked.txt")
            .field("Transfer-Encoding", "chunked")
            .field("Content-Length", "5"),
        Request::post("/uploads/chunked.txt")
            .version("HTTP/1.0")
            .field("Transfer-Encoding", "chunked"),
    ];
    let requests = requests.map(|request| request.raw_body("5\r\nhello\r\n0\r\n\r\n"));
    expect_status_for_each(session, requests, 400)
}

pub(super) fn incomplete_body(session: &Session) -> Result<(), Failure> {
    let request = upload("partial.bin", &fixture::pseudo_random_bytes(100_000));
    let mut connection = connect(session)?;
    connection.send(&request.head_bytes());
    connection.send(request.body_bytes().get(..40_000).unwrap_or_default());
    // We close our side: the server reads the end of the stream where
    // 60,000 more bytes should have come.
    let exchange = connection.finish();
    expect_status_in(session, &exchange, &[400])?;
    expect_not_stored(session, "partial.bin")
}

pub(super) fn expect_continue(session: &Session) -> Result<(), Failure> {
    let content = b"This body was sent after 100 Continue.\n";
    let request = upload("expect.txt", content).field("Expect", "100-continue");
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
    expect_uploaded(
        session,
        &exchange,
        "expect.txt",
        "text/plain; charset=utf-8",
        content,
    )
}

pub(super) fn no_continue_before_error(session: &Session) -> Result<(), Failure> {
    let request = Request::post("/uploads/huge.bin")
        .field("Content-Length", HUGE_LENGTH)
        .field("Expect", "100-continue");
    let (exchange, _) = send_head_and_wait(session, &request)?;
    expect_no_interim(&exchange)?;
    expect_status_in(session, &exchange, &[413])?;

    let request = Request::post("/guestbook")
        .field("Content-Type", FORM_TYPE)
        .field("Expect", "100-continue");
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

pub(super) fn upload_created(session: &Session) -> Result<(), Failure> {
    let content = fixture::every_byte_value();
    let exchange = send(session, &upload("bytes.bin", &content).bytes())?;
    expect_uploaded(
        session,
        &exchange,
        "bytes.bin",
        "application/octet-stream",
        &content,
    )
}

pub(super) fn upload_conflict(session: &Session) -> Result<(), Failure> {
    let first = b"The first version.\n";
    let exchange = send(session, &upload("conflict.txt", first).bytes())?;
    expect_status_in(session, &exchange, &[201])?;
    let second = upload("conflict.txt", b"The second version, which must not win.\n");
    expect_status(session, &second.bytes(), 409)?;
    let served = expect_status(session, &Request::get("/uploads/conflict.txt").bytes(), 200)?;
    expect_content(
        &served,
        "the file uploaded first",
        "text/plain; charset=utf-8",
        first,
    )
}

/// Anybody can upload, so an uploaded HTML page must not run as a page of
/// the site (stored cross-site scripting): it must be served in a sandbox,
/// or as something other than HTML, and in both cases with `nosniff`.
pub(super) fn upload_sandboxed(session: &Session) -> Result<(), Failure> {
    let name = format!("{}.html", unique("page"));
    let page = b"<!DOCTYPE html><script>document.title = 'uploaded';</script>\n";
    let exchange = send(session, &upload(&name, page).bytes())?;
    expect_status_in(session, &exchange, &[201])?;
    let served = expect_status(
        session,
        &Request::get(format!("/uploads/{name}")).bytes(),
        200,
    )?;
    let response = &served.response;
    let is_sandboxed = response
        .field("Content-Security-Policy")
        .is_some_and(|policy| policy.to_ascii_lowercase().contains("sandbox"));
    let content_type = response
        .field("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let is_shown_as_page = ["html", "svg", "xml"]
        .iter()
        .any(|kind| content_type.contains(kind));
    let forbids_sniffing = response
        .field("X-Content-Type-Options")
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("nosniff"));
    if (is_sandboxed || !is_shown_as_page) && forbids_sniffing {
        return Ok(());
    }
    Err(Failure::new(
        &served,
        "an uploaded HTML page would run its scripts as part of this site: serve uploads with \
         Content-Security-Policy: sandbox (or as a type that is not HTML) and \
         X-Content-Type-Options: nosniff",
    ))
}

pub(super) fn upload_bad_name(session: &Session) -> Result<(), Failure> {
    let too_long = "a".repeat(101);
    let names = [
        "",
        "../x.txt",
        "%2e%2e",
        ".hidden",
        "%2Ehidden",
        "a%2fb.txt",
        "a%5cb.txt",
        "a%20b.txt",
        "gr%C3%BC%C3%9Fe.txt",
        "a%00.txt",
        too_long.as_str(),
    ];
    let requests = names.map(|name| upload(name, b"x"));
    expect_status_for_each(session, requests, 400)
}

pub(super) fn allow_lists_post(session: &Session) -> Result<(), Failure> {
    for target in ["/guestbook", "/uploads/allow.txt"] {
        let request = Request::new("PUT", target).body("x");
        let exchange = expect_status(session, &request.bytes(), 405)?;
        expect_allowed(&exchange, &["GET", "HEAD", "POST"])?;
    }
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
