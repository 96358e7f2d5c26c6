//! Serving many connections at once, and stopping cleanly.
//!
//! Up to lesson 11, the server served one connection at a time: while it
//! waited for one slow client, everybody else waited too. Now every
//! connection gets a thread of its own, so a slow client only slows down
//! itself. Threads are not free (each has its own stack, and switching
//! between thousands of them costs time), so there is a cap,
//! `--max-connections`. A client that arrives when all slots are taken gets
//! a quick 503 Service Unavailable instead of waiting in a queue that could
//! grow without end.
//!
//! Since lesson 14, a thread that has finished its connection does not
//! end: it waits a while for the next one (`hand_over`), because starting
//! a thread for every connection turned out to be most of the work when
//! every request comes on a new connection.
//!
//! Since lesson 15, on Linux, connections no longer come from a plain
//! accept loop: the event loop (`event_loop.rs`) accepts them, answers
//! every request it can answer without waiting, and hands a connection to
//! a thread only when one of its requests would make the loop wait. That is
//! how nginx works, at the price of code that is harder to follow than the
//! plain loop in `connection.rs`. On other systems, `serve` hands every
//! connection to a thread, as before.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::Config;
use crate::connection;

/// After Ctrl-C, how long we wait for open connections to finish the
/// response they are working on.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long we try to reach our own listener to wake it up at shutdown.
const WAKE_UP_TIMEOUT: Duration = Duration::from_secs(1);

/// What the event loop, the connection threads and the Ctrl-C handler
/// share. It lives in an `Arc`, so every thread can hold on to it.
pub struct Server {
    pub config: Config,
    max_connections: usize,
    shutting_down: AtomicBool,
    /// How many connections are open right now.
    open_connections: Mutex<usize>,
    /// Signalled whenever a connection closes, for the shutdown to wait on.
    connection_closed: Condvar,
    /// Connections that wait for a thread, and the threads that wait for
    /// a connection (see `hand_over`).
    workers: Mutex<Workers>,
    /// Signalled when a connection is put into `workers`.
    connection_waiting: Condvar,
}

/// The threads that have finished a connection and wait for the next one.
struct Workers {
    idle: usize,
    waiting: VecDeque<(TcpStream, ConnectionSlot, Vec<u8>)>,
}

impl Server {
    pub fn new(config: Config, max_connections: usize) -> Server {
        Server {
            config,
            max_connections,
            shutting_down: AtomicBool::new(false),
            open_connections: Mutex::new(0),
            connection_closed: Condvar::new(),
            workers: Mutex::new(Workers {
                idle: 0,
                waiting: VecDeque::new(),
            }),
            connection_waiting: Condvar::new(),
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Locks the count of open connections. A thread that panicked while it
    /// held the lock cannot have left the count half-changed (every change
    /// is a single addition or subtraction), so a "poisoned" lock is used
    /// anyway.
    fn open_connections(&self) -> MutexGuard<'_, usize> {
        self.open_connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: take_slot
    /// Reserves a slot for a new connection, or returns `None` when all are
    /// taken.
    pub fn take_slot(self: &Arc<Server>) -> Option<ConnectionSlot> {
        let mut open_connections = self.open_connections();
        if *open_connections >= self.max_connections {
            return None;
        }
        *open_connections += 1;
        Some(ConnectionSlot {
            server: Arc::clone(self),
        })
    }
    // ANCHOR_END: take_slot

    // ANCHOR: begin_shutdown
    /// Starts the shutdown; called by the Ctrl-C handler. Connections that
    /// are reading or answering a request finish it; connections that wait
    /// for their next request notice the shutdown and close (see
    /// `connection::wait_for_request`).
    pub fn begin_shutdown(&self, listening_address: SocketAddr) {
        // Exercise lesson12: mark the server as shutting down, wake the accept loop by connecting
        self.shutting_down.store(true, Ordering::SeqCst);
        // The accept loop sleeps in `accept` until a client connects (the
        // event loop in `epoll_wait`, for up to a tenth of a second), so we
        // connect ourselves to wake it up; it then sees `shutting_down`.
        let mut wake_up_address = listening_address;
        if wake_up_address.ip().is_unspecified() {
            let loopback = match wake_up_address {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            wake_up_address.set_ip(loopback);
        }
        let _ = TcpStream::connect_timeout(&wake_up_address, WAKE_UP_TIMEOUT);
        // End of exercise lesson12.
    }
    // ANCHOR_END: begin_shutdown

    /// Waits until every connection has closed, or `SHUTDOWN_GRACE` has
    /// passed.
    fn wait_for_open_connections(&self) {
        // Exercise lesson12: wait until no connection is open, at most SHUTDOWN_GRACE
        let open_connections = self.open_connections();
        let (open_connections, waited) = self
            .connection_closed
            .wait_timeout_while(open_connections, SHUTDOWN_GRACE, |open| *open > 0)
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() {
            eprintln!(
                "{} connections were still open after {} seconds; stopping anyway",
                *open_connections,
                SHUTDOWN_GRACE.as_secs()
            );
        }
        // End of exercise lesson12.
    }
}

// ANCHOR: connection_slot
/// One taken slot. Dropping it frees the slot, however the connection's
/// thread ends.
pub struct ConnectionSlot {
    server: Arc<Server>,
}
// ANCHOR_END: connection_slot

// ANCHOR: slot_drop
impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        *self.server.open_connections() -= 1;
        self.server.connection_closed.notify_all();
    }
}
// ANCHOR_END: slot_drop

// ANCHOR: serve
/// Serves connections until the server shuts down: with the event loop on
/// Linux, with a thread for every connection elsewhere. Returns when the
/// last connection has closed (or the grace period is over).
pub fn serve(listener: TcpListener, server: Arc<Server>) {
    #[cfg(target_os = "linux")]
    if let Err(error) = crate::event_loop::run(listener, &server) {
        eprintln!("the event loop stopped: {error}");
        server.shutting_down.store(true, Ordering::SeqCst);
    }
    #[cfg(not(target_os = "linux"))]
    accept_connections(listener, &server);
    server.wait_for_open_connections();
}
// ANCHOR_END: serve

/// The accept loop of lesson 12: every connection is handed to a thread.
#[cfg(not(target_os = "linux"))]
fn accept_connections(listener: TcpListener, server: &Arc<Server>) {
    for connection in listener.incoming() {
        if server.is_shutting_down() {
            break;
        }
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("could not accept a connection: {error}");
                continue;
            }
        };
        let Some(slot) = server.take_slot() else {
            connection::refuse_connection(stream, &server.config);
            continue;
        };
        server.hand_over(stream, slot, Vec::new());
    }
    // Closing the listener first means that a client who connects during
    // the shutdown is refused at once, instead of waiting in the queue for
    // an `accept` that never comes.
    drop(listener);
}

// ANCHOR: workers
/// How long a thread that has finished its connection waits for the next
/// one before it ends.
const WORKER_IDLE_TIME: Duration = Duration::from_secs(10);

impl Server {
    /// Gives a new connection to a thread: to one that waits for work if
    /// there is one, otherwise to a new thread.
    ///
    /// Starting a thread costs about a dozen system calls (a stack is
    /// mapped, protected, and unmapped again at the end). With
    /// `Connection: close`, every request is a new connection, and that
    /// start-up was most of the work. So a thread that has finished its
    /// connection does not end: it waits a while for the next one. The
    /// number of threads still never exceeds `--max-connections`, because
    /// a new one starts only when every idle thread already has a
    /// connection waiting for it.
    ///
    /// `received` holds the bytes the event loop has already read from the
    /// connection; the thread reads them first.
    pub fn hand_over(
        self: &Arc<Server>,
        stream: TcpStream,
        slot: ConnectionSlot,
        received: Vec<u8>,
    ) {
        let mut workers = self.workers();
        // Is there an idle thread that no waiting connection has claimed?
        if workers.idle > workers.waiting.len() {
            workers.waiting.push_back((stream, slot, received));
            // Unlock before waking the thread, so that it does not wake up
            // only to wait for the lock we still hold.
            drop(workers);
            self.connection_waiting.notify_one();
            return;
        }
        drop(workers);
        let server = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("connection".to_owned())
            .spawn(move || server.work(stream, slot, received));
        if let Err(error) = spawned {
            // The closure, with the stream and the slot in it, is dropped,
            // which closes the connection and frees the slot.
            eprintln!("could not start a thread for a connection: {error}");
        }
    }

    /// A thread's life: serve a connection, then the next one, until none
    /// comes for `WORKER_IDLE_TIME`. (At a shutdown, an idle thread simply
    /// ends with the program.)
    fn work(&self, mut stream: TcpStream, mut slot: ConnectionSlot, mut received: Vec<u8>) {
        loop {
            if let Err(error) = connection::handle_connection(stream, received, self) {
                eprintln!("connection ended early: {error}");
            }
            let Some(next) = self.next_connection(slot) else {
                return;
            };
            (stream, slot, received) = next;
        }
    }

    /// Frees the slot of the finished connection and waits for the event
    /// loop (or the accept loop) to hand over the next one.
    fn next_connection(
        &self,
        finished: ConnectionSlot,
    ) -> Option<(TcpStream, ConnectionSlot, Vec<u8>)> {
        let mut workers = self.workers();
        workers.idle += 1;
        // The slot is freed only now that this thread counts as idle: the
        // event loop may reuse the slot at once, and must then find this
        // thread instead of starting another one.
        drop(finished);
        let deadline = Instant::now() + WORKER_IDLE_TIME;
        let next = loop {
            if let Some(next) = workers.waiting.pop_front() {
                break Some(next);
            }
            let time_left = deadline.saturating_duration_since(Instant::now());
            if self.is_shutting_down() || time_left.is_zero() {
                break None;
            }
            workers = self
                .connection_waiting
                .wait_timeout(workers, time_left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        workers.idle -= 1;
        next
    }

    /// Locks the list of idle threads and waiting connections (a poisoned
    /// lock is used anyway, as for `open_connections`).
    fn workers(&self) -> MutexGuard<'_, Workers> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: workers
