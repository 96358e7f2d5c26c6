//! Status codes, responses, and how a response is written to the connection.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::HttpError;

/// The status codes this lesson uses. Each knows its number and the reason
/// phrase that goes next to it in the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Created,
    PartialContent,
    MovedPermanently,
    SeeOther,
    NotModified,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    LengthRequired,
    ContentTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
    RangeNotSatisfiable,
    UriTooLong,
    RequestHeaderFieldsTooLarge,
    InternalServerError,
    NotImplemented,
    ServiceUnavailable,
    HttpVersionNotSupported,
    InsufficientStorage,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::Created => 201,
            Status::PartialContent => 206,
            Status::MovedPermanently => 301,
            Status::SeeOther => 303,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::Conflict => 409,
            Status::LengthRequired => 411,
            Status::ContentTooLarge => 413,
            Status::PreconditionFailed => 412,
            Status::UnsupportedMediaType => 415,
            Status::RangeNotSatisfiable => 416,
            Status::UriTooLong => 414,
            Status::RequestHeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
            Status::HttpVersionNotSupported => 505,
            Status::InsufficientStorage => 507,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Created => "Created",
            Status::PartialContent => "Partial Content",
            Status::MovedPermanently => "Moved Permanently",
            Status::SeeOther => "See Other",
            Status::NotModified => "Not Modified",
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::Conflict => "Conflict",
            Status::LengthRequired => "Length Required",
            Status::ContentTooLarge => "Content Too Large",
            Status::PreconditionFailed => "Precondition Failed",
            Status::UnsupportedMediaType => "Unsupported Media Type",
            Status::RangeNotSatisfiable => "Range Not Satisfiable",
            Status::UriTooLong => "URI Too Long",
            Status::RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::InternalServerError => "Internal Server Error",
            Status::NotImplemented => "Not Implemented",
            Status::ServiceUnavailable => "Service Unavailable",
            Status::HttpVersionNotSupported => "HTTP Version Not Supported",
            Status::InsufficientStorage => "Insufficient Storage",
        }
    }
}

/// A complete response, ready to be written.
#[derive(Debug)]
pub struct Response {
    pub status: Status,
    pub content_type: String,
    /// Header fields beyond the ones every response has.
    pub header_fields: Vec<(&'static str, String)>,
    pub body: Body,
}

/// The body of a response: bytes we made in memory, or a file we stream.
#[derive(Debug)]
pub enum Body {
    Bytes(Vec<u8>),
    /// A file and its length. A large one goes from the disk to the
    /// connection without being read into memory (see `send_file`), so even
    /// a huge file needs no memory of ours; a small one is copied into the
    /// head's buffer (see `write_to`).
    File {
        file: File,
        length: u64,
    },
}

impl Body {
    fn length(&self) -> u64 {
        match self {
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::File { length, .. } => *length,
        }
    }
}

impl Response {
    /// A response with an HTML page as its body.
    pub fn html(status: Status, page: String) -> Response {
        Response {
            status,
            content_type: "text/html; charset=utf-8".to_owned(),
            header_fields: Vec::new(),
            body: Body::Bytes(page.into_bytes()),
        }
    }

    /// A response that sends a file. `length` must be the file's size.
    pub fn file(content_type: String, file: File, length: u64) -> Response {
        Response {
            status: Status::Ok,
            content_type,
            header_fields: Vec::new(),
            body: Body::File { file, length },
        }
    }

    /// A response that sends the bytes `start` to `end` (both included) of
    /// a file of `size` bytes. `file` must already be at `start`.
    pub fn partial_file(
        content_type: String,
        file: File,
        start: u64,
        end: u64,
        size: u64,
    ) -> Response {
        // Exercise lesson13: a 206 response with Content-Range and only the range of the file
        let length = end - start + 1;
        let mut response = Response::file(content_type, file, length);
        response.status = Status::PartialContent;
        response
            .header_fields
            .push(("Content-Range", format!("bytes {start}-{end}/{size}")));
        response
        // End of exercise lesson13.
    }

    /// Sends the browser to `location` for good: a folder asked for
    /// without its trailing slash.
    pub fn moved_permanently(location: &str) -> Response {
        let mut response = Response::text(Status::MovedPermanently, format!("See {location}\n"));
        response
            .header_fields
            .push(("Location", location.to_owned()));
        response
    }

    /// The answer to a successful upload: where the new file can be found,
    /// and a page that links to every stored file.
    pub fn created(location: &str, page: String) -> Response {
        let mut response = Response::html(Status::Created, page);
        response
            .header_fields
            .push(("Location", location.to_owned()));
        response
    }

    /// Sends the browser on to `location`, where it makes a GET. This is the
    /// usual answer to a form: reloading the page then repeats the GET, not
    /// the POST.
    pub fn see_other(location: &str) -> Response {
        let mut response = Response::text(Status::SeeOther, format!("See {location}\n"));
        response
            .header_fields
            .push(("Location", location.to_owned()));
        response
    }

    /// A response with a short plain-text body.
    fn text(status: Status, text: String) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8".to_owned(),
            header_fields: Vec::new(),
            body: Body::Bytes(text.into_bytes()),
        }
    }

    /// The answer to a conditional GET when the client's copy is still
    /// current: no body, only the file's validators (`ETag` and
    /// `Last-Modified`), so the client can ask the same question next time.
    pub fn not_modified(validators: Vec<(&'static str, String)>) -> Response {
        Response {
            status: Status::NotModified,
            content_type: String::new(),
            header_fields: validators,
            body: Body::Bytes(Vec::new()),
        }
    }

    /// A response that explains an error in one line of plain text, or, for
    /// a missing page, in a small HTML page that a browser shows nicely.
    pub fn error(error: &HttpError) -> Response {
        let status = error.status();
        let mut response = if status == Status::NotFound {
            let page = format!(
                "<!DOCTYPE html>\n\
                 <html lang=\"en\">\n\
                 <head><meta charset=\"utf-8\"><title>Not Found</title></head>\n\
                 <body><h1>404 Not Found</h1><p>{}.</p></body>\n\
                 </html>\n",
                error.explanation()
            );
            Response::html(status, page)
        } else {
            let text = format!(
                "{} {}: {}\n",
                status.code(),
                status.reason(),
                error.explanation()
            );
            Response::text(status, text)
        };
        // RFC 9110, section 15.5.6: a 405 must say which methods are allowed.
        if let HttpError::MethodNotAllowed { allowed, .. } = error {
            response
                .header_fields
                .push(("Allow", (*allowed).to_owned()));
        }
        // RFC 9110, section 14.4: a 416 says how large the file really is.
        if let HttpError::RangeNotSatisfiable(size) = error {
            response
                .header_fields
                .push(("Content-Range", format!("bytes */{size}")));
        }
        // RFC 9110, section 10.2.3: tells a refused client when to try again.
        if status == Status::ServiceUnavailable {
            response.header_fields.push(("Retry-After", "1".to_owned()));
        }
        response
    }

    /// Writes the status line, the header fields, the empty line and the
    /// body, and returns how many bytes that was.
    ///
    /// `Content-Length` tells the client exactly where the body ends, which
    /// matters even more now that another response may follow on the same
    /// connection. `Connection: keep-alive` or `Connection: close` tells the
    /// client whether we keep the connection open afterwards. We answer
    /// with version HTTP/1.1 even to HTTP/1.0 clients: a server names the
    /// highest version it speaks (RFC 9110, section 6.2).
    ///
    /// `Date` says when the response was made; caches need it to judge how
    /// old a response is (RFC 9110, section 6.6.1). For a HEAD request,
    /// `include_body` is false: the head is exactly what GET would send,
    /// `Content-Length` included, but the body stays here.
    ///
    /// `body_sent` counts the bytes of body the connection took, as they
    /// go: when the client goes away halfway through a download, it says
    /// how far we got, which the access log reports.
    pub fn write_to(
        self,
        mut stream: &TcpStream,
        include_body: bool,
        keep_alive: bool,
        body_sent: &mut u64,
    ) -> io::Result<u64> {
        let mut head = format!(
            "HTTP/1.1 {code} {reason}\r\n\
             Date: {date}\r\n",
            code = self.status.code(),
            reason = self.status.reason(),
            date = http_date(SystemTime::now()),
        );
        // A 304 has no body and does not describe one: RFC 9110, section
        // 15.4.5 allows a Content-Length there only if it is the length of
        // the full file, so we leave both fields out.
        if self.status != Status::NotModified {
            head.push_str(&format!(
                "Content-Type: {}\r\nContent-Length: {}\r\n",
                self.content_type,
                self.body.length()
            ));
        }
        for (name, value) in &self.header_fields {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if keep_alive {
            head.push_str("Connection: keep-alive\r\n\r\n");
        } else {
            head.push_str("Connection: close\r\n\r\n");
        }

        let mut message = head.into_bytes();
        if !include_body {
            // Exercise lesson06: HEAD: write the head only, not the body, and return its length
            stream.write_all(&message)?;
            stream.flush()?;
            return Ok(message.len() as u64);
            // End of exercise lesson06.
        }
        let bytes_sent = match self.body {
            // Head and body go out in one write, so that they usually travel
            // in one TCP segment instead of two.
            Body::Bytes(bytes) => {
                message.extend_from_slice(&bytes);
                stream.write_all(&message)?;
                *body_sent = bytes.len() as u64;
                message.len() as u64
            }
            // ANCHOR: small_file
            // A small file is read into the same buffer as the head and goes
            // out with it in one write, so the client is woken once per
            // response instead of twice. A `read` takes the place of the
            // `sendfile`, so this costs no extra system call.
            Body::File { mut file, length } if length <= SMALL_FILE => {
                let head_length = message.len();
                message.resize(head_length + length as usize, 0);
                // `read_exact` fills the space behind the head (usually with
                // one `read`), and fails if the file has become shorter.
                // `get_mut` cannot fail after `resize`; we use it because
                // the workspace forbids indexing with `[..]`.
                let space = message.get_mut(head_length..).unwrap_or_default();
                if let Err(error) = file.read_exact(space) {
                    if error.kind() == io::ErrorKind::UnexpectedEof {
                        return Err(file_became_shorter());
                    }
                    return Err(error);
                }
                stream.write_all(&message)?;
                *body_sent = length;
                message.len() as u64
            }
            // ANCHOR_END: small_file
            // ANCHOR: corked
            // A larger file goes from the disk to the socket with `sendfile`.
            // The "cork" (see `Cork`) holds the head back until the body
            // follows, so that the two fill whole segments together. It
            // comes out when `_cork` is dropped, at the end of this arm,
            // also when sending fails halfway.
            Body::File { file, length } => {
                let _cork = Cork::put_in(stream)?;
                stream.write_all(&message)?;
                let copied = send_file(&file, length, stream, body_sent)?;
                if copied < length {
                    return Err(file_became_shorter());
                }
                message.len() as u64 + copied
            }
        };
        // ANCHOR_END: corked
        stream.flush()?;
        Ok(bytes_sent)
    }
}

/// Files up to this size are sent in the same write as their head.
const SMALL_FILE: u64 = 16 * 1024;

fn file_became_shorter() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the file became shorter while it was being sent",
    )
}

// ANCHOR: set_cork
/// A corked socket, for as long as this value lives (a guard, like
/// lesson 12's `ConnectionSlot`).
struct Cork<'a> {
    stream: &'a TcpStream,
}

impl<'a> Cork<'a> {
    fn put_in(stream: &'a TcpStream) -> io::Result<Cork<'a>> {
        set_cork(stream, true)?;
        Ok(Cork { stream })
    }
}

impl Drop for Cork<'_> {
    /// Taking the cork out sends what is left at once. If that fails, the
    /// connection is broken anyway, and its error shows up elsewhere.
    fn drop(&mut self) {
        let _ = set_cork(self.stream, false);
    }
}

/// Puts the cork in (`true`) or takes it out (`false`).
///
/// With `TCP_NODELAY` (see `connection.rs`) every write leaves at once, even
/// a short head that would fit into one segment with the start of the body.
/// A corked socket waits instead: it sends only full segments, and what is
/// left when the cork comes out (or after 200 ms, Linux's limit for a
/// forgotten cork). nginx does the same (its `tcp_nopush`).
/// `TCP_CORK` exists on Linux only, and std has no method for it, so we set
/// it through the `socket2` crate; elsewhere the head simply goes out alone.
#[cfg(target_os = "linux")]
fn set_cork(stream: &TcpStream, cork: bool) -> io::Result<()> {
    socket2::SockRef::from(stream).set_tcp_cork(cork)
}

#[cfg(not(target_os = "linux"))]
fn set_cork(_stream: &TcpStream, _cork: bool) -> io::Result<()> {
    Ok(())
}
// ANCHOR_END: set_cork

/// Sends `length` bytes of `file`, from its current position, and returns
/// how many it sent. `sent` counts them as they go.
///
/// On Linux, `sendfile` asks the kernel to move the bytes from the file to
/// the socket itself ("zero-copy"), instead of reading them into our memory
/// and writing them out again: fewer system calls, no copying, no buffer.
/// std's `io::copy` does this for some pairs (file to file, file to pipe)
/// but not for file to socket, so we call it through the `nix` crate, which
/// wraps it safely. The socket's write timeout still applies.
// ANCHOR: send_file
#[cfg(target_os = "linux")]
fn send_file(file: &File, length: u64, stream: &TcpStream, sent: &mut u64) -> io::Result<u64> {
    /// The most we hand to one `sendfile` call (the kernel's own limit is
    /// a little below 2 GiB).
    const MAX_CHUNK: usize = 1 << 30;
    while *sent < length {
        let chunk = usize::try_from(length - *sent).map_or(MAX_CHUNK, |left| left.min(MAX_CHUNK));
        match nix::sys::sendfile::sendfile(stream, file, None, chunk) {
            // The file ended early: it became shorter while we sent it.
            Ok(0) => break,
            Ok(bytes) => *sent += bytes as u64,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(io::Error::from(errno)),
        }
    }
    Ok(*sent)
}
// ANCHOR_END: send_file

/// Elsewhere, the file goes through a small buffer of ours, and `sent`
/// counts each piece once the connection has taken it. `take` makes sure
/// we send exactly the length we announced, even if the file grew in the
/// meantime.
#[cfg(not(target_os = "linux"))]
fn send_file(file: &File, length: u64, mut stream: &TcpStream, sent: &mut u64) -> io::Result<u64> {
    let mut rest = file.take(length);
    let mut buffer = [0; 8 * 1024];
    loop {
        let count = match rest.read(&mut buffer) {
            Ok(0) => return Ok(*sent),
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        stream.write_all(buffer.get(..count).unwrap_or_default())?;
        *sent += count as u64;
    }
}

/// Replaces the characters that mean something in HTML, so that text from
/// the request is shown as text and never runs as markup or script.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

/// Writes `time` as an HTTP date, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// The `httpdate` crate writes the years 1970 to 9999 and panics outside
/// them. But a clock, and a file's time even more so, can say anything:
/// `touch -d` dates a file in 1969 or in the year 10000 without complaint,
/// and the file system is input to the server like a request. So a time
/// outside that range is first moved to the nearest date the crate can write.
pub fn http_date(time: SystemTime) -> String {
    // 9999-12-31 23:59:59 UTC, the last second an HTTP date can show.
    let latest = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    httpdate::fmt_http_date(time.clamp(UNIX_EPOCH, latest))
}
