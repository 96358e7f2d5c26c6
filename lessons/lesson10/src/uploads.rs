//! Uploads: a POST whose body is a file, stored byte for byte.
//!
//! `POST /uploads/cat.png` with the picture as its body stores it as
//! `uploads/cat.png` in the data folder, and `GET /uploads/cat.png` serves it
//! back. Two promises make this safe to use:
//! - A broken upload leaves nothing behind. The body first goes to a
//!   temporary file, which gets its real name only once it is complete.
//! - An existing file is never replaced. A second upload with the same name
//!   gets 409 Conflict.

use std::fs::{self, File};
use std::io::{self, BufRead};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::body;
use crate::error::HttpError;
use crate::files;
use crate::request::Request;
use crate::response::Response;

/// The folder, inside the data folder, that holds uploaded files. Its name
/// is also the start of their URLs: `/uploads/NAME`.
pub const UPLOADS_FOLDER: &str = "uploads";

/// Temporary files start with a dot, a name no upload may have, so they can
/// never be requested.
const TEMPORARY_PREFIX: &str = ".upload-";

const MAX_NAME_LENGTH: usize = 100;

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
pub fn serve(data_folder: &Path, request: &Request) -> Result<Response, HttpError> {
    let mut response = files::serve_file(data_folder, request)?;
    response
        .header_fields
        .push(("Content-Security-Policy", "sandbox".to_owned()));
    response
        .header_fields
        .push(("X-Content-Type-Options", "nosniff".to_owned()));
    Ok(response)
}

/// Answers `POST /uploads/NAME`: stores the body under NAME and answers
/// 201 Created with the file's URL.
pub fn store(
    data_folder: &Path,
    name: &str,
    request: &Request,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    max_body_bytes: u64,
) -> Result<Response, HttpError> {
    let folder = data_folder.join(UPLOADS_FOLDER);
    let final_path = folder.join(name);
    // Refusing early saves the client from sending a body we would throw
    // away. The real guarantee comes from `hard_link` below.
    if final_path.exists() {
        return Err(HttpError::Conflict);
    }
    let length = body::expect_body(request, stream, max_body_bytes)?;

    let mut temporary = TemporaryFile::create(&folder)?;
    body::copy_body(reader, length, &mut temporary.file)?;
    temporary.file.sync_all()?;

    // `rename` would silently replace a file that appeared in the meantime.
    // A hard link gives the same content a second name and fails if that
    // name exists, in one step that nothing can come between.
    match fs::hard_link(&temporary.path, &final_path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            return Err(HttpError::Conflict);
        }
        Err(error) => return Err(HttpError::Io(error)),
    }
    // Dropping `temporary` removes its name; the file lives on under its
    // final name.
    Ok(Response::created(
        &format!("/{UPLOADS_FOLDER}/{name}"),
        length,
    ))
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
