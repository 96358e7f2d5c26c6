//! What every lesson needs but none of them teaches.
//!
//! The lessons are about HTTP: reading requests and writing responses by hand.
//! Everything around that (parsing command-line options, printing the start-up
//! line, writing a coloured log line per request) lives here, so that each
//! lesson's code can stay on its subject. This crate never parses HTTP and
//! never opens a socket: the lessons do both themselves.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime};

use anstyle::{AnsiColor, Style};

/// The sample web site that lessons 05 and later serve when no `--root` is
/// given. The path is fixed when the lesson is compiled, so `cargo run -p
/// lesson05` finds the site from any folder.
pub const SAMPLE_SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/site");

/// The options every lesson accepts. A lesson adds its own options next to
/// these with `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerOptions {
    /// The address to listen on. The default, 127.0.0.1, only accepts
    /// connections from this computer; use 0.0.0.0 to accept them from
    /// every network interface (for example from a phone on the same Wi-Fi).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// The TCP port to listen on. 0 asks the operating system for any free
    /// port; the start-up line then shows which one it picked.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

impl ServerOptions {
    /// The address in the form `TcpListener::bind` accepts, such as
    /// `127.0.0.1:8000` or `[::1]:8000`.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Parses a number of seconds such as `5` or `0.5`, for options like
/// `--idle-timeout`.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

/// Prints the first line a lesson writes: `Listening on http://IP:PORT/`.
///
/// The grader and the tests read this line to learn the real port when the
/// server was started with `--port 0`, so its shape is part of the contract.
pub fn announce_listening(address: SocketAddr) {
    let mut stdout = io::stdout().lock();
    // This line is written at once, not through the queue of `log_request`:
    // whoever started the server waits for it. Errors are ignored, because
    // a server must not stop because nobody reads its output.
    let _ = writeln!(stdout, "Listening on http://{address}/");
    let _ = stdout.flush();
}

/// Explains why the server could not start listening, in one line that names
/// the address and suggests what to try.
pub fn explain_bind_error(address: &str, error: &io::Error) -> String {
    let hint = match error.kind() {
        io::ErrorKind::AddrInUse => {
            "another program already uses this port; pick another one with --port (0 picks any free port)"
        }
        io::ErrorKind::PermissionDenied => {
            "ports below 1024 need special rights; pick a higher one with --port"
        }
        io::ErrorKind::AddrNotAvailable => {
            "this computer has no such address; try --host 127.0.0.1"
        }
        _ => "check --host and --port",
    };
    format!("error: cannot listen on {address}: {error} ({hint})")
}

/// One handled request, as the request log shows it.
#[derive(Debug, Clone)]
pub struct RequestLog<'a> {
    /// The method as the client sent it, or `-` when there was none.
    pub method: &'a str,
    /// The request target as the client sent it, or `-` when there was none.
    pub target: &'a str,
    /// The status code of the response.
    pub status: u16,
    /// How many bytes of the response (head and body) were written.
    pub bytes_sent: u64,
    /// How long it took from when we started reading the request to the
    /// last byte written.
    pub duration: Duration,
}

/// Writes one line per request to stdout, for example
/// `GET /index.html 200 1234 bytes 0.3 ms`.
///
/// The status is coloured (green for success, cyan for redirects, yellow for
/// client errors, red for server errors). `anstream` leaves the colours out
/// when stdout is not a terminal or when `NO_COLOR` is set.
///
/// The line is handed to a [`LogWriter`], so this never waits: when nobody
/// reads stdout, the line is dropped and counted instead.
pub fn log_request(entry: &RequestLog<'_>) {
    let log = stdout_log();
    // Without colours, the style is empty and writes nothing.
    let style = if log.colours {
        status_style(entry.status)
    } else {
        Style::new()
    };
    // One `format!`, newline included: this runs for every request, and
    // each extra string is an allocation.
    let line = format!(
        "{method} {target} {style}{status}{style:#} {bytes} bytes {milliseconds:.1} ms\n",
        method = Printable(entry.method),
        target = Printable(entry.target),
        status = entry.status,
        bytes = entry.bytes_sent,
        milliseconds = entry.duration.as_secs_f64() * 1000.0,
    );
    log.writer.send(line);
}

/// How many bytes of log lines a [`LogWriter`] keeps waiting at most: as
/// much as a pipe holds. A request's line is short (a target is at most a
/// few KiB), so that is hundreds of lines.
const LOG_QUEUE_BYTES: usize = 64 * 1024;

/// How long the writer thread rests after each write, so that the lines of
/// many requests go out in one system call instead of one each.
const LOG_WRITE_INTERVAL: Duration = Duration::from_millis(10);

/// A log that never makes the server wait.
///
/// A write to stdout waits when nobody reads it: a pipe holds only 64 KiB,
/// and a terminal stops taking output while its user scrolls back. If the
/// thread that answers a request wrote its log line itself, a full pipe
/// would stop it after its response, and soon every thread and the accept
/// loop with them: the server would stop answering because of its log.
///
/// So the threads add their lines to a queue of at most [`LOG_QUEUE_BYTES`],
/// and one writer thread of our own writes them out. When the queue is full
/// (the output has not taken anything for a while), the line is dropped and
/// counted, and the server goes on answering. The next line that fits into
/// the queue gets a note such as
/// `(12 log lines dropped: nobody read the output)` in front of it, so the
/// reader learns where lines are missing and how many.
///
/// The writer takes everything that has gathered and writes it with one
/// system call, then rests for [`LOG_WRITE_INTERVAL`]. Under load that is
/// one `write` for hundreds of requests, and the threads that answer
/// requests do not wake the writer for every line, which on a busy core
/// would cost two thread switches per request. A line appears at most a few
/// milliseconds late, which no reader notices.
///
/// Lines still in the queue when the program ends are lost. Whatever must
/// be seen (the start-up line, errors before the server listens) is
/// written directly, not through a `LogWriter`.
#[derive(Debug)]
pub struct LogWriter {
    queue: Arc<LogQueue>,
}

/// What the threads that log and the writer thread share.
#[derive(Debug, Default)]
struct LogQueue {
    state: Mutex<QueuedLines>,
    /// Signalled when a line arrives while the writer sleeps.
    line_arrived: Condvar,
}

#[derive(Debug, Default)]
struct QueuedLines {
    /// The lines waiting to be written, each with its line break.
    text: String,
    /// Lines dropped since the last line that went into the queue.
    dropped: u64,
    /// Whether the writer waits for `line_arrived`: only then does a new
    /// line have to wake it.
    writer_waiting: bool,
}

impl LogWriter {
    /// Starts the writer thread that writes every queued line to `output`.
    pub fn start(output: impl io::Write + Send + 'static) -> LogWriter {
        let queue = Arc::new(LogQueue::default());
        let writer_queue = Arc::clone(&queue);
        // If the thread cannot start, nobody empties the queue, and `send`
        // drops every line once it is full: no log, but a working server.
        let _ = thread::Builder::new()
            .name("log writer".to_owned())
            .spawn(move || write_lines(&writer_queue, output));
        LogWriter { queue }
    }

    /// Queues `line` (which ends with its own line break) for writing, or
    /// drops and counts it when the queue is full. Never waits for the
    /// output; the lock is held only to append the line.
    pub fn send(&self, line: String) {
        let mut queued = self.queue.lock();
        if queued.text.len() + line.len() > LOG_QUEUE_BYTES {
            queued.dropped += 1;
            return;
        }
        match queued.dropped {
            0 => {}
            1 => queued
                .text
                .push_str("(1 log line dropped: nobody read the output)\n"),
            dropped => {
                let _ = writeln!(
                    queued.text,
                    "({dropped} log lines dropped: nobody read the output)"
                );
            }
        }
        queued.dropped = 0;
        queued.text.push_str(&line);
        if queued.writer_waiting {
            queued.writer_waiting = false;
            self.queue.line_arrived.notify_one();
        }
    }
}

impl LogQueue {
    /// Locks the queue. A thread that panicked while holding the lock can
    /// at worst have left half a line, so a "poisoned" lock is used anyway.
    fn lock(&self) -> MutexGuard<'_, QueuedLines> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer thread: writes whatever has gathered in one go, rests a
/// moment, and starts again; it waits while there is nothing to write.
fn write_lines(queue: &LogQueue, mut output: impl io::Write) {
    loop {
        let mut queued = queue.lock();
        while queued.text.is_empty() {
            queued.writer_waiting = true;
            queued = queue
                .line_arrived
                .wait(queued)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let text = std::mem::take(&mut queued.text);
        // The lock is released before writing: a slow output must never
        // make a thread that logs wait.
        drop(queued);
        // Errors (a reader that has gone away) are ignored: the log must
        // never stop the server.
        let _ = output.write_all(text.as_bytes());
        let _ = output.flush();
        thread::sleep(LOG_WRITE_INTERVAL);
    }
}

/// The log on stdout, and whether it shows colours.
struct StdoutLog {
    writer: LogWriter,
    colours: bool,
}

/// The writer for stdout, shared by the request log and `--access-log -`,
/// started with the first line.
fn stdout_log() -> &'static StdoutLog {
    static STDOUT_LOG: OnceLock<StdoutLog> = OnceLock::new();
    STDOUT_LOG.get_or_init(|| {
        // `anstream` decides once whether stdout wants colours: a terminal
        // does, a file or a pipe does not, and `NO_COLOR` turns them off.
        // Without colours, `log_request` leaves them out of its lines, so
        // that nothing has to take them out again for every line.
        let choice = anstream::AutoStream::choice(&io::stdout());
        let colours = !matches!(choice, anstream::ColorChoice::Never);
        // The buffer gathers the pieces `anstream` writes between the
        // colours, so that a batch of lines still goes out in one write.
        let buffered = io::BufWriter::with_capacity(LOG_QUEUE_BYTES, io::stdout());
        let writer = if colours {
            let buffered: Box<dyn io::Write + Send> = Box::new(buffered);
            LogWriter::start(anstream::AutoStream::new(buffered, choice))
        } else {
            LogWriter::start(buffered)
        };
        StdoutLog { writer, colours }
    })
}

/// Where `--access-log` lines go: a file, or stdout for `-`.
#[derive(Debug)]
pub enum AccessLog {
    /// Stdout, shared with the request log through the same [`LogWriter`],
    /// so that the lines of the two logs never mix or overtake each other.
    Stdout,
    /// A regular file, behind a lock so that lines from different threads
    /// never mix. A write to a regular file never waits for a reader, so
    /// the line is written at once: it is in the file before the response's
    /// connection closes, which the grader and the book's `tail` rely on.
    File(Mutex<File>),
    /// Anything else that can be opened as a file: a named pipe,
    /// `/dev/stdout`, a terminal. Like stdout, it may wait for a reader, so
    /// it gets a [`LogWriter`] of its own.
    Other(LogWriter),
}

/// One line of the access log.
#[derive(Debug, Clone)]
pub struct AccessLogEntry<'a> {
    /// The client's address.
    pub client: IpAddr,
    /// The request line as the client sent it (`GET /index.html HTTP/1.1`),
    /// or `-` when the request could not be read that far.
    pub request_line: &'a str,
    pub status: u16,
    /// The length of the body that was sent; 0 for none.
    pub body_bytes: u64,
    /// When the request arrived.
    pub time: SystemTime,
}

impl AccessLog {
    /// Opens the access log: `-` means stdout, anything else is a file
    /// that lines are appended to.
    pub fn open(path: &Path) -> io::Result<AccessLog> {
        if path == Path::new("-") {
            return Ok(AccessLog::Stdout);
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if file.metadata()?.is_file() {
            Ok(AccessLog::File(Mutex::new(file)))
        } else {
            Ok(AccessLog::Other(LogWriter::start(file)))
        }
    }

    /// Writes one line in the Common Log Format that Apache and nginx made
    /// the standard, so that existing log tools can read it:
    /// `127.0.0.1 - - [24/Nov/2026:09:12:13 +0000] "GET / HTTP/1.1" 200 1082`.
    pub fn write(&self, entry: &AccessLogEntry<'_>) {
        let body_bytes = match entry.body_bytes {
            0 => "-".to_owned(),
            bytes => bytes.to_string(),
        };
        let line = format!(
            "{client} - - [{time}] \"{request_line}\" {status} {body_bytes}\n",
            client = entry.client,
            time = common_log_time(entry.time),
            // A quote inside would end the quoted field early for every
            // tool that reads the log, so it is escaped as Apache does.
            request_line = printable(entry.request_line).replace('"', "\\\""),
            status = entry.status,
        );
        // As with the request log, a log that cannot be written must not
        // stop the server: errors are ignored, and a reader that does not
        // keep up costs lines, never answers (see `LogWriter`).
        match self {
            AccessLog::Stdout => stdout_log().writer.send(line),
            AccessLog::File(file) => {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = file.write_all(line.as_bytes());
            }
            AccessLog::Other(writer) => writer.send(line),
        }
    }
}

/// The time as the Common Log Format writes it, `24/Nov/2026:09:12:13 +0000`,
/// rearranged from the HTTP date `Tue, 24 Nov 2026 09:12:13 GMT`.
fn common_log_time(time: SystemTime) -> String {
    let http_date = httpdate::fmt_http_date(time);
    let parts: Vec<&str> = http_date.split(' ').collect();
    match parts.as_slice() {
        [_weekday, day, month, year, clock, _zone] => {
            format!("{day}/{month}/{year}:{clock} +0000")
        }
        _ => http_date,
    }
}

fn status_style(status: u16) -> Style {
    let colour = match status {
        200..=299 => AnsiColor::Green,
        300..=399 => AnsiColor::Cyan,
        400..=499 => AnsiColor::Yellow,
        _ => AnsiColor::Red,
    };
    Style::new().fg_color(Some(colour.into())).bold()
}

/// Replaces control characters with visible escapes, so that a client cannot
/// move the cursor or recolour the terminal of whoever reads the log.
fn printable(text: &str) -> String {
    Printable(text).to_string()
}

/// Shows `text` as `printable` does, written straight into a `format!`.
struct Printable<'a>(&'a str);

impl std::fmt::Display for Printable<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for character in self.0.chars() {
            if character.is_control() {
                write!(formatter, "{}", character.escape_default())?;
            } else {
                formatter.write_char(character)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    /// An output that takes nothing until `open` is called, like a pipe
    /// that nobody reads, and then keeps what it is given.
    #[derive(Clone, Default)]
    struct Gate {
        written: Arc<(Mutex<GateState>, Condvar)>,
    }

    /// Whether the gate is open, and what went through it.
    type GateState = (bool, Vec<u8>);

    impl Gate {
        fn open(&self) {
            let (state, changed) = &*self.written;
            state.lock().unwrap().0 = true;
            changed.notify_all();
        }

        /// Waits a moment for the output to contain `text`, and returns it
        /// all if it does.
        fn wait_for(&self, text: &str) -> Option<String> {
            let (state, changed) = &*self.written;
            let state = state.lock().unwrap();
            let has_text = |state: &GateState| {
                state
                    .1
                    .windows(text.len())
                    .any(|window| window == text.as_bytes())
            };
            let (state, _) = changed
                .wait_timeout_while(state, Duration::from_millis(100), |state| !has_text(state))
                .unwrap();
            has_text(&state).then(|| String::from_utf8(state.1.clone()).unwrap())
        }
    }

    impl io::Write for Gate {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let (state, changed) = &*self.written;
            let mut state = state.lock().unwrap();
            while !state.0 {
                state = changed.wait(state).unwrap();
            }
            state.1.extend_from_slice(bytes);
            changed.notify_all();
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_nobody_reads_drops_lines_and_says_how_many() {
        let gate = Gate::default();
        let log = LogWriter::start(gate.clone());
        // More than the queue holds.
        let sent = 20_000;
        // None of these waits, although the output takes nothing.
        for number in 0..sent {
            log.send(format!("line {number}\n"));
        }
        gate.open();
        // The queue is full until the writer has taken a line, and a line
        // sent before that is dropped too; so we send numbered lines until
        // one arrives.
        let mut lasts_sent = 0;
        let output = loop {
            log.send(format!("last {lasts_sent}\n"));
            lasts_sent += 1;
            if let Some(output) = gate.wait_for("last ") {
                break output;
            }
        };
        let lines: Vec<&str> = output.lines().collect();
        let first_last = lines
            .iter()
            .position(|line| line.starts_with("last "))
            .unwrap();
        // The lines dropped before it: the rest of the 1000, and the lasts
        // sent before this one.
        let last_number: usize = lines[first_last]["last ".len()..].parse().unwrap();
        // Every line before it was written, or counted in a note. (The
        // writer may take a few lines while the others are being dropped,
        // so there may be more than one note.)
        let mut written = 0;
        let mut dropped = 0;
        for line in &lines[..first_last] {
            if let Some(number) = line.strip_prefix("line ") {
                assert!(number.parse::<usize>().unwrap() >= written + dropped);
                written += 1;
            } else {
                let count = line
                    .strip_prefix('(')
                    .and_then(|rest| {
                        rest.strip_suffix(" log lines dropped: nobody read the output)")
                    })
                    .unwrap_or_else(|| panic!("{line:?} is not a note"));
                dropped += count.parse::<usize>().unwrap();
            }
        }
        assert!(dropped > 0, "no note about dropped lines");
        assert!(written < sent, "all {written} lines were written");
        assert_eq!(written + dropped, sent + last_number);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("/a\u{1b}[31mb\r\n"), "/a\\u{1b}[31mb\\r\\n");
    }

    #[test]
    fn common_log_time_is_rearranged_from_the_http_date() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(common_log_time(time), "06/Nov/1994:08:49:37 +0000");
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn ipv6_hosts_get_brackets() {
        let options = ServerOptions {
            host: "::1".into(),
            port: 80,
        };
        assert_eq!(options.address(), "[::1]:80");
        let options = ServerOptions {
            host: "127.0.0.1".into(),
            port: 0,
        };
        assert_eq!(options.address(), "127.0.0.1:0");
    }
}
