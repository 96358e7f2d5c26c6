//! Reading the request head from the connection and parsing it: the request
//! line (RFC 9112, sections 2 and 3) and the header fields (section 5).

use std::fmt;
use std::io::{self, BufRead, Read};
use std::time::{Duration, Instant};

use crate::error::HttpError;

/// The most bytes of request head we read. Real servers use similar limits
/// (8 KiB is common); without one, a client could make us store endless data.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The most empty lines we skip before the request line. Apache allows 10
/// too; a head of nothing but empty lines is not a request.
const MAX_EMPTY_LINES: usize = 10;

/// The methods RFC 9110 defines, plus PATCH (RFC 5789).
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// A request, as far as this lesson understands it.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: HttpVersion,
    pub header_fields: Vec<HeaderField>,
}

impl Request {
    /// The value of the first header field called `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    // ANCHOR: wants_keep_alive
    /// Whether the client wants to send another request on this connection.
    /// `Connection: close` always ends it. Otherwise HTTP/1.1 keeps the
    /// connection open, and HTTP/1.0 closes it unless the client says
    /// `Connection: keep-alive` (RFC 9112, section 9.3).
    pub fn wants_keep_alive(&self) -> bool {
        let has_option = |option: &str| {
            self.header_values("Connection")
                .flat_map(|value| value.split(','))
                .any(|listed| listed.trim().eq_ignore_ascii_case(option))
        };
        if has_option("close") {
            return false;
        }
        match self.version {
            HttpVersion::Http11 => true,
            HttpVersion::Http10 => has_option("keep-alive"),
        }
    }
    // ANCHOR_END: wants_keep_alive

    /// The values of all header fields called `name`, ignoring case.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &str> {
        self.header_fields
            .iter()
            .filter(move |field| field.name.eq_ignore_ascii_case(name))
            .map(|field| field.value.as_str())
    }
}

/// One header field, such as `Host: localhost:8000`. Names are compared
/// without regard to case (`host` and `Host` are the same field), but we
/// keep them as the client wrote them, to show them back.
#[derive(Debug)]
pub struct HeaderField {
    pub name: String,
    pub value: String,
}

/// The two versions of HTTP/1 this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    Http10,
    Http11,
}

impl fmt::Display for HttpVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpVersion::Http10 => formatter.write_str("HTTP/1.0"),
            HttpVersion::Http11 => formatter.write_str("HTTP/1.1"),
        }
    }
}

/// Reads one request head from the connection and parses it.
///
/// Returns `Ok(None)` when the client closes the connection without sending
/// anything: that is not an error, there is just nothing to answer.
///
/// `raw_line` gets the request line exactly as the client sent it, as soon
/// as it has been read: a HEAD whose head turns out to be bad later still
/// gets its answer without a body. The access log shows it too, even when
/// the request turns out to be bad later, and shows a version such as
/// `HTTP/1.2` as it was sent, not as we understood it.
pub fn read_request(
    reader: &mut impl BufRead,
    head_timeout: Duration,
    raw_line: &mut String,
) -> Result<Option<Request>, HttpError> {
    // The whole head must arrive within `head_timeout`, however slowly its
    // bytes trickle in.
    let mut reader = Deadline {
        reader,
        deadline: Instant::now() + head_timeout,
    };
    let Some(lines) = read_head(&mut reader)? else {
        return Ok(None);
    };
    let Some((request_line, header_lines)) = lines.split_first() else {
        return Ok(None);
    };
    *raw_line = String::from_utf8_lossy(request_line).into_owned();
    let mut request = parse_request_line(request_line)?;
    for line in header_lines {
        request.header_fields.push(parse_header_field(line)?);
    }
    check_host(&request)?;
    Ok(Some(request))
}

// ANCHOR: deadline
/// A reader that gives up once its deadline has passed.
///
/// The read timeout of the connection limits only each single wait for
/// bytes. A client that sends one byte every few seconds never runs into
/// it, and could keep the server busy for as long as it likes: a slow
/// attack that needs almost no bandwidth. A deadline for the whole head
/// stops that; Apache's `mod_reqtimeout` does the same.
struct Deadline<R> {
    reader: R,
    deadline: Instant,
}

impl<R: BufRead> Read for Deadline<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.fill_buf()?.read(buffer)?;
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Deadline<R> {
    /// Every wait for more bytes starts here, so this is where we look at
    /// the clock. `TimedOut` becomes 408 Request Timeout (see `error.rs`).
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if Instant::now() >= self.deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time",
            ));
        }
        self.reader.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.reader.consume(amount);
    }
}
// ANCHOR_END: deadline

// ANCHOR: read_head
/// Reads the head line by line, up to the empty line that ends it, and
/// returns its lines without their line endings.
///
/// The bytes may arrive in any number of pieces; `read_until` keeps reading
/// until it has a whole line. Every line must end with CR LF.
fn read_head(reader: &mut impl BufRead) -> Result<Option<Vec<Vec<u8>>>, HttpError> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut bytes_left = MAX_HEAD_BYTES;
    let mut empty_lines_skipped = 0;
    loop {
        // `take` makes sure that even one endless line cannot read past the
        // limit: `read_until` stops when the allowance is used up.
        let mut line = Vec::new();
        let bytes_read = reader
            .by_ref()
            .take(bytes_left as u64)
            .read_until(b'\n', &mut line)?;
        bytes_left = bytes_left.saturating_sub(bytes_read);

        let Some(line_without_lf) = line.strip_suffix(b"\n") else {
            if bytes_left == 0 && lines.is_empty() {
                // Exercise lesson02: the limit is used up before the first line ends: answer 414
                return Err(HttpError::UriTooLong);
                // End of exercise lesson02.
            }
            if bytes_left == 0 {
                // Exercise lesson02: the limit is used up in a later line: answer 431
                return Err(HttpError::HeadTooLarge);
                // End of exercise lesson02.
            }
            if lines.is_empty() && line.is_empty() {
                return Ok(None);
            }
            return Err(HttpError::BadRequest(
                "the connection ended before the empty line that ends the head",
            ));
        };
        let Some(line_without_crlf) = line_without_lf.strip_suffix(b"\r") else {
            // Exercise lesson02: a line without CR before its LF: answer 400 (HttpError::BadRequest)
            return Err(HttpError::BadRequest(
                "every line of the head must end with CR LF (\\r\\n), not with a bare LF",
            ));
            // End of exercise lesson02.
        };

        if line_without_crlf.is_empty() {
            // RFC 9112, section 2.2: a server should ignore empty lines that
            // arrive before the request line (some old clients send them).
            // A few are enough; many are a bad request, not a long target.
            if lines.is_empty() {
                // Exercise lesson02: an empty line before the request line: skip it (up to MAX_EMPTY_LINES, then 400)
                empty_lines_skipped += 1;
                if empty_lines_skipped > MAX_EMPTY_LINES {
                    return Err(HttpError::BadRequest(
                        "too many empty lines before the request line",
                    ));
                }
                continue;
                // End of exercise lesson02.
            }
            return Ok(Some(lines));
        }
        lines.push(line_without_crlf.to_vec());
    }
}
// ANCHOR_END: read_head

// ANCHOR: parse_request_line
/// Parses `method SP request-target SP HTTP-version`.
///
/// The checks run in an order that gives the most useful answer: first the
/// shape of the line, then the version (505 if we do not speak it), then the
/// method (501 if we do not implement it), and last the target.
fn parse_request_line(line: &[u8]) -> Result<Request, HttpError> {
    // Exactly one space between exactly three parts. A double space, a tab
    // or a missing part all fail this one pattern.
    let parts: Vec<&[u8]> = line.split(|&byte| byte == b' ').collect();
    let [method, target, version] = parts.as_slice() else {
        return Err(HttpError::BadRequest(
            "the request line must be METHOD TARGET VERSION, separated by single spaces",
        ));
    };

    if !is_token(method) {
        // Exercise lesson03: a method that is not a token: answer 400
        return Err(HttpError::BadRequest(
            "the method must be a token: letters, digits and a few symbols such as - and _",
        ));
        // End of exercise lesson03.
    }
    let version = parse_version(version)?;
    // A token is plain ASCII, so this conversion loses nothing.
    let method = String::from_utf8_lossy(method).into_owned();
    // `*` (the asterisk-form) is how OPTIONS asks about the whole server,
    // `host:port` (the authority-form) how CONNECT asks for a tunnel (RFC
    // 9112, section 3.2). Both requests are well-formed, so 400 would be
    // wrong, and they name no resource whose Allow field a 405 could list.
    // A server that implements neither method answers 501 (RFC 9110,
    // section 9.1), in every lesson alike.
    if method == "CONNECT" || (method == "OPTIONS" && *target == b"*") {
        // Exercise lesson03: CONNECT, or OPTIONS with the target *: answer 501 (HttpError::NotImplemented)
        return Err(HttpError::NotImplemented(method));
        // End of exercise lesson03.
    }
    // RFC 9110, section 15.6.2: an unknown method gets 501. Which of the
    // known ones a path allows (405 for the others) depends on the path, so
    // `main.rs` decides that.
    if !KNOWN_METHODS.contains(&method.as_str()) {
        // Exercise lesson03: a method other than GET: answer 501 (HttpError::NotImplemented)
        return Err(HttpError::NotImplemented(method));
        // End of exercise lesson03.
    }
    if !is_valid_target(target) {
        // Exercise lesson03: a target that is not a path or absolute URL of URL characters: 400
        return Err(HttpError::BadRequest(
            "the target must be a path that starts with / (or an absolute http:// URL) and uses only URL characters",
        ));
        // End of exercise lesson03.
    }
    Ok(Request {
        method,
        target: String::from_utf8_lossy(target).into_owned(),
        version,
        header_fields: Vec::new(),
    })
}
// ANCHOR_END: parse_request_line

/// Parses `HTTP/` DIGIT `.` DIGIT. The name is case-sensitive.
fn parse_version(text: &[u8]) -> Result<HttpVersion, HttpError> {
    let bad_version = HttpError::BadRequest("the version must look like HTTP/1.1");
    let Some(numbers) = text.strip_prefix(b"HTTP/") else {
        return Err(bad_version);
    };
    let &[major, b'.', minor] = numbers else {
        return Err(bad_version);
    };
    if !major.is_ascii_digit() || !minor.is_ascii_digit() {
        return Err(bad_version);
    }
    // A newer minor version of HTTP/1 (say HTTP/1.2) must be understood as
    // the newest one we know (RFC 9110, section 2.5), so only the major
    // number can make us refuse.
    match (major, minor) {
        (b'1', b'0') => Ok(HttpVersion::Http10),
        (b'1', _) => Ok(HttpVersion::Http11),
        _ => Err(HttpError::VersionNotSupported(
            String::from_utf8_lossy(text).into_owned(),
        )),
    }
}

// ANCHOR: parse_header_field
/// Parses `name ":" OWS value OWS`, where OWS is optional spaces or tabs.
fn parse_header_field(line: &[u8]) -> Result<HeaderField, HttpError> {
    // Long ago, a header value could continue on the next line if that line
    // started with whitespace ("line folding"). RFC 9112, section 5.2 says a
    // server must reject such a line (or repair it); we reject it.
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        // Exercise lesson04: a header line that starts with whitespace (line folding): answer 400
        return Err(HttpError::BadRequest(
            "a header line must not start with whitespace (obsolete line folding)",
        ));
        // End of exercise lesson04.
    }
    let mut parts = line.splitn(2, |&byte| byte == b':');
    let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
        // Exercise lesson04: a header line without a colon: answer 400
        return Err(HttpError::BadRequest(
            "every header line needs a colon between the field name and its value",
        ));
        // End of exercise lesson04.
    };
    // A space before the colon makes the name an invalid token. RFC 9112,
    // section 5.1 demands a 400 here, because servers that quietly accepted
    // `Host : x` have been tricked into reading a different request than the
    // proxy in front of them.
    if !is_token(name) {
        // Exercise lesson04: a field name that is not a token (a space before the colon): 400
        return Err(HttpError::BadRequest(
            "a header field name must be a token, with no space before the colon",
        ));
        // End of exercise lesson04.
    }
    let value = trim_whitespace(value);
    if value
        .iter()
        .any(|&byte| byte.is_ascii_control() && byte != b'\t')
    {
        // Exercise lesson04: a value with a control character (NUL, a bare CR): answer 400
        return Err(HttpError::BadRequest(
            "a header field value must not contain control characters such as NUL or a bare CR",
        ));
        // End of exercise lesson04.
    }
    // Values are nearly always ASCII. Bytes above 127 are allowed but have
    // no agreed meaning, so we show them as the replacement character.
    Ok(HeaderField {
        name: String::from_utf8_lossy(name).into_owned(),
        value: String::from_utf8_lossy(value).into_owned(),
    })
}
// ANCHOR_END: parse_header_field

/// Removes spaces and tabs, and only those, from both ends.
fn trim_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

// ANCHOR: check_host
/// An HTTP/1.1 request must name the host it is for in exactly one `Host`
/// field (RFC 9112, section 3.2), so that one server can serve many web
/// sites on one address. HTTP/1.0 did not have this rule.
fn check_host(request: &Request) -> Result<(), HttpError> {
    let hosts: Vec<&HeaderField> = request
        .header_fields
        .iter()
        .filter(|field| field.name.eq_ignore_ascii_case("Host"))
        .collect();
    match (hosts.as_slice(), request.version) {
        ([], HttpVersion::Http10) => Ok(()),
        ([], HttpVersion::Http11) => Err(HttpError::BadRequest(
            "an HTTP/1.1 request must have a Host header field",
        )),
        ([host], _) if is_valid_host(&host.value) => Ok(()),
        ([_], _) => Err(HttpError::BadRequest(
            "the Host header field must be a host name or address, optionally followed by :port",
        )),
        _ => Err(HttpError::BadRequest(
            "a request must not have more than one Host header field",
        )),
    }
}
// ANCHOR_END: check_host

/// Checks `host [":" port]` (RFC 9110, section 7.2): a name or IPv4 address,
/// or an IPv6 address in brackets, then optionally a colon and digits. An
/// empty value is allowed: clients send it when the target names no host.
fn is_valid_host(value: &str) -> bool {
    // The port follows the last colon, unless that colon is inside the
    // brackets of an IPv6 address such as `[::1]`.
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port),
        _ => (value, ""),
    };
    let is_valid_port = port.bytes().all(|byte| byte.is_ascii_digit());
    let is_valid_name = match host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Some(ipv6) => {
            !ipv6.is_empty()
                && ipv6
                    .bytes()
                    .all(|byte| byte.is_ascii_hexdigit() || b":.".contains(&byte))
        }
        None => host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&byte)),
    };
    is_valid_port && is_valid_name
}

/// A token is what HTTP allows as a method or a header field name: one or
/// more letters, digits or the symbols below (RFC 9110, section 5.6.2).
pub fn is_token(text: &[u8]) -> bool {
    let is_token_character =
        |byte: &u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(byte);
    !text.is_empty() && text.iter().all(is_token_character)
}

/// Accepts the two forms of target a server sees for GET (RFC 9112,
/// section 3.2): the origin-form `/path?query`, and the absolute-form
/// `http://host/path?query` that clients use when they talk to a proxy.
///
/// Only the characters a URL may contain are allowed. Percent escapes such as
/// `%20` pass through unchanged here; lesson 05 decodes them.
fn is_valid_target(target: &[u8]) -> bool {
    let is_url_character =
        |byte: &u8| byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(byte);
    let is_origin_form = target.starts_with(b"/");
    let has_valid_form = is_origin_form || is_absolute_url(target);
    // The host of an absolute URL may be an IPv6 address in brackets,
    // `http://[::1]/` (RFC 3986, section 3.2.2). Brackets may stand there,
    // before the third slash, and nowhere else; a path has no host.
    let third_slash = target
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| byte == b'/')
        .nth(2);
    let host_end = match third_slash {
        _ if is_origin_form => 0,
        Some((index, _)) => index,
        None => target.len(),
    };
    let is_allowed = |(index, byte): (usize, &u8)| {
        is_url_character(byte) || (index < host_end && b"[]".contains(byte))
    };
    has_valid_form && target.iter().enumerate().all(is_allowed)
}

/// Checks for `scheme://` at the start: a letter, then letters, digits, `+`,
/// `-` or `.`, then `://`.
fn is_absolute_url(target: &[u8]) -> bool {
    let Some(separator) = target.windows(3).position(|window| window == b"://") else {
        return false;
    };
    let Some(scheme) = target.get(..separator) else {
        return false;
    };
    let is_scheme_character = |byte: &u8| byte.is_ascii_alphanumeric() || b"+-.".contains(byte);
    scheme.first().is_some_and(u8::is_ascii_alphabetic) && scheme.iter().all(is_scheme_character)
}
