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

use std::fs::{File, Metadata};
use std::io::{self, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::HttpError;
use crate::listing;
use crate::ranges::{self, ByteRange};
use crate::request::Request;
use crate::response::{Response, http_date};

/// The file we answer with when the target names a folder.
const INDEX_FILE: &str = "index.html";

/// Answers a GET or HEAD with the file its target names under
/// `document_root`: the whole file, a part of it (see `ranges.rs`), 304 Not
/// Modified when the client's copy is still current, 412 Precondition
/// Failed when the file is no longer the version the client expects, a
/// listing for a folder without `index.html`, or a redirect for a folder
/// whose URL lacks the trailing slash.
///
/// `document_root` is a folder opened once at start-up (see `ServedFolder`).
pub fn serve_file(document_root: &ServedFolder, request: &Request) -> Result<Response, HttpError> {
    let segments = path_segments(&request.target)?;
    let mut relative_path: PathBuf = segments.iter().collect();
    let names_folder = url_path(&request.target).ends_with('/');
    // ANCHOR: folders
    let (mut file, metadata) = match open_inside(document_root, &relative_path)? {
        Found::File(file, metadata) => {
            // `/notes.txt/` asks for a folder, and there is no such folder.
            if names_folder {
                return Err(HttpError::NotFound);
            }
            (file, metadata)
        }
        Found::Folder => {
            // A browser resolves relative links (`<img src="photo.jpg">`)
            // against the URL. For `/photos` that gives `/photo.jpg`, so a
            // folder is only served at `/photos/`, and we send the browser
            // there.
            if !names_folder {
                return Ok(Response::moved_permanently(&folder_location(
                    &segments,
                    &request.target,
                )));
            }
            let folder = document_root.path.join(&relative_path);
            relative_path.push(INDEX_FILE);
            match open_inside(document_root, &relative_path) {
                Ok(Found::File(file, metadata)) => (file, metadata),
                // No index file (or a folder called index.html): a listing.
                Ok(Found::Folder) | Err(HttpError::NotFound) => {
                    return listing::folder_listing(&document_root.path, &folder, &segments);
                }
                Err(error) => return Err(error),
            }
        }
    };
    // ANCHOR_END: folders
    let path = relative_path;
    let exact_modified = metadata.modified().map_err(file_error)?;
    let size = metadata.len();

    // HTTP dates count whole seconds, so the file's time is cut to whole
    // seconds too; otherwise a file changed at 12:00:00.5 would never match
    // the `12:00:00` the client got from us.
    // A file's time in the future (a wrong clock, a file copied from
    // elsewhere) is replaced by now: a server must not claim that a file
    // changed after the response that says so (RFC 9110, section 8.8.2.1).
    let modified = whole_seconds(exact_modified.min(SystemTime::now()));
    let entity_tag = entity_tag(exact_modified, size);
    let last_modified = http_date(modified);
    // ANCHOR: validators
    let validators = vec![
        ("ETag", entity_tag.clone()),
        ("Last-Modified", last_modified.clone()),
    ];
    match evaluate_preconditions(request, &entity_tag, modified) {
        Precondition::Holds => {}
        Precondition::NotModified => return Ok(Response::not_modified(validators)),
        Precondition::Failed => return Err(HttpError::PreconditionFailed),
    }
    // ANCHOR_END: validators

    // ANCHOR: range_response
    let mut response = match ranges::requested_range(request, size, &entity_tag, &last_modified) {
        ByteRange::Whole => Response::file(content_type(&path), file, size),
        ByteRange::Part { start, end } => {
            file.seek(SeekFrom::Start(start))?;
            Response::partial_file(content_type(&path), file, start, end, size)
        }
        ByteRange::Unsatisfiable => return Err(HttpError::RangeNotSatisfiable(size)),
    };
    // ANCHOR_END: range_response
    // Tells clients that they may ask for ranges of this file.
    response
        .header_fields
        .push(("Accept-Ranges", "bytes".to_owned()));
    response.header_fields.extend(validators);
    Ok(response)
}

/// The URL of a folder, with its trailing slash and the query if there was
/// one. It is built from the checked segments, never copied from the
/// target, so it always starts with a single `/`: a `Location` starting
/// with `//evil.example` would send the browser to another host.
fn folder_location(segments: &[String], target: &str) -> String {
    // Exercise lesson14: the folder target with a slash added, the query kept
    let mut location = String::from("/");
    for segment in segments {
        location.push_str(&percent_encode(segment));
        location.push('/');
    }
    if let Some((_, query)) = target.split_once('?') {
        location.push('?');
        location.push_str(query);
    }
    location
    // End of exercise lesson14.
}

// ANCHOR: entity_tag
/// A label for this version of the file, an "entity tag" (RFC 9110,
/// section 8.8.3). It changes whenever the file's size or modification time
/// changes. Like nginx, we make it from those two instead of hashing the
/// content, which would mean reading the whole file for every request.
///
/// The time is counted in nanoseconds from 1970, with a sign: a file from
/// before 1970 (a restored backup, a wrong clock) gets `-` and its own
/// distance from 1970, so two such files never share a tag.
fn entity_tag(modified: SystemTime, size: u64) -> String {
    let (sign, since_1970) = match modified.duration_since(UNIX_EPOCH) {
        Ok(after) => ("", after),
        Err(before) => ("-", before.duration()),
    };
    let nanoseconds = since_1970.as_nanos();
    format!("\"{sign}{nanoseconds:x}-{size:x}\"")
}
// ANCHOR_END: entity_tag

// ANCHOR: preconditions
/// What the conditional header fields of a request decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precondition {
    /// Every condition holds (or there is none): send the file.
    Holds,
    /// The client's copy is still current: 304 Not Modified.
    NotModified,
    /// The client asked for the version it knows, and the file is no
    /// longer that version: 412 Precondition Failed.
    Failed,
}

/// Evaluates the conditions in the order of RFC 9110, section 13.2.2.
/// Ranges and `If-Range` come last, in `ranges.rs`.
fn evaluate_preconditions(
    request: &Request,
    entity_tag: &str,
    modified: SystemTime,
) -> Precondition {
    // Step 1: is the file still the version the client expects? `If-Match`
    // compares strongly: a weak tag (`W/"..."`) never matches, and `*`
    // matches any file that exists. Without `If-Match`, the date of
    // `If-Unmodified-Since` asks the same question, less precisely.
    if request.header("If-Match").is_some() {
        if !any_tag_matches(request, "If-Match", |tag| tag == entity_tag) {
            return Precondition::Failed;
        }
    } else if changed_since(request, "If-Unmodified-Since", modified) == Some(true) {
        return Precondition::Failed;
    }
    // Step 2: has the client's copy changed? `If-None-Match` compares
    // weakly: a `W/` in front is ignored (RFC 9110, section 8.8.3.2), but
    // only one; `W/W/"..."` is not a tag at all, so it matches nothing.
    // With it, `If-Modified-Since` is ignored: a tag is more precise than
    // a date. Only GET and HEAD come here, so the answer is 304.
    if request.header("If-None-Match").is_some() {
        if any_tag_matches(request, "If-None-Match", |tag| {
            tag.strip_prefix("W/").unwrap_or(tag) == entity_tag
        }) {
            return Precondition::NotModified;
        }
    } else if changed_since(request, "If-Modified-Since", modified) == Some(false) {
        return Precondition::NotModified;
    }
    Precondition::Holds
}

/// Whether `*` or one of the entity tags listed in the fields called
/// `name` (each field may hold a list, `"a", "b"`) matches.
fn any_tag_matches(request: &Request, name: &str, matches: impl Fn(&str) -> bool) -> bool {
    request
        .header_values(name)
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || matches(tag))
}

/// Whether the file changed after the date in the field `name`. `None`
/// when there is no such field or its value is not a date; the field is
/// then ignored (RFC 9110, sections 13.1.3 and 13.1.4).
fn changed_since(request: &Request, name: &str, modified: SystemTime) -> Option<bool> {
    let date = httpdate::parse_http_date(request.header(name)?).ok()?;
    Some(modified > date)
}
// ANCHOR_END: preconditions

/// Drops the fraction of a second from a point in time.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}

/// Splits the path part of the target into decoded segments, checking each
/// one: `/guide/hello%20world.txt` becomes `["guide", "hello world.txt"]`.
/// Every segment is safe to use as one file name.
pub fn path_segments(target: &str) -> Result<Vec<String>, HttpError> {
    let mut segments = Vec::new();
    for raw_segment in url_path(target).split('/') {
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

/// The path part of the target, still percent-encoded. The query
/// (`?name=value`) selects nothing in a static file server.
fn url_path(target: &str) -> &str {
    let without_query = target.split('?').next().unwrap_or_default();
    strip_scheme_and_host(without_query)
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

/// The opposite of `percent_decode`: letters, digits and `-._~` stay, every
/// other byte becomes `%XX`.
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

// ANCHOR: open_inside
/// A folder that files are served from: its canonical path (absolute, with
/// no symbolic links), and on Linux the folder itself, opened once at
/// start-up, so that every request can open its file relative to it.
pub struct ServedFolder {
    pub path: PathBuf,
    #[cfg(target_os = "linux")]
    opened: File,
}

impl ServedFolder {
    pub fn open(path: PathBuf) -> io::Result<ServedFolder> {
        Ok(ServedFolder {
            #[cfg(target_os = "linux")]
            opened: File::open(&path)?,
            path,
        })
    }
}

/// What a path inside a served folder leads to. Anything else (a named
/// pipe, a device) is not served: 404.
enum Found {
    File(File, Metadata),
    Folder,
}

/// Opens what `relative_path` names inside `folder`, and nothing outside it.
///
/// On Linux one system call does it all: `openat2` with `RESOLVE_BENEATH`
/// resolves the path relative to the opened folder, follows symbolic links
/// only as long as they stay beneath it (a link that leads out fails with
/// `EXDEV`), and opens the file. Canonicalising the path first costs a
/// system call for every folder on the way, and leaves a short gap between
/// the check and the `open` in which someone could swap a link in. nginx and
/// other modern servers work this way. `O_NONBLOCK` makes the open return
/// at once even for a named pipe, which we then refuse after a look at what
/// we opened; for a regular file it changes nothing.
fn open_inside(folder: &ServedFolder, relative_path: &Path) -> Result<Found, HttpError> {
    #[cfg(target_os = "linux")]
    {
        use nix::errno::Errno;
        use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
        // The folder itself is `.` inside itself; an empty path is an error.
        let path = if relative_path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative_path
        };
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        match openat2(&folder.opened, path, how) {
            Ok(descriptor) => return what_was_opened(File::from(descriptor)),
            // Linux before 5.6 has no `openat2`: the portable way below.
            Err(Errno::ENOSYS) => {}
            // A link out of the folder (EXDEV), a loop of links (ELOOP), a
            // name too long: as with a missing file, there is no such file
            // in the site.
            Err(Errno::EXDEV | Errno::ELOOP | Errno::ENAMETOOLONG) => {
                return Err(HttpError::NotFound);
            }
            Err(errno) => return Err(file_error(io::Error::from(errno))),
        }
    }
    // Elsewhere: find the real location, check it, and only then open.
    let real_path = resolve_inside(&folder.path, &folder.path.join(relative_path))?;
    let metadata = real_path.metadata().map_err(file_error)?;
    if metadata.is_dir() {
        return Ok(Found::Folder);
    }
    // Look before we open: opening a named pipe would wait for a writer.
    if !metadata.is_file() {
        return Err(HttpError::NotFound);
    }
    what_was_opened(File::open(&real_path).map_err(file_error)?)
}

/// Looks at an opened file: a folder, a regular file, or something we do
/// not serve.
fn what_was_opened(file: File) -> Result<Found, HttpError> {
    let metadata = file.metadata().map_err(file_error)?;
    if metadata.is_dir() {
        return Ok(Found::Folder);
    }
    if !metadata.is_file() {
        return Err(HttpError::NotFound);
    }
    Ok(Found::File(file, metadata))
}
// ANCHOR_END: open_inside

/// Follows every symbolic link in `path` and checks that the real location
/// is still inside the document root. (`open_inside` uses it where there is
/// no `openat2`; the folder listing uses it for each of its entries.)
pub fn resolve_inside(document_root: &Path, path: &Path) -> Result<PathBuf, HttpError> {
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

/// Maps what the file system says to what we tell the client.
pub fn file_error(error: io::Error) -> HttpError {
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
