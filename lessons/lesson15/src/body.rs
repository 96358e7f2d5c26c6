//! Reading the body that follows a request head (RFC 9112, section 6).
//!
//! The head ends at the empty line, but where does the body end? HTTP/1.1
//! has two answers. `Content-Length: 42` says "exactly 42 bytes follow".
//! `Transfer-Encoding: chunked` says "the body comes in pieces, each with its
//! own length". This lesson implements the first and refuses the second.
//! A server that got this wrong would read part of one request's body as the
//! start of the next request, which is how "request smuggling" attacks work;
//! that is why the rules below are strict.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::HttpError;
use crate::request::{HttpVersion, Request};

// ANCHOR: body_length
/// Works out how long the body of `request` is. `None` means it has none.
///
/// Every request is checked, not only POST: a request whose framing we do
/// not understand must be refused whatever its method.
pub fn body_length(request: &Request) -> Result<Option<u64>, HttpError> {
    let lengths: Vec<&str> = request
        .header_values("Content-Length")
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();

    if request.header("Transfer-Encoding").is_some() {
        // With both fields, two servers in a chain could disagree about
        // where the body ends (RFC 9112, section 6.1), and HTTP/1.0 has no
        // Transfer-Encoding at all. Both are errors; anything else is a
        // feature this lesson does not implement.
        // Exercise lesson07: Transfer-Encoding: 400 with Content-Length or in HTTP/1.0, else 501
        if !lengths.is_empty() {
            return Err(HttpError::BadRequest(
                "a request must not have both Transfer-Encoding and Content-Length",
            ));
        }
        if request.version == HttpVersion::Http10 {
            return Err(HttpError::BadRequest("HTTP/1.0 has no Transfer-Encoding"));
        }
        return Err(HttpError::TransferEncodingNotImplemented);
        // End of exercise lesson07.
    }

    let Some(&first) = lengths.first() else {
        return Ok(None);
    };
    // The same length sent twice is harmless (RFC 9112, section 6.3); two
    // different ones mean nobody can tell where the body ends.
    if lengths.iter().any(|&length| length != first) {
        return Err(HttpError::BadRequest(
            "the request has several different Content-Length values",
        ));
    }
    // Only digits: `parse` would also accept `+5`, which HTTP does not.
    if first.is_empty() || !first.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(HttpError::BadRequest(
            "Content-Length must be a number made of digits only",
        ));
    }
    let length = first.parse::<u64>().map_err(|_| {
        HttpError::BadRequest("Content-Length is a larger number than this server can handle")
    })?;
    Ok(Some(length))
}
// ANCHOR_END: body_length

// ANCHOR: expect_body
/// Makes sure the request has a body of at most `max_bytes`, tells the
/// client to go ahead if it is waiting for that, and returns the length.
///
/// The size check comes before any byte of the body is read: a client that
/// announces 5 GB gets its 413 at once, not after sending 5 GB.
pub fn expect_body(
    request: &Request,
    stream: &TcpStream,
    max_bytes: u64,
) -> Result<u64, HttpError> {
    // Exercise lesson07: no length: 411; too large: 413; else send 100 Continue if asked
    let Some(length) = body_length(request)? else {
        return Err(HttpError::LengthRequired);
    };
    if length > max_bytes {
        return Err(HttpError::ContentTooLarge(max_bytes));
    }
    send_continue_if_expected(request, stream)?;
    Ok(length)
    // End of exercise lesson07.
}
// ANCHOR_END: expect_body

// ANCHOR: send_continue
/// Clients that are about to send a large body may first send only the head
/// with `Expect: 100-continue` and wait. `HTTP/1.1 100 Continue` is an
/// interim response that means "your head is fine, send the body"; the
/// final response comes after the body (RFC 9110, section 10.1.1). curl
/// does this for uploads over 1 MiB and waits a second if nobody answers.
fn send_continue_if_expected(request: &Request, mut stream: &TcpStream) -> io::Result<()> {
    // Exercise lesson07: send HTTP/1.1 100 Continue when an HTTP/1.1 client sent Expect
    let expects_continue = request
        .header("Expect")
        .is_some_and(|value| value.eq_ignore_ascii_case("100-continue"));
    // HTTP/1.0 clients do not know interim responses, so they never get one.
    if expects_continue && request.version == HttpVersion::Http11 {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        stream.flush()?;
    }
    Ok(())
    // End of exercise lesson07.
}
// ANCHOR_END: send_continue

// ANCHOR: copy_body
/// Copies exactly `length` body bytes from the connection to `destination`.
///
/// The bytes may arrive in any number of pieces; `io::copy` keeps reading
/// until `take` has let through `length` of them or the client stops.
pub fn copy_body(
    reader: &mut impl BufRead,
    length: u64,
    destination: &mut impl Write,
) -> Result<(), HttpError> {
    // Exercise lesson07: copy exactly length bytes to destination; 400 if fewer arrive
    let copied = io::copy(&mut reader.take(length), destination)?;
    if copied < length {
        return Err(HttpError::BadRequest(
            "the connection ended before the whole body (Content-Length bytes) arrived",
        ));
    }
    Ok(())
    // End of exercise lesson07.
}
// ANCHOR_END: copy_body

// ANCHOR: paced
/// How fast a body must arrive: `timeout` seconds for a start, and one
/// second more for every `min_rate` bytes that arrive (the rule of Apache's
/// `mod_reqtimeout`).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub timeout: Duration,
    pub min_rate: u64,
}

impl Pace {
    pub fn new(timeout: Duration, min_rate: u64) -> Pace {
        Pace { timeout, min_rate }
    }
}

/// A body reader that gives up on a client that sends too slowly.
///
/// A fixed deadline does not suit a body: a large upload over a slow line
/// needs minutes, and a deadline that long would let a client that sends
/// one byte a second hold the connection for minutes too. So the deadline
/// moves: every byte that arrives buys `1 / min_rate` seconds more. A client
/// that keeps below the minimum rate falls behind its deadline and gets 408.
pub struct Paced<R> {
    reader: R,
    deadline: Instant,
    min_rate: u64,
}

impl<R> Paced<R> {
    pub fn new(reader: R, pace: Pace) -> Paced<R> {
        Paced {
            reader,
            deadline: Instant::now() + pace.timeout,
            min_rate: pace.min_rate,
        }
    }
}

impl<R: BufRead> Read for Paced<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.fill_buf()?.read(buffer)?;
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Paced<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if Instant::now() >= self.deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the body arrived more slowly than the minimum rate",
            ));
        }
        self.reader.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        let nanos = (amount as u64).saturating_mul(1_000_000_000);
        let bought = Duration::from_nanos(nanos.checked_div(self.min_rate).unwrap_or(0));
        self.deadline = self.deadline.checked_add(bought).unwrap_or(self.deadline);
        self.reader.consume(amount);
    }
}
// ANCHOR_END: paced
