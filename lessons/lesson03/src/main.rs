//! Lesson 03: The request line.
//!
//! Lesson 02 read the head strictly but never looked inside it: every
//! well-formed head got "Hallo Welt". Now the server parses the first line,
//! the request line `GET /path HTTP/1.1`, by the rules of RFC 9112: exactly
//! three parts, separated by single spaces, each with its own syntax. A
//! request line that breaks a rule gets 400 Bad Request; a well-formed one
//! that asks for something we cannot do gets 501 Not Implemented (a method
//! other than GET) or 505 HTTP Version Not Supported (a version other than
//! HTTP/1.x). A good request gets a page that shows what we understood, with
//! everything that came from the client escaped for HTML.
//!
//! What this lesson leaves out on purpose:
//! - Header fields are read but not looked at. Lesson 04 parses them.
//! - Only GET is implemented; every other method gets 501 Not Implemented.
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
use crate::request::Request;
use crate::response::{Response, Status, escape_html};

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

/// Lesson 03: parses the request line and answers bad requests properly.
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
    let (response, method, target) = match request::read_request(&mut reader, head_timeout) {
        Ok(Some(request)) => (respond(&request), request.method, request.target),
        // The client closed the connection without sending a request, or the
        // connection broke: there is nobody left to answer.
        Ok(None) => return Ok(()),
        Err(HttpError::Io(error)) => return Err(error),
        Err(error) => (Response::error(&error), "-".to_owned(), "-".to_owned()),
    };

    let bytes_sent = response.write_to(&mut stream)?;
    shared::log_request(&shared::RequestLog {
        method: &method,
        target: &target,
        status: response.status.code(),
        bytes_sent,
        duration: started.elapsed(),
    });
    close_connection(&stream)
}

/// Decides what to answer to a well-formed request. In this lesson, every
/// request gets a page that shows the three parts of its request line.
fn respond(request: &Request) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n\
         <head><meta charset=\"utf-8\"><title>Your request</title></head>\n\
         <body>\n\
         <h1>Your request line</h1>\n\
         <dl>\n\
         <dt>Method</dt><dd>{method}</dd>\n\
         <dt>Target</dt><dd>{target}</dd>\n\
         <dt>Version</dt><dd>{version}</dd>\n\
         </dl>\n\
         </body>\n\
         </html>\n",
        method = escape_html(&request.method),
        target = escape_html(&request.target),
        version = request.version,
    );
    Response::html(Status::Ok, page)
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
