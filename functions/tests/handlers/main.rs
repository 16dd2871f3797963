//! The handlers called directly, as Lambda would call them, over SQLite and a local folder
//! standing for the bucket: one test binary.

mod chunks;
mod emulator;
mod ingest;
mod ops_api;
mod support;
mod sweeper;
mod template;
