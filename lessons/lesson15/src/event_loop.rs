//! One thread, many connections: the event loop (Linux only).
//!
//! Until lesson 14, every connection had a thread, and the thread slept in
//! `read` until its client sent the next request. With many busy clients,
//! every request meant waking a sleeping thread and switching to it, and
//! that wake-up had become the largest cost left (lesson 14, "Where the
//! time goes").
//!
//! Here one thread looks after every connection that waits for a request.
//! It asks the kernel which of them have something to read (`epoll_wait`),
//! reads what has arrived, and answers every request it can answer without
//! waiting for the client: one that has arrived whole, announces no body,
//! and whose response has at most 16 KiB of body. While ten clients keep
//! it busy, the loop goes from one ready connection to the next and never
//! sleeps. And a connection that waits for its next request costs no
//! thread, only its entry in `connections`.
//!
//! The loop is everybody's: if it waited for one client, all the others
//! would wait too. So whatever would make it wait (a head that is still
//! arriving, a body to read, a large file to send, requests sent ahead)
//! goes to a thread, with the bytes read so far, and the thread serves that
//! connection to its end, as in lesson 14.
//!
//! What this leaves out on purpose: bodies and large files on the loop
//! (nginx keeps a state for every step of every request to do that), and
//! other systems. epoll is Linux's; BSD and macOS have kqueue, Windows has
//! I/O completion ports, and crates such as mio (the base of tokio) offer
//! one interface to all of them.

use std::collections::HashMap;
use std::io::{self, BufRead, Read, Write};
use std::mem;
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use crate::body;
use crate::connection::{self, Exchange};
use crate::error::HttpError;
use crate::request;
use crate::response::Response;
use crate::server::{ConnectionSlot, Server};

/// The number under which epoll reports the listener; connections get
/// 1, 2, 3, and so on.
const LISTENER: u64 = 0;

/// How many ready connections one `epoll_wait` may report.
const EVENTS_AT_ONCE: usize = 64;

/// How long the loop sleeps at most, in milliseconds, before it looks for
/// connections whose time is up.
const TICK_MILLISECONDS: u16 = 100;

/// How many bytes the loop reads from a connection at once: more than the
/// largest head the server accepts.
const READ_SIZE: usize = 16 * 1024;

/// How long the loop pauses when `accept` fails for a reason other than an
/// empty queue (usually: no file descriptors left). The client stays in
/// the queue, so without a pause the loop would try again at once, and
/// again, and use a whole core for nothing.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(10);

// ANCHOR: connection
/// A connection the loop looks after.
struct Connection {
    stream: TcpStream,
    /// Frees the connection's place under `--max-connections` when the
    /// connection is dropped (see `server.rs`).
    slot: ConnectionSlot,
    client: IpAddr,
    /// Bytes that have arrived and belong to no answered request yet.
    received: Vec<u8>,
    state: State,
    /// When the loop gives up on the connection and closes it.
    deadline: Instant,
    /// What we asked epoll to watch for: something to read, or room to
    /// write.
    watching: EpollFlags,
}

/// Where a connection is between two wake-ups of the loop.
enum State {
    /// Waiting for a request, up to the idle timeout.
    WaitingForRequest,
    /// A response is on its way, and the client has not taken all of it
    /// yet. `written` counts the bytes of `message` that went out.
    Writing {
        message: Vec<u8>,
        written: usize,
        body_bytes: u64,
        exchange: Exchange,
        keep_alive: bool,
    },
    /// The last response has gone out; we read and throw away what the
    /// client still sends until it closes too (`connection::close_connection`
    /// explains why).
    Closing { bytes_left: u64 },
}

/// What becomes of a connection after the loop has worked on it.
enum Next {
    Keep(Connection),
    HandOver(Connection),
    Close,
}
// ANCHOR_END: connection

// ANCHOR: run
/// Runs the event loop until the server shuts down and the last response
/// the loop was writing has gone out.
pub fn run(listener: TcpListener, server: &Arc<Server>) -> io::Result<()> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    // A listener that never waits: `accept` says "would block" when no
    // client is left in the queue.
    listener.set_nonblocking(true)?;
    epoll.add(&listener, EpollEvent::new(EpollFlags::EPOLLIN, LISTENER))?;
    // `None` once the shutdown has closed it.
    let mut listener = Some(listener);

    let mut connections: HashMap<u64, Connection> = HashMap::new();
    let mut next_key = LISTENER + 1;
    let mut events = [EpollEvent::empty(); EVENTS_AT_ONCE];
    let mut chunk = vec![0; READ_SIZE];
    let mut next_check = Instant::now();
    loop {
        // The only place where the loop sleeps: until at least one of the
        // connections (or the listener) is ready, or a tick has passed.
        let ready = match epoll.wait(&mut events, EpollTimeout::from(TICK_MILLISECONDS)) {
            Ok(ready) => ready,
            Err(Errno::EINTR) => 0,
            Err(errno) => return Err(errno.into()),
        };
        for event in events.iter().take(ready) {
            let key = event.data();
            if key == LISTENER {
                if let Some(listener) = &listener {
                    accept_connections(listener, server, &epoll, &mut connections, &mut next_key);
                }
                continue;
            }
            let Some(connection) = connections.remove(&key) else {
                continue;
            };
            match connection.work(&mut chunk, server) {
                Next::Keep(connection) => keep(&epoll, &mut connections, key, connection, server),
                Next::HandOver(connection) => hand_over(&epoll, server, connection),
                // Dropping the connection closes its socket (which also
                // takes it off epoll's list) and frees its slot.
                Next::Close => {}
            }
        }

        let now = Instant::now();
        if server.is_shutting_down() {
            // Close the listener, so that a client who connects now is
            // refused at once instead of waiting in the queue. Close every
            // connection that waits for a request, and let the responses
            // that are under way finish, polite close included.
            listener = None;
            connections.retain(|_, connection| {
                matches!(
                    connection.state,
                    State::Writing { .. } | State::Closing { .. }
                )
            });
            if connections.is_empty() {
                return Ok(());
            }
        }
        if now >= next_check {
            close_expired(&mut connections, now, server);
            next_check = now + Duration::from_millis(u64::from(TICK_MILLISECONDS));
        }
    }
}
// ANCHOR_END: run

// ANCHOR: accept_connections
/// Accepts every client that waits in the listener's queue.
fn accept_connections(
    listener: &TcpListener,
    server: &Arc<Server>,
    epoll: &Epoll,
    connections: &mut HashMap<u64, Connection>,
    next_key: &mut u64,
) {
    loop {
        let (stream, address) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
            // The client gave up before we took it; the next may be fine.
            Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(error) => {
                eprintln!("could not accept a connection: {error}");
                thread::sleep(ACCEPT_ERROR_PAUSE);
                return;
            }
        };
        let Some(slot) = server.take_slot() else {
            connection::refuse_connection(stream, &server.config);
            continue;
        };
        // Nagle's algorithm stays off (see `connection.rs`), and the socket
        // never waits: a `read` with nothing to read says "would block" at once.
        let key = *next_key;
        let prepared = stream
            .set_nodelay(true)
            .and_then(|()| stream.set_nonblocking(true))
            .and_then(|()| Ok(epoll.add(&stream, EpollEvent::new(EpollFlags::EPOLLIN, key))?));
        if let Err(error) = prepared {
            eprintln!("could not watch a connection: {error}");
            continue;
        }
        *next_key += 1;
        let connection = Connection {
            stream,
            slot,
            client: address.ip(),
            received: Vec::new(),
            state: State::WaitingForRequest,
            deadline: Instant::now() + server.config.idle_timeout,
            watching: EpollFlags::EPOLLIN,
        };
        connections.insert(key, connection);
    }
}
// ANCHOR_END: accept_connections

// ANCHOR: keep
/// Puts a connection back on the list, and tells epoll if it now waits
/// for something else (room to write instead of bytes to read).
fn keep(
    epoll: &Epoll,
    connections: &mut HashMap<u64, Connection>,
    key: u64,
    mut connection: Connection,
    server: &Server,
) {
    let wanted = match connection.state {
        State::Writing { .. } => EpollFlags::EPOLLOUT,
        State::WaitingForRequest | State::Closing { .. } => EpollFlags::EPOLLIN,
    };
    if wanted != connection.watching {
        if let Err(error) = epoll.modify(&connection.stream, &mut EpollEvent::new(wanted, key)) {
            // The connection is closed; a response under way is logged
            // with the bytes that went out.
            connection
                .abandon_response(&format!("could not watch the connection: {error}"), server);
            return;
        }
        connection.watching = wanted;
    }
    connections.insert(key, connection);
}
// ANCHOR_END: keep

// ANCHOR: hand_over
/// Gives a connection to a thread, which serves it to its end.
fn hand_over(epoll: &Epoll, server: &Arc<Server>, connection: Connection) {
    // From now on the thread reads from this socket; the loop must not be
    // woken by it any more.
    if let Err(error) = epoll.delete(&connection.stream) {
        eprintln!("could not hand over a connection: {error}");
        return;
    }
    server.hand_over(connection.stream, connection.slot, connection.received);
}
// ANCHOR_END: hand_over

/// Closes the connections whose deadline has passed: clients that stayed
/// quiet for longer than the idle timeout, did not take a response in time,
/// or did not close after their last response.
fn close_expired(connections: &mut HashMap<u64, Connection>, now: Instant, server: &Server) {
    let expired: Vec<u64> = connections
        .iter()
        .filter(|(_, connection)| connection.deadline <= now)
        .map(|(key, _)| *key)
        .collect();
    for key in expired {
        let Some(connection) = connections.remove(&key) else {
            continue;
        };
        if let State::Writing { .. } = connection.state {
            connection.abandon_response("the client did not take the response in time", server);
        }
    }
}

impl Connection {
    // ANCHOR: work
    /// Takes the connection as far as it can go without waiting, now that
    /// epoll has reported it ready.
    fn work(self, chunk: &mut [u8], server: &Arc<Server>) -> Next {
        match self.state {
            State::WaitingForRequest => self.read_request(chunk, server),
            State::Writing { .. } => self.write(server),
            State::Closing { .. } => self.read_until_closed(chunk),
        }
    }
    // ANCHOR_END: work

    // ANCHOR: read_request
    /// Reads what has arrived, and answers it if it is a whole request.
    fn read_request(mut self, chunk: &mut [u8], server: &Arc<Server>) -> Next {
        match (&self.stream).read(chunk) {
            // The client closed the connection.
            Ok(0) => return Next::Close,
            Ok(count) => self
                .received
                .extend_from_slice(chunk.get(..count).unwrap_or_default()),
            // epoll may report a connection that turns out to have nothing
            // after all; then it simply waits on.
            Err(error) if is_retry(&error) => return Next::Keep(self),
            Err(_) => return Next::Close,
        }
        self.answer(server)
    }
    // ANCHOR_END: read_request

    // ANCHOR: answer
    /// Answers the request in `received`, or hands the connection to a
    /// thread if that would mean waiting.
    fn answer(mut self, server: &Arc<Server>) -> Next {
        // Exercise lesson15: answer the request in `received` if it is whole, announces no body and its response is small; else hand the connection over
        let started = Instant::now();
        let config = &server.config;
        let mut request_line = "-".to_owned();
        let mut arrived = Arrived {
            bytes: &self.received,
        };
        let result = request::read_request(&mut arrived, config.head_timeout, &mut request_line);
        let used = self.received.len() - arrived.bytes.len();
        let (response, request, keep_alive) = match result {
            Ok(Some(request)) => {
                // A body would make the loop wait for it. Even an empty one
                // goes to a thread: the handlers that read bodies may write
                // `100 Continue` first, and only a thread may wait for that.
                if let Ok(Some(_)) = body::body_length(&request) {
                    return Next::HandOver(self);
                }
                let (response, keep_alive) =
                    connection::answer_request(&request, &mut io::empty(), &self.stream, config);
                // So would a large response: the loop cannot wait until the
                // client has taken it.
                if !response.fits_in_one_write() {
                    return Next::HandOver(self);
                }
                (response, Some(request), keep_alive)
            }
            // `Arrived` says "would block" where its bytes end, which
            // `read_request` reports as a timeout: the head is not complete
            // yet. A thread waits for the rest, with the head's deadline.
            Ok(None) | Err(HttpError::TimedOut | HttpError::Io(_)) => return Next::HandOver(self),
            // After a request we could not read, we cannot tell where the
            // next one would start, so this answer is the connection's last.
            Err(error) => (Response::error(&error), None, false),
        };
        self.received.drain(..used);

        let keep_alive = keep_alive && !server.is_shutting_down();
        let exchange = Exchange {
            client: self.client,
            request,
            request_line,
            status: response.status,
            started,
        };
        let (message, body_bytes) =
            match response.into_message(exchange.includes_body(), keep_alive) {
                Ok(message) => message,
                Err(error) => {
                    exchange.log(0, None, config);
                    eprintln!("connection ended early: {error}");
                    return Next::Close;
                }
            };
        self.state = State::Writing {
            message,
            written: 0,
            body_bytes,
            exchange,
            keep_alive,
        };
        self.deadline = Instant::now() + connection::WRITE_TIMEOUT;
        self.write(server)
        // End of exercise lesson15.
    }
    // ANCHOR_END: answer

    // ANCHOR: write
    /// Writes as much of the response as the socket takes. What it does not
    /// take yet waits until epoll reports room to write.
    fn write(mut self, server: &Arc<Server>) -> Next {
        // Exercise lesson15: write what the socket takes and keep the rest; once all is out, log, then wait for the next request or close
        let State::Writing {
            message, written, ..
        } = &mut self.state
        else {
            return Next::Keep(self);
        };
        while let Some(unwritten) = message.get(*written..)
            && !unwritten.is_empty()
        {
            match (&self.stream).write(unwritten) {
                Ok(0) => {
                    self.abandon_response("the connection took no more bytes", server);
                    return Next::Close;
                }
                Ok(count) => *written += count,
                Err(error) if is_retry(&error) => return Next::Keep(self),
                Err(error) => {
                    self.abandon_response(&error.to_string(), server);
                    return Next::Close;
                }
            }
        }
        let State::Writing {
            message,
            body_bytes,
            exchange,
            keep_alive,
            ..
        } = mem::replace(&mut self.state, State::WaitingForRequest)
        else {
            return Next::Close;
        };
        exchange.log(body_bytes, Some(message.len() as u64), &server.config);
        if !keep_alive {
            return self.start_closing();
        }
        self.deadline = Instant::now() + server.config.idle_timeout;
        // A client that sent its next request before it had this response
        // ("pipelining", rare in practice) is served by a thread, which
        // reads the requests one after the other.
        if !self.received.is_empty() {
            return Next::HandOver(self);
        }
        Next::Keep(self)
        // End of exercise lesson15.
    }
    // ANCHOR_END: write

    /// Says on stderr why the connection ends early and, for a response
    /// under way, writes its log lines with the bytes of body that did go
    /// out.
    fn abandon_response(self, problem: &str, server: &Server) {
        eprintln!("connection ended early: {problem}");
        let State::Writing {
            message,
            written,
            body_bytes,
            exchange,
            ..
        } = self.state
        else {
            return;
        };
        let unwritten = message.len().saturating_sub(written) as u64;
        exchange.log(body_bytes.saturating_sub(unwritten), None, &server.config);
    }

    /// Shuts down our sending side after the last response, and waits (in
    /// the loop, not here) for the client to close.
    fn start_closing(mut self) -> Next {
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return Next::Close;
        }
        self.state = State::Closing {
            bytes_left: connection::LINGER_MAX_BYTES,
        };
        self.deadline = Instant::now() + connection::LINGER_TIMEOUT;
        Next::Keep(self)
    }

    /// Reads and throws away what the client still sends after our last
    /// response, until it closes (or has sent too much).
    fn read_until_closed(mut self, chunk: &mut [u8]) -> Next {
        let State::Closing { bytes_left } = &mut self.state else {
            return Next::Close;
        };
        match (&self.stream).read(chunk) {
            Ok(0) => Next::Close,
            Ok(count) => {
                *bytes_left = bytes_left.saturating_sub(count as u64);
                if *bytes_left == 0 {
                    return Next::Close;
                }
                Next::Keep(self)
            }
            Err(error) if is_retry(&error) => Next::Keep(self),
            Err(_) => Next::Close,
        }
    }
}

/// Whether an error only means "nothing to do right now": the socket
/// would have to wait, or a signal interrupted the call.
fn is_retry(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

// ANCHOR: arrived
/// The bytes that have arrived so far, as a reader for `read_request`.
///
/// Where they end, it says "would block", not "end of file": the rest of
/// the request may still be on its way. So the parser that threads use,
/// unchanged, tells the loop whether a whole head is there.
struct Arrived<'a> {
    bytes: &'a [u8],
}

impl Read for Arrived<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.fill_buf()?.read(buffer)?;
        self.consume(count);
        Ok(count)
    }
}

impl BufRead for Arrived<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.bytes.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(self.bytes)
    }

    fn consume(&mut self, amount: usize) {
        self.bytes = self.bytes.get(amount..).unwrap_or_default();
    }
}
// ANCHOR_END: arrived
