//! The grader's HTTP client: it sends raw bytes and records exactly what
//! comes back, including what a forgiving client would hide (bare LF line
//! endings, a wrong `Content-Length`, a reset instead of a clean close).
//!
//! Servers in lessons 01-03 close the connection after each response, so a
//! response is everything read until the end of the stream.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How long we wait to connect, and for the whole response.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// We stop reading a response after this many bytes.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The pause between the pieces of a request sent in pieces.
const PIECE_PAUSE: Duration = Duration::from_millis(10);

/// One request sent and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The bytes we sent (all of them, even when the server answered early).
    pub sent: Vec<u8>,
    /// The bytes that came back, unchanged.
    pub received: Vec<u8>,
    /// `received`, parsed.
    pub response: Response,
    /// How the connection ended.
    pub ending: Ending,
    /// The server sent something, or closed, before we sent the last piece.
    pub answered_early: bool,
}

/// How a connection ended, seen from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The server closed it normally (we read the end of the stream).
    Closed,
    /// The server reset it (ECONNRESET, or a failed write): a response
    /// still in flight may be lost.
    Reset,
    /// Nothing more came for `TIMEOUT`, and the server did not close.
    TimedOut,
    /// The response was longer than `MAX_RESPONSE_BYTES`.
    TooLong,
    /// Some other error.
    Failed(String),
}

impl std::fmt::Display for Ending {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Closed => formatter.write_str("the server closed the connection"),
            Ending::Reset => formatter.write_str("the server reset the connection (ECONNRESET)"),
            Ending::TimedOut => write!(
                formatter,
                "the server neither answered nor closed within {} s",
                TIMEOUT.as_secs()
            ),
            Ending::TooLong => write!(
                formatter,
                "the response went on past {} bytes",
                MAX_RESPONSE_BYTES
            ),
            Ending::Failed(error) => write!(formatter, "the connection failed: {error}"),
        }
    }
}

impl From<io::Error> for Ending {
    fn from(error: io::Error) -> Ending {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Ending::TimedOut,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Ending::Reset,
            _ => Ending::Failed(error.to_string()),
        }
    }
}

/// Opens a connection with the grader's timeouts.
pub fn connect(address: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends `request` in one write, half-closes, and reads the response.
/// Fails only when we cannot connect.
pub fn exchange(address: SocketAddr, request: &[u8]) -> io::Result<Exchange> {
    exchange_in_pieces(address, request, 1)
}

/// Sends `request` in `pieces` separate writes with a short pause between
/// them, as a slow client or a slow network would, then half-closes and
/// reads the response. Before each piece after the first it looks whether
/// the server has already answered, which a server that reads only once
/// would do.
pub fn exchange_in_pieces(
    address: SocketAddr,
    request: &[u8],
    pieces: usize,
) -> io::Result<Exchange> {
    let mut stream = connect(address)?;
    let piece_size = request.len().div_ceil(pieces.max(1)).max(1);
    let mut answered_early = false;
    let mut send_error = None;
    for (index, piece) in request.chunks(piece_size).enumerate() {
        if index > 0 {
            thread::sleep(PIECE_PAUSE);
            if has_answered(&stream) {
                answered_early = true;
                break;
            }
        }
        if let Err(error) = stream.write_all(piece) {
            send_error = Some(Ending::from(error));
            break;
        }
    }
    // Tell the server we are done sending. This fails when the server has
    // already closed, which the read below notices anyway.
    let _ = stream.shutdown(Shutdown::Write);
    let (received, read_ending) = read_to_end(&mut stream);
    Ok(Exchange {
        sent: request.to_vec(),
        response: Response::parse(&received),
        received,
        ending: send_error.unwrap_or(read_ending),
        answered_early,
    })
}

/// Whether the server has sent something or closed, without waiting.
fn has_answered(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let answered = !matches!(stream.peek(&mut [0; 1]), Err(error) if error.kind() == io::ErrorKind::WouldBlock);
    let _ = stream.set_nonblocking(false);
    answered
}

/// Reads until the server closes, at most `MAX_RESPONSE_BYTES` and
/// `TIMEOUT`.
fn read_to_end(stream: &mut TcpStream) -> (Vec<u8>, Ending) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0; 16 * 1024];
    loop {
        if started.elapsed() > TIMEOUT {
            return (received, Ending::TimedOut);
        }
        match stream.read(&mut buffer) {
            Ok(0) => return (received, Ending::Closed),
            Ok(count) => {
                received.extend(buffer.iter().take(count));
                if received.len() > MAX_RESPONSE_BYTES {
                    return (received, Ending::TooLong);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return (received, Ending::from(error)),
        }
    }
}

/// A response as it came, parsed leniently: lines may end with CR LF or a
/// bare LF, and the flags record what was not as it should be. Parsing
/// never fails; an empty or garbled response gives empty fields.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The head: status line, header lines and the empty line, as received.
    pub head: Vec<u8>,
    /// The first line, without its line ending.
    pub status_line: String,
    /// The first word of the status line, such as `HTTP/1.1`.
    pub version: String,
    /// The status code, when the second word is three digits.
    pub code: Option<u16>,
    /// What follows the status code.
    pub reason: String,
    /// The header fields in order: names as sent, values trimmed.
    pub fields: Vec<(String, String)>,
    /// The first header line that is not `name: value`.
    pub malformed_line: Option<String>,
    /// Whether an empty line ended the head.
    pub head_complete: bool,
    /// Whether every line of the head ended with CR LF.
    pub crlf_only: bool,
    /// Whether the body is as long as `Content-Length` says; `None` when
    /// there is no `Content-Length`.
    pub length_matches: Option<bool>,
    /// Everything after the head.
    pub body: Vec<u8>,
}

impl Response {
    pub fn parse(bytes: &[u8]) -> Response {
        let mut response = Response {
            crlf_only: true,
            ..Response::default()
        };
        let mut lines = Vec::new();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&byte| byte == b'\n') {
            let (line, after) = rest.split_at_checked(end + 1).unwrap_or((rest, &[]));
            rest = after;
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or_else(|| {
                response.crlf_only = false;
                line
            });
            if line.is_empty() {
                response.head_complete = true;
                break;
            }
            lines.push(String::from_utf8_lossy(line).into_owned());
        }
        if !response.head_complete && !rest.is_empty() {
            // The last line never ended; it still belongs to the head.
            lines.push(String::from_utf8_lossy(rest).into_owned());
            rest = &[];
        }
        response.head = bytes
            .get(..bytes.len() - rest.len())
            .unwrap_or(bytes)
            .to_vec();
        response.body = rest.to_vec();

        let mut lines = lines.into_iter();
        response.status_line = lines.next().unwrap_or_default();
        let mut words = response.status_line.splitn(3, ' ');
        response.version = words.next().unwrap_or_default().to_owned();
        response.code = words
            .next()
            .filter(|code| code.len() == 3 && code.bytes().all(|byte| byte.is_ascii_digit()))
            .and_then(|code| code.parse().ok());
        response.reason = words.next().unwrap_or_default().to_owned();

        for line in lines {
            match line.split_once(':') {
                Some((name, value)) if !name.is_empty() && !name.contains([' ', '\t']) => {
                    let value = value.trim_matches([' ', '\t']).to_owned();
                    response.fields.push((name.to_owned(), value));
                }
                _ => {
                    response.malformed_line.get_or_insert(line);
                }
            }
        }
        response.length_matches = response
            .field("Content-Length")
            .map(|length| length.parse() == Ok(response.body.len()));
        response
    }

    /// The value of the first field with this name (any case).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// How many status lines (`HTTP/1.1 200 ...`) the response holds,
    /// counting its own: more than one means the server answered twice.
    pub fn status_line_count(&self) -> usize {
        let head = usize::from(looks_like_status_line(self.status_line.as_bytes()));
        let body = self
            .body
            .split(|&byte| byte == b'\n')
            .filter(|line| looks_like_status_line(line))
            .count();
        head + body
    }
}

/// `HTTP/` DIGIT `.` DIGIT SP DIGIT DIGIT DIGIT at the start of a line.
fn looks_like_status_line(line: &[u8]) -> bool {
    matches!(
        line,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, b' ', a, b, c, ..]
            if [major, minor, a, b, c].iter().all(|byte| byte.is_ascii_digit())
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // failed assertions are the point

    use super::*;

    #[test]
    fn parses_a_strict_response() {
        let response =
            Response::parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A:  b \r\n\r\nabc");
        assert_eq!(response.version, "HTTP/1.1");
        assert_eq!(response.code, Some(404));
        assert_eq!(response.reason, "Not Found");
        assert_eq!(response.field("content-length"), Some("3"));
        assert_eq!(response.field("X-A"), Some("b"));
        assert!(response.crlf_only && response.head_complete);
        assert_eq!(response.length_matches, Some(true));
        assert_eq!(response.body, b"abc");
        assert_eq!(response.status_line_count(), 1);
    }

    #[test]
    fn records_what_is_wrong() {
        let response = Response::parse(b"HTTP/1.0 200 OK\n\nHallo\nHTTP/1.0 200 OK\n");
        assert!(!response.crlf_only);
        assert!(response.head_complete);
        assert_eq!(response.length_matches, None);
        assert_eq!(response.status_line_count(), 2);
        let response = Response::parse(b"HTTP/1.1 200 OK\r\nBroken line\r\nContent-Length: 9");
        assert!(!response.head_complete);
        assert_eq!(response.malformed_line.as_deref(), Some("Broken line"));
        assert!(response.body.is_empty());
    }

    #[test]
    fn never_panics() {
        for bytes in [
            &b""[..],
            b"\n",
            b"\r",
            b"\r\n\r\n",
            b"\xff\xfe:\n:",
            b"HTTP/1.1 2",
        ] {
            let response = Response::parse(bytes);
            assert_eq!(response.head.len() + response.body.len(), bytes.len());
        }
    }
}
