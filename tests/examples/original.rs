//! The course's starting point, ported from Python to Rust: deliberately wrong.
//!
//! The German tutorial this course grows out of builds its first web server
//! in a few lines of Python:
//!
//! ```python
//! data = connection.recv(1024)
//! connection.sendall(b"HTTP/1.0 200 OK\n\nHallo Welt\n\n")
//! connection.close()
//! ```
//!
//! A browser shows "Hallo Welt", so it looks finished. It makes two mistakes
//! that lesson 01 fixes, and this port keeps them so that you can watch the
//! grader catch each one:
//!
//! - `line-endings`: the response ends its lines with a bare `\n`. HTTP
//!   demands CR LF (`\r\n`); browsers forgive it, strict clients do not.
//! - `single-read`: one `recv(1024)` is taken to be the whole request. TCP
//!   delivers a stream of bytes, not messages: a request can arrive in many
//!   pieces, or be longer than 1024 bytes. When the server closes while
//!   unread bytes are still waiting, the operating system resets the
//!   connection, and the client may lose the response.
//!
//! Run it with one mistake or both (the default) and grade it:
//!
//! ```sh
//! cargo run -p grader --example original -- --port 8000 --mistake single-read
//! cargo run -p grader -- lesson01 --addr 127.0.0.1:8000
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

/// The most bytes of request head the `line-endings` variant reads.
const MAX_HEAD_BYTES: u64 = 8 * 1024;

/// The course's first server, ported with its mistakes.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(flatten)]
    server: shared::ServerOptions,

    /// Which of the original's mistakes to keep.
    #[arg(long, value_enum, default_value_t = Mistake::Both)]
    mistake: Mistake,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mistake {
    /// Read the head properly, but end the response's lines with a bare LF.
    LineEndings,
    /// Answer with CR LF, but read the request with a single `recv(1024)`.
    SingleRead,
    /// Both, exactly like the Python original.
    Both,
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
    match listener.local_addr() {
        Ok(local_address) => shared::announce_listening(local_address),
        Err(error) => {
            eprintln!("error: cannot tell which address we listen on: {error}");
            return ExitCode::FAILURE;
        }
    }
    for stream in listener.incoming().flatten() {
        if let Err(error) = answer(stream, cli.mistake) {
            eprintln!("connection ended early: {error}");
        }
    }
    ExitCode::SUCCESS
}

fn answer(mut stream: TcpStream, mistake: Mistake) -> io::Result<()> {
    if mistake == Mistake::LineEndings {
        read_head(&stream)?;
    } else {
        // The mistake: one read, as if the request always came in one piece
        // of at most 1024 bytes.
        let mut buffer = [0; 1024];
        let _ = stream.read(&mut buffer)?;
    }
    let response: &[u8] = if mistake == Mistake::SingleRead {
        b"HTTP/1.0 200 OK\r\n\r\nHallo Welt\n"
    } else {
        // The mistake: `\n` where HTTP wants `\r\n`.
        b"HTTP/1.0 200 OK\n\nHallo Welt\n\n"
    };
    stream.write_all(response)
    // Dropping `stream` closes the connection. If request bytes are still
    // unread at this moment, the operating system sends a reset instead of
    // a normal close.
}

/// Reads lines up to the empty line that ends the head, as lesson 01 does.
fn read_head(stream: &TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD_BYTES));
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line == b"\r\n" || line == b"\n" {
            return Ok(());
        }
    }
}
