//! Uploads, the first half: reading the form, and storing nothing yet.
//!
//! The page /upload.html has a form that posts one or more files to
//! `POST /uploads` as `multipart/form-data` (`multipart.rs` reads it). This
//! lesson reads the whole form as it streams past and answers with what
//! arrived: for every part its field name, its file name if it is a file,
//! and its size in bytes. So we can watch the parser at work, with a
//! browser or with `curl -F`, before we trust it with the disk. Lesson 10
//! stores the files.

use std::io::{self, BufRead, Read};
use std::net::TcpStream;

use crate::body;
use crate::error::HttpError;
use crate::multipart::{self, Multipart};
use crate::request::Request;
use crate::response::{Response, Status, escape_html};

/// The path the upload form posts to: `/uploads`.
pub const UPLOADS_FOLDER: &str = "uploads";

// ANCHOR: summarize
/// Answers `POST /uploads`: reads every part of the form and answers
/// 200 OK with a list of what arrived.
///
/// `max_body_bytes` limits the whole body, and a file is only a piece of
/// the body, so it limits each file as well.
pub fn summarize(
    request: &Request,
    reader: &mut impl BufRead,
    stream: &TcpStream,
    max_body_bytes: u64,
) -> Result<Response, HttpError> {
    let boundary = multipart::boundary(request)?;
    let length = body::expect_body(request, stream, max_body_bytes)?;

    // The data of every part streams into `io::sink()`, which keeps
    // nothing; `read_data` tells us how many bytes went there. So a large
    // file costs no more memory than a small one.
    let mut form = Multipart::new(reader.take(length), &boundary);
    let mut items = String::new();
    while let Some(part) = form.next_part()? {
        let bytes = form.read_data(&mut io::sink())?;
        let file = part.filename.map(|name| format!(", file {name}"));
        let file = file.unwrap_or_default();
        // The names come from the client: escaped, they cannot become markup.
        let line = escape_html(&format!("field {}{file}: {bytes} bytes", part.name));
        items.push_str(&format!("<li>{line}</li>\n"));
    }
    let page = format!("<!DOCTYPE html>\n<title>Received</title>\n<ul>\n{items}</ul>\n");
    Ok(Response::html(Status::Ok, page))
}
// ANCHOR_END: summarize
