//! (stub, replaced by the real reader)

use std::io::BufRead;

use remit_domain::Payment;

use crate::{ParseError, SourceContext};

/// Streaming reader (stub).
pub struct Cpa005Reader<R> {
    _reader: R,
    _ctx: SourceContext,
}

impl<R: BufRead> Cpa005Reader<R> {
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self { _reader: reader, _ctx: ctx }
    }
}

impl<R: BufRead> Iterator for Cpa005Reader<R> {
    type Item = Result<Payment, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        None
    }
}
