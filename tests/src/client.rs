//! The grader's HTTP client: it sends raw bytes and records exactly what
//! comes back, including what a forgiving client would hide (bare LF line
//! endings, a wrong `Content-Length`, a reset instead of a clean close).
//!
//! Until lesson 10 the servers of the course close the connection after
//! each response, so a response is everything read until the end of the
//! stream; `exchange` works that way. From lesson 11 on a connection may
//! carry many requests, and `Connection` finds where each response ends by
//! its `Content-Length` instead (`Response::framed_length`). `Request`
//! builds the requests the checks send, `Connection` sends and reads step
//! by step (to wait for `100 Continue`, to leave in the middle of a body,
//! or to send several requests on one connection), and `Response::parse`
//! is the one place that reads a response.

use std::collections::VecDeque;
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
    /// The response was complete where its `Content-Length` said, and we
    /// stopped reading there: the connection may carry the next request.
    Open,
    /// The server closed it normally (we read the end of the stream).
    Closed,
    /// The server reset it (ECONNRESET, or a failed write): a response
    /// still in flight may be lost.
    Reset,
    /// Nothing more came for this long, and the server did not close.
    TimedOut(Duration),
    /// The response was longer than `MAX_RESPONSE_BYTES`.
    TooLong,
    /// Some other error.
    Failed(String),
}

impl std::fmt::Display for Ending {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Open => formatter.write_str("the server kept the connection open"),
            Ending::Closed => formatter.write_str("the server closed the connection"),
            Ending::Reset => formatter.write_str("the server reset the connection (ECONNRESET)"),
            Ending::TimedOut(waited) => write!(
                formatter,
                "the server neither answered nor closed within {} s",
                seconds(*waited)
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

/// A duration in seconds, to a tenth: `4`, `0.5`.
pub fn seconds(duration: Duration) -> String {
    let tenths = (duration.as_millis() + 50) / 100;
    match tenths % 10 {
        0 => (tenths / 10).to_string(),
        tenth => format!("{}.{tenth}", tenths / 10),
    }
}

impl From<io::Error> for Ending {
    fn from(error: io::Error) -> Ending {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Ending::TimedOut(TIMEOUT),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Ending::Reset,
            _ => Ending::Failed(error.to_string()),
        }
    }
}

/// A request to send, built from its parts: `bytes` is the one place that
/// writes requests for the checks that do not spell out their bytes.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    target: Vec<u8>,
    version: String,
    fields: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    /// `METHOD TARGET HTTP/1.1` with the field `Host: localhost`. The
    /// target is bytes, so that it can hold what no valid target holds.
    pub fn new(method: &str, target: impl AsRef<[u8]>) -> Request {
        Request {
            method: method.to_owned(),
            target: target.as_ref().to_vec(),
            version: "HTTP/1.1".to_owned(),
            fields: vec![("Host".to_owned(), b"localhost".to_vec())],
            body: Vec::new(),
        }
    }

    pub fn get(target: impl AsRef<[u8]>) -> Request {
        Request::new("GET", target)
    }

    pub fn head(target: impl AsRef<[u8]>) -> Request {
        Request::new("HEAD", target)
    }

    pub fn post(target: impl AsRef<[u8]>) -> Request {
        Request::new("POST", target)
    }

    /// Another version than `HTTP/1.1`.
    pub fn version(mut self, version: &str) -> Request {
        version.clone_into(&mut self.version);
        self
    }

    /// Adds a header field after the ones already there.
    pub fn field(mut self, name: &str, value: impl AsRef<[u8]>) -> Request {
        self.fields.push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// Sets the body and adds a `Content-Length` that matches it.
    pub fn body(self, body: impl Into<Vec<u8>>) -> Request {
        let body = body.into();
        self.field("Content-Length", body.len().to_string())
            .raw_body(body)
    }

    /// Sets the body and nothing else: the fields that frame it are up to
    /// the caller.
    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Whether the response will have no body because this is a HEAD.
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// The head: request line, header fields and the empty line.
    pub fn head_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(self.method.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(&self.target);
        bytes.push(b' ');
        bytes.extend_from_slice(self.version.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        for (name, value) in &self.fields {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        bytes
    }

    /// The body alone.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The whole request: head and body.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = self.head_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Whether the request at the start of `request` lets the server keep the
/// connection open after its response (RFC 9112, section 9.3): an HTTP/1.1
/// request (or a later 1.x) unless it says `Connection: close`, an HTTP/1.0
/// request only when it says `Connection: keep-alive`.
pub fn allows_keep_alive(request: &[u8]) -> bool {
    let head = String::from_utf8_lossy(request);
    let head = head.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n").skip_while(|line| line.is_empty());
    let version = lines
        .next()
        .and_then(|request_line| request_line.rsplit(' ').next())
        .unwrap_or_default()
        .to_owned();
    let options: Vec<String> = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("Connection"))
        .flat_map(|(_, value)| value.split(','))
        .map(|option| option.trim().to_ascii_lowercase())
        .collect();
    let says = |option: &str| options.iter().any(|listed| listed == option);
    match version.strip_prefix("HTTP/1.") {
        Some("0") => says("keep-alive"),
        Some(minor) if minor.len() == 1 && minor.bytes().all(|byte| byte.is_ascii_digit()) => {
            !says("close")
        }
        _ => false,
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
    let mut connection = Connection::open(address)?;
    let piece_size = request.len().div_ceil(pieces.max(1)).max(1);
    let mut answered_early = false;
    for (index, piece) in request.chunks(piece_size).enumerate() {
        if index > 0 {
            thread::sleep(PIECE_PAUSE);
            if connection.has_answered() {
                answered_early = true;
                break;
            }
        }
        if !connection.send(piece) {
            break;
        }
    }
    let mut exchange = connection.finish();
    exchange.sent = request.to_vec();
    exchange.answered_early = answered_early;
    Ok(exchange)
}

/// A connection on which a check sends and reads step by step.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    /// Everything sent so far.
    sent: Vec<u8>,
    /// What came back and has not been taken as a response yet.
    received: Vec<u8>,
    /// The requests sent with `send_requests` whose responses have not
    /// been read yet, oldest first.
    awaiting: VecDeque<Request>,
    /// How sending failed, if it did; it ends the exchange.
    send_error: Option<Ending>,
    /// How reading ended for good, once the server closed or reset.
    read_error: Option<Ending>,
}

impl Connection {
    /// Connects with the grader's timeouts.
    pub fn open(address: SocketAddr) -> io::Result<Connection> {
        Ok(Connection {
            stream: connect(address)?,
            sent: Vec::new(),
            received: Vec::new(),
            awaiting: VecDeque::new(),
            send_error: None,
            read_error: None,
        })
    }

    /// Sends `bytes`; false when that failed (the server has closed).
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        if self.send_error.is_some() {
            return false;
        }
        self.sent.extend_from_slice(bytes);
        match self.stream.write_all(bytes) {
            Ok(()) => true,
            Err(error) => {
                self.send_error = Some(Ending::from(error));
                false
            }
        }
    }

    /// Sends `requests` in one write, as a pipelining client does, and
    /// remembers them, so that `next_response` knows what each response
    /// answers. False when sending failed.
    pub fn send_requests(&mut self, requests: &[Request]) -> bool {
        let bytes: Vec<u8> = requests.iter().flat_map(Request::bytes).collect();
        self.awaiting.extend(requests.iter().cloned());
        self.send(&bytes)
    }

    /// Whether the server has sent something or closed, without waiting.
    pub fn has_answered(&self) -> bool {
        if !self.received.is_empty() {
            return true;
        }
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let answered = !matches!(self.stream.peek(&mut [0; 1]), Err(error) if error.kind() == io::ErrorKind::WouldBlock);
        let _ = self.stream.set_nonblocking(false);
        answered
    }

    /// Reads until a whole response head has come (an interim one such as
    /// `100 Continue` counts), the server closes, or `within` has passed.
    /// Returns what came so far, parsed; `None` when nothing came.
    pub fn wait_for_head(&mut self, within: Duration) -> Option<Response> {
        self.read_until(within, contains_empty_line);
        (!self.received.is_empty()).then(|| Response::parse(&self.received, false))
    }

    /// Reads the response to the oldest request sent with `send_requests`
    /// (or, when there is none, to what `send` sent), waiting at most
    /// `within`. It ends where its `Content-Length` says, so the
    /// connection can carry the next request: the exchange's ending is
    /// then `Open`. When the length is missing, the response is what came
    /// until the server closed.
    pub fn next_response(&mut self, within: Duration) -> Exchange {
        let request = self.awaiting.pop_front();
        let to_head = request
            .as_ref()
            .map_or_else(|| self.sent.starts_with(b"HEAD "), Request::is_head);
        let read_ending = self.read_until(within, |received| {
            Response::framed_length(received, to_head).is_some()
        });
        let (received, ending) = match Response::framed_length(&self.received, to_head) {
            Some(length) => (self.received.drain(..length).collect(), Ending::Open),
            None => (
                std::mem::take(&mut self.received),
                self.send_error
                    .clone()
                    .or(read_ending)
                    .unwrap_or(Ending::TimedOut(within)),
            ),
        };
        Exchange {
            sent: request.map_or_else(|| self.sent.clone(), |request| request.bytes()),
            response: Response::parse(&received, to_head),
            received,
            ending,
            answered_early: false,
        }
        .recorded()
    }

    /// Waits up to `within` for the server to close, without closing our
    /// side first. The exchange holds whatever came meanwhile (nothing,
    /// from a server that closes as it should) and how the wait ended.
    pub fn wait_for_close(&mut self, within: Duration) -> Exchange {
        let ending = self
            .read_until(within, |_| false)
            .unwrap_or(Ending::TimedOut(within));
        let received = std::mem::take(&mut self.received);
        Exchange {
            sent: self.sent.clone(),
            response: Response::parse(&received, false),
            received,
            ending,
            answered_early: false,
        }
        .recorded()
    }

    /// Half-closes, reads until the server closes, and returns everything
    /// sent and received (that `next_response` has not taken).
    pub fn finish(mut self) -> Exchange {
        // Tell the server we are done sending. This fails when the server
        // has already closed, which the read below notices anyway.
        let _ = self.stream.shutdown(Shutdown::Write);
        let read_ending = self
            .read_until(TIMEOUT, |_| false)
            .unwrap_or(Ending::TimedOut(TIMEOUT));
        let to_head = self.sent.starts_with(b"HEAD ");
        Exchange {
            response: Response::parse(&self.received, to_head),
            sent: self.sent,
            received: self.received,
            ending: self.send_error.unwrap_or(read_ending),
            answered_early: false,
        }
        .recorded()
    }

    /// Reads until `done` says that `received` is complete (`None`), the
    /// server closes or resets, `MAX_RESPONSE_BYTES` have piled up, or
    /// `within` has passed: then it returns how reading ended. Every read
    /// of the connection goes through here, and sets its own timeout.
    fn read_until(&mut self, within: Duration, done: impl Fn(&[u8]) -> bool) -> Option<Ending> {
        let deadline = Instant::now() + within;
        let mut buffer = [0; 16 * 1024];
        let ending = loop {
            if done(&self.received) {
                return None;
            }
            if let Some(ending) = &self.read_error {
                return Some(ending.clone());
            }
            if self.received.len() > MAX_RESPONSE_BYTES {
                return Some(Ending::TooLong);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Some(Ending::TimedOut(within));
            }
            if let Err(error) = self.stream.set_read_timeout(Some(left)) {
                break Ending::from(error);
            }
            match self.stream.read(&mut buffer) {
                Ok(0) => break Ending::Closed,
                Ok(count) => self.received.extend(buffer.iter().take(count)),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(error) => break Ending::from(error),
            }
        };
        // Closed, reset or broken: no later read can change that.
        self.read_error = Some(ending.clone());
        Some(ending)
    }
}

/// Whether `bytes` hold an empty line (CR LF CR LF, or two bare LFs).
fn contains_empty_line(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|window| window == b"\r\n\r\n")
        || bytes.windows(2).any(|window| window == b"\n\n")
}

/// A response as it came, parsed leniently: lines may end with CR LF or a
/// bare LF, and the flags record what was not as it should be. Parsing
/// never fails; an empty or garbled response gives empty fields.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The head as received: status line, header lines and the empty
    /// line, after the heads of any interim responses.
    pub head: Vec<u8>,
    /// The status lines of the interim (1xx) responses that came before
    /// this one, such as `HTTP/1.1 100 Continue`.
    pub interim: Vec<String>,
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
    /// Whether the response must not have a body: it answers a HEAD
    /// request, or its status is 1xx, 204 or 304 (RFC 9112, section 6.3).
    pub bodiless: bool,
    /// Whether the body is as long as `Content-Length` says; `None` when
    /// there is no `Content-Length`. A bodiless response may also have no
    /// body at all: its `Content-Length` describes what a GET would get.
    pub length_matches: Option<bool>,
    /// Everything after the head.
    pub body: Vec<u8>,
}

impl Response {
    /// Parses what came back; `to_head` says that it answers a HEAD
    /// request. Interim responses (1xx) followed by more are recorded in
    /// `interim`, and the response after them is parsed.
    pub fn parse(bytes: &[u8], to_head: bool) -> Response {
        let mut interim = Vec::new();
        let mut rest = bytes;
        let mut response = Response::parse_one(rest);
        while response.code.is_some_and(|code| (100..200).contains(&code))
            && response.head_complete
            && !response.body.is_empty()
        {
            rest = rest.get(response.head.len()..).unwrap_or_default();
            interim.push(response.status_line);
            response = Response::parse_one(rest);
        }
        let interim_length = bytes.len() - rest.len();
        response.head = bytes
            .get(..interim_length + response.head.len())
            .unwrap_or(bytes)
            .to_vec();
        response.interim = interim;
        response.bodiless = to_head
            || response
                .code
                .is_some_and(|code| (100..200).contains(&code) || code == 204 || code == 304);
        response.length_matches = response.field("Content-Length").map(|length| {
            length.parse() == Ok(response.body.len())
                || (response.bodiless && response.body.is_empty())
        });
        response
    }

    /// How many bytes at the start of `bytes` make one complete response
    /// (with the interim responses before it), when a connection carries
    /// several: the head, then as many bytes as `Content-Length` says, or
    /// none when the response has no body by definition (`bodiless`).
    /// `None` while the response is incomplete, and when it has no usable
    /// `Content-Length`: then only the server's close can end it.
    pub fn framed_length(bytes: &[u8], to_head: bool) -> Option<usize> {
        let response = Response::parse(bytes, to_head);
        let interim_only = response.code.is_some_and(|code| (100..200).contains(&code));
        if !response.head_complete || interim_only {
            return None;
        }
        let body_length = if response.bodiless {
            0
        } else {
            response.field("Content-Length")?.parse().ok()?
        };
        let length = response.head.len().checked_add(body_length)?;
        (length <= bytes.len()).then_some(length)
    }

    /// Parses one response head and takes the rest as its body.
    fn parse_one(bytes: &[u8]) -> Response {
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
        let response = Response::parse(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A:  b \r\n\r\nabc",
            false,
        );
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
        let response = Response::parse(b"HTTP/1.0 200 OK\n\nHallo\nHTTP/1.0 200 OK\n", false);
        assert!(!response.crlf_only);
        assert!(response.head_complete);
        assert_eq!(response.length_matches, None);
        assert_eq!(response.status_line_count(), 2);
        let response = Response::parse(
            b"HTTP/1.1 200 OK\r\nBroken line\r\nContent-Length: 9",
            false,
        );
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
            for to_head in [false, true] {
                let response = Response::parse(bytes, to_head);
                assert_eq!(response.head.len() + response.body.len(), bytes.len());
            }
        }
    }

    #[test]
    fn builds_requests() {
        let request = Request::post("/a b")
            .version("HTTP/1.0")
            .field("X-Empty", "")
            .body("hi");
        assert_eq!(
            request.bytes(),
            b"POST /a b HTTP/1.0\r\nHost: localhost\r\nX-Empty: \r\nContent-Length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn skips_interim_responses() {
        let bytes =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
        let response = Response::parse(bytes, false);
        assert_eq!(response.interim, ["HTTP/1.1 100 Continue"]);
        assert_eq!(response.code, Some(201));
        assert_eq!(response.length_matches, Some(true));
        assert_eq!(response.head.len() + response.body.len(), bytes.len());
        // An interim response with nothing after it is all there is.
        let response = Response::parse(b"HTTP/1.1 100 Continue\r\n\r\n", false);
        assert_eq!(response.code, Some(100));
        assert!(response.interim.is_empty());
    }

    #[test]
    fn frames_responses_by_their_length() {
        let first = &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..];
        let both = [first, b"HTTP/1.1 304 Not Modified\r\n\r\n"].concat();
        assert_eq!(Response::framed_length(&both, false), Some(first.len()));
        assert_eq!(
            Response::framed_length(&first[..first.len() - 1], false),
            None
        );
        // A HEAD's response has no body, whatever its Content-Length says;
        // a 304 has none either.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(Response::framed_length(head, true), Some(head.len()));
        assert_eq!(Response::framed_length(head, false), None);
        let rest = both.get(first.len()..).unwrap();
        assert_eq!(Response::framed_length(rest, false), Some(rest.len()));
        // Interim responses belong to the response after them.
        let continued =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            Response::framed_length(continued, false),
            Some(continued.len())
        );
        assert_eq!(
            Response::framed_length(b"HTTP/1.1 100 Continue\r\n\r\n", false),
            None
        );
        // Without a Content-Length, only the server's close ends it.
        assert_eq!(
            Response::framed_length(b"HTTP/1.0 200 OK\r\n\r\nHallo", false),
            None
        );
    }

    #[test]
    fn knows_which_requests_let_the_connection_stay_open() {
        for (request, allows) in [
            (Request::get("/"), true),
            (Request::get("/").version("HTTP/1.2"), true),
            (Request::get("/").field("Connection", "close"), false),
            (
                Request::get("/").field("connection", "Upgrade, CLOSE"),
                false,
            ),
            (Request::get("/").version("HTTP/1.0"), false),
            (
                Request::get("/")
                    .version("HTTP/1.0")
                    .field("Connection", "Keep-Alive"),
                true,
            ),
            (Request::get("/").version("HTTP/2.0"), false),
        ] {
            let bytes = request.bytes();
            assert_eq!(
                allows_keep_alive(&bytes),
                allows,
                "{}",
                bytes.escape_ascii()
            );
        }
        assert!(allows_keep_alive(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!allows_keep_alive(b""));
    }

    /// A server that reads two requests, answers both at once, and closes.
    #[test]
    fn reads_pipelined_responses_one_by_one() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut requests = Vec::new();
            let mut buffer = [0; 1024];
            while requests.windows(4).filter(|w| w == b"\r\n\r\n").count() < 2 {
                let count = stream.read(&mut buffer).unwrap();
                requests.extend_from_slice(&buffer[..count]);
            }
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
                      HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
        });
        let mut connection = Connection::open(address).unwrap();
        assert!(connection.send_requests(&[Request::get("/a"), Request::head("/b")]));
        let first = connection.next_response(TIMEOUT);
        assert_eq!(first.response.body, b"hello");
        assert_eq!(first.ending, Ending::Open);
        assert!(first.sent.starts_with(b"GET /a "));
        let second = connection.next_response(TIMEOUT);
        assert_eq!(second.response.field("Connection"), Some("close"));
        assert!(second.response.body.is_empty());
        assert!(second.sent.starts_with(b"HEAD /b "));
        server.join().unwrap();
        let end = connection.wait_for_close(TIMEOUT);
        assert_eq!(end.ending, Ending::Closed);
        assert!(end.received.is_empty());
    }

    #[test]
    fn shows_seconds_to_a_tenth() {
        assert_eq!(seconds(Duration::from_secs(4)), "4");
        assert_eq!(seconds(Duration::from_millis(3_999)), "4");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5");
    }

    #[test]
    fn knows_which_responses_have_no_body() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let response = Response::parse(head, true);
        assert!(response.bodiless);
        assert_eq!(response.length_matches, Some(true));
        assert_eq!(Response::parse(head, false).length_matches, Some(false));
        let response = Response::parse(b"HTTP/1.1 304 Not Modified\r\n\r\n", false);
        assert!(response.bodiless);
        assert_eq!(response.length_matches, None);
    }
}
