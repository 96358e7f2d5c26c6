//! A server that does four of the chapters' stretch exercises, and nothing
//! else: the tests use it to prove that those stretch checks can pass.
//!
//! - lesson 02, exercise 1: every response has a `Server` field;
//! - lesson 03, exercise 2: HEAD gets what GET gets, without the body;
//! - lesson 07, exercise 3: `POST /echo` reads a `chunked` body;
//! - lesson 11, exercise 4: a connection stays open, and each response
//!   says for how long with `Keep-Alive: timeout=5`.
//!
//! It answers `GET /` and `HEAD /` with a line of text, `POST /echo` with
//! the body it received, and everything else with 400 or 404. It checks
//! far less than the lessons do; it is a test's helper, not a model.
//!
//! ```sh
//! cargo build -p grader --example stretch_server
//! cargo run -p grader -- lesson03 --stretch --cmd "target/debug/examples/stretch_server --port {port}"
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// The idle timeout, which `Keep-Alive` announces.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest body, and the longest head line, it reads.
const LIMIT: usize = 64 * 1024;

const PAGE: &[u8] = b"Hello from the stretch example.\n";

/// A server that does four stretch exercises.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let address = cli.server.address();
    let listener = match TcpListener::bind(&address) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("{}", shared::explain_bind_error(&address, &error));
            return ExitCode::FAILURE;
        }
    };
    if let Ok(local) = listener.local_addr() {
        shared::announce_listening(local);
    }
    for stream in listener.incoming().flatten() {
        if let Err(error) = serve(&stream) {
            eprintln!("connection ended: {error}");
        }
    }
    ExitCode::SUCCESS
}

/// One request's head.
struct Head {
    method: String,
    target: String,
    fields: Vec<(String, String)>,
}

impl Head {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Answers requests on one connection until the client closes it or is
/// idle for `IDLE_TIMEOUT`.
fn serve(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    loop {
        let Some(lines) = read_head(&mut reader)? else {
            return Ok(());
        };
        let Some(head) = parse_head(&lines) else {
            return respond(stream, "400 Bad Request", b"Bad request.\n", false, false);
        };
        let is_head = head.method == "HEAD";
        match (head.method.as_str(), head.target.as_str()) {
            ("GET" | "HEAD", "/") => respond(stream, "200 OK", PAGE, is_head, true)?,
            ("POST", "/echo") => match read_body(&mut reader, &head)? {
                Some(body) => respond(stream, "200 OK", &body, false, true)?,
                None => return respond(stream, "400 Bad Request", b"Bad body.\n", false, false),
            },
            _ => respond(stream, "404 Not Found", b"Not found.\n", is_head, true)?,
        }
    }
}

/// Reads the lines of a head, without their line ends; `None` when the
/// client closed (or stayed silent) before sending one.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        match reader.take(LIMIT as u64).read_until(b'\n', &mut line) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(error) => return Err(error),
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.strip_suffix("\r\n").unwrap_or(&line).to_owned();
        if line.is_empty() {
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

/// The request line and the fields; `None` when they are not
/// `METHOD TARGET VERSION` and `name: value` (a bare LF shows up as a
/// line that still holds a `\n`).
fn parse_head(lines: &[String]) -> Option<Head> {
    let (request_line, field_lines) = lines.split_first()?;
    let [method, target, _version] = request_line.split(' ').collect::<Vec<_>>()[..] else {
        return None;
    };
    let mut fields = Vec::new();
    for line in field_lines {
        let (name, value) = line.split_once(':')?;
        fields.push((name.to_owned(), value.trim().to_owned()));
    }
    Some(Head {
        method: method.to_owned(),
        target: target.to_owned(),
        fields,
    })
}

/// Reads a body framed by `Transfer-Encoding: chunked` or by
/// `Content-Length`; `None` when the framing is broken or too large.
fn read_body(reader: &mut impl BufRead, head: &Head) -> io::Result<Option<Vec<u8>>> {
    if head.field("Transfer-Encoding") == Some("chunked") {
        return read_chunked(reader);
    }
    let length: usize = match head.field("Content-Length").map(str::parse) {
        Some(Ok(length)) if length <= LIMIT => length,
        _ => return Ok(None),
    };
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

/// Reads chunks (RFC 9112, section 7.1): a hex size line, that many bytes
/// and CR LF, until the size 0, then the (empty) trailer section.
fn read_chunked(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.take(100).read_line(&mut size_line)?;
        let size = size_line.trim_end().split(';').next().unwrap_or_default();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            return Ok(None);
        };
        if size == 0 {
            // The trailer section ends with an empty line; we allow no
            // trailer fields.
            let mut end = String::new();
            reader.take(2).read_line(&mut end)?;
            return Ok((end == "\r\n").then_some(body));
        }
        if body.len() + size > LIMIT {
            return Ok(None);
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        if !chunk.ends_with(b"\r\n") {
            return Ok(None);
        }
        chunk.truncate(size);
        body.extend_from_slice(&chunk);
    }
}

/// Writes a response; with `keep_open` the connection stays open and
/// `Keep-Alive` says for how long. A HEAD response has the head of the
/// GET response and no body.
fn respond(
    mut stream: &TcpStream,
    status: &str,
    body: &[u8],
    is_head: bool,
    keep_open: bool,
) -> io::Result<()> {
    let connection = if keep_open {
        format!(
            "Connection: keep-alive\r\nKeep-Alive: timeout={}",
            IDLE_TIMEOUT.as_secs()
        )
    } else {
        "Connection: close".to_owned()
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nServer: diy-http-stretch\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{connection}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !is_head {
        stream.write_all(body)?;
    }
    Ok(())
}
