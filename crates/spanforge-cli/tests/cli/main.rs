//! The `spanforge` command's suite: one test binary, one module per subcommand.

#![allow(unreachable_pub)]

mod api;
mod cost;
mod doctor;
mod report;
mod serve;
mod support;
mod tls;
mod ui;
