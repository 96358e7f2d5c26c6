//! Uploads, the second half: the files of an HTML form, stored byte for
//! byte.
//!
//! The page /upload.html has a form that posts one or more files to
//! `POST /uploads` as `multipart/form-data` (`multipart.rs` reads it). Each
//! file is stored in the folder `uploads/` of the data folder, and
//! `GET /uploads/NAME` serves it back. Three promises make this safe:
//! - The client's file name is never used as a path. We keep only the
//!   characters that are safe everywhere (`safe_name`).
//! - A broken upload leaves nothing behind, and a form with several files
//!   stores all of them or none. Every file first goes to a temporary file,
//!   and only once the whole form has arrived do they get their real names.
//! - An existing file is never replaced. If a name is taken, the answer is
//!   409 Conflict, and nothing of the request is stored.
//!
//! All uploads together may take at most `--max-storage` bytes, so that
//! nobody can fill the disk; beyond that, the answer is 507 Insufficient
//! Storage, and again nothing is stored.

use std::fs::{self, File};
use std::io::{self, BufRead, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::body;
use crate::error::HttpError;
use crate::files;
use crate::guestbook;
use crate::multipart::{self, Multipart};
use crate::request::Request;
use crate::response::{Response, escape_html};

/// The folder, inside the data folder, that holds uploaded files. Its name
/// is also the start of their URLs: `/uploads/NAME`.
pub const UPLOADS_FOLDER: &str = "uploads";

/// Temporary files start with a dot, a name no upload may have, so they can
/// never be requested.
const TEMPORARY_PREFIX: &str = ".upload-";

const MAX_NAME_LENGTH: usize = 100;

/// The name a file gets when nothing of its own name is left.
const FALLBACK_NAME: &str = "upload";

/// What a client reads when the uploads have no room left.
const STORAGE_FULL: &str = "the storage for uploads is full, so nothing was stored";

/// Creates the uploads folder, and removes temporary files that a crash
/// left behind.
pub fn prepare_folder(data_folder: &Path) -> io::Result<()> {
    let folder = data_folder.join(UPLOADS_FOLDER);
    fs::create_dir_all(&folder)?;
    for entry in fs::read_dir(&folder)? {
        let entry = entry?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(TEMPORARY_PREFIX)
        {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Upload names are kept simple on purpose: 1 to 100 letters, digits, `.`,
/// `_` or `-`, and no dot at the start (no hidden files, no `..`). Such a
/// name means the same on every operating system and needs no escaping.
pub fn is_valid_name(name: &str) -> bool {
    let is_name_character = |byte: u8| byte.is_ascii_alphanumeric() || b"._-".contains(&byte);
    (1..=MAX_NAME_LENGTH).contains(&name.len())
        && !name.starts_with('.')
        && name.bytes().all(is_name_character)
}

// ANCHOR: safe_name
/// Turns the file name a client sent into a valid upload name.
///
/// Browsers send only the name, but any client can send
/// `../../etc/passwd` or `C:\Users\a.txt`. So we keep what follows the last
/// `/` or `\`, replace every character that is not a letter, digit, `.`,
/// `_` or `-` with `_`, remove dots at the start, and cut it to 100 bytes.
pub fn safe_name(filename: &str) -> String {
    // Exercise lesson10: a file name that is safe to store: no path, no odd characters
    let last = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let replaced: String = last
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    let name: String = replaced
        .trim_start_matches('.')
        .chars()
        .take(MAX_NAME_LENGTH)
        .collect();
    if name.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        name
    }
    // End of exercise lesson10.
}
// ANCHOR_END: safe_name

// ANCHOR: serve
/// Answers `GET /uploads/NAME` with an uploaded file.
///
/// Uploads live in the data folder under `uploads/`, so the path of
/// `/uploads/NAME` can be served from there with the same safe code as the
/// site's files. But anybody can upload, and an uploaded HTML page (or SVG
/// picture) may contain a script. Served from our own address, that script
/// could act on this site in the name of whoever opens the link, for
/// example sign the guestbook ("stored cross-site scripting"). Two header
/// fields prevent that: `Content-Security-Policy: sandbox` makes the browser
/// show the file as if it came from nowhere, with scripts switched off, and
/// `X-Content-Type-Options: nosniff` stops it from guessing that a file is
/// HTML when we said it is something else.
pub fn serve(data_folder: &files::ServedFolder, request: &Request) -> Result<Response, HttpError> {
    // Exercise lesson10: serve a stored upload, sandboxed: attachment, nosniff
    let mut response = files::serve_file(data_folder, request)?;
    response
        .header_fields
        .push(("Content-Security-Policy", "sandbox".to_owned()));
    response
        .header_fields
        .push(("X-Content-Type-Options", "nosniff".to_owned()));
    Ok(response)
    // End of exercise lesson10.
}
// ANCHOR_END: serve

// ANCHOR: store
/// Answers `POST /uploads`: stores every file of the form and answers
/// 201 Created with their URLs.
///
/// `max_body_bytes` limits the whole body, and a file is only a piece of
/// the body, so it limits each file as well. `max_storage_bytes` limits
/// all uploaded files together.
pub fn store(
    data_folder: &Path,
    request: &Request,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    max_body_bytes: u64,
    max_storage_bytes: u64,
) -> Result<Response, HttpError> {
    let boundary = multipart::boundary(request)?;
    let folder = data_folder.join(UPLOADS_FOLDER);
    // The files are a piece of the body, so they need at most its length.
    // If even that much room is missing, we refuse before reading a byte,
    // and before `expect_body` tells a waiting client to send the body. A
    // body over `max_body_bytes` keeps its 413.
    let announced = body::body_length(request)?.unwrap_or(0);
    if announced <= max_body_bytes && folder_size(&folder)? + announced > max_storage_bytes {
        return Err(HttpError::InsufficientStorage(STORAGE_FULL));
    }
    let length = body::expect_body(request, stream, max_body_bytes)?;

    // Every file streams into a temporary file of its own. Fields that are
    // not files are skipped by `next_part` without being kept.
    let mut form = Multipart::new(reader.take(length), &boundary);
    let mut received = Vec::new();
    let mut fields = Vec::new();
    while let Some(part) = form.next_part()? {
        let Some(filename) = part.filename.filter(|name| !name.is_empty()) else {
            continue;
        };
        let mut temporary = TemporaryFile::create(&folder)?;
        let bytes = form.read_data(&mut temporary.file)?;
        // The bytes must be on the disk before we give the file its name,
        // or a crash could leave a name without its content.
        temporary.file.sync_all()?;
        fields.push((part.name, bytes));
        received.push((safe_name(&filename), temporary));
        // Another upload may have been filling the folder at the same time
        // (from lesson 12 on, one can), so we look again after every file.
        // Returning drops the temporary files, which removes them.
        if folder_size(&folder)? > max_storage_bytes {
            return Err(HttpError::InsufficientStorage(STORAGE_FULL));
        }
    }
    // A browser sends `filename=""` when nobody chose a file.
    if received.is_empty() {
        return Err(HttpError::BadRequest("the form holds no file"));
    }
    let urls = give_names(&folder, &received)?;
    // The new names are entries in the folder: they must be on the disk
    // before the 201 promises that the files are stored.
    guestbook::sync_folder(&folder)?;

    // The same list as lesson 09's answer, with a link for every file.
    let items: String = fields
        .iter()
        .zip(&urls)
        .map(|((name, bytes), url)| {
            let (name, url) = (escape_html(name), escape_html(url));
            format!("<li>field {name}, file <a href=\"{url}\">{url}</a>: {bytes} bytes</li>\n")
        })
        .collect();
    let first = urls.first().cloned().unwrap_or_default();
    Ok(Response::created(
        &first,
        format!("<!DOCTYPE html>\n<title>Stored</title>\n<ul>\n{items}</ul>\n"),
    ))
}
// ANCHOR_END: store

// ANCHOR: give_names
/// Gives every received file its final name, or, if one of the names is
/// taken, none of them.
///
/// `rename` would silently replace a file that appeared in the meantime. A
/// hard link gives the same content a second name and fails if that name
/// exists, in one step that nothing can come between. If it fails, we
/// remove the names this request has made so far.
fn give_names(
    folder: &Path,
    received: &[(String, TemporaryFile)],
) -> Result<Vec<String>, HttpError> {
    // Exercise lesson10: choose names that exist nowhere yet, then rename the files
    let mut linked = Vec::new();
    for (name, temporary) in received {
        let final_path = folder.join(name);
        if let Err(error) = fs::hard_link(&temporary.path, &final_path) {
            for path in &linked {
                let _ = fs::remove_file(path);
            }
            return Err(match error.kind() {
                io::ErrorKind::AlreadyExists => HttpError::Conflict,
                _ => HttpError::Io(error),
            });
        }
        linked.push(final_path);
    }
    // Dropping the temporary files removes their names; the files live on
    // under their final names.
    Ok(received
        .iter()
        .map(|(name, _)| format!("/{UPLOADS_FOLDER}/{name}"))
        .collect())
    // End of exercise lesson10.
}
// ANCHOR_END: give_names

/// How many bytes the files in `folder` hold together, temporary files
/// included. Counting every time is slower than keeping a running total,
/// but it is always right, even after a crash or a file removed by hand.
fn folder_size(folder: &Path) -> io::Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(folder)? {
        // Another upload may remove its temporary file between our listing
        // and our look at it: a file that is gone takes no room.
        match entry?.metadata() {
            Ok(metadata) => total += metadata.len(),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(total)
}

/// A file that is removed again when this value is dropped, so that every
/// way out of `store` (an error, an early return) cleans up after itself.
struct TemporaryFile {
    path: PathBuf,
    file: File,
}

impl TemporaryFile {
    fn create(folder: &Path) -> io::Result<TemporaryFile> {
        // The process id and a counter make the name unique, and
        // `create_new` makes sure we never reuse an existing file.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let number = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = folder.join(format!("{TEMPORARY_PREFIX}{}-{number}", std::process::id()));
        let file = File::create_new(&path)?;
        Ok(TemporaryFile { path, file })
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
