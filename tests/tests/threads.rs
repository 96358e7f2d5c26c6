//! Lesson 14 reuses its threads: a thread that has finished a connection
//! serves the next one, instead of ending and leaving the next connection
//! to a new thread (lessons 12 and 13). And however connections come and
//! go, there are never more connection threads than `--max-connections`.
//! Lesson 15 goes further: on Linux its event loop answers simple requests
//! itself, so connections that are open at the same time need no thread
//! each.
//!
//! The test opens connections one after the other. Each asks for a page
//! with keep-alive and, once the answer is in, looks at the server's
//! threads (`/proc/PID/task`, one folder per thread, named by its thread
//! id) while the connection is still open, so the thread that serves it
//! is certainly alive; then it closes the connection. A server that starts
//! a thread per connection shows a new thread id every time; lesson 14
//! shows the same few again and again. Where there is no `/proc` (macOS,
//! Windows), the test says that it was skipped and passes.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;
use std::fs;
use std::time::Duration;

use grader::client::{Connection, Request};
use grader::fixture::Fixture;
use grader::server::{Program, Session};

/// How many connections the test opens, one after the other.
const CONNECTIONS: usize = 30;

/// How long the test waits for each answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The ids of the server's threads, or `None` without `/proc`.
fn thread_ids(pid: u32) -> Option<BTreeSet<u32>> {
    let entries = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
    )
}

/// What the test saw of a lesson's threads.
struct Seen {
    /// Every thread id seen while a connection was open that was not
    /// there before the first.
    new_threads: BTreeSet<u32>,
    /// How many threads there were before the first connection.
    before: usize,
    /// The most threads seen at once.
    most: usize,
    max_connections: usize,
}

/// Starts a lesson and sends it one request first: that starts the threads
/// every lesson has besides those for connections (the request log's
/// writer, for one). Returns the session, the server's process id and its
/// threads after that request (`None` without `/proc`).
fn warmed_up(lesson: u8) -> Option<(Session, u32, BTreeSet<u32>)> {
    let session = Session::launch(Program::Lesson(lesson), Fixture::create().unwrap()).unwrap();
    let pid = session.server().id().unwrap();
    let mut warm_up = Connection::open(session.address()).unwrap();
    warm_up.send_requests(&[Request::get("/index.html").field("Connection", "close")]);
    assert_eq!(warm_up.finish().response.code, Some(200));
    let before = thread_ids(pid)?;
    Some((session, pid, before))
}

/// Opens `CONNECTIONS` connections one after the other and watches the
/// server's threads; `None` without `/proc`.
fn threads_seen(lesson: u8) -> Option<Seen> {
    let (session, pid, before) = warmed_up(lesson)?;

    let mut seen = BTreeSet::new();
    let mut most = 0;
    for _ in 0..CONNECTIONS {
        let mut connection = Connection::open(session.address()).unwrap();
        connection.send_requests(&[Request::get("/index.html")]);
        let exchange = connection.next_response(ANSWER_TIMEOUT);
        assert_eq!(exchange.response.code, Some(200), "{exchange:?}");
        let now = thread_ids(pid)?;
        most = most.max(now.len());
        seen.extend(now.difference(&before));
        drop(connection);
    }
    Some(Seen {
        new_threads: seen,
        before: before.len(),
        most,
        max_connections: session.max_connections(),
    })
}

#[test]
fn lesson14_serves_one_connection_after_another_with_the_same_threads() {
    let Some(seen) = threads_seen(14) else {
        eprintln!("skipped: there is no /proc/PID/task to count the threads");
        return;
    };
    let new_threads = seen.new_threads.len();
    // A thread that has just closed a connection may not be waiting yet
    // when the next one arrives; then one more thread starts. So a few
    // threads share the work, but not one per connection.
    assert!(
        new_threads <= CONNECTIONS / 3,
        "lesson14 used {new_threads} new threads for {CONNECTIONS} connections, one after the other"
    );
    assert!(
        seen.most <= seen.before + seen.max_connections,
        "lesson14 had {} threads at once, more than its {} own and one per connection ({})",
        seen.most,
        seen.before,
        seen.max_connections
    );
    eprintln!("lesson14: {new_threads} new threads for {CONNECTIONS} connections");
}

/// The other side: lesson 13 starts a thread for every connection, and the
/// tests here see each of them.
#[test]
fn lesson13_starts_a_thread_for_every_connection() {
    let Some(seen) = threads_seen(13) else {
        eprintln!("skipped: there is no /proc/PID/task to count the threads");
        return;
    };
    assert_eq!(
        seen.new_threads.len(),
        CONNECTIONS,
        "lesson13: {:?}",
        seen.new_threads
    );
}

/// Opens `--max-connections` connections at once, asks for a page on each
/// and, while all of them are still open, counts the server's new threads
/// (`None` without `/proc`).
fn new_threads_with_connections_open(lesson: u8) -> Option<(usize, usize)> {
    let (session, pid, before) = warmed_up(lesson)?;

    let mut connections = Vec::new();
    for _ in 0..session.max_connections() {
        let mut connection = Connection::open(session.address()).unwrap();
        connection.send_requests(&[Request::get("/index.html")]);
        let exchange = connection.next_response(ANSWER_TIMEOUT);
        assert_eq!(exchange.response.code, Some(200), "{exchange:?}");
        connections.push(connection);
    }
    let now = thread_ids(pid)?;
    Some((now.difference(&before).count(), connections.len()))
}

#[test]
fn lesson15_keeps_connections_open_without_a_thread_each() {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: lesson15's event loop exists on Linux only");
        return;
    }
    let Some((new_threads, open)) = new_threads_with_connections_open(15) else {
        eprintln!("skipped: there is no /proc/PID/task to count the threads");
        return;
    };
    assert_eq!(
        new_threads, 0,
        "lesson15 started {new_threads} threads for {open} open connections, each answered once"
    );
}

/// The same measurement sees lesson 14's thread per connection.
#[test]
fn lesson14_keeps_a_thread_for_every_open_connection() {
    let Some((new_threads, open)) = new_threads_with_connections_open(14) else {
        eprintln!("skipped: there is no /proc/PID/task to count the threads");
        return;
    };
    // One of them may be the thread that answered the warm-up request: it
    // waits for the next connection.
    assert!(
        new_threads + 1 >= open,
        "lesson14: {new_threads} new threads for {open} connections"
    );
}
