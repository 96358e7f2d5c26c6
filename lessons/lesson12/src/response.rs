//! Status codes, responses, and how a response is written to the connection.

use std::fs::File;
use std::io::{self, Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::HttpError;

/// The status codes this lesson uses. Each knows its number and the reason
/// phrase that goes next to it in the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Created,
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
    UnsupportedMediaType,
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
            Status::UnsupportedMediaType => 415,
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
            Status::UnsupportedMediaType => "Unsupported Media Type",
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
    /// A file and its length. The file is copied to the connection in small
    /// pieces while it is sent, so even a huge file needs little memory.
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
    /// current: no body, only the date the file last changed.
    pub fn not_modified(last_modified: String) -> Response {
        // Exercise lesson06: a 304 response: no body, only the Last-Modified field
        Response {
            status: Status::NotModified,
            content_type: String::new(),
            header_fields: vec![("Last-Modified", last_modified)],
            body: Body::Bytes(Vec::new()),
        }
        // End of exercise lesson06.
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
    pub fn write_to(
        self,
        stream: &mut impl Write,
        include_body: bool,
        keep_alive: bool,
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
                message.len() as u64
            }
            // `io::copy` moves the file through a small buffer. `take` makes
            // sure we send exactly the length we announced, even if the file
            // grew in the meantime.
            Body::File { file, length } => {
                stream.write_all(&message)?;
                let copied = io::copy(&mut file.take(length), stream)?;
                if copied < length {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file became shorter while it was being sent",
                    ));
                }
                message.len() as u64 + copied
            }
        };
        stream.flush()?;
        Ok(bytes_sent)
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
