//! One connection from start to end.
//!
//! Until lesson 10, a connection carried one request and one response. Now
//! it carries as many as the client wants, one after the other: the client
//! saves a TCP handshake (and, for HTTPS, a TLS handshake) for every request
//! after the first. The loop in `handle_connection` ends when the client
//! closes the connection or asks us to, when it stays quiet for longer than
//! the idle timeout, or when it sends something after which we cannot tell
//! where its next request would start.
//!
//! Since lesson 12, each connection runs on a thread of its own (see
//! `server.rs`), so the code here can wait for a slow client without
//! holding up anybody else. It also watches for a shutdown: once one has
//! begun, the current response is the connection's last.
//!
//! Since lesson 15, on Linux, a connection comes here only when the event
//! loop (`event_loop.rs`) has met a request it cannot answer without
//! waiting: a body to read, a large response to send, a head that is still
//! arriving, requests sent ahead. The loop hands over the bytes it has
//! already read, and they are read first.

use std::io::{self, BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::body;
use crate::error::HttpError;
use crate::request::{self, Request};
use crate::response::{Response, Status};
use crate::server::Server;
use crate::{Config, respond};

/// How long we wait for the next piece of a request that has started.
/// Waiting for a new request to start is governed by `--idle-timeout`.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a connection that waits for its next request checks whether
/// the server is shutting down.
const SHUTDOWN_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// How long we wait for a client to accept the bytes of our response.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the event loop waits for a refused client to take its 503.
const REFUSE_WRITE_TIMEOUT: Duration = Duration::from_millis(100);

/// How long, and for how many bytes, we keep reading after our response
/// before we close the connection (see `close_connection`).
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
pub const LINGER_MAX_BYTES: u64 = 1024 * 1024;

// ANCHOR: handle_connection
/// Answers requests on one connection until it is time to close it.
/// `received` holds the bytes the event loop has read from it already.
pub fn handle_connection(stream: TcpStream, received: Vec<u8>, server: &Server) -> io::Result<()> {
    // The event loop never waits, so its sockets do not either; here we
    // want the plain, waiting reads and writes again.
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    // ANCHOR: nodelay
    // Nagle's algorithm makes the kernel hold back a small write until the
    // client has acknowledged the previous one. A file's head and body were
    // two writes, and a client acknowledges the head only when its
    // delayed-acknowledgement timer runs out (40 ms on Linux): every small
    // file would wait that long. Servers that care about speed switch Nagle
    // off for their connections, and so do we. (`write_to` now also joins
    // head and body where it can; Nagle stays off, as in nginx, so that the
    // last piece of a response is never held back.)
    stream.set_nodelay(true)?;
    // ANCHOR_END: nodelay
    // The client's address, for the access log. Asked once here rather than
    // for every request: each question is a system call, and the answer
    // cannot change while the connection is open.
    let client = client_address(&stream);

    // One `BufReader` for the whole connection. If the client sent its
    // next request before we answered this one ("pipelining"), the start of
    // it may already sit in this buffer, and must not be lost. `chain`
    // puts the bytes the event loop has read in front of the socket's.
    let mut reader = BufReader::new(io::Cursor::new(received).chain(&stream));
    loop {
        if !wait_for_request(&mut reader, &stream, server)? {
            return Ok(());
        }
        let keep_alive = handle_request(&mut reader, &stream, client, server)?;
        if !keep_alive {
            return close_connection(&stream);
        }
    }
}
// ANCHOR_END: handle_connection

// ANCHOR: wait_for_request
/// Waits up to the idle timeout for the first byte of the next request.
/// Returns `false` when the client closed the connection, stayed quiet too
/// long, or the server is shutting down; either way, the connection ends
/// without a response.
///
/// The wait happens in short steps, so that a waiting connection notices a
/// shutdown within `SHUTDOWN_CHECK_INTERVAL`. A connection that is reading
/// or answering a request is not disturbed: it finishes first.
fn wait_for_request(
    reader: &mut impl BufRead,
    stream: &TcpStream,
    server: &Server,
) -> io::Result<bool> {
    let deadline = Instant::now() + server.config.idle_timeout;
    loop {
        let time_left = deadline.saturating_duration_since(Instant::now());
        if server.is_shutting_down() || time_left.is_zero() {
            return Ok(false);
        }
        stream.set_read_timeout(Some(time_left.min(SHUTDOWN_CHECK_INTERVAL)))?;
        // `fill_buf` returns at once if bytes are already buffered, and
        // otherwise waits for at least one; an empty result means the client
        // closed the connection.
        let waited = reader.fill_buf().map(|bytes| !bytes.is_empty());
        match waited {
            Ok(has_request) => {
                stream.set_read_timeout(Some(READ_TIMEOUT))?;
                return Ok(has_request);
            }
            // A timeout ends one step of the wait. A signal (such as the
            // Ctrl-C that starts a shutdown) can interrupt the read too;
            // then we simply look at the flag again.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error),
        }
    }
}
// ANCHOR_END: wait_for_request

/// Reads one request and answers it. Returns whether the connection can
/// carry another request.
fn handle_request(
    reader: &mut impl BufRead,
    stream: &TcpStream,
    client: IpAddr,
    server: &Server,
) -> io::Result<bool> {
    let started = Instant::now();
    // The request line as the client sent it, for the access log; `-` when
    // the request did not get that far.
    let mut request_line = "-".to_owned();
    let (response, request, keep_alive) =
        match request::read_request(reader, server.config.head_timeout, &mut request_line) {
            Ok(Some(request)) => {
                let (response, keep_alive) =
                    answer_request(&request, reader, stream, &server.config);
                (response, Some(request), keep_alive)
            }
            // The client closed the connection, or the connection broke: there
            // is nobody left to answer.
            Ok(None) => return Ok(false),
            Err(HttpError::Io(error)) => return Err(error),
            // After a request we could not read, we cannot tell where the next
            // one would start, so this answer is the connection's last.
            Err(error) => (Response::error(&error), None, false),
        };

    // During a shutdown, this response is the last; the client should
    // know that before it sends another request.
    let keep_alive = keep_alive && !server.is_shutting_down();
    send_response(
        stream,
        client,
        response,
        request,
        request_line,
        keep_alive,
        started,
        &server.config,
    )?;
    Ok(keep_alive)
}

// ANCHOR: refuse_connection
/// Answers a connection for which there is no free slot with 503 Service
/// Unavailable, and closes it.
///
/// This runs on the event loop's thread, so it must be quick: no request
/// is read, and there is no lingering close (see `close_connection`). The
/// response is small enough for the operating system to take it at once.
pub fn refuse_connection(stream: TcpStream, config: &Config) {
    let started = Instant::now();
    let _ = stream.set_write_timeout(Some(REFUSE_WRITE_TIMEOUT));
    let response = Response::error(&HttpError::Overloaded);
    let client = client_address(&stream);
    if let Err(error) = send_response(
        &stream,
        client,
        response,
        None,
        "-".to_owned(),
        false,
        started,
        config,
    ) {
        eprintln!("could not refuse a connection: {error}");
    }
    let _ = stream.shutdown(Shutdown::Write);
}
// ANCHOR_END: refuse_connection

/// The client's IP address, or `0.0.0.0` when it has already gone (then
/// nobody can tell any more).
fn client_address(stream: &TcpStream) -> IpAddr {
    stream
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |address| address.ip())
}

/// Writes the response to `request` (`None` for one we could not read),
/// whose request line was `request_line`, to `client`, and logs it.
#[allow(clippy::too_many_arguments)]
fn send_response(
    stream: &TcpStream,
    client: IpAddr,
    response: Response,
    request: Option<Request>,
    request_line: String,
    keep_alive: bool,
    started: Instant,
    config: &Config,
) -> io::Result<()> {
    let exchange = Exchange {
        client,
        request,
        request_line,
        status: response.status,
        started,
    };
    let mut body_bytes = 0;
    let written = response.write_to(
        stream,
        exchange.includes_body(),
        keep_alive,
        &mut body_bytes,
    );
    exchange.log(body_bytes, written.as_ref().ok().copied(), config);
    written.map(|_| ())
}

// ANCHOR: exchange
/// One request and its response, as the logs describe them. The event
/// loop keeps one while a response is still on its way.
pub struct Exchange {
    pub client: IpAddr,
    pub request: Option<Request>,
    /// The request line as the client sent it; `-` when the request did
    /// not get that far.
    pub request_line: String,
    pub status: Status,
    pub started: Instant,
}

impl Exchange {
    /// Whether the response has a body. A HEAD request gets the same head
    /// as GET, without the body. That holds for errors too, even for one
    /// found after the request line (RFC 9110, section 9.3.2): the request
    /// line says it was HEAD.
    pub fn includes_body(&self) -> bool {
        !self.request_line.starts_with("HEAD ")
    }

    /// Logs the exchange: in the coloured request log, and in the access
    /// log if there is one. `sent` is how many bytes went out, or `None`
    /// when writing failed.
    pub fn log(&self, body_bytes: u64, sent: Option<u64>, config: &Config) {
        // ANCHOR: access_log
        // The access log gets a line for every request, even when the client
        // went away before it had the whole response. It says what happened:
        // the request line as it came, and the bytes of body that really went
        // out (`write_to` counted them), not those we meant to send.
        if let Some(access_log) = &config.access_log {
            let arrived = SystemTime::now()
                .checked_sub(self.started.elapsed())
                .unwrap_or(UNIX_EPOCH);
            access_log.write(&shared::AccessLogEntry {
                client: self.client,
                request_line: &self.request_line,
                status: self.status.code(),
                body_bytes,
                time: arrived,
            });
        }
        // ANCHOR_END: access_log
        let Some(bytes_sent) = sent else {
            return;
        };
        if config.request_log {
            let (method, target) = self.request.as_ref().map_or(("-", "-"), |request| {
                (request.method.as_str(), request.target.as_str())
            });
            shared::log_request(&shared::RequestLog {
                method,
                target,
                status: self.status.code(),
                bytes_sent,
                duration: self.started.elapsed(),
            });
        }
    }
}
// ANCHOR_END: exchange

// ANCHOR: answer_request
/// Answers a well-formed request, and says whether the connection can stay
/// open afterwards.
pub fn answer_request(
    request: &Request,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    config: &Config,
) -> (Response, bool) {
    // Without a body length we cannot find where the next request starts.
    let length = match body::body_length(request) {
        Ok(length) => length.unwrap_or(0),
        Err(error) => return (Response::error(&error), false),
    };
    // The handler sees only this request's body, and `limit` tells us
    // afterwards how much of it it left unread. Unread body bytes would be
    // taken for the start of the next request, so then we must close.
    let mut body = body::Paced::new(reader.by_ref(), config.body_pace).take(length);
    let response = respond(request, &mut body, stream, config);
    let keep_alive = request.wants_keep_alive() && body.limit() == 0;
    (response, keep_alive)
}
// ANCHOR_END: answer_request

// ANCHOR: close_connection
/// Closes the connection in two steps, so that the client reliably gets the
/// whole response.
///
/// If we simply closed while some of the client's bytes were still unread
/// (say the rest of a head that was too large), the operating system would
/// answer them with a reset, and a reset can destroy our response before the
/// client has read it. So we first shut down our sending side, which tells
/// the client that the response is complete, then read and throw away what
/// the client still sends until it closes too (or a short time has passed),
/// and only then close. RFC 9112, section 9.6 describes this.
fn close_connection(stream: &TcpStream) -> io::Result<()> {
    // If the client has gone already, there is nothing left to close politely.
    if stream.shutdown(Shutdown::Write).is_err() {
        return Ok(());
    }
    stream.set_read_timeout(Some(LINGER_TIMEOUT))?;
    // Errors here (a timeout, a reset) only mean the client is gone, which is
    // exactly what we are waiting for, so they are not reported.
    let _ = io::copy(&mut stream.take(LINGER_MAX_BYTES), &mut io::sink());
    Ok(())
}
// ANCHOR_END: close_connection
