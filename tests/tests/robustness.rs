//! No byte sequence may crash a lesson's server.
//!
//! Every lesson gets a few hundred requests made by mutating valid ones
//! (bytes flipped, inserted, deleted, repeated, the request cut short),
//! each on a connection of its own. Afterwards the server must still answer
//! a normal request, and it must never have printed a panic message: from
//! lesson 12 on a panic would only end one connection's thread, so the
//! server's survival alone would not prove much.
//!
//! The mutations come from a fixed seed, so a failure can be repeated; the
//! message names the request that came before it.

// A failed assertion (a panic) is how a test reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use grader::fixture::Fixture;
use grader::server::{Program, Session};

/// How many mutated requests each lesson gets. The server's output, which
/// the test reads for panic messages, holds its first 16 KiB, so the request
/// log of this many requests must fit in it.
const MUTATIONS_PER_LESSON: usize = 150;

/// Valid requests to start from: every feature the lessons parse.
const SEEDS: [&[u8]; 7] = [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET /sub/notes.txt?x=1 HTTP/1.0\r\nAccept: */*\r\n\r\n",
    b"HEAD /index.html HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    b"GET /index.html HTTP/1.1\r\nHost: a\r\nRange: bytes=2-5\r\nIf-None-Match: W/\"x\", *\r\n\r\n",
    b"POST /guestbook HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\nname=Ada&message=Hi%21",
    b"POST /uploads/fuzz.bin HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n\x00\xff\r\n",
    b"GET /sub HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\nGET /%2e%2e/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
];

/// Bytes that mean something to an HTTP parser.
const INTERESTING_BYTES: [u8; 12] = [
    b'\r', b'\n', b'\0', b' ', b'\t', b':', b'%', b'/', b'.', b'-', 0x80, 0xff,
];

/// A small, fixed pseudo-random sequence (xorshift64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number from 0 up to, not including, `bound` (which must not be 0).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// Changes `request` in one to four random ways.
fn mutate(request: &[u8], random: &mut Random) -> Vec<u8> {
    let mut bytes = request.to_vec();
    for _ in 0..=random.below(4) {
        if bytes.is_empty() {
            bytes.push(b'G');
        }
        let at = random.below(bytes.len());
        match random.below(6) {
            0 => bytes[at] ^= 1 << random.below(8),
            1 => bytes.insert(at, INTERESTING_BYTES[random.below(INTERESTING_BYTES.len())]),
            2 => {
                let end = (at + 1 + random.below(8)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + 1 + random.below(16)).min(bytes.len());
                let repeated = bytes[at..end].to_vec();
                bytes.splice(at..at, repeated);
            }
            4 => bytes.truncate(at),
            _ => bytes[at] = (random.next() & 0xff) as u8,
        }
    }
    bytes
}

/// Sends `request` on a connection of its own, says that nothing more is
/// coming, and reads whatever the server answers until it closes. Errors
/// (a reset, a timeout) are fine: only the server's survival counts.
fn send(address: SocketAddr, request: &[u8]) -> Vec<u8> {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return Vec::new();
    };
    let timeout = Some(Duration::from_secs(15));
    stream.set_read_timeout(timeout).unwrap();
    stream.set_write_timeout(timeout).unwrap();
    let _ = stream.write_all(request);
    let _ = stream.shutdown(Shutdown::Write);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response
}

fn survives_mutated_requests(lesson: u8) {
    let session = Session::launch(Program::Lesson(lesson), Fixture::create().unwrap()).unwrap();
    let address = session.address();
    let mut random = Random(0x9e37_79b9_7f4a_7c15 ^ u64::from(lesson));
    let mut last_request = Vec::new();
    for _ in 0..MUTATIONS_PER_LESSON {
        let seed = SEEDS[random.below(SEEDS.len())];
        last_request = mutate(seed, &mut random);
        send(address, &last_request);
    }

    let response = send(
        address,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(
        response.starts_with(b"HTTP/1."),
        "lesson{lesson:02} stopped answering; the last mutated request was {:?}",
        String::from_utf8_lossy(&last_request)
    );
    let output = session.server().output();
    assert!(
        !output.contains("panicked"),
        "lesson{lesson:02} panicked:\n{output}"
    );
}

/// The test itself can fail: a server that stops answering is noticed.
#[test]
fn a_server_that_stops_answering_is_noticed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    assert!(send(address, b"GET / HTTP/1.1\r\n\r\n").is_empty());
}

#[test]
fn lesson01_survives_mutated_requests() {
    survives_mutated_requests(1);
}

#[test]
fn lesson02_survives_mutated_requests() {
    survives_mutated_requests(2);
}

#[test]
fn lesson03_survives_mutated_requests() {
    survives_mutated_requests(3);
}

#[test]
fn lesson04_survives_mutated_requests() {
    survives_mutated_requests(4);
}

#[test]
fn lesson05_survives_mutated_requests() {
    survives_mutated_requests(5);
}

#[test]
fn lesson06_survives_mutated_requests() {
    survives_mutated_requests(6);
}

#[test]
fn lesson07_survives_mutated_requests() {
    survives_mutated_requests(7);
}

#[test]
fn lesson08_survives_mutated_requests() {
    survives_mutated_requests(8);
}

#[test]
fn lesson09_survives_mutated_requests() {
    survives_mutated_requests(9);
}

#[test]
fn lesson10_survives_mutated_requests() {
    survives_mutated_requests(10);
}

#[test]
fn lesson11_survives_mutated_requests() {
    survives_mutated_requests(11);
}

#[test]
fn lesson12_survives_mutated_requests() {
    survives_mutated_requests(12);
}

#[test]
fn lesson13_survives_mutated_requests() {
    survives_mutated_requests(13);
}

#[test]
fn lesson14_survives_mutated_requests() {
    survives_mutated_requests(14);
}

#[test]
fn lesson15_survives_mutated_requests() {
    survives_mutated_requests(15);
}
