//! A file server that trusts the request target: deliberately unsafe.
//!
//! It does what many first file servers do: decode the whole target, cut
//! off the leading `/`, and join the rest to the document root. Each step
//! lets a target out of the root. `/../secret.txt` climbs out; so does
//! `/..%2fsecret.txt`, because the slash only appears after decoding; and
//! a target that decodes to an absolute path (`//etc/passwd`) replaces the
//! root altogether, because joining an absolute path to a folder gives the
//! absolute path. It also follows symbolic links wherever they lead.
//!
//! The grader's `path-escapes` and `symlink-out-of-root` checks catch it:
//!
//! ```sh
//! cargo build -p grader --example unsafe_files
//! cargo run -p grader -- lesson05 --cmd "target/debug/examples/unsafe_files --port {port} --root {root}"
//! ```

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// A file server with the classic path traversal mistakes.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,

    /// The folder to serve (and, by mistake, everything around it).
    #[arg(long)]
    root: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match serve(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: &Cli) -> Result<(), String> {
    let address = cli.server.address();
    let listener = TcpListener::bind(&address)
        .map_err(|error| shared::explain_bind_error(&address, &error))?;
    shared::announce_listening(listener.local_addr().map_err(|error| error.to_string())?);
    for stream in listener.incoming().flatten() {
        if let Err(error) = answer(&stream, &cli.root) {
            eprintln!("connection ended early: {error}");
        }
    }
    Ok(())
}

fn answer(mut stream: &TcpStream, root: &Path) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = Vec::new();
    reader.read_until(b'\n', &mut request_line)?;
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 2 {
        line.clear();
    }
    let request_line = String::from_utf8_lossy(&request_line);
    let target = request_line.split(' ').nth(1).unwrap_or("/");
    let path = percent_decode(target.split('?').next().unwrap_or_default());
    // The mistakes: no check of the decoded path, and `join` with a path
    // that may be absolute.
    let file = root.join(path.strip_prefix('/').unwrap_or(&path));
    let (status, body) = match fs::read(&file) {
        Ok(content) => ("200 OK", content),
        Err(_) => ("404 Not Found", b"Not found.\n".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)
}

/// Decodes `%XX` escapes, leaving broken ones as they are.
fn percent_decode(text: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        let escaped = after
            .get(..2)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(decoded) if byte == b'%' => {
                bytes.push(decoded);
                rest = after.get(2..).unwrap_or_default();
            }
            _ => {
                bytes.push(byte);
                rest = after;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
