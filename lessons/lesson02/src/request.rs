//! Reading the request head from the connection (RFC 9112, section 2).

use std::io::{self, BufRead, Read};
use std::time::{Duration, Instant};

use crate::error::HttpError;

/// The most bytes of request head we read. Real servers use similar limits
/// (8 KiB is common); without one, a client could make us store endless data.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The most empty lines we skip before the request line. Apache allows 10
/// too; a head of nothing but empty lines is not a request.
const MAX_EMPTY_LINES: usize = 10;

/// Reads one request head from the connection and returns its first line,
/// the request line, as text. This lesson does not take it apart yet.
///
/// Returns `Ok(None)` when the client closes the connection without sending
/// anything: that is not an error, there is just nothing to answer.
pub fn read_request(
    reader: &mut impl BufRead,
    head_timeout: Duration,
) -> Result<Option<String>, HttpError> {
    // The whole head must arrive within `head_timeout`, however slowly its
    // bytes trickle in.
    let mut reader = Deadline {
        reader,
        deadline: Instant::now() + head_timeout,
    };
    let Some(lines) = read_head(&mut reader)? else {
        return Ok(None);
    };
    let Some(request_line) = lines.first() else {
        return Ok(None);
    };
    Ok(Some(String::from_utf8_lossy(request_line).into_owned()))
}

// ANCHOR: deadline
/// A reader that gives up once its deadline has passed.
///
/// The read timeout of the connection limits only each single wait for
/// bytes. A client that sends one byte every few seconds never runs into
/// it, and could keep the server busy for as long as it likes: a slow
/// attack that needs almost no bandwidth. A deadline for the whole head
/// stops that; Apache's `mod_reqtimeout` does the same.
struct Deadline<R> {
    reader: R,
    deadline: Instant,
}

impl<R: BufRead> Read for Deadline<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.fill_buf()?.read(buffer)?;
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Deadline<R> {
    /// Every wait for more bytes starts here, so this is where we look at
    /// the clock. `TimedOut` becomes 408 Request Timeout (see `error.rs`).
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if Instant::now() >= self.deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time",
            ));
        }
        self.reader.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.reader.consume(amount);
    }
}
// ANCHOR_END: deadline

// ANCHOR: read_head
/// Reads the head line by line, up to the empty line that ends it, and
/// returns its lines without their line endings.
///
/// The bytes may arrive in any number of pieces; `read_until` keeps reading
/// until it has a whole line. Every line must end with CR LF.
fn read_head(reader: &mut impl BufRead) -> Result<Option<Vec<Vec<u8>>>, HttpError> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut bytes_left = MAX_HEAD_BYTES;
    let mut empty_lines_skipped = 0;
    loop {
        // `take` makes sure that even one endless line cannot read past the
        // limit: `read_until` stops when the allowance is used up.
        let mut line = Vec::new();
        let bytes_read = reader
            .by_ref()
            .take(bytes_left as u64)
            .read_until(b'\n', &mut line)?;
        bytes_left = bytes_left.saturating_sub(bytes_read);

        let Some(line_without_lf) = line.strip_suffix(b"\n") else {
            if bytes_left == 0 && lines.is_empty() {
                // Exercise lesson02: the limit is used up before the first line ends: answer 414
                return Err(HttpError::UriTooLong);
                // End of exercise lesson02.
            }
            if bytes_left == 0 {
                // Exercise lesson02: the limit is used up in a later line: answer 431
                return Err(HttpError::HeadTooLarge);
                // End of exercise lesson02.
            }
            if lines.is_empty() && line.is_empty() {
                return Ok(None);
            }
            return Err(HttpError::BadRequest(
                "the connection ended before the empty line that ends the head",
            ));
        };
        let Some(line_without_crlf) = line_without_lf.strip_suffix(b"\r") else {
            // Exercise lesson02: a line without CR before its LF: answer 400 (HttpError::BadRequest)
            return Err(HttpError::BadRequest(
                "every line of the head must end with CR LF (\\r\\n), not with a bare LF",
            ));
            // End of exercise lesson02.
        };

        if line_without_crlf.is_empty() {
            // RFC 9112, section 2.2: a server should ignore empty lines that
            // arrive before the request line (some old clients send them).
            // A few are enough; many are a bad request, not a long target.
            if lines.is_empty() {
                // Exercise lesson02: an empty line before the request line: skip it (up to MAX_EMPTY_LINES, then 400)
                empty_lines_skipped += 1;
                if empty_lines_skipped > MAX_EMPTY_LINES {
                    return Err(HttpError::BadRequest(
                        "too many empty lines before the request line",
                    ));
                }
                continue;
                // End of exercise lesson02.
            }
            return Ok(Some(lines));
        }
        lines.push(line_without_crlf.to_vec());
    }
}
// ANCHOR_END: read_head
