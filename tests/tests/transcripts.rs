//! Every transcript in the course book is replayed against the real server.
//!
//! A transcript is what a student would see in a terminal: a command and its
//! output. The book keeps them in fenced blocks with the info string
//! `console`, and this test makes sure that each one is true today. The rules:
//!
//! - Files: every `docs/src/*.md` and `docs/*.md` (such as
//!   `ARCHITECTURE.md`, which the book includes). In `lessonNN.md` a `console` block runs
//!   against lesson NN. An info string `console,server=NAME` chooses the
//!   server instead: `lessonNN`, or the grader's deliberately faulty port of
//!   the original Python server, `original` (both mistakes),
//!   `original-line-endings` or `original-single-read` (one mistake each).
//!   Outside the lesson chapters a `console` block must name its server.
//! - Servers: each one is started once, on a free port, and runs every
//!   transcript it is named for, in the order of the book (files sorted by
//!   name, blocks and commands top to bottom). So a transcript may rely on
//!   an earlier one: a POST that stores something, then a GET that shows
//!   it. From lesson 05 on a lesson serves its default document root, the
//!   sample site `shared/site`. From lesson 08 on a lesson also stores
//!   data: it gets `--data` with a new, empty temporary folder, which is
//!   removed when the server stops, so every run of this test starts from
//!   nothing. From lesson 14 on it also gets `--access-log` with the file
//!   `access.log` in that folder.
//! - Commands: a line that starts with `$ `. Three forms are understood:
//!   - `$ printf 'FORMAT' | nc 127.0.0.1 PORT`: the single-quoted FORMAT is
//!     sent as printf would print it, with the escapes `\r` `\n` `\t` `\\`
//!     `\0` `\xHH`, `%%` for a percent sign, and `%Ns` (a number, then `s`),
//!     which printf prints as N spaces because no argument follows.
//!     `nc -N` (netcat closes its sending side when the input ends) is
//!     understood as well; it is what the test does anyway, see below.
//!   - `$ curl -si http://127.0.0.1:PORT/PATH`: sends what curl 8.5 sends,
//!     `GET PATH HTTP/1.1` with `Host`, `User-Agent: curl/8.5.0` and
//!     `Accept: */*`. `$ curl -sI http://127.0.0.1:PORT/PATH` sends the same
//!     with `HEAD` instead of `GET`.
//!   - `$ tail -n N access.log` (lesson 14 on): the last N lines of the
//!     server's access log. Nothing is sent. The server writes a request's
//!     line before it closes that request's connection, and the test reads
//!     until the close, so the log is complete when the next command runs.
//!
//!   Each may end with `| cat -A`; the output is then shown as `cat -A`
//!   shows it: `^M` for CR, `$` at each line end, `^I` for a tab, `^X` for
//!   other control characters, `M-` before bytes above 127.
//!   A `console` block without a command, with a line before its first
//!   command, or with any other command fails the test: nothing untested can
//!   hide in a `console` block. Illustrations that are not transcripts go
//!   into `text` blocks. Every lesson chapter needs at least one transcript.
//! - Output: the lines after a command, up to the next `$ ` line or the end
//!   of the block. The test starts the server on a free port, puts that port
//!   wherever the command's PORT appears (in the request and in the expected
//!   output), sends the request, half-closes the connection, reads until the
//!   server closes, and compares line by line. CR LF and LF both end a line;
//!   one line end at the very end of the output is ignored. An expected line
//!   `...` stands for any number of lines, none included.
//!   From lesson 11 on the server keeps an HTTP/1.1 connection open; the
//!   half-close ends it here, but a reader's `nc` would wait for the idle
//!   timeout. So an `nc` transcript whose last response says
//!   `Connection: keep-alive` fails: end it with a request that says
//!   `Connection: close`, or use HTTP/1.0. (curl closes the connection
//!   itself once it has its response.)
//! - Dates: from lesson 06 on, responses carry `Date` (the time of the
//!   response) and files `Last-Modified` (the time of the file: when the
//!   sample site was checked out, or when an upload arrived). Neither can be
//!   written down in advance, so an expected line `Date: ...` matches a
//!   line `Date: ` followed by any date in the IMF-fixdate form
//!   `Sun, 06 Nov 1994 08:49:37 GMT`, and the same for
//!   `Last-Modified: ...`. In a `cat -A` transcript the expected line is
//!   `Date: ...^M$`. Lessons 13 and 14 add three more values that change
//!   from run to run, each with its own `...` rule: the time of the file in
//!   an entity tag (lesson 13 on), `ETag: "...-ed"` (`...` stands for hex
//!   digits; the size after the `-` must match), the date in a cell of a folder listing,
//!   `<td>...</td>` (an IMF-fixdate), and the time in an access log line,
//!   `127.0.0.1 - - [...] "GET / HTTP/1.1" 200 895` (the Common Log Format
//!   time `24/Nov/2026:09:16:34 +0000`). Only these are treated so, with
//!   one `...` per line; every other line, a date anywhere else included,
//!   must match exactly.
//! - Failures name the file, the line of the block and of the command, the
//!   command, and show expected and actual output.
//!
//! A last test checks that every book section the grader's hints name
//! (`lesson01.md#line-endings`) exists as a heading of that chapter.

// A test reports failure by panicking; the workspace lints that forbid
// panics (which protect the servers from network input) do not apply here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use grader::server::{self, Server};

/// How long one transcript may take before it counts as hanging. Only a
/// broken server comes near this; the test never waits on purpose.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The first lesson that stores data and therefore needs `--data FOLDER`.
const FIRST_LESSON_WITH_DATA: u8 = 8;

/// The first lesson with `--access-log FILE`, and the name of that file in
/// the data folder (the name `tail -n N` commands use).
const FIRST_LESSON_WITH_ACCESS_LOG: u8 = 14;
const ACCESS_LOG: &str = "access.log";

/// The header fields whose value is a date that changes from run to run;
/// see the module documentation.
const DATE_FIELDS: [&str; 2] = ["Date", "Last-Modified"];

/// The server a block runs against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ServerKind {
    Lesson(u8),
    /// The faulty port of the original; the text is its `--mistake`.
    Original(&'static str),
}

impl ServerKind {
    fn from_name(name: &str) -> Option<ServerKind> {
        match name {
            "original" => Some(ServerKind::Original("both")),
            "original-line-endings" => Some(ServerKind::Original("line-endings")),
            "original-single-read" => Some(ServerKind::Original("single-read")),
            _ => lesson_number(name).map(ServerKind::Lesson),
        }
    }

    fn start(&self) -> Running {
        match self {
            ServerKind::Lesson(number) if *number >= FIRST_LESSON_WITH_DATA => {
                let data = TempFolder::new(&format!("lesson{number:02}-data"));
                let program = server::built_lesson(*number)
                    .unwrap_or_else(|error| panic!("cannot build lesson{number:02}: {error}"));
                let mut command = format!(
                    "{} --port {{port}} --data {}",
                    shell_quote(&program.to_string_lossy()),
                    shell_quote(&data.path.to_string_lossy())
                );
                let access_log =
                    (*number >= FIRST_LESSON_WITH_ACCESS_LOG).then(|| data.path.join(ACCESS_LOG));
                if let Some(path) = &access_log {
                    command.push_str(" --access-log ");
                    command.push_str(&shell_quote(&path.to_string_lossy()));
                }
                let server = Server::start_command(&command)
                    .unwrap_or_else(|error| panic!("cannot start lesson{number:02}: {error}"));
                Running {
                    server,
                    access_log,
                    _data: Some(data),
                }
            }
            ServerKind::Lesson(number) => Running {
                server: Server::start_lesson(*number)
                    .unwrap_or_else(|error| panic!("cannot start lesson{number:02}: {error}")),
                access_log: None,
                _data: None,
            },
            ServerKind::Original(mistake) => Running {
                server: Server::start_example_original(mistake).unwrap_or_else(|error| {
                    panic!("cannot start the original example ({mistake}): {error}")
                }),
                access_log: None,
                _data: None,
            },
        }
    }
}

/// A started server, its access log if it writes one, and, for a lesson
/// that stores data, its data folder. The fields drop in order: first the
/// server stops, then the folder goes.
struct Running {
    server: Server,
    access_log: Option<PathBuf>,
    _data: Option<TempFolder>,
}

/// A new, empty folder under the system's temporary folder, removed again
/// when dropped.
struct TempFolder {
    path: PathBuf,
}

impl TempFolder {
    fn new(label: &str) -> TempFolder {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "diy-http-transcripts-{}-{}-{nanos}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // `create_dir` (not `create_dir_all`) fails if the folder exists, so
        // the folder is certainly new and empty.
        fs::create_dir(&path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        TempFolder { path }
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Quotes a word for `sh`: `it's` -> `'it'\''s'`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `lesson04` -> 4 (also accepts `lesson04.md` without its extension).
fn lesson_number(name: &str) -> Option<u8> {
    let digits = name.strip_prefix("lesson")?;
    if digits.len() == 2 && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// A fenced code block: its info string, the line of its opening fence
/// (counted from 1), and its content lines, each with its own line number.
#[derive(Debug)]
struct CodeBlock {
    info: String,
    line: usize,
    content: Vec<(usize, String)>,
}

/// Finds the fenced code blocks (``` or ~~~, any length) of a Markdown file.
/// A block ends at a fence of the same character that is at least as long;
/// a block without a closing fence runs to the end of the file.
fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(char, usize, usize, CodeBlock)> = None;
    for (index, raw_line) in markdown.lines().enumerate() {
        let line_number = index + 1;
        let indent = raw_line.len() - raw_line.trim_start().len();
        let trimmed = raw_line.trim_start();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len = fence_char.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match &mut open {
            None => {
                if let Some(c) = fence_char.filter(|_| fence_len >= 3) {
                    let info = trimmed[fence_len..].trim().to_owned();
                    open = Some((
                        c,
                        fence_len,
                        indent,
                        CodeBlock {
                            info,
                            line: line_number,
                            content: Vec::new(),
                        },
                    ));
                }
            }
            Some((c, len, block_indent, block)) => {
                let closes = fence_char == Some(*c)
                    && fence_len >= *len
                    && trimmed[fence_len..].trim().is_empty();
                if closes {
                    let (_, _, _, block) = open.take().unwrap();
                    blocks.push(block);
                } else {
                    // Strip the fence's own indentation (a block in a list).
                    let keep = raw_line.len() - raw_line.trim_start().len();
                    let strip = keep.min(*block_indent);
                    block
                        .content
                        .push((line_number, raw_line[strip..].to_owned()));
                }
            }
        }
    }
    if let Some((_, _, _, block)) = open {
        blocks.push(block);
    }
    blocks
}

/// What the info string of a block says: `None` for a block that is not a
/// `console` block, else the server it names, if any.
fn console_server(info: &str) -> Option<Result<Option<ServerKind>, String>> {
    let mut words = info.split([',', ' ']).filter(|word| !word.is_empty());
    if words.next() != Some("console") {
        return None;
    }
    let mut server = None;
    for word in words {
        match word.strip_prefix("server=") {
            Some(name) => match ServerKind::from_name(name) {
                Some(kind) => server = Some(kind),
                None => return Some(Err(format!("unknown server `{name}` in `{info}`"))),
            },
            None => return Some(Err(format!("unknown attribute `{word}` in `{info}`"))),
        }
    }
    Some(Ok(server))
}

/// How the request of a command is made.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    /// Exactly these bytes (from `printf ... | nc`).
    Raw(Vec<u8>),
    /// What `curl -si` (GET) or `curl -sI` (HEAD) sends for this path; the
    /// Host field needs the port.
    Curl { method: &'static str, path: String },
}

impl Request {
    fn bytes(&self, port: u16) -> Vec<u8> {
        match self {
            Request::Raw(bytes) => bytes.clone(),
            Request::Curl { method, path } => format!(
                "{method} {path} HTTP/1.1\r\n\
                 Host: 127.0.0.1:{port}\r\n\
                 User-Agent: curl/8.5.0\r\n\
                 Accept: */*\r\n\
                 \r\n"
            )
            .into_bytes(),
        }
    }
}

/// One command line of a transcript, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Command {
    action: Action,
    /// Whether the output goes through `cat -A`.
    cat_a: bool,
}

/// What a command does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Send a request to the port the command names (8000 in the lesson
    /// chapters) and read the response.
    Send { request: Request, port: u16 },
    /// Show the last lines of the server's access log (`tail -n N`).
    TailAccessLog(usize),
}

/// Parses the text after `$ `.
fn parse_command(text: &str) -> Result<Command, String> {
    let text = text.trim();
    let (text, cat_a) = match text.strip_suffix("| cat -A") {
        Some(rest) => (rest.trim_end(), true),
        None => (text, false),
    };
    if let Some(rest) = text.strip_prefix("printf '") {
        let (format, rest) = rest
            .split_once('\'')
            .ok_or("the printf format has no closing single quote")?;
        let rest = rest.trim_start();
        let port = rest
            .strip_prefix("| nc 127.0.0.1 ")
            .or_else(|| rest.strip_prefix("| nc -N 127.0.0.1 "))
            .ok_or("expected `| nc 127.0.0.1 PORT` after the printf format (or `nc -N`)")?;
        Ok(Command {
            action: Action::Send {
                request: Request::Raw(printf(format)?),
                port: parse_port(port)?,
            },
            cat_a,
        })
    } else if let Some((method, rest)) = text
        .strip_prefix("curl -si http://127.0.0.1:")
        .map(|rest| ("GET", rest))
        .or_else(|| {
            text.strip_prefix("curl -sI http://127.0.0.1:")
                .map(|rest| ("HEAD", rest))
        })
    {
        let slash = rest.find('/').ok_or("the curl URL needs a path")?;
        let (port, path) = rest.split_at(slash);
        if path.contains(char::is_whitespace) {
            return Err("the curl URL must be followed by nothing but `| cat -A`".into());
        }
        Ok(Command {
            action: Action::Send {
                request: Request::Curl {
                    method,
                    path: path.into(),
                },
                port: parse_port(port)?,
            },
            cat_a,
        })
    } else if let Some(rest) = text.strip_prefix("tail -n ") {
        let lines = rest
            .strip_suffix(&format!(" {ACCESS_LOG}"))
            .and_then(|count| count.parse().ok())
            .filter(|count| *count > 0)
            .ok_or(format!("expected `tail -n N {ACCESS_LOG}` with N > 0"))?;
        Ok(Command {
            action: Action::TailAccessLog(lines),
            cat_a,
        })
    } else {
        Err(format!(
            "not a transcript command: use `printf '...' | nc 127.0.0.1 PORT`, \
             `curl -si` / `curl -sI http://127.0.0.1:PORT/PATH` or `tail -n N {ACCESS_LOG}` \
             (optionally `| cat -A`), or a `text` block for anything else"
        ))
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("`{}` is not a port number", text.trim()))
}

/// The bytes `printf FORMAT` prints (without arguments).
fn printf(format: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('r') => bytes.push(b'\r'),
                Some('n') => bytes.push(b'\n'),
                Some('t') => bytes.push(b'\t'),
                Some('\\') => bytes.push(b'\\'),
                Some('0') if chars.peek().is_none_or(|next| !next.is_ascii_digit()) => {
                    bytes.push(0);
                }
                Some('x') => {
                    let high = chars.next().and_then(|c| c.to_digit(16));
                    let low = chars.next().and_then(|c| c.to_digit(16));
                    let (Some(high), Some(low)) = (high, low) else {
                        return Err("`\\x` needs exactly two hex digits".into());
                    };
                    bytes.push(u8::try_from(high * 16 + low).unwrap());
                }
                other => {
                    return Err(format!(
                        "unsupported printf escape `\\{}`",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            },
            '%' => {
                let mut width = String::new();
                while let Some(digit) = chars.next_if(char::is_ascii_digit) {
                    width.push(digit);
                }
                match chars.next() {
                    Some('%') if width.is_empty() => bytes.push(b'%'),
                    Some('s') if !width.is_empty() => {
                        let spaces: usize = width.parse().map_err(|_| "width too large")?;
                        bytes.resize(bytes.len() + spaces, b' ');
                    }
                    _ => return Err("unsupported printf conversion (only `%%` and `%Ns`)".into()),
                }
            }
            _ => {
                let mut buffer = [0; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    Ok(bytes)
}

/// One command of a block with the output the book expects.
#[derive(Debug)]
struct Transcript {
    /// The line of the block's opening fence.
    block_line: usize,
    /// The line of the command.
    line: usize,
    command_text: String,
    command: Command,
    expected: Vec<String>,
}

/// Splits a `console` block into its transcripts. Fails for a block without
/// a command, for lines before the first command, and for unknown commands.
fn transcripts(block: &CodeBlock) -> Result<Vec<Transcript>, String> {
    let mut found: Vec<Transcript> = Vec::new();
    for (line, text) in &block.content {
        if let Some(command_text) = text.strip_prefix("$ ") {
            let command = parse_command(command_text)
                .map_err(|error| format!("line {line}: `$ {command_text}`: {error}"))?;
            found.push(Transcript {
                block_line: block.line,
                line: *line,
                command_text: command_text.to_owned(),
                command,
                expected: Vec::new(),
            });
        } else if let Some(current) = found.last_mut() {
            current.expected.push(text.clone());
        } else {
            return Err(format!(
                "line {line}: output before the first `$ ` command: `{text}`"
            ));
        }
    }
    if found.is_empty() {
        return Err("a `console` block without a `$ ` command; use a `text` block".into());
    }
    Ok(found)
}

/// Sends the request, half-closes, and reads until the server closes.
fn exchange(address: SocketAddr, request: &[u8]) -> Result<Vec<u8>, String> {
    let mut stream =
        TcpStream::connect(address).map_err(|error| format!("cannot connect: {error}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|error| format!("cannot set timeouts: {error}"))?;
    // A server may answer and close before it has read everything; what it
    // answered is still worth reading, so a failed write is not final.
    let write_error = stream.write_all(request).err();
    let _ = stream.shutdown(Shutdown::Write);
    let mut received = Vec::new();
    match stream.read_to_end(&mut received) {
        Ok(_) => Ok(received),
        Err(error) => Err(format!(
            "reading the response failed after {} bytes: {error}{}",
            received.len(),
            write_error.map_or(String::new(), |w| format!(" (sending failed too: {w})"))
        )),
    }
}

/// Whether the command is `printf ... | nc` and the last response of its
/// output keeps the connection open.
fn leaves_nc_waiting(command: &Command, actual: &[String]) -> bool {
    let Action::Send {
        request: Request::Raw(_),
        ..
    } = command.action
    else {
        return false;
    };
    actual
        .iter()
        .rev()
        .map(|line| line.strip_suffix("^M$").unwrap_or(line))
        .find(|line| line.starts_with("Connection: "))
        .is_some_and(|line| line.eq_ignore_ascii_case("Connection: keep-alive"))
}

/// The last `lines` lines of the access log, as `tail -n` prints them.
fn tail(access_log: Option<&Path>, lines: usize) -> Result<Vec<u8>, String> {
    let path = access_log.ok_or(format!(
        "this server writes no access log; `tail -n N {ACCESS_LOG}` needs lesson \
         {FIRST_LESSON_WITH_ACCESS_LOG:02} or later"
    ))?;
    let log = fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if log.is_empty() {
        return Ok(log);
    }
    let body = log.strip_suffix(b"\n").unwrap_or(&log);
    let kept: Vec<&[u8]> = body.rsplit(|byte| *byte == b'\n').take(lines).collect();
    let mut shown = Vec::new();
    for line in kept.iter().rev() {
        shown.extend_from_slice(line);
        shown.push(b'\n');
    }
    Ok(shown)
}

/// The output as lines: as a terminal shows it, or as `cat -A` renders it.
fn output_lines(bytes: &[u8], cat_a: bool) -> Vec<String> {
    let text = if cat_a {
        cat_a_render(bytes)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    text.split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line).to_owned())
        .collect()
}

/// Renders bytes the way `cat -A` (that is `cat -vET`) does.
fn cat_a_render(bytes: &[u8]) -> String {
    let mut shown = String::new();
    for &byte in bytes {
        if byte == b'\n' {
            shown.push_str("$\n");
            continue;
        }
        let low = if byte >= 128 {
            shown.push_str("M-");
            byte - 128
        } else {
            byte
        };
        match low {
            0..=31 => {
                shown.push('^');
                shown.push(char::from(low + 64));
            }
            127 => shown.push_str("^?"),
            _ => shown.push(char::from(low)),
        }
    }
    shown
}

/// Whether the actual lines match the expected ones, where an expected line
/// `...` stands for any number of actual lines.
fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual.split_first().is_some_and(|(line, actual_rest)| {
            line_matches(first, line) && lines_match(rest, actual_rest)
        }),
    }
}

/// Whether one actual line matches one expected line: the same text, or an
/// expected line with one `...` in one of the places where a value changes
/// from run to run (see the module documentation):
///
/// - `Date: ...` and `Last-Modified: ...` (with `^M$` after them in a
///   `cat -A` transcript): that field with any IMF-fixdate as its value;
/// - `ETag: "...-ed"`: an entity tag whose part before the `-` is any
///   lowercase hex number (the part after it must match);
/// - `<td>...</td>` in a folder listing: a cell with any IMF-fixdate;
/// - `127.0.0.1 - - [...] "GET / HTTP/1.1" 200 895` in an access log: any
///   time in the form of the Common Log Format.
fn line_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    let Some((before, after)) = expected.split_once("...") else {
        return false;
    };
    if after.contains("...") || actual.len() < before.len() + after.len() {
        return false;
    }
    let Some(value) = actual
        .strip_prefix(before)
        .and_then(|rest| rest.strip_suffix(after))
    else {
        return false;
    };
    let line_end = |rest: &str| rest.is_empty() || rest == "^M$";
    if DATE_FIELDS
        .iter()
        .any(|field| before.strip_suffix(": ") == Some(field))
        && line_end(after)
    {
        is_imf_fixdate(value)
    } else if before == "ETag: \""
        && after.starts_with('-')
        && (after.ends_with('"') || after.ends_with("\"^M$"))
    {
        !value.is_empty()
            && value
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    } else if before.ends_with("<td>") && after.starts_with("</td>") {
        is_imf_fixdate(value)
    } else if before.ends_with(" - - [") && after.starts_with("] \"") {
        is_common_log_time(value)
    } else {
        false
    }
}

/// Whether `text` has the form of a Common Log Format time, such as
/// `24/Nov/2026:09:16:34 +0000`.
fn is_common_log_time(text: &str) -> bool {
    let digits = |part: &str, count: usize| {
        part.len() == count && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    let Some((clock, zone)) = text.split_once(' ') else {
        return false;
    };
    let parts: Vec<&str> = clock.split(['/', ':']).collect();
    let &[day, month, year, hours, minutes, seconds] = parts.as_slice() else {
        return false;
    };
    digits(day, 2)
        && month.len() == 3
        && is_imf_fixdate(&format!("Mon, {day} {month} {year} 00:00:00 GMT"))
        && [hours, minutes, seconds].iter().all(|part| digits(part, 2))
        && zone.len() == 5
        && zone.starts_with(['+', '-'])
        && digits(&zone[1..], 4)
}

/// Whether `text` has the form of an IMF-fixdate (RFC 9110, section 5.6.7),
/// such as `Sun, 06 Nov 1994 08:49:37 GMT`. Only the form is checked (a
/// 31 February would pass); the grader's checks judge the values.
fn is_imf_fixdate(text: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |part: &str, count: usize| {
        part.len() == count && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    let parts: Vec<&str> = text.split(' ').collect();
    let &[day, date, month, year, time, zone] = parts.as_slice() else {
        return false;
    };
    let times: Vec<&str> = time.split(':').collect();
    day.strip_suffix(',').is_some_and(|day| DAYS.contains(&day))
        && digits(date, 2)
        && MONTHS.contains(&month)
        && digits(year, 4)
        && times.len() == 3
        && times.iter().all(|part| digits(part, 2))
        && zone == "GMT"
}

/// Runs one transcript against a running server; `Err` describes a mismatch.
fn check(transcript: &Transcript, running: &Running) -> Result<(), String> {
    let address = running.server.address();
    let (received, expected) = match &transcript.command.action {
        Action::Send { request, port } => {
            let doc_port = port.to_string();
            let real_port = address.port().to_string();
            let received = exchange(address, &request.bytes(address.port()))?;
            let expected = transcript
                .expected
                .iter()
                .map(|line| line.replace(&doc_port, &real_port))
                .collect();
            (received, expected)
        }
        Action::TailAccessLog(lines) => (
            tail(running.access_log.as_deref(), *lines)?,
            transcript.expected.clone(),
        ),
    };
    let actual = output_lines(&received, transcript.command.cat_a);
    if leaves_nc_waiting(&transcript.command, &actual) {
        return Err(
            "the last response says `Connection: keep-alive`, so a reader's `nc` \
                    would wait for the idle timeout; let the last request say \
                    `Connection: close`, or use HTTP/1.0"
                .into(),
        );
    }
    if lines_match(&expected, &actual) {
        return Ok(());
    }
    let mut report = String::from("the output differs\n--- expected\n");
    for line in &expected {
        let _ = writeln!(report, "{line}");
    }
    report.push_str("--- actual\n");
    for line in &actual {
        let _ = writeln!(report, "{line}");
    }
    Err(report)
}

/// The folder `docs/` of the workspace.
fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// The Markdown files of a folder, sorted, without its subfolders.
fn markdown_files(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files
}

/// The transcripts of each server, each with the name of its file.
type TranscriptsByServer = BTreeMap<ServerKind, Vec<(String, Transcript)>>;

/// Every transcript of the book, grouped by the server it needs, and the
/// problems found while reading them.
fn read_book(docs: &Path) -> (TranscriptsByServer, Vec<String>) {
    let mut by_server = TranscriptsByServer::new();
    let mut problems = Vec::new();
    let source = docs.join("src");
    let mut files = markdown_files(&source);
    files.extend(markdown_files(docs));
    let mut chapters = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let in_source = path.parent() == Some(source.as_path());
        let chapter_lesson = lesson_number(name.trim_end_matches(".md")).filter(|_| in_source);
        chapters += usize::from(chapter_lesson.is_some());
        let markdown = fs::read_to_string(&path).unwrap();
        let mut count = 0;
        for block in code_blocks(&markdown) {
            let server = match console_server(&block.info) {
                None => continue,
                Some(Err(error)) => {
                    problems.push(format!("{name}, block at line {}: {error}", block.line));
                    continue;
                }
                Some(Ok(server)) => server,
            };
            let Some(server) = server.or(chapter_lesson.map(ServerKind::Lesson)) else {
                problems.push(format!(
                    "{name}, block at line {}: outside a lesson chapter a `console` block \
                     must name its server (`console,server=lesson01`)",
                    block.line
                ));
                continue;
            };
            match transcripts(&block) {
                Ok(found) => {
                    count += found.len();
                    for transcript in found {
                        by_server
                            .entry(server.clone())
                            .or_default()
                            .push((name.clone(), transcript));
                    }
                }
                Err(error) => {
                    problems.push(format!("{name}, block at line {}: {error}", block.line));
                }
            }
        }
        if chapter_lesson.is_some() && count == 0 {
            problems.push(format!(
                "{name}: a lesson chapter needs at least one transcript"
            ));
        }
    }
    if chapters == 0 {
        problems.push(format!("no lessonNN.md chapters in {}", source.display()));
    }
    (by_server, problems)
}

#[test]
fn every_transcript_in_the_book_is_true() {
    let (by_server, mut problems) = read_book(&docs());
    let mut replayed = 0;
    for (kind, transcripts) in &by_server {
        let running = kind.start();
        for (chapter, transcript) in transcripts {
            replayed += 1;
            if let Err(error) = check(transcript, &running) {
                problems.push(format!(
                    "{chapter}, block at line {}, command at line {}: $ {}\n{error}",
                    transcript.block_line, transcript.line, transcript.command_text
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {replayed} transcripts or blocks are wrong:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The ids mdBook gives the headings of a chapter: the heading text in
/// lower case, spaces turned into hyphens, other punctuation dropped
/// (`## The Host header` -> `the-host-header`). Fenced code is skipped.
fn heading_ids(markdown: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len = fence_char.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        match (fence, fence_char) {
            (None, Some(c)) if fence_len >= 3 => fence = Some((c, fence_len)),
            (Some((open, len)), Some(c)) if c == open && fence_len >= len => fence = None,
            (None, _) if trimmed.starts_with('#') => {
                let text = trimmed.trim_start_matches('#').trim();
                ids.push(
                    text.chars()
                        .filter_map(|c| match c {
                            c if c.is_alphanumeric() || c == '_' || c == '-' => {
                                Some(c.to_ascii_lowercase())
                            }
                            c if c.is_whitespace() => Some('-'),
                            _ => None,
                        })
                        .collect(),
                );
            }
            _ => {}
        }
    }
    ids
}

/// Every section a grader hint names (`lesson03.md#the-request-line`) must
/// be a heading of that chapter, or the hint leads nowhere. The sections
/// come from the table of checks and, for the hints a failure chooses
/// itself, from the string literals in `checks.rs`.
#[test]
fn every_grader_hint_points_to_a_heading() {
    let mut sections: Vec<String> = grader::checks::CHECKS
        .iter()
        .map(|check| check.section.to_owned())
        .collect();
    let checks_source =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks.rs")).unwrap();
    for literal in checks_source.split('"').skip(1).step_by(2) {
        if literal.contains(".md#") && !literal.contains(char::is_whitespace) {
            sections.push(literal.to_owned());
        }
    }
    sections.sort();
    sections.dedup();
    assert!(!sections.is_empty(), "the grader names no sections");

    let mut missing = Vec::new();
    for section in &sections {
        let (file, anchor) = section.split_once('#').unwrap();
        let path = docs().join("src").join(file);
        let Ok(markdown) = fs::read_to_string(&path) else {
            missing.push(format!("{section}: there is no {}", path.display()));
            continue;
        };
        if !heading_ids(&markdown).iter().any(|id| id == anchor) {
            missing.push(format!("{section}: {file} has no heading with this id"));
        }
    }
    assert!(
        missing.is_empty(),
        "grader hints that lead nowhere:\n{}",
        missing.join("\n")
    );
}

#[test]
fn heading_ids_are_made_like_mdbook_makes_them() {
    let markdown =
        "# Lesson 01: Hallo Welt\n\n```text\n# not a heading\n```\n## The `Host` header\n";
    assert_eq!(
        heading_ids(markdown),
        ["lesson-01-hallo-welt", "the-host-header"]
    );
}

/// The harness itself must be able to fail: a wrong expected output against
/// the real lesson 01 is reported as a mismatch, with both outputs shown.
#[test]
fn a_wrong_expected_output_is_reported() {
    let block = code_blocks(
        "```console\n\
         $ printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8000\n\
         HTTP/1.0 200 OK\n\
         \n\
         Hello World\n\
         ```\n",
    );
    let found = transcripts(&block[0]).unwrap();
    let running = ServerKind::Lesson(1).start();
    let error = check(&found[0], &running).unwrap_err();
    assert!(error.contains("the output differs"), "{error}");
    assert!(
        error.contains("Hello World") && error.contains("Hallo Welt"),
        "{error}"
    );

    // The same transcript with the right output passes, so the mismatch
    // above really came from the wrong line.
    let block = code_blocks(
        "```console\n\
         $ printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8000 | cat -A\n\
         HTTP/1.0 200 OK^M$\n\
         ^M$\n\
         Hallo Welt$\n\
         ```\n",
    );
    let found = transcripts(&block[0]).unwrap();
    check(&found[0], &running).unwrap();
}

#[test]
fn blocks_that_are_not_transcripts_are_rejected() {
    for markdown in [
        "```console\nHTTP/1.0 200 OK\n```\n",
        "```console\n```\n",
        "```console\n$ telnet 127.0.0.1 8000\n```\n",
        "```console\n$ printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc example.org 80\n```\n",
        "```console\n$ printf '%s' | nc 127.0.0.1 8000\n```\n",
        "```console\n$ curl -si http://127.0.0.1:8000/ -H 'X: y'\n```\n",
    ] {
        let blocks = code_blocks(markdown);
        assert_eq!(blocks.len(), 1, "{markdown}");
        assert!(transcripts(&blocks[0]).is_err(), "accepted: {markdown}");
    }
    assert!(console_server("console,server=nonsense").unwrap().is_err());
    assert!(console_server("text").is_none());
    assert!(console_server("console-like").is_none());
}

/// The request and port of a command that sends one; panics otherwise.
fn sent(command: &Command) -> (&Request, u16) {
    match &command.action {
        Action::Send { request, port } => (request, *port),
        Action::TailAccessLog(_) => panic!("not a command that sends: {command:?}"),
    }
}

#[test]
fn commands_are_understood() {
    let command =
        parse_command(r"printf 'A\r\n\t\\\0\x7f%%%3s.' | nc 127.0.0.1 8000 | cat -A").unwrap();
    assert!(command.cat_a);
    assert_eq!(
        sent(&command),
        (&Request::Raw(b"A\r\n\t\\\0\x7f%   .".to_vec()), 8000)
    );

    let command = parse_command(r"printf 'x' | nc -N 127.0.0.1 8000").unwrap();
    assert_eq!(sent(&command).0, &Request::Raw(b"x".to_vec()));

    let command = parse_command("curl -si http://127.0.0.1:8001/a?b=c").unwrap();
    assert!(!command.cat_a);
    let (request, port) = sent(&command);
    assert_eq!(port, 8001);
    assert_eq!(
        request.bytes(4321),
        b"GET /a?b=c HTTP/1.1\r\nHost: 127.0.0.1:4321\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    );

    let command = parse_command("curl -sI http://127.0.0.1:8000/style.css").unwrap();
    assert_eq!(
        sent(&command).0.bytes(8000),
        b"HEAD /style.css HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    );

    let command = parse_command("tail -n 3 access.log").unwrap();
    assert_eq!(command.action, Action::TailAccessLog(3));
    for wrong in [
        "tail -n 0 access.log",
        "tail -n x access.log",
        "tail -n 3 other.log",
        "tail access.log",
    ] {
        assert!(parse_command(wrong).is_err(), "accepted: {wrong}");
    }
}

#[test]
fn nc_transcripts_must_not_end_on_an_open_connection() {
    let lines = |text: &str| -> Vec<String> { text.split('|').map(String::from).collect() };
    let nc = parse_command(r"printf 'x' | nc 127.0.0.1 8000").unwrap();
    let curl = parse_command("curl -sI http://127.0.0.1:8000/").unwrap();
    let open = lines("HTTP/1.1 200 OK|Connection: keep-alive||body");
    let closed =
        lines("HTTP/1.1 200 OK|Connection: keep-alive||a|HTTP/1.1 200 OK|Connection: close||b");
    assert!(leaves_nc_waiting(&nc, &open));
    assert!(leaves_nc_waiting(
        &nc,
        &lines("HTTP/1.1 200 OK^M$|Connection: keep-alive^M$|^M$")
    ));
    assert!(!leaves_nc_waiting(&nc, &closed));
    assert!(!leaves_nc_waiting(
        &nc,
        &lines("HTTP/1.0 200 OK||Hallo Welt")
    ));
    assert!(!leaves_nc_waiting(&curl, &open));
}

#[test]
fn tail_shows_the_last_lines_of_the_access_log() {
    let folder = TempFolder::new("tail");
    let path = folder.path.join(ACCESS_LOG);
    fs::write(&path, "one\ntwo\nthree\n").unwrap();
    assert_eq!(tail(Some(&path), 2).unwrap(), b"two\nthree\n");
    assert_eq!(tail(Some(&path), 5).unwrap(), b"one\ntwo\nthree\n");
    fs::write(&path, "").unwrap();
    assert_eq!(tail(Some(&path), 1).unwrap(), b"");
    assert!(tail(None, 1).is_err());
}

#[test]
fn cat_a_renders_like_cat() {
    assert_eq!(
        cat_a_render(b"OK\r\n\ta\x00\x7f\xc3\xa4\xff\n"),
        "OK^M$\n^Ia^@^?M-CM-$M-^?$\n"
    );
    assert_eq!(
        output_lines(b"HTTP/1.0 200 OK\r\n\r\nHallo Welt\n", true),
        ["HTTP/1.0 200 OK^M$", "^M$", "Hallo Welt$"]
    );
    assert_eq!(
        output_lines(b"HTTP/1.0 200 OK\r\n\r\nHallo Welt\n", false),
        ["HTTP/1.0 200 OK", "", "Hallo Welt"]
    );
}

#[test]
fn dots_stand_for_any_number_of_lines() {
    let lines = |text: &str| -> Vec<String> { text.split('|').map(String::from).collect() };
    assert!(lines_match(&lines("a|...|d"), &lines("a|b|c|d")));
    assert!(lines_match(&lines("a|...|b"), &lines("a|b")));
    assert!(lines_match(&lines("..."), &lines("x|y")));
    assert!(!lines_match(&lines("a|...|d"), &lines("a|b|c")));
    assert!(!lines_match(&lines("a|b"), &lines("a|b|c")));
    assert!(!lines_match(&lines("a|b|c"), &lines("a|b")));
}

#[test]
fn date_lines_match_any_date_and_nothing_else() {
    let lines = |text: &str| -> Vec<String> { text.split('|').map(String::from).collect() };
    let expected = lines("HTTP/1.1 200 OK|Date: ...|Last-Modified: ...");
    assert!(lines_match(
        &expected,
        &lines(
            "HTTP/1.1 200 OK|Date: Tue, 24 Nov 2026 09:07:02 GMT|\
             Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT"
        )
    ));
    assert!(line_matches(
        "Date: ...^M$",
        "Date: Sun, 06 Nov 1994 08:49:37 GMT^M$"
    ));
    for (expected, actual) in [
        // Not a date, or not in the IMF-fixdate form.
        ("Date: ...", "Date: yesterday"),
        ("Date: ...", "Date: Sunday, 06-Nov-94 08:49:37 GMT"),
        ("Date: ...", "Date: Sun, 06 Nov 1994 08:49:37 UTC"),
        ("Date: ...", "Date: Sun, 6 Nov 1994 08:49:37 GMT"),
        ("Date: ...", "Date: Sun, 06 Nov 1994 08:49:37 GMT extra"),
        // Another field, a missing `^M$`, or a field that is not a date field.
        ("Date: ...", "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Date: ...^M$", "Date: Sun, 06 Nov 1994 08:49:37 GMT$"),
        ("Expires: ...", "Expires: Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Date: ...", "Date: "),
    ] {
        assert!(
            !line_matches(expected, actual),
            "`{expected}` matched `{actual}`"
        );
    }
    // The rule stands for exactly one line, unlike a line `...`.
    assert!(!lines_match(&lines("Date: ..."), &lines("")));
}

#[test]
fn lesson13_and_14_values_match_in_their_places_only() {
    for (expected, actual) in [
        ("ETag: \"...-ed\"", "ETag: \"18eaef1d84e59200-ed\""),
        ("ETag: \"...-ed\"^M$", "ETag: \"18eaef1d84e59200-ed\"^M$"),
        (
            "<tr><td><a href=\"sun.png\">sun.png</a></td><td>1801</td><td>...</td></tr>",
            "<tr><td><a href=\"sun.png\">sun.png</a></td><td>1801</td>\
             <td>Tue, 24 Nov 2026 08:51:51 GMT</td></tr>",
        ),
        (
            "127.0.0.1 - - [...] \"GET / HTTP/1.1\" 200 895",
            "127.0.0.1 - - [24/Nov/2026:09:16:34 +0000] \"GET / HTTP/1.1\" 200 895",
        ),
    ] {
        assert!(
            line_matches(expected, actual),
            "`{expected}` did not match `{actual}`"
        );
    }
    for (expected, actual) in [
        // The size after the `-` is not a placeholder.
        ("ETag: \"...-ed\"", "ETag: \"18eaef1d84e59200-ee\""),
        ("ETag: \"...-ed\"", "ETag: \"-ed\""),
        ("ETag: \"...-ed\"", "ETag: \"18EAEF-ed\""),
        ("ETag: \"...-ed\"", "ETag: \"x\" \"1-ed\""),
        ("<td>...</td>", "<td>1801</td>"),
        (
            "<td>...</td>",
            "<td>Tue, 24 Nov 2026 08:51:51 GMT</td><td>x</td>",
        ),
        (
            "127.0.0.1 - - [...] \"GET / HTTP/1.1\" 200 895",
            "127.0.0.1 - - [24/Nov/2026:09:16:34] \"GET / HTTP/1.1\" 200 895",
        ),
        (
            "127.0.0.1 - - [...] \"GET / HTTP/1.1\" 200 895",
            "127.0.0.1 - - [24/Nov/2026:09:16:34 +0000] \"GET / HTTP/1.1\" 200 896",
        ),
        // Two placeholders, or one in no known place.
        ("<td>...</td><td>...</td>", "<td>x</td><td>y</td>"),
        ("Server: ...", "Server: anything"),
    ] {
        assert!(
            !line_matches(expected, actual),
            "`{expected}` matched `{actual}`"
        );
    }
}

#[test]
fn fences_of_any_length_nest() {
    let blocks = code_blocks(
        "text\n````markdown\n```console\n$ nothing\n```\n````\n\n  ```console\n  $ x\n  ```\n",
    );
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].info, "markdown");
    assert_eq!(blocks[0].content.len(), 3);
    assert_eq!(blocks[1].info, "console");
    assert_eq!(blocks[1].line, 8);
    assert_eq!(blocks[1].content, [(9, "$ x".to_owned())]);
}
