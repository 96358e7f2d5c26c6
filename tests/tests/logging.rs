//! A log must never stop a server.
//!
//! Each server here is started with its stdout in a pipe that nobody reads
//! after the `Listening on` line, as happens when a server is started from a
//! script that only waits for that line, or when its terminal stops taking
//! output. A pipe holds 64 KiB; the requests below have long targets, so
//! their log lines fill it many times over. Every request must still be
//! answered: a log line that cannot be written now is dropped and counted
//! (see `shared::LogWriter`), never waited for. Once somebody reads again,
//! the log says how many lines it dropped.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use grader::fixture::random_number;
use grader::server::built_lesson;

/// How many requests each server gets, one connection each.
const REQUESTS: usize = 600;

/// The length of each request's target. With it, each log line is about
/// 2 KiB, so the requests write about 1.2 MB of log: 18 times what a pipe
/// holds, and more than the log's queue holds too.
const TARGET_LENGTH: usize = 2000;

/// How long one request may take. A blocked server answers never; a
/// working one within a millisecond.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The server, killed and its data folder removed when the test ends, even
/// when it fails.
struct Started {
    child: Child,
    address: SocketAddr,
    /// The unread rest of stdout, kept open: closing it would let the
    /// server's writes fail at once instead of waiting.
    stdout: Option<BufReader<ChildStdout>>,
    data: PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Starts lesson `lesson` with `options`, stdout piped, and reads only its
/// first line.
fn start(lesson: u8, options: &[&str]) -> Started {
    let data = std::env::temp_dir().join(format!("diy-http-logging-{:016x}", random_number()));
    let mut command = Command::new(built_lesson(lesson).unwrap());
    command.args(["--port", "0"]).args(options);
    if lesson >= 8 {
        command.arg("--data").arg(&data);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let address = first_line
        .trim_end()
        .strip_prefix("Listening on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("lesson {lesson:02} started with {first_line:?}"));
    Started {
        child,
        address,
        stdout: Some(stdout),
        data,
    }
}

/// Sends one request with a long target on a connection of its own and
/// returns the whole answer, or why there was none.
fn ask(address: SocketAddr, number: usize) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect(address).map_err(|error| error.to_string())?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(ANSWER_TIMEOUT)).unwrap();
    let target = format!("/{number}-{}", "a".repeat(TARGET_LENGTH));
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|error| error.to_string())?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|error| format!("{error} after {} bytes", answer.len()))?;
    if answer.starts_with(b"HTTP/1.") {
        Ok(answer)
    } else {
        Err(format!(
            "the answer was {:?}",
            String::from_utf8_lossy(&answer)
        ))
    }
}

/// Floods a server whose stdout nobody reads, then reads it again and
/// waits for the note about the dropped lines.
fn keeps_serving(lesson: u8, options: &[&str]) {
    let server = start(lesson, options);
    for number in 1..=REQUESTS {
        if let Err(problem) = ask(server.address, number) {
            panic!(
                "lesson {lesson:02} {options:?}, stdout not read: request {number} of {REQUESTS} got no complete answer within {} s: {problem}",
                ANSWER_TIMEOUT.as_secs()
            );
        }
    }

    // Somebody reads again: the lines still queued come out, and the next
    // line that finds room in the queue brings the note. Until the queue
    // has room, a request's line is dropped too, so we keep asking.
    let mut server = server;
    let lines = read_lines(server.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last_lines = Vec::new();
    loop {
        ask(server.address, 0).unwrap();
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
            if line.ends_with("log lines dropped: nobody read the output)") {
                return;
            }
            last_lines.push(line.chars().take(80).collect::<String>());
            if last_lines.len() > 5 {
                last_lines.remove(0);
            }
        }
        assert!(
            Instant::now() < deadline,
            "lesson {lesson:02} {options:?}: no note about the dropped log lines; the last lines were {last_lines:#?}"
        );
    }
}

/// Reads `stdout` on a thread of its own, line by line, into a channel.
fn read_lines(stdout: BufReader<ChildStdout>) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

#[test]
fn lesson01_keeps_serving_when_nobody_reads_its_log() {
    keeps_serving(1, &[]);
}

#[test]
fn lesson11_keeps_serving_when_nobody_reads_its_log() {
    keeps_serving(11, &[]);
}

#[test]
fn lesson12_keeps_serving_when_nobody_reads_its_log() {
    keeps_serving(12, &[]);
}

#[test]
fn lesson14_keeps_serving_when_nobody_reads_its_log() {
    keeps_serving(14, &[]);
}

/// `--access-log -` writes the access log to stdout instead.
#[test]
fn lesson14_keeps_serving_when_nobody_reads_its_access_log() {
    keeps_serving(14, &["--access-log", "-"]);
}

/// `/dev/stdout` is not a regular file: writing to it waits for a reader
/// just like stdout does.
#[cfg(target_os = "linux")]
#[test]
fn lesson14_keeps_serving_when_nobody_reads_its_access_log_pipe() {
    keeps_serving(14, &["--access-log", "/dev/stdout"]);
}

/// Lesson 15 logs from its event loop too, and must not wait for a reader
/// either.
#[test]
fn lesson15_keeps_serving_when_nobody_reads_its_log() {
    keeps_serving(15, &[]);
}

#[test]
fn lesson15_keeps_serving_when_nobody_reads_its_access_log() {
    keeps_serving(15, &["--access-log", "-"]);
}
