//! Lesson 10: storing uploaded files.
//!
//! Lesson 09 read a form sent as `multipart/form-data` and only counted its
//! bytes (`multipart.rs`). This lesson keeps the files: `POST /uploads`
//! stores every file of the form under a safe name, all of them or none,
//! never in place of another, and answers 201 Created with their URLs;
//! `GET /uploads/NAME` serves a stored file back, in a sandbox
//! (`uploads.rs`). The sample site has the form at /upload.html.
//!
//! The body streams through a buffer of a fixed size into temporary files,
//! so a large upload needs no more memory than a small one.
//!
//! What this lesson leaves out on purpose:
//! - `Transfer-Encoding: chunked` bodies are refused with 501.
//! - The parts' own `Content-Type` and the fields that are not files are
//!   ignored; we store bytes, and `GET` guesses the type from the name.
//! - Percent-encoded or `filename*` names; only the plain `filename`
//!   counts.
//! - A quota: the disk can still fill up, one upload at a time.
//! - The connection still closes after every response (lesson 11 keeps it
//!   open), and one connection is served at a time (lesson 12).

mod body;
mod error;
mod files;
mod guestbook;
mod multipart;
mod request;
mod response;
mod uploads;

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
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

/// Lesson 10: serves files, receives data with POST, and stores uploaded files.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,

    /// How many seconds a client may take to send a whole request head. A
    /// slower one gets 408 Request Timeout.
    #[arg(long, default_value = "20", value_parser = shared::parse_seconds)]
    head_timeout: Duration,

    /// How many seconds a request body may take before the minimum rate
    /// applies; every --min-body-rate bytes that arrive add a second.
    #[arg(long, default_value = "10", value_parser = shared::parse_seconds)]
    body_timeout: Duration,

    /// The slowest a request body may arrive, in bytes per second, after
    /// --body-timeout. A slower one gets 408 Request Timeout.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    min_body_rate: u64,

    /// The document root: the folder whose files are served. Nothing outside
    /// it is ever sent. The default is the course's sample site.
    #[arg(long, default_value = shared::SAMPLE_SITE)]
    root: PathBuf,

    /// The folder where the guestbook and uploaded files are kept. It is
    /// created if it does not exist.
    #[arg(long, default_value = "data")]
    data: PathBuf,

    /// The most bytes the guestbook's file may hold. An entry that would
    /// make it larger is refused with 507 Insufficient Storage.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_guestbook: u64,

    /// The largest upload we accept, in bytes: the whole body of the form,
    /// and so also each file in it. Larger ones get 413. (Forms for the
    /// guestbook have a fixed limit of 64 KiB.)
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_body: u64,

    /// The most bytes all uploaded files together may hold. An upload that
    /// would go beyond it is refused with 507 Insufficient Storage.
    #[arg(long, default_value_t = 1024 * 1024 * 1024)]
    max_storage: u64,
}

/// What every connection needs to know, gathered in one place.
struct Config {
    /// The folder of static files, canonical (see `files.rs`).
    document_root: PathBuf,
    /// The folder for the guestbook and uploads, canonical too.
    data_folder: PathBuf,
    /// The largest the guestbook's file may grow, in bytes.
    max_guestbook: u64,
    max_body_bytes: u64,
    /// The room all uploads together may take, in bytes.
    max_storage_bytes: u64,
    head_timeout: Duration,
    body_pace: body::Pace,
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

    let data_folder = match prepare_data_folder(&cli.data) {
        Ok(path) => path,
        Err(error) => {
            eprintln!("error: cannot use --data {}: {error}", cli.data.display());
            return ExitCode::FAILURE;
        }
    };
    let config = Config {
        document_root,
        data_folder,
        max_guestbook: cli.max_guestbook,
        max_body_bytes: cli.max_body,
        max_storage_bytes: cli.max_storage,
        head_timeout: cli.head_timeout,
        body_pace: body::Pace::new(cli.body_timeout, cli.min_body_rate),
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
        if let Err(error) = handle_connection(stream, &config) {
            eprintln!("connection ended early: {error}");
        }
    }
    ExitCode::SUCCESS
}

/// Reads one request from the connection and answers it.
fn handle_connection(mut stream: TcpStream, config: &Config) -> io::Result<()> {
    let started = Instant::now();
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;

    // `BufReader` collects the bytes as they arrive, however the network
    // splits them, and lets `request.rs` read them line by line.
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    let (response, method, target) =
        match request::read_request(&mut reader, config.head_timeout, &mut request_line) {
            Ok(Some(request)) => (
                respond(
                    &request,
                    &mut body::Paced::new(&mut reader, config.body_pace),
                    &stream,
                    config,
                ),
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

/// Decides what to answer to a well-formed request. Its body, if it has
/// one, is still unread in `reader`.
fn respond(
    request: &Request,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    config: &Config,
) -> Response {
    match answer(request, reader, stream, config) {
        Ok(response) => response,
        Err(error) => {
            if let HttpError::Io(io_error) = &error {
                eprintln!("error while answering {}: {io_error}", request.target);
            }
            Response::error(&error)
        }
    }
}

// ANCHOR: routing
/// What a request's path names.
enum Route {
    /// `/echo`: sends back the body of a POST.
    Echo,
    /// `/guestbook`: the guestbook page and its form.
    Guestbook,
    /// `/uploads`: where the upload form sends its files.
    Uploads,
    /// `/uploads/NAME`: an uploaded file.
    Upload,
    /// Anything else: a file in the document root.
    StaticFile,
}

impl Route {
    /// The methods this kind of path allows, for the `Allow` field of 405.
    fn allowed_methods(&self) -> &'static str {
        match self {
            Route::Echo => "POST",
            Route::Guestbook => "GET, HEAD, POST",
            Route::Uploads => "POST",
            Route::Upload => "GET, HEAD",
            Route::StaticFile => "GET, HEAD",
        }
    }
}

fn answer(
    request: &Request,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    config: &Config,
) -> Result<Response, HttpError> {
    // A request whose body we cannot frame is refused whatever its method.
    body::body_length(request)?;

    let route = route(&request.target)?;
    match (route, request.method.as_str()) {
        (Route::Echo, "POST") => echo(request, reader, stream),
        (Route::Guestbook, "GET" | "HEAD") => guestbook::show(&config.data_folder),
        (Route::Guestbook, "POST") => guestbook::add_entry(config, request, reader, stream),
        (Route::Uploads, "POST") => uploads::store(
            &config.data_folder,
            request,
            reader,
            stream,
            config.max_body_bytes,
            config.max_storage_bytes,
        ),
        (Route::Upload, "GET" | "HEAD") => uploads::serve(&config.data_folder, request),
        (Route::StaticFile, "GET" | "HEAD") => files::serve_file(&config.document_root, request),
        (route, _) => Err(HttpError::MethodNotAllowed {
            method: request.method.clone(),
            allowed: route.allowed_methods(),
        }),
    }
}

/// Works out what the target's path names. The path is decoded and checked
/// by the same code that serves files.
fn route(target: &str) -> Result<Route, HttpError> {
    let segments = files::path_segments(target)?;
    match segments.as_slice() {
        [page] if page == "echo" => Ok(Route::Echo),
        [page] if page == "guestbook" => Ok(Route::Guestbook),
        [folder] if folder == uploads::UPLOADS_FOLDER => Ok(Route::Uploads),
        [folder, rest @ ..] if folder == uploads::UPLOADS_FOLDER => {
            if !uploads::is_valid_name(&rest.join("/")) {
                return Err(HttpError::BadRequest(
                    "an upload name has 1 to 100 letters, digits, '.', '_' or '-', and no dot at the start",
                ));
            }
            Ok(Route::Upload)
        }
        _ => Ok(Route::StaticFile),
    }
}
// ANCHOR_END: routing

// ANCHOR: echo
/// The largest body `/echo` accepts. It keeps the body in memory to send
/// it back, so it takes only a little.
const MAX_ECHO_BYTES: u64 = 64 * 1024;

/// Answers `POST /echo` with the body it received, byte for byte, so that
/// you can watch `body.rs` at work with `nc` or curl.
fn echo(
    request: &Request,
    reader: &mut impl io::BufRead,
    stream: &TcpStream,
) -> Result<Response, HttpError> {
    // Exercise lesson07: read the body (body::expect_body, copy_body) and send it back, nosniff
    let length = body::expect_body(request, stream, MAX_ECHO_BYTES)?;
    let mut received = Vec::new();
    body::copy_body(reader, length, &mut received)?;
    Ok(Response {
        status: response::Status::Ok,
        content_type: "text/plain; charset=utf-8".to_owned(),
        // The body is whatever the client sent, markup included. `nosniff`
        // tells a browser to trust our Content-Type and never to run it as
        // a page or a script.
        header_fields: vec![("X-Content-Type-Options", "nosniff".to_owned())],
        body: response::Body::Bytes(received),
    })
    // End of exercise lesson07.
}
// ANCHOR_END: echo

/// Creates the data folder if needed and returns its canonical path.
fn prepare_data_folder(data_folder: &Path) -> io::Result<PathBuf> {
    fs::create_dir_all(data_folder)?;
    uploads::prepare_folder(data_folder)?;
    data_folder.canonicalize()
}

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
