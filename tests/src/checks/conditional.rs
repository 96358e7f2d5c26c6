//! Lesson 06: HEAD, `Date`, `Last-Modified` and `If-Modified-Since`.

use std::time::{Duration, SystemTime};

use super::{DATES, Failure, expect_allowed, expect_file, expect_status, send, strict};
use crate::client::{Exchange, Request};
use crate::fixture;
use crate::server::Session;

/// How far a `Date` may be from the grader's clock. Server and grader run
/// on the same computer, so this only allows for slow responses.
const DATE_TOLERANCE: Duration = Duration::from_secs(120);

/// A date in the one format a server sends (RFC 9110, section 5.6.7).
pub(super) fn imf_fixdate(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// The `Last-Modified` of every file of the test site.
fn fixture_last_modified() -> String {
    imf_fixdate(fixture::modified())
}

/// Reads an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`, and
/// nothing else: the two obsolete formats a recipient must also accept
/// are not what a server sends.
fn parse_imf_fixdate(text: &str) -> Option<SystemTime> {
    let time = httpdate::parse_http_date(text).ok()?;
    // Formatting writes an IMF-fixdate, so a round trip that changes
    // nothing proves the form (weekday included).
    (imf_fixdate(time) == text).then_some(time)
}

/// Sends GET and HEAD for `target` and compares: the same status and
/// header fields (all but `Date`), and no body for HEAD.
pub(super) fn expect_head_like_get(
    session: &Session,
    target: &str,
    status: u16,
) -> Result<(), Failure> {
    let get = expect_status(session, &Request::get(target).bytes(), status)?;
    let head = expect_status(session, &Request::head(target).bytes(), status)?;
    if !head.response.body.is_empty() {
        return Err(Failure::new(
            &head,
            format!(
                "a response to HEAD has no body, but {} bytes followed the head",
                head.response.body.len()
            ),
        ));
    }
    let fields = |exchange: &Exchange| -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = exchange
            .response
            .fields
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("Date"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        fields.sort();
        fields
    };
    let (get_fields, head_fields) = (fields(&get), fields(&head));
    let only_get = get_fields.iter().find(|field| !head_fields.contains(field));
    let only_head = head_fields.iter().find(|field| !get_fields.contains(field));
    let problem = match (only_get, only_head) {
        (None, None) => return Ok(()),
        (Some((name, value)), _) => {
            format!("GET {target} gets the field {name}: {value}, HEAD does not")
        }
        (None, Some((name, value))) => {
            format!("HEAD {target} gets the field {name}: {value}, GET does not")
        }
    };
    Err(Failure::new(&head, problem))
}

pub(super) fn head_file(session: &Session) -> Result<(), Failure> {
    for target in ["/", fixture::STYLE.target, fixture::ALL_BYTES.target] {
        expect_head_like_get(session, target, 200)?;
    }
    Ok(())
}

pub(super) fn head_error(session: &Session) -> Result<(), Failure> {
    expect_head_like_get(session, "/no-such-file.html", 404)?;
    expect_head_like_get(session, "/%zz", 400)
}

pub(super) fn date_field(session: &Session) -> Result<(), Failure> {
    let requests = [
        Request::get("/"),
        Request::get("/no-such-file.html"),
        Request::get("/%zz"),
        Request::new("POST", "/index.html").body("x=1"),
        Request::new("BREW", "/"),
        Request::head(fixture::STYLE.target),
        Request::get(fixture::STYLE.target).field("If-Modified-Since", fixture_last_modified()),
    ];
    for request in requests {
        let exchange = send(session, &request.bytes())?;
        let response = strict(session, &exchange)?;
        let Some(date) = response.field("Date") else {
            return Err(Failure::new(&exchange, "the response has no Date field"));
        };
        let Some(time) = parse_imf_fixdate(date) else {
            return Err(Failure::new(
                &exchange,
                format!(
                    "Date: {date} is not an IMF-fixdate such as {}",
                    imf_fixdate(SystemTime::now())
                ),
            ));
        };
        let now = SystemTime::now();
        let off = now
            .duration_since(time)
            .or_else(|_| time.duration_since(now))
            .unwrap_or_default();
        if off > DATE_TOLERANCE {
            return Err(Failure::new(
                &exchange,
                format!(
                    "Date: {date} is {} s away from the time the response was made ({})",
                    off.as_secs(),
                    imf_fixdate(now)
                ),
            ));
        }
    }
    Ok(())
}

/// Fails unless the response's `Last-Modified` is the test files' time.
fn expect_last_modified(exchange: &Exchange) -> Result<(), Failure> {
    let expected = fixture_last_modified();
    match exchange.response.field("Last-Modified") {
        Some(value) if value == expected => Ok(()),
        Some(value) => Err(Failure::new(
            exchange,
            format!(
                "Last-Modified should be the file's modification time, {expected}, not {value}"
            ),
        )
        .in_section(DATES)),
        None => Err(Failure::new(
            exchange,
            format!("a file's response should say when it changed last: Last-Modified: {expected}"),
        )
        .in_section(DATES)),
    }
}

pub(super) fn last_modified(session: &Session) -> Result<(), Failure> {
    for target in ["/", fixture::STYLE.target] {
        let exchange = expect_status(session, &Request::get(target).bytes(), 200)?;
        expect_last_modified(&exchange)?;
    }
    Ok(())
}

/// Sends `request` and expects 304 Not Modified: no body, no
/// `Content-Type`, no `Content-Length`, but `Last-Modified`.
pub(super) fn expect_not_modified(
    session: &Session,
    request: &Request,
) -> Result<Exchange, Failure> {
    let exchange = expect_status(session, &request.bytes(), 304)?;
    for field in ["Content-Length", "Content-Type"] {
        if let Some(value) = exchange.response.field(field) {
            return Err(Failure::new(
                &exchange,
                format!("a 304 describes no body, so it has no {field} (this one says {value})"),
            ));
        }
    }
    expect_last_modified(&exchange)?;
    Ok(exchange)
}

/// `If-Modified-Since` for `seconds` after (or, when negative, before)
/// the test files' modification time.
pub(super) fn if_modified_since(request: Request, seconds: i64) -> Request {
    let time = if seconds >= 0 {
        fixture::modified() + Duration::from_secs(seconds.unsigned_abs())
    } else {
        fixture::modified() - Duration::from_secs(seconds.unsigned_abs())
    };
    request.field("If-Modified-Since", imf_fixdate(time))
}

pub(super) fn not_modified_same_date(session: &Session) -> Result<(), Failure> {
    let request = if_modified_since(Request::get(fixture::STYLE.target), 0);
    expect_not_modified(session, &request).map(drop)
}

pub(super) fn not_modified_later_date(session: &Session) -> Result<(), Failure> {
    let request = if_modified_since(Request::get("/"), 24 * 60 * 60);
    expect_not_modified(session, &request).map(drop)
}

pub(super) fn head_not_modified(session: &Session) -> Result<(), Failure> {
    let request = if_modified_since(Request::head(fixture::STYLE.target), 0);
    expect_not_modified(session, &request).map(drop)
}

pub(super) fn modified_earlier_date(session: &Session) -> Result<(), Failure> {
    let request = if_modified_since(Request::get(fixture::STYLE.target), -1);
    let exchange = expect_file(session, &request, &fixture::STYLE)?;
    expect_last_modified(&exchange)
}

/// With `If-None-Match`, a server must ignore `If-Modified-Since` (RFC 9110,
/// section 13.1.3): a tag that matches no version of the file means 200,
/// whatever the date says. Lesson 06 has no tags, so no tag can match.
pub(super) fn if_none_match_first(session: &Session) -> Result<(), Failure> {
    let requests = [
        Request::get(fixture::STYLE.target).field("If-None-Match", "\"not-this-one\""),
        // The date alone would get 304.
        if_modified_since(Request::get(fixture::STYLE.target), 24 * 60 * 60)
            .field("If-None-Match", "\"not-this-one\""),
    ];
    for request in requests {
        let exchange = expect_file(session, &request, &fixture::STYLE)?;
        expect_last_modified(&exchange)?;
    }
    Ok(())
}

pub(super) fn invalid_date_ignored(session: &Session) -> Result<(), Failure> {
    for date in ["yesterday", "Sun, 99 Xyz 2001 99:99:99 GMT"] {
        let request = Request::get(fixture::STYLE.target).field("If-Modified-Since", date);
        let exchange = expect_file(session, &request, &fixture::STYLE)?;
        expect_last_modified(&exchange)?;
    }
    Ok(())
}

pub(super) fn methods_allow_head(session: &Session) -> Result<(), Failure> {
    let request = Request::new("POST", "/index.html").body("x=1");
    let exchange = expect_status(session, &request.bytes(), 405)?;
    expect_allowed(&exchange, &["GET", "HEAD"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_imf_fixdates() {
        assert!(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT").is_some());
        for date in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 6 Nov 1994 08:49:37 GMT",
        ] {
            assert!(parse_imf_fixdate(date).is_none(), "{date}");
        }
        assert_eq!(fixture_last_modified(), "Sun, 09 Sep 2001 01:46:40 GMT");
    }
}
