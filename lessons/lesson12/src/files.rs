//! Turning a request target into a file under the document root, safely.
//!
//! This is where a static server can go badly wrong: a target such as
//! `/../../etc/passwd` must never reach a file outside the folder we were
//! asked to serve. The rules, and the status code each broken rule earns:
//!
//! - 400 Bad Request for targets no honest client sends to a file server:
//!   invalid percent escapes, `..` segments (browsers and curl remove them
//!   before sending), encoded slashes or backslashes, NUL bytes, and names
//!   that are not UTF-8. Refusing them outright is simpler and safer than
//!   guessing what they might mean.
//! - 404 Not Found when no such file exists inside the root, and also when a
//!   symbolic link inside the root leads out of it. From the client's point of
//!   view there is no such file in the site, and a different answer would
//!   tell an attacker that something exists out there.
//! - 403 Forbidden when the file is in the site but the operating system does
//!   not let the server read it.

use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::HttpError;
use crate::request::Request;
use crate::response::{Response, http_date};

/// The file we answer with when the target names a folder.
const INDEX_FILE: &str = "index.html";

/// Answers a GET or HEAD with the file its target names under
/// `document_root`, or with 304 Not Modified when the client's copy is
/// still current.
///
/// `document_root` must be canonical (absolute, with no symbolic links), as
/// `main` makes it at start-up; the containment check below relies on that.
pub fn serve_file(document_root: &Path, request: &Request) -> Result<Response, HttpError> {
    let relative_path = target_to_relative_path(&request.target)?;
    let mut path = resolve_inside(document_root, &document_root.join(relative_path))?;
    if path.is_dir() {
        path = resolve_inside(document_root, &path.join(INDEX_FILE))?;
    }

    // Only regular files are served: not a folder without index.html, and
    // not a special file such as a named pipe, which would block us forever
    // as soon as we opened it. So we look before we open.
    if !path.metadata().map_err(file_error)?.is_file() {
        return Err(HttpError::NotFound);
    }
    let file = File::open(&path).map_err(file_error)?;
    let metadata = file.metadata().map_err(file_error)?;

    // HTTP dates count whole seconds, so the file's time is cut to whole
    // seconds too; otherwise a file changed at 12:00:00.5 would never match
    // the `12:00:00` the client got from us.
    // A file's time in the future (a wrong clock, a file copied from
    // elsewhere) is replaced by now: a server must not claim that a file
    // changed after the response that says so (RFC 9110, section 8.8.2.1).
    let modified = metadata.modified().map_err(file_error)?;
    let modified = whole_seconds(modified.min(SystemTime::now()));
    let last_modified = http_date(modified);
    if is_unchanged_since(request, modified) {
        return Ok(Response::not_modified(last_modified));
    }
    let mut response = Response::file(content_type(&path), file, metadata.len());
    response
        .header_fields
        .push(("Last-Modified", last_modified));
    Ok(response)
}

// ANCHOR: is_unchanged_since
/// The question a browser asks with `If-Modified-Since: DATE`: "I have a
/// copy from DATE; has the file changed since?" If not, we answer 304 and
/// the browser uses its copy. A date we cannot parse must be ignored
/// (RFC 9110, section 13.1.3), which then means a normal 200.
fn is_unchanged_since(request: &Request, modified: SystemTime) -> bool {
    // A client that sends `If-None-Match` asks by entity tag instead, and
    // then the date must be ignored (RFC 9110, section 13.1.3).
    if request.header("If-None-Match").is_some() {
        return false;
    }
    let Some(value) = request.header("If-Modified-Since") else {
        return false;
    };
    // Exercise lesson06: parse the If-Modified-Since date; unchanged when the file is not newer
    let Ok(client_copy) = httpdate::parse_http_date(value) else {
        return false;
    };
    modified <= client_copy
    // End of exercise lesson06.
}
// ANCHOR_END: is_unchanged_since

/// Drops the fraction of a second from a point in time.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}

/// Turns the path part of the target into a relative file path.
fn target_to_relative_path(target: &str) -> Result<PathBuf, HttpError> {
    Ok(path_segments(target)?.iter().collect())
}

/// Splits the path part of the target into decoded segments, checking each
/// one: `/guide/hello%20world.txt` becomes `["guide", "hello world.txt"]`.
/// Every segment is safe to use as one file name.
pub fn path_segments(target: &str) -> Result<Vec<String>, HttpError> {
    // The query (`?name=value`) selects nothing in a static file server.
    let without_query = target.split('?').next().unwrap_or_default();
    let url_path = strip_scheme_and_host(without_query);

    let mut segments = Vec::new();
    for raw_segment in url_path.split('/') {
        // The segment is decoded on its own, so `%2F` cannot become a slash
        // that splits it in two after we have checked it.
        let decoded = percent_decode(raw_segment).ok_or(HttpError::BadRequest(
            "the target has a % that is not followed by two hexadecimal digits",
        ))?;
        let segment = String::from_utf8(decoded).map_err(|_| {
            HttpError::BadRequest("the target's percent escapes do not decode to UTF-8 text")
        })?;
        if segment.is_empty() || segment == "." {
            continue;
        }
        if segment == ".." {
            // Exercise lesson05: a .. segment would leave the folder: answer 400
            return Err(HttpError::BadRequest(
                "the target must not climb out of a folder with ..",
            ));
            // End of exercise lesson05.
        }
        if segment.contains(['/', '\\', '\0']) {
            // Exercise lesson05: an encoded /, \ or NUL in a segment: answer 400
            return Err(HttpError::BadRequest(
                "the target must not contain encoded slashes, backslashes or NUL bytes",
            ));
            // End of exercise lesson05.
        }
        // What remains must be one plain file name on this operating system
        // too: on Windows, for example, `C:` would start a new absolute path.
        let mut components = Path::new(&segment).components();
        let (Some(Component::Normal(_)), None) = (components.next(), components.next()) else {
            return Err(HttpError::BadRequest(
                "the target contains a name this server cannot use as a file name",
            ));
        };
        segments.push(segment);
    }
    Ok(segments)
}

/// For an absolute-form target (`http://host/path`), keeps only `/path`.
/// An origin-form target (`/path`) is returned unchanged.
fn strip_scheme_and_host(target: &str) -> &str {
    // An origin-form target is a path already, even if `://` appears in it.
    if target.starts_with('/') {
        return target;
    }
    // Exercise lesson05: an absolute-form target: keep only the path after scheme and host
    let Some((_scheme, after_scheme)) = target.split_once("://") else {
        return target;
    };
    match after_scheme.find('/') {
        Some(path_start) => after_scheme.get(path_start..).unwrap_or("/"),
        None => "/",
    }
    // End of exercise lesson05.
}

/// Decodes percent escapes such as `%20` (a space) into the bytes they
/// stand for. Returns `None` when a `%` is not followed by two hex digits.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let mut decoded = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte != b'%' {
            decoded.push(byte);
            continue;
        }
        // Exercise lesson05: turn %XX into one byte: two hex digits (hex_digit_value), else None
        let high = bytes.next().and_then(hex_digit_value)?;
        let low = bytes.next().and_then(hex_digit_value)?;
        decoded.push(high * 16 + low);
        // End of exercise lesson05.
    }
    Some(decoded)
}

fn hex_digit_value(byte: u8) -> Option<u8> {
    let value = char::from(byte).to_digit(16)?;
    u8::try_from(value).ok()
}

// ANCHOR: resolve_inside
/// Follows every symbolic link in `path` and checks that the real location
/// is still inside the document root.
///
/// A production server would open the file relative to the root with the
/// operating system's help (Linux's `openat2` with `RESOLVE_BENEATH`), which
/// also closes the short gap between this check and the `open` that follows.
fn resolve_inside(document_root: &Path, path: &Path) -> Result<PathBuf, HttpError> {
    // Whatever stops us from finding the real location means that there is
    // no file here to serve: a missing file, a name that is too long, or a
    // loop of symbolic links that lead to each other and never to a file.
    let real_path = path.canonicalize().map_err(|_| HttpError::NotFound)?;
    if !real_path.starts_with(document_root) {
        // Exercise lesson05: a path that leads out of the document root (a symbolic link): 404
        return Err(HttpError::NotFound);
        // End of exercise lesson05.
    }
    Ok(real_path)
}
// ANCHOR_END: resolve_inside

/// Maps what the file system says to what we tell the client.
fn file_error(error: io::Error) -> HttpError {
    match error.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename => {
            HttpError::NotFound
        }
        io::ErrorKind::PermissionDenied => HttpError::Forbidden,
        _ => HttpError::Io(error),
    }
}

/// The media type, guessed from the file name's extension. Text files get
/// a charset, or browsers would have to guess how to decode them.
fn content_type(path: &Path) -> String {
    let media_type = mime_guess::from_path(path).first_or_octet_stream();
    if media_type.type_() == mime_guess::mime::TEXT {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.to_string()
    }
}
