//! Status codes, responses, and how a response is written to the connection.

use std::io::{self, Write};

use crate::error::HttpError;

/// The status codes this lesson uses. Each knows its number and the reason
/// phrase that goes next to it in the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    RequestTimeout,
    UriTooLong,
    RequestHeaderFieldsTooLarge,
    InternalServerError,
    NotImplemented,
    HttpVersionNotSupported,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::RequestTimeout => 408,
            Status::UriTooLong => 414,
            Status::RequestHeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
            Status::HttpVersionNotSupported => 505,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::RequestTimeout => "Request Timeout",
            Status::UriTooLong => "URI Too Long",
            Status::RequestHeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::InternalServerError => "Internal Server Error",
            Status::NotImplemented => "Not Implemented",
            Status::HttpVersionNotSupported => "HTTP Version Not Supported",
        }
    }
}

/// A complete response, ready to be written.
#[derive(Debug)]
pub struct Response {
    pub status: Status,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    /// A response with an HTML page as its body.
    pub fn html(status: Status, page: String) -> Response {
        Response {
            status,
            content_type: "text/html; charset=utf-8",
            body: page.into_bytes(),
        }
    }

    /// A response that explains an error in one line of plain text.
    pub fn error(error: &HttpError) -> Response {
        let status = error.status();
        let text = format!(
            "{} {}: {}\n",
            status.code(),
            status.reason(),
            error.explanation()
        );
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.into_bytes(),
        }
    }

    // ANCHOR: write_to
    /// Writes the status line, the header fields, the empty line and the
    /// body, and returns how many bytes that was.
    ///
    /// `Content-Length` tells the client exactly where the body ends, and
    /// `Connection: close` tells it that we close the connection afterwards.
    /// We answer with version HTTP/1.1 even to HTTP/1.0 clients: a server
    /// names the highest version it speaks (RFC 9110, section 6.2).
    pub fn write_to(&self, stream: &mut impl Write) -> io::Result<u64> {
        let head = format!(
            "HTTP/1.1 {code} {reason}\r\n\
             Content-Type: {content_type}\r\n\
             Content-Length: {length}\r\n\
             Connection: close\r\n\
             \r\n",
            code = self.status.code(),
            reason = self.status.reason(),
            content_type = self.content_type,
            length = self.body.len(),
        );
        // Head and body go out in one write, so that they usually travel in
        // one TCP segment instead of two.
        let mut message = head.into_bytes();
        message.extend_from_slice(&self.body);
        stream.write_all(&message)?;
        stream.flush()?;
        Ok(message.len() as u64)
    }
    // ANCHOR_END: write_to
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
