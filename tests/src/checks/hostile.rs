//! What the file system holds is input too: a link that leads in a circle,
//! files dated before 1970, in the future or in a year no HTTP date can
//! show, an empty file. Checks for lessons 05, 06, 13 and 14, each from
//! the lesson that teaches the rule.
//!
//! The files are in the grader's `odd/` folder (see `fixture.rs`). The
//! checks never assume which date the file system kept: they compare what
//! the server says with the `Date` of the same response.

use std::time::SystemTime;

use super::{DATES, Failure, expect_content, expect_status, expect_status_in, send, strict};
use crate::client::{Exchange, Request};
use crate::fixture::{self, SiteFile};
use crate::server::Session;

/// A symbolic link to itself names no file: 404 (or 403, which nginx
/// sends), never a server error.
pub(super) fn symlink_loop(session: &Session) -> Result<(), Failure> {
    if cfg!(not(unix)) {
        return Ok(());
    }
    let target = format!("/{}", fixture::SYMLINK_LOOP);
    let exchange = send(session, &Request::get(&target).bytes())?;
    expect_status_in(session, &exchange, &[404, 403]).map(drop)
}

/// Reads a date a server sent. `httpdate` reads the years 1970 to 9999;
/// an IMF-fixdate before 1970 is a valid HTTP date too, and counts as the
/// earliest time `httpdate` knows.
fn sent_date(text: &str) -> Option<SystemTime> {
    if let Ok(time) = httpdate::parse_http_date(text) {
        return Some(time);
    }
    let year: u32 = text.get(12..16)?.parse().ok()?;
    (text.len() == 29 && text.ends_with(" GMT") && year < 1970).then_some(SystemTime::UNIX_EPOCH)
}

/// GETs `file`, expects it whole, with a `Last-Modified` that is a date
/// and not later than the response's `Date`; returns the exchange.
fn expect_dated_file(session: &Session, file: &SiteFile) -> Result<Exchange, Failure> {
    let exchange = expect_status(session, &Request::get(file.target).bytes(), 200)?;
    expect_content(&exchange, file.path, file.content_type, &(file.content)())?;
    let response = strict(session, &exchange)?;
    let Some(last_modified) = response.field("Last-Modified") else {
        return Err(Failure::new(
            &exchange,
            format!("{} should come with Last-Modified", file.path),
        ));
    };
    let Some(modified) = sent_date(last_modified) else {
        return Err(Failure::new(
            &exchange,
            format!("Last-Modified: {last_modified} is not an HTTP date"),
        ));
    };
    let date = response.field("Date").unwrap_or_default();
    let Ok(now) = httpdate::parse_http_date(date) else {
        return Err(
            Failure::new(&exchange, format!("Date: {date} is not an HTTP date")).in_section(DATES),
        );
    };
    if modified > now {
        return Err(Failure::new(
            &exchange,
            format!(
                "Last-Modified: {last_modified} is later than Date: {date}; a file's time in the future must be replaced by the time of the response (RFC 9110, section 8.8.2.1)"
            ),
        ));
    }
    Ok(exchange)
}

pub(super) fn last_modified_not_after_date(session: &Session) -> Result<(), Failure> {
    for file in [fixture::FUTURE, fixture::YEAR_10000] {
        expect_dated_file(session, &file)?;
    }
    Ok(())
}

pub(super) fn pre_1970_file(session: &Session) -> Result<(), Failure> {
    expect_dated_file(session, &fixture::PRE_1970).map(drop)
}

/// The `ETag` a response carries; a missing one fails the check.
fn entity_tag(exchange: &Exchange) -> Result<String, Failure> {
    exchange
        .response
        .field("ETag")
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(exchange, "a file's response should carry an ETag"))
}

pub(super) fn if_none_match_double_weak(session: &Session) -> Result<(), Failure> {
    let file = fixture::STYLE;
    let get = expect_status(session, &Request::get(file.target).bytes(), 200)?;
    let tag = entity_tag(&get)?;
    let strong = tag.strip_prefix("W/").unwrap_or(&tag);
    let malformed = format!("W/W/{strong}");
    let request = Request::get(file.target).field("If-None-Match", &malformed);
    let exchange = send(session, &request.bytes())?;
    let response = expect_status_in(session, &exchange, &[200])?;
    if response.body != (file.content)() {
        return Err(Failure::new(&exchange, "the whole file should come back"));
    }
    Ok(())
}

/// Asks for the first ten bytes of `file` with `If-Range:` the
/// `Last-Modified` a plain GET just gave; returns that exchange and the date.
fn range_if_last_modified(
    session: &Session,
    file: SiteFile,
) -> Result<(Exchange, String), Failure> {
    let get = expect_status(session, &Request::get(file.target).bytes(), 200)?;
    let last_modified = get
        .response
        .field("Last-Modified")
        .unwrap_or_default()
        .to_owned();
    let request = Request::get(file.target)
        .field("Range", "bytes=0-9")
        .field("If-Range", &last_modified);
    Ok((send(session, &request.bytes())?, last_modified))
}

pub(super) fn if_range_date_strong(session: &Session) -> Result<(), Failure> {
    // A file last changed long ago: its date proves the version.
    let file = fixture::ALL_BYTES;
    let (exchange, last_modified) = range_if_last_modified(session, file)?;
    let response = expect_status_in(session, &exchange, &[206])?;
    if response.body != (file.content)().get(..10).unwrap_or_default() {
        return Err(Failure::new(
            &exchange,
            format!(
                "If-Range: {last_modified} is the file's Last-Modified, so bytes 0 to 9 should come back"
            ),
        ));
    }
    // A file whose Last-Modified is the time of the response (its own
    // time lies in the future): a second change within that second would
    // keep the date, so the date proves nothing and the Range is ignored.
    let file = fixture::FUTURE;
    let (exchange, last_modified) = range_if_last_modified(session, file)?;
    let response = expect_status_in(session, &exchange, &[200, 206])?;
    if response.code == Some(206) || response.body != (file.content)() {
        return Err(Failure::new(
            &exchange,
            format!(
                "If-Range: {last_modified} is a date less than a second before the response, a weak validator (RFC 9110, sections 8.8.2.2 and 13.1.5): the Range must be ignored, 200 with the whole file"
            ),
        ));
    }
    Ok(())
}

pub(super) fn range_suffix_empty_file(session: &Session) -> Result<(), Failure> {
    let target = fixture::EMPTY.target;
    // No byte starts at 0 in an empty file.
    let request = Request::get(target).field("Range", "bytes=0-");
    expect_status(session, &request.bytes(), 416)?;
    // But "the last 5 bytes" is satisfiable: all of them, none. A 206
    // cannot describe zero bytes, so the answer is the whole file, 200.
    let request = Request::get(target).field("Range", "bytes=-5");
    let exchange = expect_status(session, &request.bytes(), 200)?;
    if !exchange.response.body.is_empty() {
        return Err(Failure::new(&exchange, "the file is empty"));
    }
    Ok(())
}

pub(super) fn listing_odd_dates(session: &Session) -> Result<(), Failure> {
    let target = format!("/{}/", fixture::ODD);
    let exchange = expect_status(session, &Request::get(&target).bytes(), 200)?;
    let body = exchange.response.body_text();
    for file in [fixture::PRE_1970, fixture::FUTURE, fixture::YEAR_10000] {
        let name = file.path.rsplit('/').next().unwrap_or_default();
        if !body.contains(name) {
            return Err(Failure::new(
                &exchange,
                format!("the listing of {target} should list {name}"),
            ));
        }
    }
    Ok(())
}
