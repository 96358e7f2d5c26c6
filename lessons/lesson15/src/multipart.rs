//! Reading a form sent as `multipart/form-data` (RFC 7578, RFC 2046).
//!
//! A browser sends a form with a file in it as a list of *parts*, one per
//! field. A line made of `--` and a *boundary*, a text the browser picked
//! because it does not occur in any of the files, comes before each part;
//! the same line with `--` at its end closes the list. Each part has a small
//! head of its own, like a request head, then its bytes:
//!
//! ```text
//! --XyZ
//! Content-Disposition: form-data; name="file"; filename="cat.png"
//! Content-Type: image/png
//!
//! (the bytes of cat.png)
//! --XyZ--
//! ```
//!
//! A part's bytes end where `CR LF --XyZ` begins, and nothing else says
//! where: there is no length. So we must search for that delimiter while
//! the bytes stream past, without ever holding a whole file in memory.

use std::io::{self, Read, Write};

use crate::error::HttpError;
use crate::request::Request;

/// RFC 2046, section 5.1.1: a boundary has 1 to 70 characters.
const MAX_BOUNDARY_LENGTH: usize = 70;

/// A part's head holds a few short lines. Anything longer is not a form.
const MAX_PART_HEAD_BYTES: usize = 8 * 1024;

/// A form with more parts than this is refused. Each part costs some work,
/// and a server must set a limit on every kind of work a client can ask for.
const MAX_PARTS: usize = 100;

/// How many bytes we read from the connection at a time.
const CHUNK_BYTES: usize = 16 * 1024;

/// What the head of one part says about it.
pub struct PartHead {
    /// The `name` parameter: the name of the form's field.
    pub name: String,
    /// The `filename` parameter, if the part is a file.
    pub filename: Option<String>,
}

/// Finds the boundary in `Content-Type: multipart/form-data; boundary=XyZ`.
/// This happens before any byte of the body is read.
pub fn boundary(request: &Request) -> Result<String, HttpError> {
    // Exercise lesson09: the boundary parameter of a multipart/form-data Content-Type, else 400 or 415
    let content_type = request.header("Content-Type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("multipart/form-data") {
        return Err(HttpError::NotMultipart);
    }
    let boundary = parameter(content_type, "boundary").unwrap_or_default();
    // RFC 2046 allows letters, digits, a few marks, and spaces, but not as
    // the last character, where they could not be told from padding.
    let is_boundary_character =
        |byte: u8| byte.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&byte);
    if boundary.is_empty()
        || boundary.len() > MAX_BOUNDARY_LENGTH
        || boundary.ends_with(' ')
        || !boundary.bytes().all(is_boundary_character)
    {
        return Err(HttpError::BadRequest(
            "multipart/form-data needs a boundary parameter of 1 to 70 letters, digits or '()+_,-./:=?",
        ));
    }
    Ok(boundary)
    // End of exercise lesson09.
}

/// Finds the parameter `name` in a field value such as
/// `form-data; name="file"; filename="cat.png"`. The value may be quoted,
/// and then it may hold `;` and spaces.
pub fn parameter(field_value: &str, name: &str) -> Option<String> {
    let mut rest = field_value.split_once(';')?.1;
    loop {
        let (key, after_key) = rest.split_once('=')?;
        let after_key = after_key.trim_start();
        let (value, after_value) = match after_key.strip_prefix('"') {
            Some(quoted) => {
                let (value, after) = quoted.split_once('"')?;
                (value, after.split_once(';').map_or("", |(_, more)| more))
            }
            None => after_key.split_once(';').unwrap_or((after_key, "")),
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(value.trim().to_owned());
        }
        rest = after_value;
    }
}

/// What follows a delimiter `CR LF --boundary` in the body.
enum AfterDelimiter {
    /// Optional spaces or tabs, then CR LF: another part begins.
    Part,
    /// `--`: this was the close delimiter, the form is complete.
    End,
    /// Something else: the delimiter was only data that looks like one.
    Data,
}

/// Where in the body we are.
#[derive(PartialEq, Eq)]
enum Position {
    /// In the data of a part (or in the preamble before the first part).
    InData,
    /// Right after a delimiter line, where the head of a part begins.
    BeforeHead,
    /// After the close delimiter.
    AtEnd,
}

/// A multipart body that is read part by part, through a buffer of a fixed
/// size, from `body` (which must end where the request's body ends).
pub struct Multipart<R: Read> {
    body: R,
    /// `CR LF --boundary`, the text that ends every part.
    delimiter: Vec<u8>,
    /// Bytes read from `body` but not handled yet.
    buffer: Vec<u8>,
    position: Position,
    parts: usize,
}

impl<R: Read> Multipart<R> {
    pub fn new(body: R, boundary: &str) -> Multipart<R> {
        // The first delimiter may stand at the very start of the body, with
        // no CR LF before it. Starting the buffer with one CR LF lets us
        // treat it like every other delimiter.
        Multipart {
            body,
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            buffer: b"\r\n".to_vec(),
            position: Position::InData,
            parts: 0,
        }
    }

    // ANCHOR: next_part
    /// Reads up to the head of the next part, and returns it, or `None`
    /// when the close delimiter has been read. What comes before the first
    /// part (the preamble) is skipped, and so is any part data the caller
    /// did not read with `read_data`.
    pub fn next_part(&mut self) -> Result<Option<PartHead>, HttpError> {
        // Exercise lesson09: find the next delimiter, read the part head; None after the last
        self.read_data(&mut io::sink())?;
        if self.position == Position::AtEnd {
            // The epilogue after the close delimiter means nothing, but it
            // belongs to this request's body, so we read it to its end.
            io::copy(&mut self.body, &mut io::sink())?;
            return Ok(None);
        }
        self.position = Position::InData;
        self.parts += 1;
        if self.parts > MAX_PARTS {
            return Err(HttpError::BadRequest("the form has too many parts"));
        }
        let head = self.read_part_head()?;
        let disposition = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("Content-Disposition"))
            .map(|(_, value)| value.trim().to_owned())
            .ok_or(HttpError::BadRequest(
                "every part of a form needs a Content-Disposition field",
            ))?;
        Ok(Some(PartHead {
            name: parameter(&disposition, "name").unwrap_or_default(),
            filename: parameter(&disposition, "filename"),
        }))
        // End of exercise lesson09.
    }
    // ANCHOR_END: next_part

    /// Reads the head of a part, up to and including its empty line.
    fn read_part_head(&mut self) -> Result<String, HttpError> {
        loop {
            // A head without any field is just the empty line.
            let end = if self.buffer.starts_with(b"\r\n") {
                Some((0, 2))
            } else {
                find(&self.buffer, b"\r\n\r\n").map(|at| (at, at + 4))
            };
            if let Some((head_end, body_start)) = end {
                let head = self.buffer.get(..head_end).unwrap_or_default();
                let head = String::from_utf8_lossy(head).into_owned();
                self.buffer.drain(..body_start);
                return Ok(head);
            }
            if self.buffer.len() > MAX_PART_HEAD_BYTES {
                return Err(HttpError::BadRequest("the head of a part is too large"));
            }
            self.read_more()?;
        }
    }

    // ANCHOR: read_data
    /// Copies the data of the current part to `destination`, up to the next
    /// delimiter, reads past that delimiter, and returns how many bytes of
    /// data it copied. (If the data has been read already, there is nothing
    /// left to do, and that is 0 bytes.)
    ///
    /// The buffer never holds much more than one chunk: whatever cannot be
    /// the start of a delimiter goes to `destination` at once. Only the last
    /// `delimiter.len() - 1` bytes are kept back, because a delimiter may
    /// begin there whose end has not arrived yet.
    pub fn read_data(&mut self, destination: &mut impl Write) -> Result<u64, HttpError> {
        // Exercise lesson09: copy the part data up to the next delimiter, through the buffer
        // A `usize` always fits into a `u64`, so the `as` conversions below
        // never lose anything.
        let mut copied = 0;
        while self.position == Position::InData {
            if let Some(at) = find(&self.buffer, &self.delimiter) {
                let after = at + self.delimiter.len();
                match self.what_follows(after)? {
                    AfterDelimiter::Data => {
                        // Not a delimiter: its first byte is data, and the
                        // search goes on behind it.
                        destination.write_all(self.buffer.get(..=at).unwrap_or_default())?;
                        copied += at as u64 + 1;
                        self.buffer.drain(..=at);
                    }
                    AfterDelimiter::Part => {
                        destination.write_all(self.buffer.get(..at).unwrap_or_default())?;
                        copied += at as u64;
                        // The delimiter line ends with the first CR LF after
                        // it; any spaces or tabs before that are padding.
                        let line = self.buffer.get(after..).unwrap_or_default();
                        let line_end = after + find(line, b"\r\n").unwrap_or_default() + 2;
                        self.buffer.drain(..line_end);
                        self.position = Position::BeforeHead;
                    }
                    AfterDelimiter::End => {
                        destination.write_all(self.buffer.get(..at).unwrap_or_default())?;
                        copied += at as u64;
                        self.buffer.clear();
                        self.position = Position::AtEnd;
                    }
                }
                continue;
            }
            let keep = self.delimiter.len() - 1;
            if self.buffer.len() > keep {
                let done = self.buffer.len() - keep;
                destination.write_all(self.buffer.get(..done).unwrap_or_default())?;
                copied += done as u64;
                self.buffer.drain(..done);
            }
            self.read_more()?;
        }
        Ok(copied)
        // End of exercise lesson09.
    }
    // ANCHOR_END: read_data

    /// Looks at the bytes from `start` on, right after a delimiter, and
    /// reads more until it can tell what they mean.
    fn what_follows(&mut self, start: usize) -> Result<AfterDelimiter, HttpError> {
        loop {
            let rest = self.buffer.get(start..).unwrap_or_default();
            let padding = rest
                .iter()
                .take_while(|&&byte| byte == b' ' || byte == b'\t')
                .count();
            let after_padding = rest.get(padding..).unwrap_or_default();
            if rest.starts_with(b"--") {
                return Ok(AfterDelimiter::End);
            }
            if after_padding.starts_with(b"\r\n") {
                return Ok(AfterDelimiter::Part);
            }
            // Too few bytes to tell: `-` may become `--`, `CR` may become
            // `CR LF`, and padding may go on.
            let undecided = rest == b"-" || after_padding.is_empty() || after_padding == b"\r";
            if !undecided {
                return Ok(AfterDelimiter::Data);
            }
            if rest.len() > MAX_PART_HEAD_BYTES {
                return Err(HttpError::BadRequest("a delimiter line is too long"));
            }
            self.read_more()?;
        }
    }

    /// Reads the next chunk of the body into the buffer. The body must not
    /// end before the close delimiter: a form cut short is an error.
    fn read_more(&mut self) -> Result<(), HttpError> {
        let mut chunk = [0; CHUNK_BYTES];
        let count = self.body.read(&mut chunk)?;
        if count == 0 {
            return Err(HttpError::BadRequest(
                "the form ended before its close delimiter (--boundary--)",
            ));
        }
        self.buffer
            .extend_from_slice(chunk.get(..count).unwrap_or_default());
        Ok(())
    }
}

/// The position of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
