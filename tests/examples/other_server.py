#!/usr/bin/env python3
"""A server for lessons 01 to 03, written independently of the course's.

The grader's fairness tests (tests/tests/fairness.rs) grade it to prove that
the grader accepts a correct server that is not the course's: it words its
answers differently, builds its pages differently, reads the head with a
limit of its own (16 KiB instead of 8 KiB) and never keeps a connection open.
Flags make it differ where HTTP allows a choice, or where the course only
has a convention; each such flag must fail at most the convention check
that names the choice:

  --html-errors     errors explain themselves in HTML, not text/plain
  --keep-alive      HTTP/1.1 connections stay open (no Connection: close)
  --400-for-large   a head too large gets 400, not 431
  --400-for-0.9     HTTP/0.9 gets 400, not 505
  --head            HEAD is answered like GET without a body, not with 501
  --empty-reason    status lines have no reason phrase: "HTTP/1.1 200 "
  --head-limit N    the head limit in bytes (20 KiB heads get 200 when N is
                    32768; the grader's 100 KiB heads are refused anyway)

Run: python3 other_server.py --port 8000 [flags]
"""

import argparse
import html
import re
import socket
import time

TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
TARGET = re.compile(rb"(/|http://[^/?#\s]+/?)[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*\Z")
# The authority-form, host:port, which only CONNECT uses (RFC 9112, 3.2.3).
AUTHORITY = re.compile(rb"[A-Za-z0-9\-.\[\]:]+:[0-9]+\Z")
VERSION = re.compile(rb"HTTP/(\d)\.(\d)\Z")
REASONS = {200: "OK", 400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long",
           431: "Request Header Fields Too Large", 501: "Not Implemented",
           505: "HTTP Version Not Supported"}


class Refused(Exception):
    def __init__(self, status, why):
        super().__init__(why)
        self.status, self.why = status, why


def read_head(conn, buffered, limit, too_large=431, head_timeout=2.0):
    """Returns (head, rest) or None at a clean end of the stream. The whole
    head must arrive within head_timeout seconds (a deadline of its own,
    shorter than the course's, to show that the grader accepts it)."""
    data = buffered
    deadline = time.monotonic() + head_timeout
    while True:
        # Empty lines before the request line are skipped (RFC 9112, 2.2).
        while data.startswith(b"\r\n"):
            data = data[2:]
        end = data.find(b"\r\n\r\n")
        if end >= 0 and end + 4 <= limit:
            return data[:end], data[end + 4:]
        if len(data) >= limit:
            if b"\r\n" not in data[:limit]:
                raise Refused(414, "Your request line is longer than this server reads.")
            raise Refused(too_large, "Your request head is larger than this server reads.")
        left = deadline - time.monotonic()
        if left <= 0:
            raise Refused(408, "You took too long to send the request.")
        try:
            conn.settimeout(min(3, left))
            chunk = conn.recv(65536)
        except socket.timeout:
            raise Refused(408, "You took too long to send the request.")
        finally:
            conn.settimeout(3)
        if not chunk:
            if data:
                raise Refused(400, "The request ended before its head did.")
            return None
        data += chunk


def parse(head, options):
    if b"\n" in head.replace(b"\r\n", b""):
        raise Refused(400, "Lines must end with CR LF, not a bare LF.")
    line = head.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) != 3:
        raise Refused(400, "A request line is METHOD SP TARGET SP VERSION.")
    method, target, version = parts
    if not TOKEN.match(method):
        raise Refused(400, "That method is not a token.")
    # OPTIONS * and CONNECT host:port are well-formed; 501 follows below.
    other_form = (method == b"OPTIONS" and target == b"*") or (
        method == b"CONNECT" and AUTHORITY.match(target))
    if not (TARGET.match(target) or other_form):
        raise Refused(400, "That target is not a valid URL path.")
    match = VERSION.match(version)
    if not match:
        raise Refused(400, "That is not an HTTP version.")
    if match.group(1) != b"1":
        if options.for_0_9 and version == b"HTTP/0.9":
            raise Refused(400, "HTTP/0.9 is not spoken here.")
        raise Refused(505, "Only HTTP/1.x is spoken here.")
    if method not in (b"GET", b"HEAD") or (method == b"HEAD" and not options.head):
        raise Refused(501, "Only GET is implemented.")
    return method, target, version


def respond(conn, status, content_type, body, options, keep, bodiless=False):
    reason = "" if options.empty_reason else REASONS[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    if not keep:
        head += "Connection: close\r\n"
    conn.sendall(head.encode() + b"\r\n" + (b"" if bodiless else body))


def refuse(conn, refused, options):
    if options.html_errors:
        body = (f"<!doctype html><title>{refused.status}</title>"
                f"<h1>{REASONS[refused.status]}</h1><p>{html.escape(refused.why)}</p>\n")
        respond(conn, refused.status, "text/html; charset=utf-8", body.encode(), options, False)
    else:
        body = f"{refused.status}: {refused.why}\n".encode()
        respond(conn, refused.status, "text/plain; charset=utf-8", body, options, False)


def serve(conn, options):
    rest = b""
    while True:
        try:
            got = read_head(conn, rest, options.head_limit, 400 if options.for_large else 431)
            if got is None:
                return
            head, rest = got
            method, target, version = parse(head, options)
        except Refused as refused:
            refuse(conn, refused, options)
            return
        shown = " ".join(html.escape(part.decode("latin-1")) for part in (method, target, version))
        page = (f"<!doctype html><meta charset=utf-8><title>Hallo Welt</title>"
                f"<p>Hallo Welt! Your request line was <code>{shown}</code>.</p>\n").encode()
        keep = options.keep_alive and version != b"HTTP/1.0"
        respond(conn, 200, "text/html; charset=utf-8", page, options, keep, method == b"HEAD")
        if not keep:
            return


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--head-limit", type=int, default=16 * 1024)
    parser.add_argument("--html-errors", action="store_true")
    parser.add_argument("--keep-alive", action="store_true")
    parser.add_argument("--400-for-large", dest="for_large", action="store_true")
    parser.add_argument("--400-for-0.9", dest="for_0_9", action="store_true")
    parser.add_argument("--head", action="store_true")
    parser.add_argument("--empty-reason", action="store_true")
    options = parser.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", options.port))
    listener.listen(16)
    print(f"Listening on http://127.0.0.1:{listener.getsockname()[1]}/", flush=True)
    while True:
        conn, _ = listener.accept()
        conn.settimeout(3)
        try:
            try:
                serve(conn, options)
            except Refused as refused:
                refuse(conn, refused, options)
            # Close in two steps, so that unread request bytes do not turn
            # the close into a reset that destroys the response.
            conn.shutdown(socket.SHUT_WR)
            drained = 0
            while drained < (1 << 20) and (chunk := conn.recv(65536)):
                drained += len(chunk)
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
