//! The grader: checks over TCP that a server behaves as a lesson teaches.
//!
//! It never looks at a server's code, only at the bytes it sends back, so it
//! grades a server written in any language. `client` sends requests and
//! parses responses, `checks` holds what each lesson must do, `stretch`
//! the optional checks for the chapters' exercises, `grade` runs them,
//! `recording` keeps what they sent and received (for `--verbose`),
//! `report` prints the results, `server` starts and stops the server to
//! grade, and `fixture` makes the files it serves from lesson 05 on.
//! `exercise` makes and builds a student's copy of a lesson, `hints`
//! explains each check.

pub mod checks;
pub mod client;
pub mod exercise;
pub mod fixture;
pub mod grade;
pub mod hints;
pub mod recording;
pub mod report;
pub mod server;
pub mod stretch;
