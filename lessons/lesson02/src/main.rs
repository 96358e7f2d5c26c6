//! Lesson 02: A proper response.
//!
//! Lesson 01 wrote a bare status line and let the end of the connection mark
//! the end of the body. Now every response has a real head: a status line
//! with the right code, then `Content-Type` (what the body is),
//! `Content-Length` (exactly where it ends) and `Connection: close`.
//!
//! The server also reads the request head strictly, by the rules of RFC 9112
//! that need no understanding of its content: every line ends with CR LF,
//! the head has a size limit, and a client must not go quiet or leave in the
//! middle. A head that breaks one of these rules gets the status code that
//! names the problem and a one-line explanation. Every other head still gets
//! "Hallo Welt", now properly framed. And the connection is closed in two
//! steps, so that the client reliably receives the answer.
//!
//! The code is split by concern: `request.rs` reads, `response.rs` writes,
//! `error.rs` names what can go wrong.
//!
//! What this lesson leaves out on purpose:
//! - It does not look inside the head. Lesson 03 parses the request line,
//!   lesson 04 the header fields.
//! - Every well-formed request gets the same answer, whatever it asks for.
//! - It still serves one connection at a time (lesson 12 serves many).

mod error;
mod request;
mod response;

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::error::HttpError;
use crate::response::{Response, Status};

/// How long we wait for the next piece of a request before we give up on
/// the client. Without a limit, one client that connects and never sends
/// anything would block this one-at-a-time server for everybody else.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long we wait for a client to accept the bytes of our response.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long, and for how many bytes, we keep reading after our response
/// before we close the connection (see `close_connection`).
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
const LINGER_MAX_BYTES: u64 = 1024 * 1024;

/// Lesson 02: answers with a properly framed response, and errors with their status.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,

    /// How many seconds a client may take to send a whole request head. A
    /// slower one gets 408 Request Timeout.
    #[arg(long, default_value = "20", value_parser = shared::parse_seconds)]
    head_timeout: Duration,
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
        if let Err(error) = handle_connection(stream, cli.head_timeout) {
            eprintln!("connection ended early: {error}");
        }
    }
    ExitCode::SUCCESS
}

/// Reads one request from the connection and answers it.
fn handle_connection(
    mut stream: TcpStream,
    // The deadline for the whole request head (`--head-timeout`).
    head_timeout: Duration,
) -> io::Result<()> {
    let started = Instant::now();
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;

    // `BufReader` collects the bytes as they arrive, however the network
    // splits them, and lets `request.rs` read them line by line.
    let mut reader = BufReader::new(&stream);
    let (response, request_line) = match request::read_request(&mut reader, head_timeout) {
        Ok(Some(request_line)) => (respond(), request_line),
        // The client closed the connection without sending a request, or the
        // connection broke: there is nobody left to answer.
        Ok(None) => return Ok(()),
        Err(HttpError::Io(error)) => return Err(error),
        Err(error) => (Response::error(&error), String::new()),
    };

    let bytes_sent = response.write_to(&mut stream)?;
    // This lesson does not parse the request line; splitting it at spaces is
    // just enough to show the method and target in the log.
    let mut words = request_line.split_whitespace();
    shared::log_request(&shared::RequestLog {
        method: words.next().unwrap_or("-"),
        target: words.next().unwrap_or("-"),
        status: response.status.code(),
        bytes_sent,
        duration: started.elapsed(),
    });
    close_connection(&stream)
}

/// Decides what to answer to a well-formed request. In this lesson that is
/// always the greeting of lesson 01, now with a proper head; lesson 03 looks
/// at the request line first.
fn respond() -> Response {
    Response {
        status: Status::Ok,
        content_type: "text/plain; charset=utf-8",
        body: b"Hallo Welt\n".to_vec(),
    }
}

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
