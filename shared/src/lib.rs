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
use std::sync::{Mutex, PoisonError};
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
    // A server must not stop because nobody reads its output, so errors
    // writing to stdout are ignored here and in `log_request`.
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
pub fn log_request(entry: &RequestLog<'_>) {
    let style = status_style(entry.status);
    let line = format!(
        "{method} {target} {style}{status}{style:#} {bytes} bytes {milliseconds:.1} ms",
        method = printable(entry.method),
        target = printable(entry.target),
        status = entry.status,
        bytes = entry.bytes_sent,
        milliseconds = entry.duration.as_secs_f64() * 1000.0,
    );
    let mut stdout = anstream::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Where `--access-log` lines go: a file, or stdout for `-`.
#[derive(Debug)]
pub enum AccessLog {
    Stdout,
    /// The file, behind a lock so that lines from different threads never
    /// mix.
    File(Mutex<File>),
}

/// One line of the access log.
#[derive(Debug, Clone)]
pub struct AccessLogEntry<'a> {
    /// The client's address.
    pub client: IpAddr,
    /// The request line as understood (`GET /index.html HTTP/1.1`), or `-`
    /// when the request could not be read.
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
        Ok(AccessLog::File(Mutex::new(file)))
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
            request_line = printable(entry.request_line),
            status = entry.status,
        );
        // As with the request log, a log that cannot be written must not
        // stop the server.
        match self {
            AccessLog::Stdout => {
                let mut stdout = io::stdout().lock();
                let _ = stdout.write_all(line.as_bytes());
                let _ = stdout.flush();
            }
            AccessLog::File(file) => {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = file.write_all(line.as_bytes());
            }
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
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_control() {
            let _ = write!(shown, "{}", character.escape_default());
        } else {
            shown.push(character);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

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
