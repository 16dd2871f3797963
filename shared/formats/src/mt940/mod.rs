//! (stub, replaced by the real reader)

use std::io::BufRead;

use remit_domain::Payment;

use crate::{ParseError, SourceContext};

/// Streaming reader (stub).
pub struct Mt940Reader<R> {
    _reader: R,
    _ctx: SourceContext,
}

impl<R: BufRead> Mt940Reader<R> {
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self { _reader: reader, _ctx: ctx }
    }
}

impl<R: BufRead> Iterator for Mt940Reader<R> {
    type Item = Result<Payment, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}
