//! Byte ranges: asking for part of a file (RFC 9110, section 14).
//!
//! A video player that jumps to the middle of a film, or a download that
//! resumes after the connection broke, does not want the whole file again.
//! It asks for a range of bytes, `Range: bytes=1000000-`, and the server
//! answers `206 Partial Content` with just those bytes and a
//! `Content-Range` that says which part of the file they are.
//!
//! This server understands one range per request, in the three forms of
//! RFC 9110, section 14.1.1. Everything else (several ranges in one request,
//! other units, broken syntax) is ignored, and the client gets the whole
//! file with 200, which the RFC allows for any Range a server does not
//! support.

use std::time::{Duration, SystemTime};

use crate::request::Request;

/// What part of the file to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// The whole file, with 200 OK.
    Whole,
    /// The bytes from `start` to `end`, both included, with 206.
    Part { start: u64, end: u64 },
    /// A range that starts beyond the end of the file: 416.
    Unsatisfiable,
}

/// The range a request asks for, for a file of `file_size` bytes whose
/// current validators are `entity_tag` and `last_modified`.
pub fn requested_range(
    request: &Request,
    file_size: u64,
    entity_tag: &str,
    last_modified: &str,
) -> ByteRange {
    // Ranges are defined for GET only; HEAD and every other method get the
    // whole file's head.
    if request.method != "GET" {
        return ByteRange::Whole;
    }
    let Some(value) = request.header("Range") else {
        return ByteRange::Whole;
    };
    // Exercise lesson13: If-Range, then the range the Range field asks for
    // ANCHOR: if_range
    // `If-Range: VALIDATOR` says "send me the part only if the file is
    // still the version I have; if it has changed, send all of it". Without
    // it, a resumed download could join the start of the old file to the
    // end of the new one. The validator must be exactly our entity tag or
    // our Last-Modified date (RFC 9110, section 13.1.5).
    //
    // A date names a whole second, and a file can change twice within one
    // second: a copy the client got at 12:00:00.2 and the file as it is
    // after a change at 12:00:00.7 both say `12:00:00`. So a date proves a
    // version (it is a "strong" validator, RFC 9110, section 8.8.2.2) only
    // when the file is at least one second older than our response. We
    // cannot know when the client got its copy, so this only rules out a
    // change within the second we answer in; a change within the second of
    // the client's copy is what an entity tag catches and a date cannot.
    let is_still_the_clients_version = request.header("If-Range").is_none_or(|validator| {
        validator == entity_tag || (validator == last_modified && is_a_second_old(last_modified))
    });
    if !is_still_the_clients_version {
        return ByteRange::Whole;
    }
    // ANCHOR_END: if_range
    parse_range(value, file_size).unwrap_or(ByteRange::Whole)
    // End of exercise lesson13.
}

/// Parses `bytes=START-END`, `bytes=START-` (from START to the end) or
/// `bytes=-LENGTH` (the last LENGTH bytes). Returns `None` for anything this
/// server does not support, which means "send the whole file".
fn parse_range(value: &str, file_size: u64) -> Option<ByteRange> {
    // Exercise lesson13: parse bytes=FIRST-LAST, FIRST- or -SUFFIX; None if unsatisfiable
    let (unit, range) = value.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || range.contains(',') {
        return None;
    }
    let (first, last) = range.trim().split_once('-')?;
    let (start, end) = match (parse_number(first), parse_number(last)) {
        (Some(start), Some(end)) if start <= end => (start, end),
        (Some(start), None) if last.is_empty() => (start, u64::MAX),
        (None, Some(0)) if first.is_empty() => return Some(ByteRange::Unsatisfiable),
        // The last bytes of an empty file: RFC 9110, section 14.1.1 counts
        // this range as satisfiable, so 416 would be wrong, but a 206 cannot
        // describe zero bytes. The whole (empty) file with 200 is the answer.
        (None, Some(_)) if first.is_empty() && file_size == 0 => return Some(ByteRange::Whole),
        (None, Some(length)) if first.is_empty() => (file_size.saturating_sub(length), u64::MAX),
        _ => return None,
    };
    if start >= file_size {
        return Some(ByteRange::Unsatisfiable);
    }
    // An end beyond the file is cut to the file's last byte.
    let last_byte = file_size.saturating_sub(1);
    Some(ByteRange::Part {
        start,
        end: end.min(last_byte),
    })
    // End of exercise lesson13.
}

/// Whether the date `last_modified` is at least one second before now,
/// the `Date` of the response we are about to send.
fn is_a_second_old(last_modified: &str) -> bool {
    httpdate::parse_http_date(last_modified).is_ok_and(|modified| {
        SystemTime::now()
            .duration_since(modified)
            .is_ok_and(|age| age >= Duration::from_secs(1))
    })
}

/// Digits only: `parse` alone would also accept a leading `+`.
fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
