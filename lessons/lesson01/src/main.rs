//! Lesson 01: Hallo Welt.
//!
//! The smallest server a browser will talk to. It waits for a connection,
//! reads the request head up to the empty line that ends it, and answers
//! every request, whatever it asked for, with `HTTP/1.0 200 OK` and the
//! text "Hallo Welt". Then it closes the connection and waits for the next.
//!
//! What this lesson leaves out on purpose:
//! - It does not check or understand the request. Lesson 02 reads the head
//!   strictly, lesson 03 parses the request line, lesson 04 the header fields.
//! - The response has no header fields, so the client only learns where the
//!   body ends when the connection closes. Lesson 02 adds `Content-Length`.
//! - It serves one connection at a time: while it talks to one client, all
//!   others wait. Lesson 12 serves many clients at once.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

/// How long we wait for the next piece of a request before we give up on
/// the client. Without a limit, one client that connects and never sends
/// anything would block this one-at-a-time server for everybody else.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long we wait for a client to accept the bytes of our response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes of request head we read. A client that sends more gets no
/// answer; lesson 02 answers it with a proper error status instead.
const MAX_HEAD_BYTES: u64 = 8 * 1024;

/// Lesson 01: answers every request with "Hallo Welt".
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,
}

fn main() -> ExitCode {
    let cli = Cli::parse();

    // Binding claims the port; from now on the operating system queues
    // incoming connections for us until we accept them.
    let address = cli.server.address();
    let listener = match TcpListener::bind(&address) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("{}", shared::explain_bind_error(&address, &error));
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local_address) => shared::announce_listening(local_address),
        Err(error) => {
            eprintln!("error: cannot tell which address we listen on: {error}");
            return ExitCode::FAILURE;
        }
    }

    // The accept loop: take one connection, answer it, close it, repeat.
    // A problem with one connection is reported and then forgotten; it must
    // never stop the server.
    for connection in listener.incoming() {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("could not accept a connection: {error}");
                continue;
            }
        };
        if let Err(error) = handle_connection(stream) {
            eprintln!("connection ended early: {error}");
        }
    }
    ExitCode::SUCCESS
}

// ANCHOR: handle_connection
/// Reads one request from the connection and answers it.
fn handle_connection(mut stream: TcpStream) -> io::Result<()> {
    let started = Instant::now();
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;

    // `BufReader` collects the bytes as they arrive, however the network
    // splits them, and lets us read them line by line. `take` stops reading
    // after `MAX_HEAD_BYTES`, so a client cannot make us store endless data.
    let mut reader = BufReader::new((&stream).take(MAX_HEAD_BYTES));
    let Some(request_line) = read_head(&mut reader)? else {
        // The client closed the connection before the empty line: there is
        // nobody left to answer.
        return Ok(());
    };

    // Every line of an HTTP message ends with CR LF ("\r\n"), and an empty
    // line separates the head from the body. We send no header fields, so
    // the status line is followed directly by the empty line.
    let status_line = "HTTP/1.0 200 OK";
    let body = "Hallo Welt\n";
    let response = format!("{status_line}\r\n\r\n{body}");
    stream.write_all(response.as_bytes())?;

    // This lesson does not parse the request line; splitting it at spaces is
    // just enough to show the method and target in the log.
    let mut words = request_line.split_whitespace();
    shared::log_request(&shared::RequestLog {
        method: words.next().unwrap_or("-"),
        target: words.next().unwrap_or("-"),
        status: 200,
        bytes_sent: response.len() as u64,
        duration: started.elapsed(),
    });
    Ok(())
    // Dropping `stream` here closes the connection, which tells the client
    // that the body is complete.
}
// ANCHOR_END: handle_connection

// ANCHOR: read_head
/// Reads the request head line by line, up to and including the empty line
/// that ends it, and returns its first line (the request line).
///
/// Returns `None` when the client closes the connection (or sends more than
/// `MAX_HEAD_BYTES`) before the head is complete.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    // Exercise lesson01: read lines up to the empty line and return the first one
    let mut request_line: Option<String> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        reader.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Ok(None);
        }
        // Lines should end with "\r\n", but tools like `nc` send a bare
        // "\n". This lesson accepts both; lesson 02 becomes strict.
        if line == b"\r\n" || line == b"\n" {
            return Ok(Some(request_line.unwrap_or_default()));
        }
        if request_line.is_none() {
            let text = String::from_utf8_lossy(&line);
            request_line = Some(text.trim_end().to_owned());
        }
    }
    // End of exercise lesson01.
}
// ANCHOR_END: read_head
