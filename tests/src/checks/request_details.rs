//! Details of reading a request that the simple checks leave open: a head
//! of nothing but empty lines (02), an absolute-form target whose host is
//! an IPv6 address and the two target forms that belong to methods a file
//! server does not implement (03), and HEAD requests whose head turns out
//! bad after the request line (06).

use super::{
    Failure, expect_content, expect_in_order, expect_page, expect_status, expect_status_in, send,
};
use crate::client::Ending;
use crate::fixture;
use crate::server::Session;

// ---------------------------------------------------------------------
// Lesson 02 on: empty lines before the request line.

/// RFC 9112, section 2.2 asks a server to ignore at least one empty line
/// before the request line, and allows ignoring more. A head of 8 KiB of
/// nothing but empty lines holds no request line, so it cannot hold one
/// that is too long: 414 is wrong. A server that refuses it (400) is
/// right, and so is one that skips every empty line and, when the client
/// stops sending, closes without an answer (nginx does).
pub(super) fn empty_lines_only(session: &Session) -> Result<(), Failure> {
    let exchange = send(session, &b"\r\n".repeat(4 * 1024))?;
    if exchange.received.is_empty() && exchange.ending == Ending::Closed {
        return Ok(());
    }
    expect_status_in(session, &exchange, &[400]).map(drop)
}

// ---------------------------------------------------------------------
// Lesson 03 on: target forms.

/// A GET with an absolute-form target whose host is an IPv6 address.
const IPV6_ABSOLUTE_FORM: &[u8] = b"GET http://[::1]/index.html HTTP/1.1\r\nHost: [::1]\r\n\r\n";

/// RFC 9112, section 3.2.2: a server must accept the absolute-form, and
/// its host may be an IPv6 address in brackets (RFC 3986, section 3.2.2).
/// Until lesson 05 the page shows the target (`absolute-form-ipv6`); from
/// then on the target's path names the file (`absolute-form-ipv6-file`).
pub(super) fn absolute_form_ipv6(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(session, IPV6_ABSOLUTE_FORM)?;
    expect_in_order(&exchange, &["GET", "http://[::1]/index.html"])
}

pub(super) fn absolute_form_ipv6_file(session: &Session) -> Result<(), Failure> {
    let exchange = expect_status(session, IPV6_ABSOLUTE_FORM, 200)?;
    let index = &fixture::INDEX;
    expect_content(
        &exchange,
        index.path,
        index.content_type,
        &(index.content)(),
    )
}

/// `OPTIONS *` (the asterisk-form) and `CONNECT host:port` (the
/// authority-form) are well-formed requests (RFC 9112, sections 3.2.3 and
/// 3.2.4), so 400 is wrong. A server that implements neither method
/// answers 501 (RFC 9110, section 9.1); one that knows the method but
/// allows it nowhere may answer 405.
pub(super) fn options_star_and_connect(session: &Session) -> Result<(), Failure> {
    let requests = [
        b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n".as_slice(),
        b"CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n".as_slice(),
    ];
    for request in requests {
        let exchange = send(session, request)?;
        expect_status_in(session, &exchange, &[501, 405])?;
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Lesson 06 on: HEAD, even when its head is bad.

/// RFC 9110, section 9.3.2: a response to HEAD never has a body. That
/// holds when the head turns out bad after its request line, too: a
/// field with a space before its colon, or an HTTP/1.1 request without
/// `Host`.
pub(super) fn head_error_after_request_line(session: &Session) -> Result<(), Failure> {
    let requests = [
        b"HEAD / HTTP/1.1\r\nHost: localhost\r\nX-Test : value\r\n\r\n".as_slice(),
        b"HEAD / HTTP/1.1\r\nAccept: */*\r\n\r\n".as_slice(),
    ];
    for request in requests {
        let exchange = expect_status(session, request, 400)?;
        if !exchange.response.body.is_empty() {
            return Err(Failure::new(
                &exchange,
                format!(
                    "a response to HEAD has no body, not even a 400, but {} bytes followed the head",
                    exchange.response.body.len()
                ),
            ));
        }
    }
    Ok(())
}
