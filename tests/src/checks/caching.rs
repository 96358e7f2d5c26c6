//! Lesson 13: caching and ranges. `ETag` and `If-None-Match`, the
//! preconditions `If-Match` and `If-Unmodified-Since` (412), the order in
//! which a server evaluates the conditions, byte ranges and `If-Range`.
//!
//! The checks never assume what an entity tag looks like: they take the
//! file's tag from a response and send it back.

use std::time::Duration;

use super::conditional::{expect_not_modified, imf_fixdate};
use super::{
    Failure, ORDER, PRECONDITIONS, RANGES, expect_file, expect_status, expect_status_in, send,
    strict,
};
use crate::client::{Exchange, Request};
use crate::fixture::{self, SiteFile};
use crate::server::Session;

/// A day, to make dates before and after the test files' time.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The `ETag` of a response, when it is one: an opaque tag in double
/// quotes, `W/` before it for a weak one (RFC 9110, section 8.8.3).
fn entity_tag(exchange: &Exchange) -> Result<String, Failure> {
    let Some(tag) = exchange.response.field("ETag") else {
        return Err(Failure::new(
            exchange,
            "a file's response should carry an ETag, a label for this version of the file",
        ));
    };
    let opaque = tag.strip_prefix("W/").unwrap_or(tag);
    let quoted = opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && !opaque
            .get(1..opaque.len() - 1)
            .is_some_and(|inside| inside.contains(['"', ' ']) || inside.contains(char::is_control));
    if !quoted {
        return Err(Failure::new(
            exchange,
            format!("ETag: {tag} is not a tag in double quotes such as \"5f3a-2c\""),
        ));
    }
    Ok(tag.to_owned())
}

/// GETs `file` and returns its `ETag`.
fn file_tag(session: &Session, file: &SiteFile) -> Result<String, Failure> {
    let exchange = expect_file(session, &Request::get(file.target), file)?;
    entity_tag(&exchange)
}

pub(super) fn etag(session: &Session) -> Result<(), Failure> {
    let style = file_tag(session, &fixture::STYLE)?;
    let head = expect_status(session, &Request::head(fixture::STYLE.target).bytes(), 200)?;
    if entity_tag(&head)? != style {
        return Err(Failure::new(
            &head,
            format!("HEAD must get the ETag GET gets, {style}"),
        ));
    }
    let index = file_tag(session, &fixture::INDEX)?;
    if index == style {
        return Err(Failure::new(
            &head,
            format!(
                "style.css and index.html have the same ETag, {style}: it must tell files (and their versions) apart"
            ),
        ));
    }
    Ok(())
}

pub(super) fn if_none_match(session: &Session) -> Result<(), Failure> {
    let tag = file_tag(session, &fixture::STYLE)?;
    let strong = tag.strip_prefix("W/").unwrap_or(&tag).to_owned();
    let values = [
        tag.clone(),
        format!("W/{strong}"),
        "*".to_owned(),
        format!("\"not-this-one\", {tag}"),
    ];
    let requests = values
        .iter()
        .map(|value| Request::get(fixture::STYLE.target).field("If-None-Match", value))
        .chain([Request::head(fixture::STYLE.target).field("If-None-Match", &tag)]);
    for request in requests {
        let exchange = expect_not_modified(session, &request)?;
        if entity_tag(&exchange)? != tag {
            return Err(Failure::new(
                &exchange,
                format!("a 304 must carry the file's ETag, {tag}"),
            ));
        }
    }
    Ok(())
}

/// Asks for `range` of all-bytes.bin (byte N holds the value N) and
/// expects 206 with the bytes `first..=last`.
fn expect_part(session: &Session, range: &str, first: usize, last: usize) -> Result<(), Failure> {
    let request = Request::get(fixture::ALL_BYTES.target).field("Range", range);
    expect_part_for(session, &request, range, first, last)
}

/// Sends `request`, which asks for `range` of all-bytes.bin, and expects
/// 206 with the bytes `first..=last`.
fn expect_part_for(
    session: &Session,
    request: &Request,
    range: &str,
    first: usize,
    last: usize,
) -> Result<(), Failure> {
    let content = (fixture::ALL_BYTES.content)();
    let exchange = expect_status(session, &request.bytes(), 206)?;
    let content_range = format!("bytes {first}-{last}/{}", content.len());
    let received = exchange.response.field("Content-Range").unwrap_or_default();
    if received != content_range {
        return Err(Failure::new(
            &exchange,
            format!("Range: {range} should get Content-Range: {content_range}, not {received:?}"),
        ));
    }
    let part = content.get(first..=last).unwrap_or_default();
    if exchange.response.body != part {
        return Err(Failure::new(
            &exchange,
            format!("Range: {range} should get the bytes {first} to {last} of the file"),
        ));
    }
    Ok(())
}

pub(super) fn range_part(session: &Session) -> Result<(), Failure> {
    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, 255),
        ("bytes=250-1000", 250, 255),
    ] {
        expect_part(session, range, first, last)?;
    }
    Ok(())
}

pub(super) fn range_suffix(session: &Session) -> Result<(), Failure> {
    expect_part(session, "bytes=-5", 251, 255)?;
    expect_part(session, "bytes=-1000", 0, 255)
}

pub(super) fn range_not_satisfiable(session: &Session) -> Result<(), Failure> {
    for range in ["bytes=256-", "bytes=1000-2000", "bytes=-0"] {
        let request = Request::get(fixture::ALL_BYTES.target).field("Range", range);
        let exchange = expect_status(session, &request.bytes(), 416)?;
        let received = exchange.response.field("Content-Range").unwrap_or_default();
        if received != "bytes */256" {
            return Err(Failure::new(
                &exchange,
                format!(
                    "a 416 tells the client the file's size: Content-Range: bytes */256, not {received:?}"
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn if_range(session: &Session) -> Result<(), Failure> {
    let file = fixture::ALL_BYTES;
    let tag = file_tag(session, &file)?;
    let range = "bytes=0-9";
    let current = Request::get(file.target)
        .field("Range", range)
        .field("If-Range", &tag);
    expect_part_for(session, &current, range, 0, 9).map_err(|failure| Failure {
        problem: format!(
            "{} (If-Range: {tag} is the file's current ETag, so the range is served)",
            failure.problem
        ),
        ..failure
    })?;
    // A validator of a version the client had before: the file changed
    // since, so the part would not fit what the client has.
    let old_validators = ["\"an-older-version\"", "Sat, 01 Jan 2000 00:00:00 GMT"];
    for validator in old_validators {
        let request = Request::get(file.target)
            .field("Range", range)
            .field("If-Range", validator);
        let exchange = send(session, &request.bytes())?;
        let response = expect_status_in(session, &exchange, &[200, 206])?;
        if response.code == Some(206) || response.body != (file.content)() {
            return Err(Failure::new(
                &exchange,
                format!(
                    "If-Range: {validator} is not the file's current ETag ({tag}) or Last-Modified, so the Range must be ignored: 200 with the whole file"
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn range_whole_file(session: &Session) -> Result<(), Failure> {
    let file = fixture::ALL_BYTES;
    let requests = [
        None,
        Some("bytes=0-1,5-6"),
        Some("bytes=2-1"),
        Some("items=0-9"),
    ]
    .map(|range| match range {
        Some(range) => Request::get(file.target).field("Range", range),
        None => Request::get(file.target),
    })
    .into_iter()
    .chain([Request::head(file.target).field("Range", "bytes=0-9")]);
    for request in requests {
        let exchange = expect_status(session, &request.bytes(), 200)?;
        if !request.is_head() && exchange.response.body != (file.content)() {
            return Err(Failure::new(
                &exchange,
                "a Range the server does not serve gets the whole file",
            ));
        }
        let length = exchange
            .response
            .field("Content-Length")
            .unwrap_or_default();
        if length != "256" {
            return Err(Failure::new(
                &exchange,
                format!("the whole file has Content-Length: 256, not {length:?}"),
            ));
        }
        if exchange.response.field("Accept-Ranges") != Some("bytes") {
            return Err(Failure::new(
                &exchange,
                "a file's response should say Accept-Ranges: bytes, so clients know they may ask for parts",
            )
            .in_section(RANGES));
        }
    }
    Ok(())
}

/// Sends `request` and expects 412 Precondition Failed, `why` being the
/// reason.
fn expect_precondition_failed(
    session: &Session,
    request: &Request,
    why: &str,
) -> Result<Exchange, Failure> {
    let exchange = send(session, &request.bytes())?;
    let response = strict(session, &exchange)?;
    if response.code != Some(412) {
        let got = response
            .code
            .map_or("no status".to_owned(), |code| code.to_string());
        return Err(Failure::new(
            &exchange,
            format!("{why}, so the answer is 412 Precondition Failed, not {got}"),
        ));
    }
    Ok(exchange)
}

/// Sends `request` and expects 200 with the whole of `file`.
fn expect_whole_file(
    session: &Session,
    request: &Request,
    file: &SiteFile,
    why: &str,
) -> Result<Exchange, Failure> {
    expect_file(session, request, file).map_err(|failure| Failure {
        problem: format!("{} ({why})", failure.problem),
        ..failure
    })
}

/// The test files' `Last-Modified`, moved by `offset` days (negative:
/// earlier).
fn days_from_last_modified(offset: i32) -> String {
    let shift = DAY * offset.unsigned_abs();
    let time = if offset >= 0 {
        fixture::modified() + shift
    } else {
        fixture::modified() - shift
    };
    imf_fixdate(time)
}

pub(super) fn if_match_mismatch(session: &Session) -> Result<(), Failure> {
    let file = fixture::STYLE;
    let tag = file_tag(session, &file)?;
    let strong = tag.strip_prefix("W/").unwrap_or(&tag).to_owned();
    let cases = [
        (
            Request::get(file.target).field("If-Match", "\"not-this-one\""),
            "If-Match names another version than the file's current ETag".to_owned(),
        ),
        (
            Request::head(file.target).field("If-Match", "\"not-this-one\""),
            "If-Match names another version (HEAD too)".to_owned(),
        ),
        (
            Request::get(file.target).field("If-Match", format!("W/{strong}")),
            format!("If-Match compares strongly: the weak tag W/{strong} never matches"),
        ),
    ];
    for (request, why) in cases {
        expect_precondition_failed(session, &request, &why)
            .map_err(|failure| failure.in_section(PRECONDITIONS))?;
    }
    Ok(())
}

pub(super) fn if_match_star(session: &Session) -> Result<(), Failure> {
    let file = fixture::STYLE;
    let tag = file_tag(session, &file)?;
    for value in [
        "*".to_owned(),
        tag.clone(),
        format!("\"not-this-one\", {tag}"),
    ] {
        let request = Request::get(file.target).field("If-Match", &value);
        expect_whole_file(
            session,
            &request,
            &file,
            &format!("If-Match: {value} matches the file, whose ETag is {tag}"),
        )?;
    }
    Ok(())
}

pub(super) fn if_unmodified_since_earlier(session: &Session) -> Result<(), Failure> {
    let file = fixture::STYLE;
    let date = days_from_last_modified(-1);
    for request in [Request::get(file.target), Request::head(file.target)] {
        let request = request.field("If-Unmodified-Since", &date);
        expect_precondition_failed(
            session,
            &request,
            &format!("the file changed after If-Unmodified-Since: {date}"),
        )?;
    }
    Ok(())
}

pub(super) fn if_unmodified_since_later(session: &Session) -> Result<(), Failure> {
    let file = fixture::ALL_BYTES;
    for date in [days_from_last_modified(0), days_from_last_modified(1)] {
        let request = Request::get(file.target).field("If-Unmodified-Since", &date);
        expect_whole_file(
            session,
            &request,
            &file,
            &format!("the file has not changed since If-Unmodified-Since: {date}"),
        )?;
        // A client that resumes a download may guard it with the date.
        let range = "bytes=0-9";
        let request = request.field("Range", range);
        expect_part_for(session, &request, range, 0, 9).map_err(|failure| Failure {
            problem: format!(
                "{} (If-Unmodified-Since: {date} holds, so the Range is served)",
                failure.problem
            ),
            ..failure
        })?;
    }
    // A date that is not a date is ignored.
    let request = Request::get(file.target).field("If-Unmodified-Since", "yesterday");
    expect_whole_file(
        session,
        &request,
        &file,
        "If-Unmodified-Since: yesterday is not a date, and is ignored",
    )?;
    Ok(())
}

pub(super) fn if_unmodified_since_ignored_with_if_match(session: &Session) -> Result<(), Failure> {
    let file = fixture::STYLE;
    let tag = file_tag(session, &file)?;
    let date = days_from_last_modified(-1);
    let request = Request::get(file.target)
        .field("If-Match", &tag)
        .field("If-Unmodified-Since", &date);
    expect_whole_file(
        session,
        &request,
        &file,
        &format!("If-Match: {tag} holds, and with If-Match present If-Unmodified-Since is ignored"),
    )
    .map_err(|failure| failure.in_section(ORDER))?;
    Ok(())
}

pub(super) fn if_match_before_if_none_match(session: &Session) -> Result<(), Failure> {
    let file = fixture::STYLE;
    let tag = file_tag(session, &file)?;
    for if_none_match in [tag.clone(), "*".to_owned()] {
        let request = Request::get(file.target)
            .field("If-Match", "\"not-this-one\"")
            .field("If-None-Match", &if_none_match);
        expect_precondition_failed(
            session,
            &request,
            &format!(
                "If-Match fails, and it is evaluated before If-None-Match: {if_none_match} (which alone would give 304)"
            ),
        )
        .map_err(|failure| failure.in_section(ORDER))?;
    }
    Ok(())
}
