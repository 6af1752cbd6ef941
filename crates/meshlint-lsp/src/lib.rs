//! `meshlint server`: the Language Server Protocol over stdio.
//!
//! This crate owns the editor side of meshlint: the protocol loop ([`server`]), the
//! workspace kept between edits and its incremental re-evaluation ([`workspace`]),
//! findings as diagnostics ([`convert`]), hover, go to definition, find references
//! ([`names`], [`hover`]) and quick fixes ([`actions`]). It owns no analysis: the check
//! pipeline — discovery, `.meshlint.yaml`, loading, rules, suppressions — comes from
//! `meshlint-cli` through the [`Checker`] trait, so the editor shows what
//! `meshlint check` reports. JSON-RPC framing is `lsp-server`'s (rust-analyzer's).
#![forbid(unsafe_code)]

pub mod actions;
pub mod checker;
pub mod convert;
pub mod cursor;
pub mod hover;
pub mod names;
pub mod server;
pub mod workspace;

pub use checker::{Checker, FileUnit};
pub use server::{serve, CheckerFactory};

/// Serves one client on standard input and output until it shuts down.
pub fn serve_stdio(make: Box<CheckerFactory>) -> Result<(), String> {
    let (connection, io) = lsp_server::Connection::stdio();
    let outcome = serve(&connection, make);
    drop(connection);
    io.join().map_err(|e| e.to_string())?;
    outcome
}
