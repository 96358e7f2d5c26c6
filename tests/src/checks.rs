//! What each lesson's server must do, as a list of checks.
//!
//! A check belongs to the lessons from `since` up to `until`: once a lesson
//! teaches something, every later lesson must keep doing it, unless a later
//! lesson changes the behaviour (lesson 05 serves files instead of the page
//! that shows the request). Most checks send one request and expect one
//! status code; they are the table `CHECKS`. The others are functions, in
//! this file for lessons 01-04 and in one module per later lesson or pair of
//! lessons.
//!
//! Lesson 01 checks are lenient about everything except the one property
//! each of them tests, so that a server with one mistake fails exactly the
//! check for that mistake. From lesson 02 on, every response must be framed
//! strictly (see `strict`). From lesson 11 on a server may keep the
//! connection open (see `expect_connection`), and the checks that send
//! several requests on one connection find each response by its length.

mod access_log;
mod blind_spots;
mod caching;
mod conditional;
mod conventions;
mod deadlines;
mod files;
mod hostile;
mod keep_alive;
mod many_clients;
mod posting;
mod request_details;
mod static_server;
mod storage;
pub(crate) mod uploads;

use crate::client::{self, Connection, Ending, Exchange, Request, Response};
use crate::fixture::SiteFile;
use crate::server::{FIRST_LESSON_WITH_KEEP_ALIVE, Session};

/// One thing a server must do.
#[derive(Debug)]
pub struct Check {
    /// A short kebab-case name, shown in the report.
    pub name: &'static str,
    /// The first lesson whose server must pass this check.
    pub since: u8,
    /// The last one, when a later lesson changes the behaviour.
    pub until: Option<u8>,
    /// Where the book explains the rule, such as `lesson03.md#the-request-line`.
    pub section: &'static str,
    /// The rule in one sentence.
    pub rule: &'static str,
    pub run: Run,
}

/// How a check is carried out.
#[derive(Debug)]
pub enum Run {
    /// Send these bytes; expect this status in a strictly framed response.
    Status(&'static [u8], u16),
    /// Anything else.
    Custom(fn(&Session) -> Result<(), Failure>),
    /// Anything else that restarts the server on the way.
    Restarting(fn(&mut Session) -> Result<(), Failure>),
}

/// Why a check failed.
#[derive(Debug)]
pub struct Failure {
    /// The exchange that showed the problem, if one did (boxed, because it
    /// is large and every check returns a `Result` with a `Failure`).
    pub exchange: Option<Box<Exchange>>,
    /// The problem in one sentence.
    pub problem: String,
    /// A section of the book that explains the problem better than the
    /// check's own (say, a check about status codes that failed because
    /// the response lacks `Content-Length`).
    pub section: Option<&'static str>,
}

impl Failure {
    fn new(exchange: &Exchange, problem: impl Into<String>) -> Failure {
        Failure {
            exchange: Some(Box::new(exchange.clone())),
            problem: problem.into(),
            section: None,
        }
    }

    /// A failure that no single exchange shows.
    fn without_exchange(problem: impl Into<String>) -> Failure {
        Failure {
            exchange: None,
            problem: problem.into(),
            section: None,
        }
    }

    fn in_section(mut self, section: &'static str) -> Failure {
        self.section = Some(section);
        self
    }
}

impl Check {
    /// Whether grading `lesson` includes this check.
    pub fn applies_to(&self, lesson: u8) -> bool {
        self.since <= lesson && self.until.is_none_or(|until| lesson <= until)
    }

    /// Runs the check against the server of `session`.
    pub fn run(&self, session: &mut Session) -> Result<(), Failure> {
        match self.run {
            Run::Status(request, status) => expect_status(session, request, status).map(drop),
            Run::Custom(check) => check(session),
            Run::Restarting(check) => check(session),
        }
    }

    /// The same check, for the lessons up to `lesson` only.
    const fn until(mut self, lesson: u8) -> Check {
        self.until = Some(lesson);
        self
    }
}

/// The checks for `lesson`, in the order they run.
pub fn for_lesson(lesson: u8) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().filter(move |check| check.applies_to(lesson))
}

/// The last lesson of the course.
///
/// Lesson 15 adds no check of its own: its event loop changes how the
/// server waits, not what it answers, so it is graded by every check of
/// lesson 14 (and the benchmark shows what it gains).
pub const LAST_LESSON: u8 = 15;

/// The last lesson the grader grades.
pub fn last_lesson() -> u8 {
    LAST_LESSON
}

/// The last lesson whose answer to a good request is the page that shows
/// the request (from lesson 05 on, a server serves files).
const LAST_LESSON_WITH_REQUEST_PAGE: u8 = 4;

/// A request every lesson answers with 200 (lesson 04 requires `Host`).
const SIMPLE: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

const LINE_ENDINGS: &str = "lesson01.md#line-endings";
const WHOLE_HEAD: &str = "lesson01.md#reading-the-whole-head";
const ONE_AT_A_TIME: &str = "lesson01.md#one-connection-at-a-time";
const FRAMING: &str = "lesson02.md#framing-the-response";
const READING_THE_HEAD: &str = "lesson02.md#reading-the-head-strictly";
const HEAD_ERRORS: &str = "lesson02.md#status-codes-for-bad-heads";
const CLOSING: &str = "lesson02.md#closing-the-connection";
const REQUEST_LINE: &str = "lesson03.md#the-request-line";
const BAD_REQUESTS: &str = "lesson03.md#status-codes-for-bad-request-lines";
const HEADER_FIELDS: &str = "lesson04.md#header-fields";
const HOST: &str = "lesson04.md#the-host-header";
const ESCAPING: &str = "lesson04.md#escaping-html";
const MAPPING: &str = "lesson05.md#mapping-a-target-to-a-file";
const SAFETY: &str = "lesson05.md#staying-inside-the-document-root";
const CONTENT_FIELDS: &str = "lesson05.md#content-type-and-content-length";
const METHODS: &str = "lesson05.md#methods-405-or-501";
const HEAD: &str = "lesson06.md#head";
const DATES: &str = "lesson06.md#dates";
const CONDITIONAL: &str = "lesson06.md#conditional-get";
const BODY: &str = "lesson07.md#reading-a-body";
const EXPECT: &str = "lesson07.md#expect-100-continue";
const METHODS_PER_PATH: &str = "lesson07.md#which-methods-where";
const GUESTBOOK: &str = "lesson08.md#the-guestbook";
const MULTIPART: &str = "lesson09.md#how-a-browser-sends-a-file";
const READING_PARTS: &str = "lesson09.md#reading-the-parts";
const UPLOAD_ERRORS: &str = "lesson09.md#refusing-bad-forms";
const UPLOAD_LIMITS: &str = "lesson09.md#size-limits";
const GUESTBOOK_CAP: &str = "lesson08.md#a-cap-on-the-guestbook";
const UPLOADS: &str = "lesson10.md#storing-the-files";
const ALL_OR_NOTHING: &str = "lesson10.md#all-or-nothing";
const SANDBOX: &str = "lesson10.md#serving-uploads-safely";
const STORAGE_CAP: &str = "lesson10.md#a-cap-on-storage";
const PERSISTENT: &str = "lesson11.md#persistent-connections";
const PIPELINING: &str = "lesson11.md#pipelining";
const WHEN_TO_CLOSE: &str = "lesson11.md#when-to-close";
const IDLE: &str = "lesson11.md#the-idle-timeout";
const THREADS: &str = "lesson12.md#a-thread-per-connection";
const SLOW_CLIENTS: &str = "lesson12.md#slow-clients";
const SHUTDOWN: &str = "lesson12.md#shutting-down";
const BODY_LIMITS: &str = "lesson07.md#when-the-length-is-missing-malformed-or-too-large";
const NEVER_REPLACE: &str = "lesson10.md#never-replace";
const FOLDERS: &str = "lesson14.md#folders-and-trailing-slashes";
const LISTINGS: &str = "lesson14.md#folder-listings";
const ETAGS: &str = "lesson13.md#etag-and-if-none-match";
const PRECONDITIONS: &str = "lesson13.md#if-match-and-if-unmodified-since";
const ORDER: &str = "lesson13.md#the-order-of-the-conditions";
const RANGES: &str = "lesson13.md#byte-ranges";
const ACCESS_LOG: &str = "lesson14.md#the-access-log";

/// A check that runs a function (also used for the stretch checks).
pub(crate) const fn custom(
    name: &'static str,
    since: u8,
    until: Option<u8>,
    section: &'static str,
    rule: &'static str,
    check: fn(&Session) -> Result<(), Failure>,
) -> Check {
    Check {
        name,
        since,
        until,
        section,
        rule,
        run: Run::Custom(check),
    }
}

const fn status(
    name: &'static str,
    since: u8,
    section: &'static str,
    rule: &'static str,
    request: &'static [u8],
    status: u16,
) -> Check {
    Check {
        name,
        since,
        until: None,
        section,
        rule,
        run: Run::Status(request, status),
    }
}

pub static CHECKS: &[Check] = &[
    // Lesson 01: answer, with the right line endings, after reading the
    // whole head, and survive whatever a client does.
    custom(
        "hallo-welt",
        1,
        Some(2),
        WHOLE_HEAD,
        "GET /irgendwas HTTP/1.0 is answered with 200 and a body that says Hallo Welt",
        hallo_welt,
    ),
    custom(
        "crlf-line-endings",
        1,
        None,
        LINE_ENDINGS,
        "every line of the response head ends with CR LF (\\r\\n), including the empty line",
        crlf_line_endings,
    ),
    custom(
        "long-request-head",
        1,
        None,
        WHOLE_HEAD,
        "a 4 KiB request head is read completely, answered, and the connection closed without a reset",
        long_request_head,
    ),
    custom(
        "request-in-pieces",
        1,
        None,
        WHOLE_HEAD,
        "a request that arrives in 20 small pieces gets one response, after its last piece",
        request_in_pieces,
    ),
    custom(
        "silent-client",
        1,
        None,
        ONE_AT_A_TIME,
        "a client that connects and leaves without sending anything does not stop the server",
        silent_client,
    ),
    custom(
        "half-head-client",
        1,
        None,
        ONE_AT_A_TIME,
        "a client that sends half a head and leaves does not stop the server",
        half_head_client,
    ),
    custom(
        "garbage-bytes",
        1,
        None,
        ONE_AT_A_TIME,
        "binary garbage (here the start of a TLS handshake) does not stop the server",
        garbage_bytes,
    ),
    // Lesson 02: a proper response (strict framing of every response), the
    // head read strictly, and the two-step close.
    status(
        "response-framing",
        2,
        FRAMING,
        "a GET gets 200 with Content-Type and a correct Content-Length",
        SIMPLE,
        200,
    ),
    status(
        "bare-lf-in-request",
        2,
        READING_THE_HEAD,
        "every line of the request head must end with CR LF; a bare LF gets 400",
        b"GET / HTTP/1.1\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "leading-empty-line",
        2,
        READING_THE_HEAD,
        "an empty line before the request line is ignored (RFC 9112, section 2.2)",
        b"\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        200,
    ),
    custom(
        "long-target",
        2,
        None,
        HEAD_ERRORS,
        "a request line longer than any sensible head limit (a 100 KiB target; the course's limit is 8 KiB) gets 414, without a reset",
        long_target,
    ),
    custom(
        "large-header-section",
        2,
        None,
        HEAD_ERRORS,
        "a head larger than any sensible head limit (100 KiB of header fields; the course's limit is 8 KiB) gets 431 or 400, without a reset",
        large_header_section,
    ),
    // Lesson 02: deadlines for slow clients (see `deadlines`).
    custom(
        "trickled-head",
        2,
        None,
        READING_THE_HEAD,
        "a request head has a deadline as a whole, not only for each read: a client that sends its head one byte every 0.1 s gets 408 Request Timeout soon after the deadline (here --head-timeout 3), and the connection is closed",
        deadlines::trickled_head,
    ),
    // The course's conventions, each graded once here and nowhere else:
    // where HTTP allows several answers, the other checks accept them all.
    custom(
        "convention-connection-close",
        2,
        Some(10),
        CLOSING,
        "course convention until lesson 11 teaches keep-alive: every response says Connection: close and the server closes after it, even for an HTTP/1.1 request that would let it stay open",
        conventions::connection_close,
    ),
    custom(
        "convention-error-media-types",
        2,
        None,
        FRAMING,
        "course convention: an error explains itself in text/plain (here the 431 or 400 for a head of 100 KiB)",
        conventions::error_media_types,
    ),
    custom(
        "convention-status-choices",
        2,
        None,
        HEAD_ERRORS,
        "course convention where HTTP allows several statuses: 431 (not 400) for a head of 100 KiB",
        conventions::status_choices,
    ),
    // Blind spots of lesson 02 (see `blind_spots`).
    custom(
        "error-bodies-explain",
        2,
        None,
        FRAMING,
        "the body of an error (here the 400 for a bare LF, the 414 for a 100 KiB target, the 431 or 400 for 100 KiB of header fields) says what was wrong, more than its status line",
        blind_spots::error_bodies_explain,
    ),
    // Details of reading a request (see `request_details`).
    custom(
        "empty-lines-only",
        2,
        None,
        READING_THE_HEAD,
        "a head of nothing but empty lines (8 KiB of CR LF) holds no request line, so not one too long: 400 (or, for a server that skips them all, a close without an answer), never 414",
        request_details::empty_lines_only,
    ),
    // Lesson 03: the request line.
    custom(
        "page-shows-request-line",
        3,
        Some(4),
        REQUEST_LINE,
        "the page for a GET is text/html and shows its method, target and version",
        page_shows_request_line,
    ),
    status(
        "request-line-double-space",
        3,
        REQUEST_LINE,
        "method, target and version are separated by exactly one space, else 400",
        b"GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "request-line-tab",
        3,
        REQUEST_LINE,
        "a tab is not a separator in the request line: 400",
        b"GET\t/ HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "request-line-missing-version",
        3,
        REQUEST_LINE,
        "a request line without a version (the HTTP/0.9 form) gets 400",
        b"GET /\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "request-line-trailing-space",
        3,
        REQUEST_LINE,
        "a space after the version makes the request line invalid: 400",
        b"GET / HTTP/1.1 \r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "version-lowercase",
        3,
        REQUEST_LINE,
        "the version name is case-sensitive: http/1.1 gets 400",
        b"GET / http/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "version-without-minor",
        3,
        REQUEST_LINE,
        "a version is HTTP/ DIGIT . DIGIT: HTTP/1 gets 400",
        b"GET / HTTP/1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "target-without-slash",
        3,
        REQUEST_LINE,
        "a target starts with / (or is an absolute http:// URL), else 400",
        b"GET foo HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "target-bad-character",
        3,
        REQUEST_LINE,
        "a target holds only URL characters: < gets 400",
        b"GET /a<b HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "method-not-a-token",
        3,
        REQUEST_LINE,
        "a method is a token (letters, digits and !#$%&'*+-.^_`|~): GE(T gets 400",
        b"GE(T / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    ),
    status(
        "version-2-0",
        3,
        BAD_REQUESTS,
        "a well-formed version other than HTTP/1.x gets 505: HTTP/2.0",
        b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n",
        505,
    ),
    custom(
        "version-0-9",
        3,
        None,
        BAD_REQUESTS,
        "a request line that claims HTTP/0.9 (which has no version in its request line) gets 505 or 400",
        version_0_9,
    ),
    status(
        "method-post",
        3,
        BAD_REQUESTS,
        "a method other than GET gets 501 Not Implemented: POST",
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
        501,
    )
    .until(4),
    custom(
        "method-head",
        3,
        Some(5),
        BAD_REQUESTS,
        "before lesson 06 teaches it, HEAD gets 501 Not Implemented (in lesson 05 also 405), or a correct HEAD answer: GET's status and head, without the body",
        method_head,
    ),
    status(
        "method-unknown",
        3,
        BAD_REQUESTS,
        "a method other than GET gets 501 Not Implemented: BREW",
        b"BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        501,
    ),
    custom(
        "version-1-2",
        3,
        None,
        REQUEST_LINE,
        "a newer HTTP/1 minor version is served as HTTP/1.1: HTTP/1.2 gets 200 (in lessons 03-04, the page that shows the request)",
        version_1_2,
    ),
    custom(
        "absolute-form-target",
        3,
        Some(4),
        REQUEST_LINE,
        "an absolute-form target (http://example.com/x) is accepted: 200, and the page shows it",
        absolute_form_target,
    ),
    custom(
        "convention-version-status",
        3,
        None,
        BAD_REQUESTS,
        "course convention where HTTP allows several statuses: 505 (not 400) for an HTTP/0.9 request line, which has no version",
        conventions::version_status,
    ),
    // Details of reading a request (see `request_details`).
    custom(
        "absolute-form-ipv6",
        3,
        Some(4),
        REQUEST_LINE,
        "an absolute-form target whose host is an IPv6 address (http://[::1]/index.html) is accepted: 200, and the page shows it",
        request_details::absolute_form_ipv6,
    ),
    custom(
        "options-star-and-connect",
        3,
        None,
        BAD_REQUESTS,
        "OPTIONS * and CONNECT localhost:443 are well-formed requests for methods a file server does not implement: 501 (or 405), not 400",
        request_details::options_star_and_connect,
    ),
    // Lesson 04: header fields and Host.
    custom(
        "header-fields-listed",
        4,
        Some(4),
        HEADER_FIELDS,
        "the page lists every header field, names and values, in the order received",
        header_fields_listed,
    ),
    custom(
        "header-value-trimmed",
        4,
        Some(4),
        HEADER_FIELDS,
        "spaces and tabs around a header value are not part of it",
        header_value_trimmed,
    ),
    custom(
        "header-value-escaped",
        4,
        Some(4),
        ESCAPING,
        "a header value shown in an HTML page is HTML-escaped: <b> becomes &lt;b&gt;",
        header_value_escaped,
    ),
    status(
        "header-without-colon",
        4,
        HEADER_FIELDS,
        "a header line without a colon gets 400",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n",
        400,
    ),
    status(
        "header-space-before-colon",
        4,
        HEADER_FIELDS,
        "whitespace between a field name and its colon gets 400 (RFC 9112, section 5.1)",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Test : value\r\n\r\n",
        400,
    ),
    status(
        "header-obs-fold",
        4,
        HEADER_FIELDS,
        "a header line that starts with whitespace (obsolete line folding) gets 400",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Test: first\r\n  second\r\n\r\n",
        400,
    ),
    status(
        "header-bare-cr",
        4,
        HEADER_FIELDS,
        "a bare CR inside a header value gets 400",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Test: a\rb\r\n\r\n",
        400,
    ),
    status(
        "header-nul",
        4,
        HEADER_FIELDS,
        "a NUL byte inside a header value gets 400",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Test: a\x00b\r\n\r\n",
        400,
    ),
    status(
        "host-missing",
        4,
        HOST,
        "an HTTP/1.1 request without a Host field gets 400",
        b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
        400,
    ),
    status(
        "host-twice",
        4,
        HOST,
        "a request with two Host fields gets 400",
        b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
        400,
    ),
    status(
        "host-invalid",
        4,
        HOST,
        "a Host value that is not host[:port] gets 400: bad/host",
        b"GET / HTTP/1.1\r\nHost: bad/host\r\n\r\n",
        400,
    ),
    custom(
        "http10-without-host",
        4,
        Some(4),
        HOST,
        "an HTTP/1.0 request needs no Host: 200, and the page lists its fields",
        http10_without_host,
    ),
    // Blind spots of lesson 04 (see `blind_spots`).
    custom(
        "host-http10-optional",
        4,
        None,
        HOST,
        "only HTTP/1.1 requires Host: GET / HTTP/1.0 without it gets 200, the same as HTTP/1.1 gets 400",
        blind_spots::host_http10_optional,
    ),
    custom(
        "host-exactly-one",
        4,
        None,
        HOST,
        "a request with more than one Host gets 400, even when they agree (Host: localhost twice, or \"localhost, localhost\") and in HTTP/1.0",
        blind_spots::host_exactly_one,
    ),
    custom(
        "host-ipv6-literal",
        4,
        None,
        HOST,
        "an IPv6 address in brackets is a valid host, with a port or without ([::1]:8080, [::1]): 200; one followed by a slash ([::1]/x) gets 400",
        blind_spots::host_ipv6_literal,
    ),
    // Lesson 05: files from the document root, and nothing else.
    custom(
        "index-for-root",
        5,
        None,
        MAPPING,
        "GET / serves the document root's index.html, byte for byte",
        files::index_for_root,
    ),
    custom(
        "folder-index",
        5,
        None,
        MAPPING,
        "a folder (/guide/) serves the index.html inside it",
        files::folder_index,
    ),
    custom(
        "folder-without-index",
        5,
        Some(13),
        MAPPING,
        "a folder without index.html (/attic/) gets 404 or 403",
        files::folder_without_index,
    ),
    custom(
        "missing-file",
        5,
        None,
        MAPPING,
        "a file that does not exist gets 404 with a body that says so",
        files::missing_file,
    ),
    custom(
        "percent-encoded-space",
        5,
        None,
        MAPPING,
        "/hello%20world.txt serves the file named hello world.txt",
        files::percent_encoded_space,
    ),
    custom(
        "percent-encoded-umlaut",
        5,
        None,
        MAPPING,
        "/gr%c3%bc%c3%9fe.txt serves the file named grüße.txt (escapes are UTF-8)",
        files::percent_encoded_umlaut,
    ),
    custom(
        "query-ignored",
        5,
        None,
        MAPPING,
        "the query selects no file: /style.css?v=1&lang=de serves style.css",
        files::query_ignored,
    ),
    custom(
        "absolute-form-file",
        5,
        None,
        MAPPING,
        "an absolute-form target (http://localhost/style.css) serves the file its path names",
        files::absolute_form_file,
    ),
    custom(
        "dot-and-empty-segments",
        5,
        None,
        MAPPING,
        "segments . and empty ones are skipped: //style.css and /./guide//index.html serve their files",
        files::dot_and_empty_segments,
    ),
    custom(
        "invalid-percent-escape",
        5,
        None,
        MAPPING,
        "a broken percent escape (%zz, a lone %4) or one that is not UTF-8 (%c3%28) gets 400 or 404",
        files::invalid_percent_escape,
    ),
    custom(
        "css-file",
        5,
        None,
        CONTENT_FIELDS,
        "style.css comes as text/css (charset=utf-8, if a charset is named), with its exact length",
        files::css_file,
    ),
    custom(
        "png-file",
        5,
        None,
        CONTENT_FIELDS,
        "images/dot.png comes as image/png, byte for byte",
        files::png_file,
    ),
    custom(
        "all-byte-values",
        5,
        None,
        CONTENT_FIELDS,
        "a file with all 256 byte values comes back unchanged, as application/octet-stream",
        files::all_byte_values,
    ),
    custom(
        "unknown-extension",
        5,
        None,
        CONTENT_FIELDS,
        "a file with an extension nobody knows (.xyzzy) comes as application/octet-stream",
        files::unknown_extension,
    ),
    custom(
        "large-file",
        5,
        None,
        CONTENT_FIELDS,
        "a 600 KiB file arrives complete, with the exact Content-Length",
        files::large_file,
    ),
    custom(
        "path-escapes",
        5,
        None,
        SAFETY,
        "33 targets that try to leave the document root (.., encoded, doubled, overlong, absolute paths) all get 400, 403 or 404, and the secret beside the root never comes back",
        files::path_escapes,
    ),
    custom(
        "symlink-out-of-root",
        5,
        None,
        SAFETY,
        "a symbolic link that leads out of the root, to a file or a folder, gets 404 or 403, never what it points to",
        files::symlink_out_of_root,
    ),
    custom(
        "named-pipe",
        5,
        None,
        SAFETY,
        "a named pipe in the root gets 404 at once; opening it would block the server",
        files::named_pipe,
    ),
    custom(
        "methods-not-allowed",
        5,
        None,
        METHODS,
        "POST, PUT and DELETE get 405 with an Allow field that lists GET; BREW still gets 501",
        files::methods_not_allowed,
    ),
    custom(
        "convention-404-page",
        5,
        None,
        MAPPING,
        "course convention: a 404 is a small text/html page, which a browser shows better than plain text",
        conventions::not_found_page,
    ),
    custom(
        "convention-file-statuses",
        5,
        None,
        SAFETY,
        "course convention where HTTP allows several statuses: 404 (not 403) for a symbolic link out of the root and, until lesson 14 lists them, a folder without index.html; 400 (not 404) for a broken percent escape",
        conventions::file_statuses,
    ),
    // Lesson 05, the file system as input (`hostile.rs`).
    custom(
        "symlink-loop",
        5,
        None,
        SAFETY,
        "a symbolic link that leads to itself names no file: 404 (or 403), never a server error",
        hostile::symlink_loop,
    ),
    // Details of reading a request (see `request_details`).
    custom(
        "absolute-form-ipv6-file",
        5,
        None,
        MAPPING,
        "an absolute-form target whose host is an IPv6 address (http://[::1]/index.html) serves the file its path names",
        request_details::absolute_form_ipv6_file,
    ),
    // Lesson 06: HEAD, Date, Last-Modified and conditional GET.
    custom(
        "head-file",
        6,
        None,
        HEAD,
        "HEAD gets the status and header fields GET gets (Date aside), without the body",
        conditional::head_file,
    ),
    custom(
        "head-error",
        6,
        None,
        HEAD,
        "HEAD of a missing file (404) or a bad target (400) gets GET's head, without the body",
        conditional::head_error,
    ),
    custom(
        "methods-allow-head",
        6,
        None,
        HEAD,
        "a 405 lists HEAD among the allowed methods: Allow: GET, HEAD",
        conditional::methods_allow_head,
    ),
    custom(
        "date-field",
        6,
        None,
        DATES,
        "every response (200, 304, 400, 404, 405, 501, HEAD) has a Date: the current time as an IMF-fixdate",
        conditional::date_field,
    ),
    custom(
        "last-modified",
        6,
        None,
        DATES,
        "a file comes with Last-Modified: its modification time as an IMF-fixdate",
        conditional::last_modified,
    ),
    custom(
        "not-modified-same-date",
        6,
        None,
        CONDITIONAL,
        "If-Modified-Since equal to the file's time gets 304, without body, Content-Type or Content-Length",
        conditional::not_modified_same_date,
    ),
    custom(
        "not-modified-later-date",
        6,
        None,
        CONDITIONAL,
        "If-Modified-Since a day after the file's time gets 304 (here for /, a folder's index.html)",
        conditional::not_modified_later_date,
    ),
    custom(
        "head-not-modified",
        6,
        None,
        CONDITIONAL,
        "HEAD with If-Modified-Since equal to the file's time gets 304 too",
        conditional::head_not_modified,
    ),
    custom(
        "modified-earlier-date",
        6,
        None,
        CONDITIONAL,
        "If-Modified-Since a second before the file's time gets 200 with the file",
        conditional::modified_earlier_date,
    ),
    custom(
        "if-none-match-first",
        6,
        None,
        CONDITIONAL,
        "If-None-Match with a tag that matches nothing gets 200, even with an If-Modified-Since that alone would get 304",
        conditional::if_none_match_first,
    ),
    custom(
        "invalid-date-ignored",
        6,
        None,
        CONDITIONAL,
        "an If-Modified-Since that is not a date is ignored: 200 with the file",
        conditional::invalid_date_ignored,
    ),
    // Lesson 06, the file system as input (`hostile.rs`).
    custom(
        "last-modified-not-after-date",
        6,
        None,
        DATES,
        "a file dated in the future (next year, the year 10000) gets a Last-Modified no later than the response's Date",
        hostile::last_modified_not_after_date,
    ),
    custom(
        "pre-1970-file",
        6,
        None,
        DATES,
        "a file dated before 1970 is served with 200 and a Last-Modified that is an HTTP date no later than Date",
        hostile::pre_1970_file,
    ),
    // Details of reading a request (see `request_details`).
    custom(
        "head-error-after-request-line",
        6,
        None,
        HEAD,
        "a HEAD whose head turns out bad after the request line (a space before a colon, no Host) gets 400 without a body",
        request_details::head_error_after_request_line,
    ),
    // Lesson 07: POST, with a body, watched through /echo, the course's
    // echo resource.
    custom(
        "body-in-pieces",
        7,
        None,
        BODY,
        "a POST of 48 KiB to /echo (the course's echo resource, which answers 200 with the body it received) sent in 16 pieces is read to its last byte: 200 with exactly those bytes",
        posting::body_in_pieces,
    ),
    custom(
        "length-required",
        7,
        None,
        BODY,
        "a POST to /echo (the course's echo resource) without Content-Length gets 411 Length Required",
        posting::length_required,
    ),
    custom(
        "bad-content-length",
        7,
        None,
        BODY,
        "a POST to /echo (the course's echo resource) whose Content-Length is not one plain number (-1, 1e3, +5, abc, empty, 0x5, \"5, 6\", two different fields, 2^64) gets 400",
        posting::bad_content_length,
    ),
    custom(
        "repeated-content-length",
        7,
        None,
        BODY,
        "the same Content-Length twice (two fields, or \"N, N\") is accepted: /echo (the course's echo resource) answers 200 with the body",
        posting::repeated_content_length,
    ),
    custom(
        "body-too-large",
        7,
        None,
        BODY,
        "a POST to /echo (the course's echo resource) that declares 10^15 bytes gets 413 at once, without waiting for the body",
        posting::body_too_large,
    ),
    custom(
        "transfer-encoding",
        7,
        None,
        BODY,
        "a POST to /echo (the course's echo resource) with Transfer-Encoding: chunked gets 501 Not Implemented",
        posting::transfer_encoding,
    ),
    custom(
        "transfer-encoding-with-length",
        7,
        None,
        BODY,
        "a POST to /echo (the course's echo resource) with Transfer-Encoding together with Content-Length, or in an HTTP/1.0 request, gets 400",
        posting::transfer_encoding_with_length,
    ),
    custom(
        "expect-continue",
        7,
        None,
        EXPECT,
        "a POST to /echo (the course's echo resource) with Expect: 100-continue gets HTTP/1.1 100 Continue before the client sends the body, then 200 with the body",
        posting::expect_continue,
    ),
    custom(
        "no-continue-before-error",
        7,
        None,
        EXPECT,
        "no 100 Continue precedes a refusal: a POST to /echo (the course's echo resource) with Expect and a body too large gets only 413, without Content-Length only 411",
        posting::no_continue_before_error,
    ),
    custom(
        "allow-lists-post",
        7,
        None,
        METHODS_PER_PATH,
        "PUT to /echo (the course's echo resource) gets 405 with POST in Allow; POST to a file gets 405 with Allow: GET, HEAD and without POST",
        posting::allow_lists_post,
    ),
    // Blind spots of lesson 07 (see `blind_spots`).
    custom(
        "echo-limit-exact",
        7,
        None,
        BODY_LIMITS,
        "/echo (the course's echo resource) accepts a body of exactly 64 KiB (65536 bytes: 200 with those bytes) and refuses 65537 bytes with 413",
        blind_spots::echo_limit_exact,
    ),
    // Lesson 07: deadlines for slow bodies (see `deadlines`).
    custom(
        "trickled-body",
        7,
        None,
        BODY,
        "a body must keep a minimum rate after a grace period: a POST to /echo whose body comes one byte every 0.1 s gets 408 Request Timeout soon after the grace period (here --body-timeout 1 --min-body-rate 500), and the connection is closed",
        deadlines::trickled_body,
    ),
    // Lesson 08: forms and the guestbook.
    custom(
        "guestbook-form",
        8,
        None,
        GUESTBOOK,
        "GET /guestbook is an HTML page with a form that posts the fields name and message to /guestbook",
        posting::guestbook_form,
    ),
    custom(
        "guestbook-post",
        8,
        None,
        GUESTBOOK,
        "a form POST to /guestbook gets 303 See Other with Location: /guestbook, and the page then shows the entry",
        posting::guestbook_post_redirects,
    ),
    custom(
        "guestbook-escapes-html",
        8,
        None,
        GUESTBOOK,
        "an entry with markup is shown escaped: <script> becomes &lt;script&gt;, & becomes &amp;",
        posting::guestbook_escapes_html,
    ),
    custom(
        "guestbook-form-decoding",
        8,
        None,
        GUESTBOOK,
        "form fields are decoded: + is a space, %C3%BC%C3%9F is üß, %2B is +, %26 is &",
        posting::guestbook_form_decoding,
    ),
    custom(
        "guestbook-missing-field",
        8,
        None,
        GUESTBOOK,
        "a missing or empty (only spaces) name or message gets 400",
        posting::guestbook_missing_field,
    ),
    custom(
        "guestbook-wrong-type",
        8,
        None,
        GUESTBOOK,
        "a guestbook POST that is not application/x-www-form-urlencoded gets 415",
        posting::guestbook_wrong_type,
    ),
    Check {
        name: "guestbook-survives-restart",
        since: 8,
        until: None,
        section: GUESTBOOK,
        rule: "an entry is still there after the server is stopped and started again",
        run: Run::Restarting(posting::guestbook_survives_restart),
    },
    custom(
        "guestbook-allow",
        8,
        None,
        GUESTBOOK,
        "PUT to /guestbook gets 405 with Allow: GET, HEAD, POST",
        posting::guestbook_allow,
    ),
    // Lesson 08: a cap on the guestbook.
    Check {
        name: "guestbook-cap",
        since: 8,
        until: None,
        section: GUESTBOOK_CAP,
        rule: "an entry that would make the guestbook larger than --max-guestbook bytes gets 507 Insufficient Storage, and is not stored",
        run: Run::Restarting(storage::guestbook_cap),
    },
    // Lesson 09: reading a multipart form.
    custom(
        "form-read-one-file",
        9,
        Some(9),
        READING_PARTS,
        "one file sent as curl -F sends it (all 256 byte values, CR LF, and lines that only look like delimiters) gets 2xx, and the answer names the file and its exact size in bytes",
        uploads::read_one_file,
    ),
    custom(
        "form-read-several-files",
        9,
        Some(9),
        MULTIPART,
        "three files and a text field sent as a browser sends them get 2xx, and the answer names each file and its exact size in bytes",
        uploads::read_several_files,
    ),
    custom(
        "upload-too-large",
        9,
        None,
        UPLOAD_LIMITS,
        "an upload that declares 1 TB (more than any sensible --max-body) gets 413 at once, without waiting for the body",
        uploads::too_large,
    ),
    custom(
        "upload-not-multipart",
        9,
        None,
        UPLOAD_ERRORS,
        "an upload that is not multipart/form-data (raw bytes, a urlencoded form) gets 415",
        uploads::not_multipart,
    ),
    custom(
        "upload-no-boundary",
        9,
        None,
        UPLOAD_ERRORS,
        "multipart/form-data without a boundary parameter, or with an empty one, gets 400",
        uploads::no_boundary,
    ),
    custom(
        "upload-long-boundary",
        9,
        None,
        UPLOAD_ERRORS,
        "a boundary of 71 characters (RFC 2046 allows at most 70) gets 400",
        uploads::long_boundary,
    ),
    custom(
        "upload-no-disposition",
        9,
        None,
        UPLOAD_ERRORS,
        "a part without Content-Disposition gets 400",
        uploads::no_disposition,
    ),
    custom(
        "upload-no-close-delimiter",
        9,
        None,
        UPLOAD_ERRORS,
        "a form whose body ends without the close delimiter --boundary-- gets 400",
        uploads::no_close_delimiter,
    ),
    custom(
        "upload-incomplete",
        9,
        None,
        UPLOAD_ERRORS,
        "an upload whose client stops sending halfway and closes gets 400",
        uploads::incomplete,
    ),
    custom(
        "uploads-allow-post",
        9,
        None,
        MULTIPART,
        "PUT to /uploads gets 405 with POST in its Allow field",
        uploads::allow_lists_post,
    ),
    // Blind spots of lesson 09 (see `blind_spots`).
    custom(
        "upload-limit-exact",
        9,
        None,
        UPLOAD_LIMITS,
        "a form whose body is exactly --max-body bytes (--max-body 262144) is accepted, one byte more gets 413",
        blind_spots::upload_limit_exact,
    ),
    // Lesson 10: storing uploaded files.
    custom(
        "upload-one-file",
        10,
        None,
        UPLOADS,
        "one file sent as curl -F sends it (all 256 byte values, CR LF, and lines that only look like delimiters) gets 201, and GET on its Location returns it byte for byte",
        uploads::one_file,
    ),
    custom(
        "upload-several-files",
        10,
        None,
        UPLOADS,
        "three files and a text field sent as a browser sends them get 201, and the URLs in the answer return each file byte for byte",
        uploads::several_files,
    ),
    custom(
        "upload-unsafe-names",
        10,
        None,
        UPLOADS,
        "file names such as ../../escape.txt, a/b\\c.txt, .hidden or grüße.txt are stored inside the uploads area or refused with 4xx, never written outside the data folder",
        uploads::unsafe_names,
    ),
    custom(
        "upload-conflict",
        10,
        None,
        UPLOADS,
        "a second upload with a name that exists gets 409 or a fresh name, and the first file keeps its bytes",
        uploads::conflict,
    ),
    custom(
        "upload-refused-stores-nothing",
        10,
        None,
        ALL_OR_NOTHING,
        "every refused upload of lesson 09 (415, 400, 413, a client that stops halfway) leaves nothing in the data folder, not even a temporary file",
        uploads::refused_stores_nothing,
    ),
    custom(
        "upload-no-file",
        10,
        None,
        ALL_OR_NOTHING,
        "a form without a file (filename=\"\", as a browser sends it when no file was chosen) gets 400, and nothing is stored",
        uploads::no_file,
    ),
    custom(
        "upload-sandboxed",
        10,
        None,
        SANDBOX,
        "an uploaded HTML page is served with Content-Security-Policy: sandbox (or not as HTML) and X-Content-Type-Options: nosniff",
        uploads::sandboxed,
    ),
    // Lesson 10: a cap on storage.
    Check {
        name: "storage-cap",
        since: 10,
        until: None,
        section: STORAGE_CAP,
        rule: "an upload that would make all uploads together larger than --max-storage bytes gets 507 Insufficient Storage, and nothing of it is stored",
        run: Run::Restarting(storage::storage_cap),
    },
    // Blind spots of lesson 10 (see `blind_spots`).
    custom(
        "upload-never-replaces",
        10,
        None,
        NEVER_REPLACE,
        "a form with a file whose name exists, or with two files of one name, gets 409 and stores nothing of the form, or 201 with every file under a name of its own; the existing file keeps its bytes",
        blind_spots::upload_never_replaces,
    ),
    custom(
        "upload-failure-leaves-nothing",
        10,
        None,
        ALL_OR_NOTHING,
        "an upload that breaks off in its second file gets 400 and leaves nothing in the data folder: not the first file, not a temporary (or hidden) file",
        blind_spots::upload_failure_leaves_nothing,
    ),
    // Lesson 11: many requests on one connection.
    custom(
        "two-requests-one-connection",
        11,
        None,
        PERSISTENT,
        "two GETs, one after the other on one HTTP/1.1 connection, are both answered with Connection: keep-alive",
        keep_alive::two_requests,
    ),
    custom(
        "http10-keep-alive",
        11,
        None,
        PERSISTENT,
        "HTTP/1.0 with Connection: keep-alive keeps the connection open; HTTP/1.0 without it gets Connection: close, and the connection ends",
        keep_alive::http10_keep_alive,
    ),
    custom(
        "body-then-request",
        11,
        None,
        PERSISTENT,
        "an upload whose body looks like a request, sent with a GET right behind it, is stored whole; the GET gets the next response",
        keep_alive::body_then_request,
    ),
    custom(
        "pipelining",
        11,
        None,
        PIPELINING,
        "three GETs sent in one write (style.css, a 600 KiB file, dot.png) are answered in order, each response complete",
        keep_alive::pipelining,
    ),
    custom(
        "pipelining-bodiless-responses",
        11,
        None,
        PIPELINING,
        "a HEAD, a 304 and a 404 sent in one write with a GET behind them are answered in order, the connection kept open",
        keep_alive::pipelining_bodiless,
    ),
    custom(
        "connection-close",
        11,
        None,
        WHEN_TO_CLOSE,
        "on a kept-open connection, a request with Connection: close gets Connection: close, and the request behind it no answer: the connection ends",
        keep_alive::connection_close,
    ),
    custom(
        "unread-body-closes",
        11,
        None,
        WHEN_TO_CLOSE,
        "a request whose body the server leaves unread (415 for a guestbook POST that is not a form, 405 for a POST to a file) gets Connection: close, and the connection ends",
        keep_alive::unread_body_closes,
    ),
    custom(
        "malformed-request-closes",
        11,
        None,
        WHEN_TO_CLOSE,
        "a malformed request (a space before a header's colon, an unknown method, a bad Content-Length, Transfer-Encoding) gets Connection: close, and the connection ends",
        keep_alive::malformed_closes,
    ),
    custom(
        "idle-timeout",
        11,
        None,
        IDLE,
        "a connection that stays idle after a response is closed, without a word, once the idle timeout (--idle-timeout 1) has passed",
        keep_alive::idle_timeout,
    ),
    // Lesson 12: many connections at once, and a cap.
    custom(
        "stalled-clients-wait-alone",
        12,
        None,
        SLOW_CLIENTS,
        "while 7 clients stall in the middle of a request head, an 8th is served within 4 s; each stalled one is served once its head is complete",
        many_clients::stalled_clients_wait_alone,
    ),
    custom(
        "connection-limit",
        12,
        None,
        THREADS,
        "with 8 connections open (--max-connections 8), a 9th gets 503 with Retry-After and Connection: close at once; once they close, a new client is served",
        many_clients::connection_limit,
    ),
    Check {
        name: "many-stalled-clients",
        since: 12,
        until: None,
        section: SLOW_CLIENTS,
        rule: "restarted with --max-connections 64, while 50 clients stall in the middle of a request head, one more is served within 4 s",
        run: Run::Restarting(many_clients::many_stalled_clients),
    },
    // Blind spots of lesson 12 (see `blind_spots`): only for a server the
    // grader starts, which it can send SIGTERM.
    Check {
        name: "shutdown-finishes-download",
        since: 12,
        until: None,
        section: SHUTDOWN,
        rule: "SIGTERM while a 32 MiB file is being sent: the file arrives complete, and the server then exits with status 0 within 5 s",
        run: Run::Restarting(blind_spots::shutdown_finishes_download),
    },
    Check {
        name: "shutdown-finishes-upload",
        since: 12,
        until: None,
        section: SHUTDOWN,
        rule: "SIGTERM while an upload's body is still arriving: the upload gets 201 and is stored, and the server then exits with status 0 within 5 s",
        run: Run::Restarting(blind_spots::shutdown_finishes_upload),
    },
    // Lesson 13: caching and ranges.
    custom(
        "etag",
        13,
        None,
        ETAGS,
        "a file comes with an ETag in double quotes, the same for HEAD, different for another file",
        caching::etag,
    ),
    custom(
        "if-none-match",
        13,
        None,
        ETAGS,
        "If-None-Match with the file's ETag, with W/ before it, *, or in a list gets 304 with the ETag (for HEAD too)",
        caching::if_none_match,
    ),
    custom(
        "if-match-mismatch",
        13,
        None,
        PRECONDITIONS,
        "If-Match with another tag, or with the file's tag marked weak (W/), gets 412 Precondition Failed, for HEAD too",
        caching::if_match_mismatch,
    ),
    custom(
        "if-match-star",
        13,
        None,
        PRECONDITIONS,
        "If-Match: *, the file's ETag, or a list with it gets 200 with the file",
        caching::if_match_star,
    ),
    custom(
        "if-unmodified-since-earlier",
        13,
        None,
        PRECONDITIONS,
        "If-Unmodified-Since with a date before the file's Last-Modified gets 412 Precondition Failed, for HEAD too",
        caching::if_unmodified_since_earlier,
    ),
    custom(
        "if-unmodified-since-later",
        13,
        None,
        PRECONDITIONS,
        "If-Unmodified-Since with the file's Last-Modified or a later date gets the file (and with Range the part, 206); an invalid date is ignored",
        caching::if_unmodified_since_later,
    ),
    custom(
        "if-match-before-if-none-match",
        13,
        None,
        ORDER,
        "If-Match is evaluated first: a failing If-Match with a matching If-None-Match (the ETag, or *) gets 412, not 304",
        caching::if_match_before_if_none_match,
    ),
    custom(
        "if-unmodified-since-ignored-with-if-match",
        13,
        None,
        ORDER,
        "with If-Match present, If-Unmodified-Since is ignored: the file's ETag in If-Match and a date before Last-Modified get 200",
        caching::if_unmodified_since_ignored_with_if_match,
    ),
    custom(
        "range-part",
        13,
        None,
        RANGES,
        "Range: bytes=0-9, bytes=10- and bytes=250-1000 (end beyond the file) get 206, those bytes, and Content-Range: bytes 0-9/256 and so on",
        caching::range_part,
    ),
    custom(
        "range-suffix",
        13,
        None,
        RANGES,
        "Range: bytes=-5 gets 206 with the last 5 bytes; bytes=-1000 the whole file as bytes 0-255/256",
        caching::range_suffix,
    ),
    custom(
        "range-not-satisfiable",
        13,
        None,
        RANGES,
        "a Range that starts at or past the end of the file (bytes=256-, bytes=1000-2000) or is empty (bytes=-0) gets 416 with Content-Range: bytes */256",
        caching::range_not_satisfiable,
    ),
    custom(
        "range-whole-file",
        13,
        None,
        RANGES,
        "several ranges, a broken range or another unit get the whole file with 200, HEAD ignores Range, and every file says Accept-Ranges: bytes",
        caching::range_whole_file,
    ),
    custom(
        "if-range",
        13,
        None,
        RANGES,
        "Range: bytes=0-9 with If-Range: the file's current ETag gets 206 with the part; with an old ETag or an old date, the Range is ignored: 200 with the whole file",
        caching::if_range,
    ),
    // Lesson 13, the file system as input and malformed validators
    // (`hostile.rs`).
    custom(
        "if-none-match-double-weak",
        13,
        None,
        ETAGS,
        "If-None-Match: W/W/\"tag\" is not an entity tag, so it matches nothing: 200 with the file",
        hostile::if_none_match_double_weak,
    ),
    custom(
        "if-range-date-strong",
        13,
        None,
        RANGES,
        "If-Range with the file's Last-Modified gets 206 only when that date is at least a second before the response's Date; a newer date is weak: 200 with the whole file",
        hostile::if_range_date_strong,
    ),
    custom(
        "range-suffix-empty-file",
        13,
        None,
        RANGES,
        "for an empty file, Range: bytes=0- gets 416, and bytes=-5 (satisfiable, but no 206 can describe zero bytes) gets 200",
        hostile::range_suffix_empty_file,
    ),
    // Blind spots of lesson 13 (see `blind_spots`).
    custom(
        "range-empty-positions",
        13,
        None,
        RANGES,
        "a range without its last position (bytes=5-) runs to the end, one without its first (bytes=-1) is a suffix: 206; bytes=-0 gets 416; bytes=-, bytes= and other broken forms are ignored: 200 with the whole file",
        blind_spots::range_empty_positions,
    ),
    // Lesson 14: a real static server.
    custom(
        "folder-redirect",
        14,
        None,
        FOLDERS,
        "a folder without its trailing slash gets 301 to the URL with it: /guide -> /guide/, the query kept, //guide -> /guide/, /shelf/A%20folder -> /shelf/A%20folder/",
        static_server::folder_redirect,
    ),
    custom(
        "file-with-slash",
        14,
        None,
        FOLDERS,
        "a file asked for as a folder (/style.css/) gets 404",
        static_server::file_with_slash,
    ),
    custom(
        "folder-listing",
        14,
        None,
        LISTINGS,
        "a folder without index.html gets a listing: folders first, then files, each sorted byte by byte, names HTML-escaped, links percent-encoded, no hidden names, no links that leave the root",
        static_server::folder_listing,
    ),
    custom(
        "access-log",
        14,
        None,
        ACCESS_LOG,
        "after a GET, a HEAD, a 404 and a range on one connection, the access log (--access-log) has a Common Log Format line for each, with status and body bytes",
        static_server::access_log,
    ),
    // Lesson 14, the file system as input (`hostile.rs`).
    custom(
        "listing-odd-dates",
        14,
        None,
        LISTINGS,
        "a folder with files dated before 1970 and in the year 10000 gets its listing, with every file in it",
        hostile::listing_odd_dates,
    ),
    custom(
        "access-log-bytes-sent",
        14,
        None,
        ACCESS_LOG,
        "a download that the client resets after its first bytes is logged with the body bytes really sent, not the whole file's size",
        access_log::access_log_bytes_sent,
    ),
    custom(
        "access-log-version",
        14,
        None,
        ACCESS_LOG,
        "the access log shows the request line as the client sent it: GET ... HTTP/1.2 (answered as HTTP/1.1) is logged with HTTP/1.2",
        access_log::access_log_version,
    ),
    custom(
        "access-log-bad-field",
        14,
        None,
        ACCESS_LOG,
        "a request whose request line was fine but a later header field was bad (400) is logged with its request line, not -",
        access_log::access_log_bad_field,
    ),
];

/// Sends `request`; a failure to connect fails the check.
fn send(session: &Session, request: &[u8]) -> Result<Exchange, Failure> {
    send_in_pieces(session, request, 1)
}

fn send_in_pieces(session: &Session, request: &[u8], pieces: usize) -> Result<Exchange, Failure> {
    client::exchange_in_pieces(session.address(), request, pieces)
        .map_err(|error| cannot_connect(session, &error))
}

/// Opens a connection to send and read step by step.
fn connect(session: &Session) -> Result<Connection, Failure> {
    Connection::open(session.address()).map_err(|error| cannot_connect(session, &error))
}

fn cannot_connect(session: &Session, error: &std::io::Error) -> Failure {
    Failure::without_exchange(format!("cannot connect to {}: {error}", session.address()))
}

/// Percent-encodes every byte but ASCII letters, digits, `-`, `.` and `_`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Lesson 01's idea of a response: anything that starts with a status line.
fn answered(exchange: &Exchange) -> Result<&Response, Failure> {
    let response = &exchange.response;
    if exchange.received.is_empty() {
        return Err(Failure::new(
            exchange,
            format!("no response came back: {}", exchange.ending),
        ));
    }
    if response.code.is_none() || !response.version.starts_with("HTTP/") {
        return Err(Failure::new(
            exchange,
            "the response does not start with a status line such as HTTP/1.0 200 OK",
        ));
    }
    Ok(response)
}

/// From lesson 02 on, every response must be framed strictly: CR LF line
/// endings, a well-formed status line (the reason phrase may be empty),
/// `Content-Type`, a `Content-Length` that matches the body, a body that
/// explains every error status (in any media type), and a clean close.
/// From lesson 11 on the `Connection` field must say what the server does
/// (see `expect_connection`). The course's own conventions (close after
/// each response before lesson 11, text/plain errors) are not part of it:
/// each is graded once, by its own check (see `conventions`).
///
/// Responses that have no body by definition (RFC 9112, section 6.3) are
/// judged accordingly: a 304 has neither `Content-Type` nor
/// `Content-Length` to check, and the body of a response to HEAD may be
/// missing. Whether it must be missing is for the HEAD checks to say:
/// before lesson 06, servers treat HEAD like any other method.
///
/// A response read from a connection that stays open (`Ending::Open`) is
/// complete where its `Content-Length` says; whether the server closes
/// after it, when it should, is for the caller to find out.
fn strict<'a>(session: &Session, exchange: &'a Exchange) -> Result<&'a Response, Failure> {
    let response = answered(exchange).map_err(|failure| {
        let nothing_came = exchange.received.is_empty();
        failure.in_section(if nothing_came { CLOSING } else { FRAMING })
    })?;
    let framing = |problem: String| Err(Failure::new(exchange, problem).in_section(FRAMING));
    // RFC 9112, section 4: HTTP-version SP status-code SP [ reason-phrase ];
    // the reason may be empty, the space before it may not be missing.
    let shape_ok = matches!(
        response.version.as_bytes(),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit()
    ) && response.status_line.as_bytes().get(12) == Some(&b' ');
    if !shape_ok {
        return framing(format!(
            "the status line {:?} is not of the form HTTP/1.1 200 OK (or HTTP/1.1 200 with a space and an empty reason)",
            response.status_line
        ));
    }
    if !response.crlf_only {
        return framing("a line of the response head ends with a bare LF instead of CR LF".into());
    }
    if !response.head_complete {
        return framing("the response head does not end with an empty line".into());
    }
    if let Some(line) = &response.malformed_line {
        return framing(format!(
            "the header line {line:?} is not of the form Name: value"
        ));
    }
    let code = response.code.unwrap_or_default();
    if code == 304 {
        if !response.body.is_empty() {
            return framing(format!(
                "a 304 response has no body, but {} bytes followed its head",
                response.body.len()
            ));
        }
    } else {
        let Some(content_type) = response.field("Content-Type") else {
            return framing("the response has no Content-Type field".into());
        };
        match response.length_matches {
            None => return framing("the response has no Content-Length field".into()),
            Some(false) => {
                return framing(format!(
                    "Content-Length says {} but the body has {} bytes",
                    response.field("Content-Length").unwrap_or_default(),
                    response.body.len()
                ));
            }
            Some(true) => {}
        }
        // Which media type explains an error is a course convention,
        // graded once by `convention-error-media-types`; here any will do.
        if code >= 400 && response.body.is_empty() && !response.bodiless {
            return framing(format!(
                "an error response should have a body that says what was wrong (in any media type; this one says {content_type})"
            ));
        }
    }
    // Closing after every response is a course convention until lesson 11
    // teaches keep-alive, graded once by `convention-connection-close`.
    if session.lesson() >= FIRST_LESSON_WITH_KEEP_ALIVE {
        expect_connection(session, exchange)?;
    }
    if !matches!(exchange.ending, Ending::Closed | Ending::Open) {
        return Err(Failure::new(
            exchange,
            format!(
                "after the response, {} instead of closing it normally",
                exchange.ending
            ),
        )
        .in_section(CLOSING));
    }
    Ok(response)
}

/// Fails unless the response's `Connection` field says what the server
/// does next. Until lesson 10 that is always `close`. From lesson 11 on a
/// server may also say `keep-alive`, when the request lets the connection
/// stay open: an HTTP/1.1 request without `Connection: close`, or an
/// HTTP/1.0 request with `Connection: keep-alive`.
fn expect_connection(session: &Session, exchange: &Exchange) -> Result<(), Failure> {
    let value = exchange.response.field("Connection").unwrap_or_default();
    if value.eq_ignore_ascii_case("close") {
        return Ok(());
    }
    let keeps_alive = value.eq_ignore_ascii_case("keep-alive");
    let (problem, section) = if session.lesson() < FIRST_LESSON_WITH_KEEP_ALIVE {
        ("the response lacks Connection: close", FRAMING)
    } else if !client::allows_keep_alive(&exchange.sent) {
        (
            "the request asks to close the connection (Connection: close, or HTTP/1.0 without Connection: keep-alive), so the response must say Connection: close",
            WHEN_TO_CLOSE,
        )
    } else if keeps_alive {
        return Ok(());
    } else {
        (
            "the response lacks Connection: keep-alive (or close)",
            PERSISTENT,
        )
    };
    Err(Failure::new(exchange, problem).in_section(section))
}

/// Sends `request` and expects a strictly framed response with `status`.
fn expect_status(session: &Session, request: &[u8], status: u16) -> Result<Exchange, Failure> {
    let exchange = send(session, request)?;
    expect_status_in(session, &exchange, &[status])?;
    Ok(exchange)
}

/// Sends each of `requests` and expects `status` for every one.
fn expect_status_for_each(
    session: &Session,
    requests: impl IntoIterator<Item = Request>,
    status: u16,
) -> Result<(), Failure> {
    requests
        .into_iter()
        .try_for_each(|request| expect_status(session, &request.bytes(), status).map(drop))
}

/// Expects a strictly framed response with one of `statuses`.
fn expect_status_in<'a>(
    session: &Session,
    exchange: &'a Exchange,
    statuses: &[u16],
) -> Result<&'a Response, Failure> {
    let response = answered(exchange).map_err(|failure| {
        let nothing_came = exchange.received.is_empty();
        failure.in_section(if nothing_came { CLOSING } else { FRAMING })
    })?;
    if response.code.is_some_and(|code| statuses.contains(&code)) {
        return strict(session, exchange);
    }
    // The status is what the check is about, so it comes first; a framing
    // problem of the same response follows it.
    let expected: Vec<String> = statuses.iter().map(u16::to_string).collect();
    let mut problem = format!(
        "expected status {}, got {}",
        expected.join(" or "),
        response
            .code
            .map_or("none".to_owned(), |code| code.to_string())
    );
    if let Err(framing) = strict(session, exchange) {
        problem = format!(
            "{problem}; the response also has a framing problem: {}",
            framing.problem
        );
    }
    Err(Failure::new(exchange, problem))
}

/// Expects `file` for `request`: 200, its `Content-Type`, and its content
/// byte for byte.
fn expect_file(session: &Session, request: &Request, file: &SiteFile) -> Result<Exchange, Failure> {
    let exchange = expect_status(session, &request.bytes(), 200)?;
    expect_content(&exchange, file.path, file.content_type, &(file.content)())?;
    Ok(exchange)
}

/// Fails unless the response is `content` of type `content_type`; `name`
/// says what it should be in a failure.
fn expect_content(
    exchange: &Exchange,
    name: &str,
    content_type: &str,
    content: &[u8],
) -> Result<(), Failure> {
    let response = &exchange.response;
    if response.body != content {
        let first_difference = response
            .body
            .iter()
            .zip(content)
            .position(|(received, expected)| received != expected)
            .unwrap_or(response.body.len().min(content.len()));
        return Err(Failure::new(
            exchange,
            format!(
                "the body is not {name}: {} bytes instead of {}, differing from byte {first_difference} on",
                response.body.len(),
                content.len()
            ),
        ));
    }
    let received_type = response.field("Content-Type").unwrap_or_default();
    if !same_media_type(received_type, content_type) {
        return Err(Failure::new(
            exchange,
            format!("{name} should come as Content-Type: {content_type}, not {received_type:?}"),
        )
        .in_section(CONTENT_FIELDS));
    }
    Ok(())
}

/// Whether two `Content-Type` values say the same, ignoring case, spaces
/// and quotes: `text/html;charset="UTF-8"` is `text/html; charset=utf-8`.
///
/// A missing `charset=utf-8` is not what the checks that compare types are
/// about (HTML and CSS name their encoding themselves, and for text a
/// browser guesses well); a charset that is named must be the right one.
fn same_media_type(received: &str, expected: &str) -> bool {
    let normal = |text: &str| -> String {
        text.chars()
            .filter(|character| !matches!(character, ' ' | '\t' | '"'))
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let (received, expected) = (normal(received), normal(expected));
    received == expected || expected.strip_suffix(";charset=utf-8") == Some(received.as_str())
}

/// The methods the `Allow` fields of a response list.
fn allowed_methods(response: &Response) -> Vec<&str> {
    response
        .fields
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Allow"))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|method| !method.is_empty())
        .collect()
}

/// Fails unless `response`'s `Allow` lists every one of `methods`.
fn expect_allowed(exchange: &Exchange, methods: &[&str]) -> Result<(), Failure> {
    let allowed = allowed_methods(&exchange.response);
    match methods.iter().find(|method| !allowed.contains(method)) {
        None => Ok(()),
        Some(missing) => Err(Failure::new(
            exchange,
            format!(
                "a 405 response must list the allowed methods in an Allow field; {missing} is missing"
            ),
        )
        .in_section(METHODS)),
    }
}

/// Expects a 200 page of type `text/html` for `request`.
fn expect_page(session: &Session, request: &[u8]) -> Result<Exchange, Failure> {
    let exchange = expect_status(session, request, 200)?;
    let content_type = exchange.response.field("Content-Type").unwrap_or_default();
    if !content_type.starts_with("text/html") {
        return Err(Failure::new(
            &exchange,
            format!("the page should be text/html, not {content_type}"),
        ));
    }
    Ok(exchange)
}

/// Fails unless the body contains every one of `texts`, in this order.
fn expect_in_order(exchange: &Exchange, texts: &[&str]) -> Result<(), Failure> {
    let body = exchange.response.body_text();
    let mut from = 0;
    for text in texts {
        match body.get(from..).and_then(|rest| rest.find(text)) {
            Some(found) => from += found + text.len(),
            None if body.contains(text) => {
                return Err(Failure::new(
                    exchange,
                    format!("the page shows {text:?}, but not in the order the request had it"),
                ));
            }
            None => {
                return Err(Failure::new(
                    exchange,
                    format!("the page does not show {text:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// Fails unless the server still answers a simple request, after
/// `what_happened` to a previous connection.
fn still_answers(session: &Session, what_happened: &str) -> Result<(), Failure> {
    let exchange = send(session, SIMPLE)?;
    answered(&exchange).map_err(|failure| Failure {
        problem: format!(
            "after {what_happened}, the server no longer answers: {}",
            failure.problem
        ),
        ..failure
    })?;
    Ok(())
}

fn hallo_welt(session: &Session) -> Result<(), Failure> {
    let exchange = send(session, b"GET /irgendwas HTTP/1.0\r\n\r\n")?;
    let response = answered(&exchange)?;
    if response.code != Some(200) {
        return Err(Failure::new(&exchange, "expected status 200"));
    }
    if !response.body_text().contains("Hallo Welt") {
        return Err(Failure::new(&exchange, "the body does not say Hallo Welt"));
    }
    Ok(())
}

fn crlf_line_endings(session: &Session) -> Result<(), Failure> {
    let exchange = send(session, SIMPLE)?;
    let response = answered(&exchange)?;
    if !response.crlf_only {
        return Err(Failure::new(
            &exchange,
            "a line of the response head ends with a bare LF (\\n) instead of CR LF (\\r\\n)",
        ));
    }
    if !response.head_complete {
        return Err(Failure::new(
            &exchange,
            "the response head does not end with an empty line (\\r\\n\\r\\n)",
        ));
    }
    Ok(())
}

fn long_request_head(session: &Session) -> Result<(), Failure> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Long: {}\r\n\r\n",
        "a".repeat(4096)
    );
    let exchange = send(session, request.as_bytes())?;
    answered(&exchange)?;
    if exchange.ending != Ending::Closed {
        return Err(Failure::new(
            &exchange,
            format!(
                "{}: the server closed while request bytes were still unread, so it did not read the whole head",
                exchange.ending
            ),
        ));
    }
    Ok(())
}

fn request_in_pieces(session: &Session) -> Result<(), Failure> {
    let exchange = send_in_pieces(session, SIMPLE, 20)?;
    if exchange.answered_early {
        return Err(Failure::new(
            &exchange,
            "the server answered (or closed) before the request was complete: it must read up to the empty line, however the bytes arrive",
        ));
    }
    let response = answered(&exchange)?;
    let count = response.status_line_count();
    if count != 1 {
        return Err(Failure::new(
            &exchange,
            format!("expected one response, got {count} status lines"),
        ));
    }
    Ok(())
}

fn silent_client(session: &Session) -> Result<(), Failure> {
    drop(client::connect(session.address()));
    still_answers(
        session,
        "a client connected and left without sending anything",
    )
}

fn half_head_client(session: &Session) -> Result<(), Failure> {
    if let Ok(mut stream) = client::connect(session.address()) {
        let _ = std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: loc");
    }
    still_answers(session, "a client sent half a head and left")
}

fn garbage_bytes(session: &Session) -> Result<(), Failure> {
    // The first bytes a browser sends when it speaks HTTPS to an HTTP port.
    let garbage = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\xff\xfe\x80\r\n\r\n";
    let _ = send(session, garbage);
    still_answers(session, "a client sent binary garbage")
}

fn page_shows_request_line(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(session, b"GET /some/path?x=1 HTTP/1.0\r\n\r\n")?;
    expect_in_order(&exchange, &["GET", "/some/path?x=1", "HTTP/1.0"])
}

fn version_1_2(session: &Session) -> Result<(), Failure> {
    if session.lesson() > LAST_LESSON_WITH_REQUEST_PAGE {
        return expect_status(session, b"GET / HTTP/1.2\r\nHost: localhost\r\n\r\n", 200).map(drop);
    }
    let request = b"GET /minor-version HTTP/1.2\r\nHost: localhost\r\n\r\n";
    let exchange = expect_page(session, request)?;
    expect_in_order(&exchange, &["GET", "/minor-version"])
}

fn absolute_form_target(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(
        session,
        b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )?;
    expect_in_order(&exchange, &["GET", "http://example.com/x"])
}

/// The size of the heads that must be refused: well beyond the course's
/// limit (8 KiB) and beyond common ones (nginx reads at most 32 KiB of
/// header lines by default, Apache 8 KiB per line), so that a server with
/// any sensible limit refuses them.
const HUGE_HEAD_KIB: usize = 100;

/// A request whose target alone is `HUGE_HEAD_KIB` long.
fn long_target_request() -> Vec<u8> {
    format!(
        "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(HUGE_HEAD_KIB * 1024)
    )
    .into_bytes()
}

/// A request with `HUGE_HEAD_KIB` of header fields, each line short.
fn large_header_section_request() -> Vec<u8> {
    let fields: String = (0..HUGE_HEAD_KIB)
        .map(|index| format!("X-Filler-{index}: {}\r\n", "b".repeat(1000)))
        .collect();
    format!("GET / HTTP/1.1\r\nHost: localhost\r\n{fields}\r\n").into_bytes()
}

fn long_target(session: &Session) -> Result<(), Failure> {
    expect_status(session, &long_target_request(), 414).map(drop)
}

/// RFC 6585 made 431 for this case; 400, which any bad request may get,
/// is what servers sent before it (nginx still does).
fn large_header_section(session: &Session) -> Result<(), Failure> {
    let exchange = send(session, &large_header_section_request())?;
    expect_status_in(session, &exchange, &[431, 400]).map(drop)
}

/// A request that claims HTTP/0.9.
const VERSION_0_9: &[u8] = b"GET / HTTP/0.9\r\nHost: localhost\r\n\r\n";

/// HTTP/0.9 requests have no version in their request line, so one that
/// names it is either a version the server refuses (505) or simply a bad
/// request (400).
fn version_0_9(session: &Session) -> Result<(), Failure> {
    let exchange = send(session, VERSION_0_9)?;
    expect_status_in(session, &exchange, &[505, 400]).map(drop)
}

/// Before lesson 06 a server need not implement HEAD: 501 (from lesson 05
/// also 405) is fine, and so is a correct answer, GET's head without the
/// body. In lessons 03-04 the page shows the method, so the length of
/// GET's page is not HEAD's: there only the body's absence is compared.
fn method_head(session: &Session) -> Result<(), Failure> {
    let refusals: &[u16] = if session.lesson() > LAST_LESSON_WITH_REQUEST_PAGE {
        &[501, 405, 200]
    } else {
        &[501, 200]
    };
    let exchange = send(session, &Request::head("/").bytes())?;
    let response = expect_status_in(session, &exchange, refusals)?;
    if response.code != Some(200) {
        return Ok(());
    }
    if !response.body.is_empty() {
        return Err(Failure::new(
            &exchange,
            format!(
                "a 200 to HEAD must come without a body (or answer 501), but {} bytes followed the head",
                response.body.len()
            ),
        ));
    }
    if session.lesson() > LAST_LESSON_WITH_REQUEST_PAGE {
        conditional::expect_head_like_get(session, "/", 200)?;
    }
    Ok(())
}

fn header_fields_listed(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(
        session,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Grader-Probe: hello-123\r\nAccept: */*\r\n\r\n",
    )?;
    expect_in_order(
        &exchange,
        &[
            "Host",
            "localhost",
            "X-Grader-Probe",
            "hello-123",
            "Accept",
            "*/*",
        ],
    )
}

fn header_value_trimmed(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(
        session,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Padded: \t  padded value \t \r\n\r\n",
    )?;
    expect_in_order(&exchange, &["X-Padded", "padded value"])?;
    let body = exchange.response.body_text();
    let untrimmed = body.match_indices("padded value").any(|(start, text)| {
        let mut before = body.get(..start).unwrap_or_default().chars().rev();
        let after = body
            .get(start + text.len()..)
            .and_then(|text| text.chars().next());
        // One space before the value is the page's own, as in
        // `X-Padded: padded value`; the request had a tab and two more.
        let blank = |character: Option<char>| matches!(character, Some(' ' | '\t'));
        let padded_before = match before.next() {
            Some('\t') => true,
            Some(' ') => blank(before.next()),
            _ => false,
        };
        padded_before || blank(after)
    });
    if untrimmed {
        return Err(Failure::new(
            &exchange,
            "the page shows the value with the spaces or tabs around it",
        ));
    }
    Ok(())
}

fn header_value_escaped(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(
        session,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Markup: <b>bold</b>\r\n\r\n",
    )?;
    if exchange.response.body_text().contains("<b>bold") {
        return Err(Failure::new(
            &exchange,
            "the value <b>bold</b> appears unescaped: the browser would run it as markup",
        ));
    }
    expect_in_order(&exchange, &["X-Markup", "&lt;b&gt;bold&lt;/b&gt;"])
}

fn http10_without_host(session: &Session) -> Result<(), Failure> {
    let exchange = expect_page(
        session,
        b"GET / HTTP/1.0\r\nX-Grader-Probe: hello-10\r\n\r\n",
    )?;
    expect_in_order(&exchange, &["X-Grader-Probe", "hello-10"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case() {
        let mut names: Vec<&str> = CHECKS.iter().map(|check| check.name).collect();
        assert!(names.iter().all(|name| {
            name.bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        }));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
    }

    /// The rules name the settings the grader starts a server with.
    #[test]
    fn rules_name_the_settings() {
        use crate::server::{
            BODY_TIMEOUT, HEAD_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MIN_BODY_RATE,
        };
        let rule = |name: &str| {
            CHECKS
                .iter()
                .find(|check| check.name == name)
                .map(|check| check.rule)
                .unwrap_or_default()
        };
        let head = format!("--head-timeout {})", client::seconds(HEAD_TIMEOUT));
        assert!(rule("trickled-head").contains(&head));
        let body = format!(
            "--body-timeout {} --min-body-rate {MIN_BODY_RATE})",
            client::seconds(BODY_TIMEOUT)
        );
        assert!(rule("trickled-body").contains(&body));
        let idle = format!("--idle-timeout {})", client::seconds(IDLE_TIMEOUT));
        assert!(rule("idle-timeout").contains(&idle));
        let cap = format!("(--max-connections {MAX_CONNECTIONS})");
        assert!(rule("connection-limit").contains(&cap));
        let stalled = format!("while {} clients stall", MAX_CONNECTIONS - 1);
        assert!(rule("stalled-clients-wait-alone").contains(&stalled));
    }
}
