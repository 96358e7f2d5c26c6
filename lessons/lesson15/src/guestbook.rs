//! The guestbook: an HTML form whose entries are stored in a file.
//!
//! A browser sends a form as the body of a POST, encoded as
//! `application/x-www-form-urlencoded`: `name=Ada&message=Hallo+Welt%21`.
//! We decode it, append the entry to `guestbook.txt` in the data folder,
//! and answer `303 See Other`, which sends the browser back to the page with
//! a GET. That way, reloading the page does not post the entry again.
//!
//! Anybody may post, so the guestbook keeps within limits: its file never
//! grows beyond `--max-guestbook` bytes, and a page shows only the newest
//! entries, so that showing it costs the same memory however many there are.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::Config;
use crate::body;
use crate::error::HttpError;
use crate::files::{percent_decode, percent_encode};
use crate::request::Request;
use crate::response::{Response, Status, escape_html};

/// The file, inside the data folder, that holds the entries.
const GUESTBOOK_FILE: &str = "guestbook.txt";

/// Forms are small. We read them into memory, so we accept only a little.
const MAX_FORM_BYTES: u64 = 64 * 1024;

/// A page shows the entries in the last 256 KiB of the file. Every stored
/// byte may be a `%XX`, so the longest line is three times `MAX_FORM_BYTES`,
/// and the newest entry always fits.
const PAGE_BYTES: u64 = 4 * MAX_FORM_BYTES;

/// One entry of the guestbook.
struct Entry {
    name: String,
    message: String,
}

/// Answers `GET /guestbook` with the newest entries and the form for a new
/// one.
pub fn show(data_folder: &Path) -> Result<Response, HttpError> {
    // Exercise lesson08: the guestbook page: the newest entries, escaped, and the form
    let entries = read_newest_entries(data_folder)?;
    // ANCHOR: show_entries
    let items: String = entries
        .iter()
        .map(|entry| {
            format!(
                "<li><strong>{}</strong>: {}</li>\n",
                escape_html(&entry.name),
                escape_html(&entry.message)
            )
        })
        .collect();
    // ANCHOR_END: show_entries
    let page = format!(
        "<!DOCTYPE html>\n\
         <html lang=\"en\">\n\
         <head><meta charset=\"utf-8\"><title>Guestbook</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"></head>\n\
         <body>\n\
         <h1>Guestbook</h1>\n\
         <ul>\n\
         {items}\
         </ul>\n\
         <form method=\"post\" action=\"/guestbook\">\n\
         <p><label>Your name <input name=\"name\" required></label></p>\n\
         <p><label>Your message <textarea name=\"message\" required></textarea></label></p>\n\
         <p><button>Sign the guestbook</button></p>\n\
         </form>\n\
         </body>\n\
         </html>\n"
    );
    Ok(Response::html(Status::Ok, page))
    // End of exercise lesson08.
}

// ANCHOR: add_entry
/// Answers `POST /guestbook`: stores the entry in the body, then sends the
/// browser back to the guestbook page.
pub fn add_entry(
    config: &Config,
    request: &Request,
    reader: &mut impl io::BufRead,
    stream: &TcpStream,
) -> Result<Response, HttpError> {
    // Exercise lesson08: read the form body, store the entry, answer 303 See Other
    let is_form = request.header("Content-Type").is_some_and(|value| {
        let media_type = value.split(';').next().unwrap_or_default().trim();
        media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(HttpError::UnsupportedMediaType);
    }
    let length = body::expect_body(request, stream, MAX_FORM_BYTES)?;
    let mut form = Vec::new();
    body::copy_body(reader, length, &mut form)?;

    let entry = parse_entry(&form)?;
    append_entry(&config.data_folder.path, config.max_guestbook, &entry)?;
    Ok(Response::see_other("/guestbook"))
    // End of exercise lesson08.
}
// ANCHOR_END: add_entry

/// Finds the fields `name` and `message` in a form body. Both must be there
/// and must not be empty.
fn parse_entry(form: &[u8]) -> Result<Entry, HttpError> {
    let mut name = None;
    let mut message = None;
    for (key, value) in parse_form(form)? {
        match key.as_str() {
            "name" => name = Some(value),
            "message" => message = Some(value),
            _ => {}
        }
    }
    let name = name.map(|text| text.trim().to_owned()).unwrap_or_default();
    let message = message
        .map(|text| text.trim().to_owned())
        .unwrap_or_default();
    if name.is_empty() || message.is_empty() {
        return Err(HttpError::BadRequest(
            "the form needs a name and a message, and neither may be empty",
        ));
    }
    Ok(Entry { name, message })
}

// ANCHOR: parse_form
/// Decodes `key=value&key=value`. In this encoding `+` stands for a space
/// and `%XX` for the byte with that hex value; the bytes are UTF-8 text.
fn parse_form(form: &[u8]) -> Result<Vec<(String, String)>, HttpError> {
    // Exercise lesson08: split the form at & and =, decode names and values
    let form = std::str::from_utf8(form)
        .map_err(|_| HttpError::BadRequest("the form must be UTF-8 text"))?;
    form.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_form_text(key)?, decode_form_text(value)?))
        })
        .collect()
    // End of exercise lesson08.
}

fn decode_form_text(text: &str) -> Result<String, HttpError> {
    // Exercise lesson08: + is a space, then percent-decode to UTF-8; 400 if it is not
    let bytes = percent_decode(&text.replace('+', " ")).ok_or(HttpError::BadRequest(
        "the form has a % that is not followed by two hexadecimal digits",
    ))?;
    String::from_utf8(bytes)
        .map_err(|_| HttpError::BadRequest("the form's percent escapes do not decode to UTF-8"))
    // End of exercise lesson08.
}
// ANCHOR_END: parse_form

// ANCHOR: append_entry
/// Adds one entry to the end of the guestbook file.
///
/// Each entry is one line, stored in the form encoding we just decoded, so
/// that a newline inside a message cannot break the file into bogus lines.
/// The line is written with a single `write_all` to a file opened for
/// appending, so entries never mix, and `sync_data` makes the operating
/// system put it on the disk before we answer: after the 303, the entry
/// survives even a power cut.
///
/// An entry that would make the file larger than `max_bytes` is
/// refused with 507 Insufficient Storage, and nothing is written. (Not 413:
/// the request is not too large, the server has no room left for it.)
fn append_entry(data_folder: &Path, max_bytes: u64, entry: &Entry) -> Result<(), HttpError> {
    let line = format!(
        "name={}&message={}\n",
        percent_encode(&entry.name),
        percent_encode(&entry.message)
    );
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_folder.join(GUESTBOOK_FILE))?;
    let size = file.metadata()?.len();
    if size + line.len() as u64 > max_bytes {
        return Err(HttpError::InsufficientStorage(
            "the guestbook is full; nothing was stored",
        ));
    }
    file.write_all(line.as_bytes())?;
    file.sync_data()?;
    // The file may be new, and then its name must reach the disk as well.
    // The folder only changes then, but syncing it always is simpler.
    Ok(sync_folder(data_folder)?)
}

/// Puts the names in `folder` on the disk. A file's name is an entry in its
/// folder, and the folder is written separately from the file: without
/// this, a power cut could leave the content on the disk but no name that
/// leads to it.
pub fn sync_folder(folder: &Path) -> io::Result<()> {
    // Windows does not let a program open a folder as a file; its file
    // system keeps names safe in a journal of its own.
    if cfg!(unix) {
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}
// ANCHOR_END: append_entry

/// Reads the entries in the last `PAGE_BYTES` of the file. Reading the whole file would make
/// every visit cost as much memory as the guestbook is large.
///
/// A missing file is an empty guestbook. A last line without its newline
/// was cut short (say, by a crash while writing) and is skipped, as is any
/// line that does not decode. That includes the first line when we start
/// in the middle of the file: cut anywhere but at its start, it has lost
/// its `name=`.
fn read_newest_entries(data_folder: &Path) -> io::Result<Vec<Entry>> {
    let mut file = match File::open(data_folder.join(GUESTBOOK_FILE)) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let start = file.metadata()?.len().max(PAGE_BYTES) - PAGE_BYTES;
    file.seek(SeekFrom::Start(start))?;
    let mut contents = Vec::new();
    file.take(PAGE_BYTES).read_to_end(&mut contents)?;
    let entries = contents
        .split_inclusive(|&byte| byte == b'\n')
        .filter_map(|line| line.strip_suffix(b"\n"))
        .filter_map(|line| parse_entry(line).ok())
        .collect();
    Ok(entries)
}
