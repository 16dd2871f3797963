//! (stub, replaced by the real reader)

use std::io::BufRead;

use remit_domain::Payment;

use crate::{ParseError, SourceContext};

/// Streaming reader (stub).
pub struct IndiaCsvReader<R> {
    _reader: R,
    _ctx: SourceContext,
}

impl<R: BufRead> IndiaCsvReader<R> {
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self { _reader: reader, _ctx: ctx }
    }
}

impl<R: BufRead> Iterator for IndiaCsvReader<R> {
    type Item = Result<Payment, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}

/// Streaming reader (stub).
pub struct IndiaJsonReader<R> {
    _reader: R,
    _ctx: SourceContext,
}

impl<R: BufRead> IndiaJsonReader<R> {
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self { _reader: reader, _ctx: ctx }
    }
}

impl<R: BufRead> Iterator for IndiaJsonReader<R> {
    type Item = Result<Payment, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}
