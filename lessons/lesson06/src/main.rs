//! Lesson 06: HEAD and conditional GET.
//!
//! The original tutorial says a browser sends HEAD to find out whether a
//! resource has changed, so that it can skip downloading it again. This
//! lesson makes that real. HEAD gets exactly the head a GET would get, but
//! no body. Every response says when it was made (`Date`), every file says
//! when it last changed (`Last-Modified`), and a browser that already has a
//! copy can ask `If-Modified-Since`: if the file has not changed, the
//! answer is a short 304 Not Modified instead of the whole file.
//!
//! What this lesson leaves out on purpose:
//! - `ETag` and `If-None-Match`, the more precise way to ask the same
//!   question, come in lesson 13.
//! - Only GET and HEAD are allowed; POST comes in lesson 07.
//! - It still serves one connection at a time (lesson 12 serves many).

mod error;
mod files;
mod request;
mod response;

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::error::HttpError;
use crate::request::Request;
use crate::response::Response;

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

/// Lesson 06: serves files, answers HEAD and conditional GET.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,

    /// How many seconds a client may take to send a whole request head. A
    /// slower one gets 408 Request Timeout.
    #[arg(long, default_value = "20", value_parser = shared::parse_seconds)]
    head_timeout: Duration,

    /// The document root: the folder whose files are served. Nothing outside
    /// it is ever sent. The default is the course's sample site.
    #[arg(long, default_value = shared::SAMPLE_SITE)]
    root: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();

    // The canonical path is absolute and free of symbolic links and `..`,
    // which `files.rs` needs to check that a file lies inside the root.
    let document_root = match cli.root.canonicalize() {
        Ok(path) if path.is_dir() => path,
        Ok(_) => {
            eprintln!("error: --root {} is not a folder", cli.root.display());
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("error: cannot use --root {}: {error}", cli.root.display());
            return ExitCode::FAILURE;
        }
    };

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
        if let Err(error) = handle_connection(stream, &document_root, cli.head_timeout) {
            eprintln!("connection ended early: {error}");
        }
    }
    ExitCode::SUCCESS
}

/// Reads one request from the connection and answers it.
fn handle_connection(
    mut stream: TcpStream,
    document_root: &Path,
    // The deadline for the whole request head (`--head-timeout`).
    head_timeout: Duration,
) -> io::Result<()> {
    let started = Instant::now();
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;

    // `BufReader` collects the bytes as they arrive, however the network
    // splits them, and lets `request.rs` read them line by line.
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    let (response, method, target) =
        match request::read_request(&mut reader, head_timeout, &mut request_line) {
            Ok(Some(request)) => (
                respond(&request, document_root),
                request.method,
                request.target,
            ),
            // The client closed the connection without sending a request, or the
            // connection broke: there is nobody left to answer.
            Ok(None) => return Ok(()),
            Err(HttpError::Io(error)) => return Err(error),
            Err(error) => (Response::error(&error), "-".to_owned(), "-".to_owned()),
        };

    // A HEAD request gets the same head as GET, without the body. That
    // holds for errors too, even for one found after the request line
    // (RFC 9110, section 9.3.2): the request line says it was HEAD.
    let include_body = !request_line.starts_with("HEAD ");
    let status = response.status;
    let bytes_sent = response.write_to(&mut stream, include_body)?;
    shared::log_request(&shared::RequestLog {
        method: &method,
        target: &target,
        status: status.code(),
        bytes_sent,
        duration: started.elapsed(),
    });
    close_connection(&stream)
}

/// Decides what to answer to a well-formed request: the file its target
/// names, or an error that says why there is none.
fn respond(request: &Request, document_root: &Path) -> Response {
    match files::serve_file(document_root, request) {
        Ok(response) => response,
        Err(error) => {
            if let HttpError::Io(io_error) = &error {
                eprintln!("error while answering {}: {io_error}", request.target);
            }
            Response::error(&error)
        }
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
