//! More help for one check, step by step: `grader hint lesson03 CHECK`.
//!
//! Every check has a hint: the steps written here for it (or for its group,
//! such as all `request-line-*` checks), or else steps made from its rule
//! and section. Each hint ends with the section of the book that explains
//! the rule.

use crate::checks::Check;

/// The steps of the hint for `check`, the last naming its book section.
pub fn steps(check: &Check) -> Vec<String> {
    let mut steps: Vec<String> = match written(check.name) {
        Some(written) => written.iter().map(|step| (*step).to_owned()).collect(),
        None => generated(check),
    };
    steps.push(format!(
        "Read docs/src/{} in the book, which explains the rule and shows the \
         reference code.",
        check.section
    ));
    steps
}

/// Steps made from the check's rule, for checks without written ones.
fn generated(check: &Check) -> Vec<String> {
    let lesson = check.since;
    vec![
        format!("The rule: {}.", check.rule),
        format!(
            "Try it by hand: start your server and send the request the failure \
             report shows as `sent:` (curl -v, or printf '...' | nc 127.0.0.1 PORT), \
             then compare what comes back with the rule."
        ),
        format!(
            "Find where your server decides this, then compare with the reference: \
             lessons/lesson{lesson:02}/src (`diff -ruN lessons/lesson{:02} \
             lessons/lesson{lesson:02}` shows what lesson {lesson:02} added).",
            lesson.saturating_sub(1).max(1)
        ),
    ]
}

/// Hand-written steps, by check name (or group of checks).
fn written(name: &str) -> Option<&'static [&'static str]> {
    let steps: &'static [&'static str] = match name {
        // The course's conventions (see checks/conventions.rs): choices
        // where HTTP allows several answers, graded once each.
        "convention-connection-close" => &[
            "Until lesson 11 the course's servers close the connection after every \
             response, even when an HTTP/1.1 request would let it stay open.",
            "Send the field Connection: close in every response, and close after \
             writing it (the two-step close of lesson 02: shut down the writing side, \
             read what is left, then drop the stream).",
            "HTTP/1.1 also allows keeping the connection open; this check only grades the \
             course's choice, so a server that keeps it open fails here and nowhere else.",
        ],
        "convention-error-media-types" => &[
            "An error answer explains itself in one sentence of text/plain; charset=utf-8.",
            "Make Response::error build its body from HttpError::explanation and set \
             Content-Type to text/plain.",
        ],
        "convention-status-choices" => &[
            "A head larger than your limit gets 431 Request Header Fields Too Large \
             (RFC 6585); 400 would be valid too, but 431 says what is wrong.",
            "Detect it where read_head runs out of its allowance after the first line.",
        ],
        "convention-version-status" => &[
            "A request line without a version (HTTP/0.9, `GET /`) gets 505 HTTP Version \
             Not Supported; 400 would be valid too.",
            "In parse_request_line, a line with two parts instead of three is the old \
             form: answer it with HttpError::VersionNotSupported.",
        ],
        "convention-404-page" => &[
            "From lesson 05 on a missing file gets a small HTML page, which a browser \
             shows as a page instead of raw text.",
            "Build the 404 with Response::html and a short page that says which path \
             was not found (escaped).",
        ],
        "convention-file-statuses" => &[
            "A symbolic link that leads out of the root gets 404, like a file that does \
             not exist: a 403 would tell an attacker that something is there.",
            "A folder without index.html gets 404 until lesson 14 lists folders.",
            "A broken percent escape (%zz, or bytes that are not UTF-8) gets 400: the \
             target itself is malformed.",
        ],
        // Lesson 01: the checks every server must pass.
        "crlf-line-endings" => &[
            "Every line of the response head ends with \\r\\n, the empty line too.",
            "Write the status line as \"HTTP/1.0 200 OK\\r\\n\" and then \"\\r\\n\".",
        ],
        "hallo-welt" => {
            &["Answer every request with a status line, an empty line and the body Hallo Welt."]
        }
        "long-request-head" | "request-in-pieces" => &[
            "TCP delivers a stream of bytes, not messages: one read may bring half a \
             request or more than one line.",
            "Read the head line by line (BufReader::read_until) until the empty line, \
             however many reads that takes.",
        ],
        "silent-client" | "half-head-client" => &[
            "A client may connect and send nothing, or stop halfway. Without a limit, \
             a one-at-a-time server would wait for ever.",
            "Give the connection a read timeout (set_read_timeout) and give up on the \
             client when it expires.",
        ],
        "garbage-bytes" => &[
            "Any bytes may arrive: never unwrap or index what the network sends.",
            "Read bytes, not a String (the request need not be UTF-8), and turn every \
             problem into an answer or a closed connection, never a panic.",
        ],
        // Lesson 02: a proper response, a strict head.
        "response-framing" => &[
            "A response head is the status line, then one header field per line, then \
             an empty line; every line ends with \\r\\n.",
            "Content-Length must be the number of bytes of the body (body.len() of the \
             bytes, not the number of characters of a string).",
            "Add Content-Type (text/plain; charset=utf-8) and Connection: close, then write \
             head and body with one write_all each.",
        ],
        "bare-lf-in-request" => &[
            "read_until(b'\\n') gives you each line with its \\n; strip it.",
            "What is left must end with \\r: if it does not, the client used a bare LF.",
            "Answer that with HttpError::BadRequest and a sentence that names the rule.",
        ],
        "leading-empty-line" => &[
            "An empty line (just \\r\\n) before the request line is not the end of the head.",
            "While you have no lines yet, skip empty ones (continue the loop) instead of \
             returning.",
        ],
        "long-target" | "large-header-section" => &[
            "Read the head through a limit: reader.by_ref().take(bytes_left) stops \
             read_until after MAX_HEAD_BYTES in all.",
            "A line without \\n at the end of the allowance means the limit was reached.",
            "If that happens on the first line, the target is too long: 414 (UriTooLong); \
             later, the head is too large: 431 (HeadTooLarge).",
            "Answer with Response::error, which needs HttpError::status and explanation, \
             and close the connection politely (close_connection) so there is no reset.",
        ],
        "empty-lines-only" => &[
            "Skipping empty lines before the request line is right, but only a few: count \
             them (MAX_EMPTY_LINES, 10 like Apache).",
            "One more than that is a bad request (400): a head of nothing but empty lines \
             has no request line, so it cannot have one that is too long (414).",
        ],
        "trickled-head" => &[
            "The read timeout limits only each single wait; a client that sends a byte \
             every 0.1 s never runs into it.",
            "Give the whole head a deadline: read_request wraps the reader in a Deadline \
             that looks at the clock in fill_buf, before every wait for more bytes.",
            "When the deadline has passed, fail with io::ErrorKind::TimedOut; From turns \
             it into HttpError::TimedOut, which is 408 Request Timeout.",
            "Take the deadline from --head-timeout (the grader passes {head_timeout}), \
             and close the connection after the 408.",
        ],
        // Lesson 03: the request line.
        "page-shows-request-line" | "absolute-form-target" => &[
            "Parse the request line into a Request (method, target, version) first.",
            "respond builds an HTML page from it; escape what comes from the client with \
             escape_html.",
            "Answer with Content-Type text/html; charset=utf-8.",
        ],
        "absolute-form-ipv6" | "absolute-form-ipv6-file" => &[
            "An absolute-form target may name an IPv6 address as its host, in brackets: \
             http://[::1]/index.html (RFC 3986, section 3.2.2).",
            "Allow [ and ] in the host of an absolute URL (up to the first slash after \
             ://), and nowhere else in a target.",
        ],
        "options-star-and-connect" => &[
            "* is the target of OPTIONS for the whole server, host:port the target of \
             CONNECT for a tunnel; both are well-formed (RFC 9112, section 3.2).",
            "A file server implements neither method: answer 501 Not Implemented, before \
             checking the target, which would refuse * and host:port with 400.",
        ],
        "request-line-double-space"
        | "request-line-tab"
        | "request-line-missing-version"
        | "request-line-trailing-space" => &[
            "Split the request line at single spaces: line.split(|&byte| byte == b' ').",
            "There must be exactly three parts, and none may be empty; anything else \
             (two spaces, a tab, a missing version, a trailing space) is a 400.",
        ],
        "version-lowercase"
        | "version-without-minor"
        | "version-2-0"
        | "version-0-9"
        | "version-1-2" => &[
            "A version is exactly HTTP/ DIGIT . DIGIT, case-sensitive: check the bytes.",
            "Anything else is not a version at all: 400.",
            "A well-formed version with major 1 is served (HTTP/1.0, 1.1, and newer minors as \
             1.1); another major (2.0, 0.9) gets 505.",
        ],
        "target-without-slash" | "target-bad-character" => &[
            "A target is origin-form (starts with /) or absolute-form (http:// or https://).",
            "Only URL characters are allowed: letters, digits and -._~:/?#[]@!$&'()*+,;=%.",
            "Anything else gets 400.",
        ],
        "method-not-a-token" | "method-post" | "method-head" | "method-unknown" => &[
            "A method is a token: one or more of letters, digits and !#$%&'*+-.^_`|~ \
             (is_token). Not a token: 400.",
            "A token that is not a method this lesson serves (GET) gets 501 Not \
             Implemented, after the version was checked.",
        ],
        // Lesson 04: header fields.
        "header-fields-listed"
        | "header-value-trimmed"
        | "header-value-escaped"
        | "http10-without-host" => &[
            "Each line after the request line is name:value; split at the first colon.",
            "Trim spaces and tabs around the value (not inside it).",
            "Keep the fields in a Vec in the order received and list them in the page, \
             escaped with escape_html.",
        ],
        "header-without-colon"
        | "header-space-before-colon"
        | "header-obs-fold"
        | "header-bare-cr"
        | "header-nul" => &[
            "A line without a colon, or a name that is not a token (a space before the \
             colon, a line that starts with whitespace), gets 400.",
            "A value may hold visible characters, spaces and tabs; a CR, LF or NUL \
             inside it gets 400.",
        ],
        "host-missing" | "host-twice" | "host-invalid" => &[
            "HTTP/1.1 requires exactly one Host field; HTTP/1.0 does not.",
            "Count the Host fields (names compare case-insensitively): none in an HTTP/1.1 \
             request, or two, gets 400.",
            "The value is host[:port]: a name of letters, digits, - and ., an IP address, \
             and optionally a colon and digits; anything else gets 400.",
        ],
        "host-http10-optional" | "host-exactly-one" | "host-ipv6-literal" => &[
            "Decide by the version and the number of Host fields: none is fine in HTTP/1.0 \
             only; more than one is always 400, even when the values agree (a comma in one \
             value is two values too).",
            "An IPv6 address comes in brackets, [::1], and the port follows the closing \
             bracket: look for the port's colon after the ], not inside the brackets.",
        ],
        "error-bodies-explain" => &[
            "Every error response carries a body that says what was wrong with the \
             request, not only the status line again.",
            "Keep one explanation per kind of error, next to its status code, and put it \
             into the body of every error response.",
        ],
        // Lesson 05: serving files.
        "index-for-root" | "folder-index" | "folder-without-index" | "missing-file" => &[
            "Turn the target's path into a relative path and join it to the document root.",
            "A folder is served by its index.html; no index.html, or no file at all, gets \
             404 with a small HTML page.",
        ],
        "percent-encoded-space"
        | "percent-encoded-umlaut"
        | "invalid-percent-escape"
        | "query-ignored"
        | "absolute-form-file"
        | "dot-and-empty-segments" => &[
            "Cut off the query (from ?) and, for an absolute-form target, the scheme and host.",
            "Split the path at / and skip empty and . segments; a .. segment never leaves \
             the root.",
            "Percent-decode each segment on its own: %XX is a byte; the bytes must be UTF-8. \
             A broken escape gets 400.",
        ],
        "css-file" | "png-file" | "all-byte-values" | "unknown-extension" | "large-file" => &[
            "Read the file as bytes, never as a string, and send it unchanged.",
            "Content-Type comes from the extension (mime_guess); text types get \
             ; charset=utf-8, unknown ones application/octet-stream.",
            "Content-Length is the file's size; copy the file to the connection with io::copy.",
        ],
        "path-escapes" | "symlink-out-of-root" | "named-pipe" => &[
            "Decode first, then check each segment: a segment that is .. or holds / or \\ \
             after decoding is refused.",
            "Resolve the joined path with fs::canonicalize and check that it starts with the \
             canonical root: symbolic links may point anywhere.",
            "Serve only regular files (metadata().is_file()); anything else is a 404.",
        ],
        "symlink-loop" => &[
            "fs::canonicalize fails for a symbolic link that leads to itself (the error is \
             ELOOP, too many levels of symbolic links), and the error kind is not NotFound.",
            "Whatever stops canonicalize from finding the real path means there is no file \
             to serve: answer 404, not 500.",
        ],
        "methods-not-allowed" | "method-head-not-allowed" => &[
            "A method HTTP defines but this lesson does not serve (POST, PUT, DELETE, HEAD) \
             gets 405 with Allow: GET.",
            "A method nobody knows (BREW) still gets 501.",
        ],
        _ => return None,
    };
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CHECKS;

    #[test]
    fn every_check_has_a_hint_that_ends_with_its_section() {
        for check in CHECKS {
            let steps = steps(check);
            assert!(steps.len() >= 2, "{}", check.name);
            assert!(
                steps
                    .last()
                    .is_some_and(|last| last.contains(check.section)),
                "{}",
                check.name
            );
        }
    }

    #[test]
    fn the_checks_of_lessons_01_to_05_have_written_hints() {
        for check in CHECKS.iter().filter(|check| (1..=5).contains(&check.since)) {
            assert!(
                written(check.name).is_some(),
                "{} has no written hint",
                check.name
            );
        }
    }

    #[test]
    fn written_hints_name_existing_checks() {
        // A renamed check would silently fall back to the generated hint.
        let names = [
            "response-framing",
            "leading-empty-line",
            "version-1-2",
            "host-invalid",
            "named-pipe",
        ];
        for name in names {
            assert!(CHECKS.iter().any(|check| check.name == name), "{name}");
        }
    }
}
