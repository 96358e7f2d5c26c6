//! Lesson 15: One thread, many connections.
//!
//! Lesson 14's server is complete, and it is fast: it makes as few system
//! calls per request as nginx. What is left is the way it waits. Every
//! connection has a thread that sleeps until its client sends something,
//! and with many busy clients every request wakes a thread. This lesson
//! adds an event loop (`event_loop.rs`, on Linux): one thread that asks
//! the kernel which connections are ready (epoll) and answers, without
//! waiting, every request that needs no waiting. Threads stay for what
//! does: bodies, large files, slow heads.
//!
//! What this lesson leaves out on purpose: bodies and large files on the
//! event loop, one loop per core, and the event loops of other systems
//! (kqueue, I/O completion ports). Elsewhere than on Linux the server works
//! as in lesson 14.

mod body;
mod connection;
mod error;
#[cfg(target_os = "linux")]
mod event_loop;
mod files;
mod guestbook;
mod listing;
mod multipart;
mod ranges;
mod request;
mod response;
mod server;
mod uploads;

use std::fs;
use std::io::{self, BufRead};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::error::HttpError;
use crate::request::Request;
use crate::response::Response;

/// Lesson 15: one thread, many connections.
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

    /// How many seconds an open connection may wait for its next request
    /// before we close it.
    #[arg(long, default_value = "5", value_parser = shared::parse_seconds)]
    idle_timeout: Duration,

    /// How many connections are served at once. A client that arrives when
    /// this many are open gets 503 Service Unavailable.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    max_connections: u16,

    /// Also write an access log in the Common Log Format to this file. `-`
    /// writes it to stdout instead of the coloured request log.
    #[arg(long, value_name = "FILE")]
    access_log: Option<PathBuf>,
}

/// What every connection needs to know, gathered in one place.
struct Config {
    /// The folder of static files, canonical and opened (see `files.rs`).
    document_root: files::ServedFolder,
    /// The folder for the guestbook and uploads, canonical too.
    data_folder: files::ServedFolder,
    /// The largest the guestbook's file may grow, in bytes.
    max_guestbook: u64,
    max_body_bytes: u64,
    /// The room all uploads together may take, in bytes.
    max_storage_bytes: u64,
    idle_timeout: Duration,
    /// Whether to write the coloured request log to stdout.
    request_log: bool,
    access_log: Option<shared::AccessLog>,
    head_timeout: Duration,
    body_pace: body::Pace,
}

fn main() -> ExitCode {
    let cli = Cli::parse();

    // The canonical path is absolute and free of symbolic links and `..`,
    // which `files.rs` needs to check that a file lies inside the root.
    let document_root = match cli.root.canonicalize() {
        Ok(path) if path.is_dir() => files::ServedFolder::open(path),
        Ok(_) => {
            eprintln!("error: --root {} is not a folder", cli.root.display());
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("error: cannot use --root {}: {error}", cli.root.display());
            return ExitCode::FAILURE;
        }
    };

    let document_root = match document_root {
        Ok(folder) => folder,
        Err(error) => {
            eprintln!("error: cannot open --root {}: {error}", cli.root.display());
            return ExitCode::FAILURE;
        }
    };

    let data_folder = match prepare_data_folder(&cli.data) {
        Ok(folder) => folder,
        Err(error) => {
            eprintln!("error: cannot use --data {}: {error}", cli.data.display());
            return ExitCode::FAILURE;
        }
    };
    let access_log = match cli.access_log.as_deref().map(shared::AccessLog::open) {
        None => None,
        Some(Ok(access_log)) => Some(access_log),
        Some(Err(error)) => {
            eprintln!("error: cannot open the access log: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config = Config {
        document_root,
        data_folder,
        max_guestbook: cli.max_guestbook,
        max_body_bytes: cli.max_body,
        max_storage_bytes: cli.max_storage,
        idle_timeout: cli.idle_timeout,
        request_log: !matches!(access_log, Some(shared::AccessLog::Stdout)),
        access_log,
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
    let listening_address = match listener.local_addr() {
        Ok(local_address) => local_address,
        Err(error) => {
            eprintln!("error: cannot tell which address we listen on: {error}");
            return ExitCode::FAILURE;
        }
    };

    // Ctrl-C and SIGTERM start a shutdown instead of ending the program at
    // once. The `ctrlc` crate does the delicate part, running our handler
    // safely when the signal arrives.
    let server = Arc::new(server::Server::new(
        config,
        usize::from(cli.max_connections),
    ));
    let server_for_signal = Arc::clone(&server);
    let handler = move || {
        eprintln!("Shutting down: finishing open connections...");
        server_for_signal.begin_shutdown(listening_address);
    };
    if let Err(error) = ctrlc::set_handler(handler) {
        eprintln!("error: cannot handle Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }

    shared::announce_listening(listening_address);
    server::serve(listener, server);
    ExitCode::SUCCESS
}

/// Decides what to answer to a well-formed request. Its body, if it has
/// one, is still unread in `body`.
fn respond(
    request: &Request,
    body: &mut impl BufRead,
    stream: &TcpStream,
    config: &Config,
) -> Response {
    match answer(request, body, stream, config) {
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
    body: &mut impl BufRead,
    stream: &TcpStream,
    config: &Config,
) -> Result<Response, HttpError> {
    let route = route(&request.target)?;
    match (route, request.method.as_str()) {
        (Route::Echo, "POST") => echo(request, body, stream),
        (Route::Guestbook, "GET" | "HEAD") => guestbook::show(&config.data_folder.path),
        (Route::Guestbook, "POST") => guestbook::add_entry(config, request, body, stream),
        (Route::Uploads, "POST") => uploads::store(
            &config.data_folder.path,
            request,
            body,
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

/// Creates the data folder if needed and opens it by its canonical path.
fn prepare_data_folder(data_folder: &Path) -> io::Result<files::ServedFolder> {
    fs::create_dir_all(data_folder)?;
    uploads::prepare_folder(data_folder)?;
    files::ServedFolder::open(data_folder.canonicalize()?)
}
