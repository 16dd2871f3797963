//! ISO 20022 camt.054 (debit/credit notification) and camt.053 (statement), versions 001.02 to
//! 001.08 and later ones with the same paths. A pull parser over quick-xml events that holds one
//! `Ntry` at a time, so memory stays flat whatever the file size.
//!
//! Speed: every element gets a small state from its parent's state and its local name (bytes,
//! prefix ignored); elements we do not read are `Skip` and so is everything under them. Text is
//! kept only for the leaves we read, decoded and unescaped only when the leaf ends. The element
//! path of an error is rebuilt from the state stack only when an error occurs.
//!
//! Input is read in windows of about 256 KiB and each window's complete markup is parsed with
//! quick-xml's borrowing slice reader, which tokenizes about a third faster than its buffered
//! reader because it copies nothing. A window ends before its last `<`, so no tag is cut; a
//! comment, CDATA section or processing instruction that a cut splits shows up as an error at
//! the window's very end, and the window is then read again with more input. End-tag names are
//! checked here against our own stack, since an element may open in an earlier window.
//!
//! Bounds (`Limits`): element depth, tag length, attributes per element, and text length. A
//! window is searched for its last `<` only in the bytes a refill added, and what is left over
//! from one window to the next is at most one tag (or comment...) and one text node: a stretch
//! longer than that is refused, so time and memory stay linear in the file whatever it holds.

mod entry;
pub mod generate;
mod state;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{BufRead, Read};

use chrono::NaiveDate;
use encoding_rs::Encoding;
use quick_xml::errors::IllFormedError;
use quick_xml::events::Event;
use quick_xml::Reader;
use remit_domain::{Payment, SourceFormat};

use crate::limits::shown_bytes;
use crate::{shown, Limits, Location, ParseError, SourceContext};
use entry::{
    parse_amount_in, parse_balance, parse_bool, parse_date, parse_direction, Batch, CdtrRef, Entry, Report,
    Scratch, Tx,
};
use state::S;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes read from the source per refill of the window.
const CHUNK: u64 = 256 * 1024;

/// The reader for both messages; kept under the old name for callers written before camt.053.
pub type Camt054Reader<R> = CamtReader<R>;

/// Streams the payments of a camt.054 or camt.053 file: one per `TxDtls`, or one per `Ntry`
/// that has no details. Only one entry is held in memory, so 100 MB files cost what small ones do.
pub struct CamtReader<R> {
    src: R,
    /// Input read but not yet parsed starts at `pos`; `window[0]` is at file offset `base`.
    window: Vec<u8>,
    base: u64,
    pos: usize,
    src_eof: bool,
    /// Bytes read per refill: `CHUNK`, smaller in tests so windows cut everywhere.
    chunk: u64,
    /// `window[..scanned]` has been searched for the last `<` already: a refill's search looks
    /// at the new bytes only.
    scanned: usize,
    limits: Limits,
    /// File offset just past the last event read.
    at: u64,
    /// The document's encoding: UTF-8 unless its XML declaration names another.
    encoding: &'static Encoding,
    ctx: SourceContext,
    /// Names of the open elements, concatenated, and where each starts: end tags are checked
    /// against them.
    names: Vec<u8>,
    name_starts: Vec<usize>,
    /// State of each open element, root first.
    stack: Vec<S>,
    /// Raw (undecoded, escaped) text of the innermost open leaf we read.
    text: Vec<u8>,
    /// `Ccy` of the amount element just started.
    ccy: String,
    has_ccy: bool,
    /// The last `Ccy` resolved to a currency, and the currency: amounts repeat it.
    ccy_cache: Option<(String, remit_domain::model::money::Currency)>,
    /// Buffers for `Entry::into_payments`, kept to spare allocations per entry.
    scratch: Scratch,
    /// Byte offset of the start tag just read.
    elem_offset: u64,
    /// camt.052, camt.053 or camt.054, once the message element is seen.
    format: Option<SourceFormat>,
    /// `GrpHdr/CreDtTm`: the last date an entry without dates falls back on.
    message_created: Option<NaiveDate>,
    /// The business application header's identifiers (`AppHdr`, head.001), when an envelope
    /// carries one: kept on every payment as references.
    envelope: Vec<(&'static str, String)>,

    root_closed: bool,
    report: Report,
    /// 1-based index of the current `Ntfctn` / `Stmt`.
    report_no: u64,
    entry: Option<Entry>,
    tx: Option<Tx>,
    batch: Option<Batch>,
    record: u64,
    pending: VecDeque<Payment>,
    /// An error found after payments that are still pending: reported once they are taken.
    deferred: Option<ParseError>,
    done: bool,
}

impl<R: BufRead> CamtReader<R> {
    /// Wraps a buffered byte stream; nothing is read beyond the BOM check until iteration.
    pub fn new(mut reader: R, ctx: SourceContext) -> Self {
        let bom = match reader.fill_buf() {
            Ok(head) if head.starts_with(BOM) => {
                reader.consume(BOM.len());
                BOM.len() as u64
            }
            _ => 0,
        };
        Self {
            src: reader,
            window: Vec::with_capacity(CHUNK as usize + 4096),
            base: bom,
            pos: 0,
            src_eof: false,
            chunk: CHUNK,
            scanned: 0,
            limits: Limits::default(),
            at: bom,
            encoding: encoding_rs::UTF_8,
            ctx,
            names: Vec::with_capacity(512),
            name_starts: Vec::with_capacity(32),
            stack: Vec::with_capacity(32),
            text: Vec::with_capacity(256),
            ccy: String::with_capacity(8),
            has_ccy: false,
            ccy_cache: None,
            scratch: Scratch::default(),
            elem_offset: 0,
            format: None,
            message_created: None,
            envelope: Vec::new(),
            root_closed: false,
            report: Report::default(),
            report_no: 0,
            entry: None,
            tx: None,
            batch: None,
            record: 0,
            pending: VecDeque::new(),
            deferred: None,
            done: false,
        }
    }

    /// The same reader with `bytes` read per refill (tests cut windows at every position).
    #[cfg(test)]
    pub(crate) fn with_chunk(mut self, bytes: u64) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    fn byte_pos(&self) -> u64 {
        self.at
    }

    fn top(&self) -> S {
        self.stack.last().copied().unwrap_or(S::Skip)
    }

    /// Where we are, for errors: the path below the message element, entries numbered. Built
    /// only when an error is reported.
    fn here(&self) -> String {
        let mut out = String::new();
        let mut tx_no = self.entry.as_ref().map(|e| e.txs.len() + 1).unwrap_or(1);
        if self.tx.is_none() {
            tx_no = tx_no.saturating_sub(1).max(1);
        }
        let mut skipped = false;
        for s in &self.stack {
            let name = match s {
                S::Doc | S::Msg(_) | S::Wrap => continue,
                S::Skip if skipped => continue,
                S::Skip => {
                    skipped = true;
                    "…"
                }
                S::Rpt => entry::report_name(self.format.unwrap_or(SourceFormat::Camt054)),
                other => other.name(),
            };
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(name);
            match s {
                S::Rpt if self.report_no > 1 => out.push_str(&format!("[{}]", self.report_no)),
                S::Ntry => out.push_str(&format!("[{}]", self.record)),
                S::Tx => out.push_str(&format!("[{tx_no}]")),
                _ => {}
            }
        }
        out
    }

    fn structure(&self, offset: u64, problem: impl Into<String>) -> ParseError {
        ParseError::structure(&self.ctx.file_name, Location::Element { path: self.here(), offset }, problem)
    }

    fn field(&self, problem: impl Into<String>) -> ParseError {
        ParseError::field(
            &self.ctx.file_name,
            Location::Element { path: self.here(), offset: self.elem_offset },
            self.top().name(),
            problem,
        )
    }

    /// A quick-xml error found at file offset `offset`. Its text is cut as `shown` does: some
    /// quote names or entities of any length.
    fn xml_error(&self, e: quick_xml::Error, offset: u64) -> ParseError {
        if let quick_xml::Error::Io(io) = &e {
            if remit_domain::ingest::is_source_failure(io) {
                return ParseError::Source { file: self.ctx.file_name.to_string(), detail: io.to_string() };
            }
        }
        self.structure(offset, format!("malformed XML: {}", shown(&e.to_string())))
    }

    /// A bound passed at file offset `offset`. Kept out of line: the checks that call it sit on
    /// the hot path, the error never does.
    #[cold]
    #[inline(never)]
    fn limit(&self, offset: u64, what: &str, limit: usize) -> ParseError {
        ParseError::limit(&self.ctx.file_name, Location::Element { path: self.here(), offset }, what, limit)
    }

    /// The unparsed rest of the window has grown past one tag and one text node without
    /// completing either: says which bound it broke.
    fn leftover_error(&self) -> ParseError {
        let rest = &self.window[self.pos..];
        let offset = self.base + self.pos as u64;
        let markup = [&b"<!--"[..], b"<?", b"<!DOCTYPE", b"<!doctype"];
        if rest.starts_with(b"<![CDATA[") {
            self.limit(offset, "XML text length (a CDATA section)", self.limits.field_bytes)
        } else if markup.iter().any(|m| rest.starts_with(m)) {
            self.limit(
                offset,
                "XML comment, processing instruction or DOCTYPE length",
                self.limits.field_bytes,
            )
        } else if rest.starts_with(b"<") && memchr::memchr(b'>', rest).is_none() {
            self.limit(offset, "XML tag length", self.limits.tag_bytes)
        } else {
            self.limit(offset, "XML text length", self.limits.field_bytes)
        }
    }

    /// Reads events until the next entry has produced payments, or the file ends.
    fn advance(&mut self) -> Result<(), ParseError> {
        while self.pending.is_empty() && !self.done {
            let window = std::mem::take(&mut self.window);
            let result = self.parse_window(&window);
            self.window = window;
            if result? {
                self.refill()?;
            }
        }
        Ok(())
    }

    /// Moves the unparsed rest of the window to its front and appends up to `chunk` bytes. The
    /// rest is at most one tag, or one comment, CDATA section or processing instruction a cut
    /// split, and the text after it (the window was parsed up to its last `<`): past that, one
    /// of them breaks its bound, and the file is refused.
    fn refill(&mut self) -> Result<(), ParseError> {
        let l = &self.limits;
        if self.window.len() - self.pos > l.tag_bytes.max(l.field_bytes) + l.field_bytes + 2 {
            return Err(self.leftover_error());
        }
        self.window.drain(..self.pos);
        self.base += self.pos as u64;
        self.scanned = self.scanned.saturating_sub(self.pos);
        self.pos = 0;
        let got = (&mut self.src)
            .take(self.chunk)
            .read_to_end(&mut self.window)
            .map_err(|e| ParseError::io(&self.ctx.file_name, e))?;
        if got == 0 {
            self.src_eof = true;
        }
        Ok(())
    }

    /// Parses the complete markup in the unparsed part of `window`: up to its last `<`, or all
    /// of it once the source is exhausted. True when more input is needed to go on.
    fn parse_window(&mut self, window: &[u8]) -> Result<bool, ParseError> {
        let rest = &window[self.pos..];
        let end = if self.src_eof {
            rest.len()
        } else {
            // A `<` at the very start ends nothing; the bytes searched before hold no `<` that
            // helps (none at all, or one whose slice was cut short and must grow past it).
            let from = self.scanned.saturating_sub(self.pos).clamp(1, rest.len().max(1));
            self.scanned = window.len();
            match memchr::memrchr(b'<', rest.get(from..).unwrap_or_default()) {
                Some(i) => from + i,
                None => return Ok(true),
            }
        };
        let slice = &rest[..end];
        let start = self.base + self.pos as u64;
        let mut xml = Reader::from_reader(slice);
        let config = xml.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = true;
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        loop {
            let before = xml.buffer_position();
            match xml.read_event() {
                Ok(Event::Eof) => {
                    self.pos += end;
                    self.at = start + end as u64;
                    if self.src_eof {
                        self.on_eof()?;
                    }
                    return Ok(false);
                }
                Ok(event) => {
                    self.at = start + xml.buffer_position();
                    self.on_event(event, start + before)?;
                }
                // A construct that runs past the window's end: read it again with more input.
                Err(_) if !self.src_eof && xml.buffer_position() == end as u64 => {
                    self.pos += before as usize;
                    return Ok(true);
                }
                Err(e) => return Err(self.xml_error(e, start + xml.error_position())),
            }
        }
    }

    /// One event; `tag_at` is the file offset where it starts.
    #[inline]
    fn on_event(&mut self, event: Event<'_>, tag_at: u64) -> Result<(), ParseError> {
        match event {
            Event::Start(e) => {
                self.check_start(&e, tag_at)?;
                let name = e.name().into_inner();
                let parent = self.stack.last().copied().unwrap_or(S::Skip);
                let state = if parent == S::Skip && !self.stack.is_empty() {
                    S::Skip
                } else {
                    let depth = self.stack.len();
                    // No name we read has a prefix: try the whole name first, and look for a
                    // prefix only when it matched nothing.
                    match state::child(parent, depth, name) {
                        S::Skip | S::BadRoot(_) | S::Wrap if name.contains(&b':') => {
                            state::child(parent, depth, local_name(name))
                        }
                        s => s,
                    }
                };
                self.name_starts.push(self.names.len());
                self.names.extend_from_slice(name);
                if state.has_ccy() {
                    self.has_ccy = false;
                    self.ccy.clear();
                    if let Err(err) = read_ccy(&e, &mut self.ccy, &mut self.has_ccy) {
                        let offset = self.byte_pos();
                        return Err(self.structure(offset, format!("malformed XML attribute: {err}")));
                    }
                }
                self.elem_offset = tag_at;
                self.on_start(state)?;
            }
            Event::End(e) => {
                let found = e.name().into_inner();
                // quick-xml's wording, with the names cut as `shown` does (a tag may be 16 KiB).
                let Some(open) = self.name_starts.pop() else {
                    let e = IllFormedError::UnmatchedEndTag(shown_bytes(found));
                    return Err(
                        self.structure(tag_at, format!("malformed XML: {}", quick_xml::Error::from(e)))
                    );
                };
                if self.names[open..] != *found {
                    let e = IllFormedError::MismatchedEndTag {
                        expected: shown_bytes(&self.names[open..]),
                        found: shown_bytes(found),
                    };
                    return Err(
                        self.structure(tag_at, format!("malformed XML: {}", quick_xml::Error::from(e)))
                    );
                }
                self.names.truncate(open);
                self.on_end()?;
            }
            Event::Text(t) => {
                if t.len() > self.limits.field_bytes {
                    return Err(self.limit(tag_at, "XML text length", self.limits.field_bytes));
                }
                if self.stack.is_empty() {
                    if t.iter().any(|b| !b.is_ascii_whitespace()) {
                        let offset = self.byte_pos();
                        return Err(self.structure(offset, "text outside the root element: not XML"));
                    }
                } else if self.stack.last().is_some_and(|s| s.wants_text()) {
                    self.text.extend_from_slice(&t);
                    self.check_text(tag_at)?;
                }
            }
            Event::CData(c) if c.len() > self.limits.field_bytes => {
                return Err(self.limit(tag_at, "XML text length (a CDATA section)", self.limits.field_bytes));
            }
            // CDATA is literal: escape what would otherwise be unescaped later.
            Event::CData(c) if self.stack.last().is_some_and(|s| s.wants_text()) => {
                let esc = quick_xml::escape::escape(String::from_utf8_lossy(&c));
                self.text.extend_from_slice(esc.as_bytes());
                self.check_text(tag_at)?;
            }
            Event::Comment(c) if c.len() > self.limits.field_bytes => {
                return Err(self.limit(tag_at, "XML comment length", self.limits.field_bytes));
            }
            Event::PI(c) if c.len() > self.limits.field_bytes => {
                let what = "XML processing instruction length";
                return Err(self.limit(tag_at, what, self.limits.field_bytes));
            }
            Event::DocType(c) if c.len() > self.limits.field_bytes => {
                return Err(self.limit(tag_at, "XML DOCTYPE length", self.limits.field_bytes));
            }
            Event::Decl(d) => {
                if let Some(encoding) = d.encoder() {
                    self.encoding = encoding;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The bounds on a start tag: nesting depth, tag length, attributes. Attributes are counted
    /// without quick-xml's duplicate check (quadratic in their number), and only on tags long
    /// enough to hold more than the limit; the few elements whose attributes are read get the
    /// full check then, on at most `Limits::attributes` of them.
    #[inline]
    fn check_start(&self, e: &quick_xml::events::BytesStart<'_>, tag_at: u64) -> Result<(), ParseError> {
        if self.stack.len() >= self.limits.depth {
            return Err(self.limit(tag_at, "XML element depth", self.limits.depth));
        }
        if e.len() > self.limits.tag_bytes {
            return Err(self.limit(tag_at, "XML tag length", self.limits.tag_bytes));
        }
        // An attribute takes more than 3 bytes (`a=""`): a shorter tag cannot pass.
        if e.attributes_raw().len() > 3 * self.limits.attributes && more_attributes(e, self.limits.attributes)
        {
            return Err(self.limit(tag_at, "attributes on one XML element", self.limits.attributes));
        }
        Ok(())
    }

    /// The text of the leaf being read stays within a field's bound, however it is split
    /// (text around comments, CDATA sections).
    #[inline]
    fn check_text(&self, tag_at: u64) -> Result<(), ParseError> {
        if self.text.len() > self.limits.field_bytes {
            return Err(self.limit(tag_at, "XML text length", self.limits.field_bytes));
        }
        Ok(())
    }

    #[inline]
    fn on_start(&mut self, state: S) -> Result<(), ParseError> {
        if self.root_closed {
            return Err(self.structure(self.elem_offset, "content after the end of the root element"));
        }
        self.text.clear();
        if state.acts_on_start() {
            self.start_container(state)?;
        }
        self.stack.push(state);
        Ok(())
    }

    /// What starting a container sets up (a report, an entry, a transaction...).
    #[inline(never)]
    fn start_container(&mut self, state: S) -> Result<(), ParseError> {
        match state {
            S::BadRoot(kind) => {
                self.stack.push(S::Skip);
                return Err(self.root_error(kind));
            }
            S::Msg(fmt) => self.format = Some(fmt),
            S::Rpt => {
                self.report_no += 1;
                self.report = Report::new(self.format.unwrap_or(SourceFormat::Camt054), self.report_no);
            }
            S::Bal => self.report.start_balance(),
            S::Ntry => {
                self.record += 1;
                let txs = std::mem::take(&mut self.scratch.txs);
                self.entry =
                    Some(Entry::new(self.record, self.elem_offset, &self.report, txs, self.message_created));
                self.batch = None;
            }
            S::NDtls => self.batch = None,
            S::Btch => {
                let first_tx = self.entry.as_ref().map_or(0, |e| e.txs.len());
                self.batch = Some(Batch { first_tx, ..Batch::default() });
            }
            S::Tx => self.tx = Some(Tx::default()),
            S::CdtrRefInf => {
                if let Some(tx) = self.tx.as_mut() {
                    tx.creditor_refs.push(CdtrRef::default());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn root_error(&self, kind: state::BadRoot) -> ParseError {
        let problem = match kind {
            state::BadRoot::Other => "the Document holds no camt.054 notification, camt.053 statement \
                 or camt.052 report (expected BkToCstmrDbtCdtNtfctn, BkToCstmrStmt or BkToCstmrAcctRpt)"
                .to_string(),
            state::BadRoot::TooDeep => format!(
                "no Document within {} envelope elements of the root: not a camt file",
                state::MAX_WRAPPERS
            ),
        };
        self.structure(self.elem_offset, problem)
    }

    #[inline]
    fn on_end(&mut self) -> Result<(), ParseError> {
        let state = self.top();
        if state.wants_text() || state.acts_on_end() {
            self.handle_end(state)?;
        }
        self.stack.pop();
        self.text.clear();
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        Ok(())
    }

    #[inline(never)]
    fn handle_end(&mut self, state: S) -> Result<(), ParseError> {
        let raw = std::mem::take(&mut self.text);
        let result = self.handle_leaf(state, &raw);
        self.text = raw;
        result
    }

    fn handle_leaf(&mut self, state: S, raw: &[u8]) -> Result<(), ParseError> {
        let text = if state.wants_text() {
            leaf_text(self.encoding, raw).map_err(|p| self.field(p))?
        } else {
            Cow::Borrowed("")
        };
        let t: &str = &text;
        let value = || Some(t.to_string()).filter(|s| !s.is_empty());
        match state {
            // The notification / statement as a whole.
            S::Rpt => {
                if let Err(problem) = self.report.check_balances() {
                    let offset = self.byte_pos();
                    return Err(self.structure(offset, problem));
                }
            }
            S::RptId => self.report.id = value(),
            S::RptIban => self.report.set_iban(value()),
            S::RptBic => self.report.set_bic(value()),
            S::BalCd => self.report.balance_code(t),
            S::BalAmt => match parse_balance(t, self.has_ccy.then_some(self.ccy.as_str())) {
                Ok(m) => self.report.balance_amount(m),
                Err(p) => return Err(self.field(p)),
            },
            S::BalDir => match parse_direction(t) {
                Some(d) => self.report.balance_direction(d),
                None => return Err(self.field(format!("expected CRDT or DBIT, got \"{}\"", shown(t)))),
            },
            S::Bal => self.report.end_balance(),

            // The envelope's header and the message's and report's own dates.
            S::HdrBizMsgIdr | S::HdrMsgDefIdr | S::HdrCreDt => {
                let kind = match state {
                    S::HdrBizMsgIdr => "business_message_id",
                    S::HdrMsgDefIdr => "message_definition",
                    _ => "business_message_created",
                };
                if let Some(v) = value() {
                    self.envelope.push((kind, v));
                }
            }
            S::MsgCreDtTm | S::RptCreDtTm | S::RptToDtTm | S::TxSttlmDt => {
                // An unreadable fallback date is no date: the entry's own dates come first.
                let d = parse_date(t);
                match state {
                    S::MsgCreDtTm => self.message_created = d,
                    S::RptCreDtTm => self.report.created = d,
                    S::RptToDtTm => self.report.to_date = d,
                    _ => {
                        if let Some(tx) = self.tx.as_mut() {
                            tx.settlement_date = d;
                        }
                    }
                }
            }

            // The entry.
            S::Ntry => {
                if let Some(entry) = self.entry.take() {
                    // An intraday report's entry not booked (pending, information) is no
                    // payment yet: the booked one comes in a later report or the statement.
                    if self.format == Some(SourceFormat::Camt052)
                        && matches!(entry.status.as_deref(), Some("PDNG" | "INFO"))
                    {
                        self.scratch.txs = entry.into_txs();
                        return Ok(());
                    }
                    self.report.count_entry(&entry, &self.ctx)?;
                    let before = self.pending.len();
                    entry.into_payments(&self.ctx, &mut self.report, &mut self.scratch, &mut self.pending)?;
                    if !self.envelope.is_empty() {
                        for p in self.pending.iter_mut().skip(before) {
                            for (kind, v) in &self.envelope {
                                p.references.other.push(((*kind).into(), remit_domain::RefText::new(v)));
                            }
                        }
                    }
                }
            }
            S::NAmt | S::BtchTtl | S::TxAmt | S::TxAmtDtls => {
                let m = match self.amount_currency(t) {
                    Ok(cur) => parse_amount_in(t, cur),
                    Err(p) => Err(p),
                }
                .map_err(|p| self.field(p))?;
                match state {
                    S::NAmt => {
                        if let Some(e) = self.entry.as_mut() {
                            e.amount = Some(m);
                        }
                    }
                    S::BtchTtl => {
                        if let Some(b) = self.batch.as_mut() {
                            b.total = Some(m);
                        }
                    }
                    S::TxAmt => {
                        if let Some(tx) = self.tx.as_mut() {
                            tx.amount = Some(m);
                        }
                    }
                    _ => {
                        if let Some(tx) = self.tx.as_mut() {
                            tx.amount_dtls = Some(m);
                        }
                    }
                }
            }
            S::NDir | S::TxDir => {
                let d = parse_direction(t)
                    .ok_or_else(|| self.field(format!("expected CRDT or DBIT, got \"{}\"", shown(t))))?;
                if state == S::NDir {
                    if let Some(e) = self.entry.as_mut() {
                        e.direction = Some(d);
                    }
                } else if let Some(tx) = self.tx.as_mut() {
                    tx.direction = Some(d);
                }
            }
            S::NRvsl => {
                let b = parse_bool(t)
                    .ok_or_else(|| self.field(format!("expected true or false, got \"{}\"", shown(t))))?;
                if let Some(e) = self.entry.as_mut() {
                    e.reversal = b;
                }
            }
            S::NSts | S::NStsCd => {
                if let Some(e) = self.entry.as_mut() {
                    if !t.is_empty() && e.status.is_none() {
                        e.status = Some(t.to_string());
                    }
                }
            }
            S::NBookgDt | S::NValDt => {
                let name = if state == S::NBookgDt { "BookgDt" } else { "ValDt" };
                let Some(e) = self.entry.as_mut() else { return Ok(()) };
                // Some banks print dates no calendar has (30 February): read as the last day of
                // the month, else without it (falling back as for a missing date); either way
                // the entry goes to a person.
                let date = match parse_date(t) {
                    Some(d) => Some(d),
                    None => {
                        let clamped = entry::parse_date_parts(t)
                            .and_then(|(y, m, d)| crate::clamp_to_month_end(y, m, d));
                        let how = match clamped {
                            Some(d) => format!("read as {d}, the last day of its month"),
                            None => "read without it".to_string(),
                        };
                        e.warnings.push(format!("{name} \"{}\" is not a calendar date: {how}", shown(t)));
                        clamped
                    }
                };
                match date {
                    Some(d) if state == S::NBookgDt => e.booking_date = Some(d),
                    Some(d) => e.value_date = Some(d),
                    None => {}
                }
            }
            S::NRef => {
                if let Some(e) = self.entry.as_mut() {
                    e.acct_svcr_ref = value();
                }
            }
            S::NDtls => {
                if let (Some(mut b), Some(e)) = (self.batch.take(), self.entry.as_mut()) {
                    b.end_tx = e.txs.len();
                    e.batches.push(b);
                }
            }
            S::BtchNb => {
                if let Some(b) = self.batch.as_mut() {
                    b.nb_of_txs = Some(t.to_string());
                }
            }

            // One transaction's details.
            S::Tx => {
                if let (Some(tx), Some(e)) = (self.tx.take(), self.entry.as_mut()) {
                    e.txs.push(tx);
                }
            }
            _ => {
                if let Some(tx) = self.tx.as_mut() {
                    match state {
                        S::TxE2e => tx.end_to_end_id = value(),
                        S::TxAsr => tx.acct_svcr_ref = value(),
                        S::TxInstr => tx.instr_id = value(),
                        S::TxId => tx.tx_id = value(),
                        S::TxUetr => tx.uetr = value(),
                        S::TxMndt => tx.mandate_id = value(),
                        S::DbtrNm => tx.debtor.name = value(),
                        S::UDbtrNm => tx.debtor.ultimate = value(),
                        S::DbtrIban => tx.debtor.iban = entry::parse_iban(t),
                        S::DbtrOthrId => tx.debtor.other_id = value(),
                        S::CdtrNm => tx.creditor.name = value(),
                        S::UCdtrNm => tx.creditor.ultimate = value(),
                        S::CdtrIban => tx.creditor.iban = entry::parse_iban(t),
                        S::CdtrOthrId => tx.creditor.other_id = value(),
                        S::Ustrd => tx.ustrd.extend(value()),
                        S::CriCd | S::CriPrtry | S::CriRef => {
                            if let Some(r) = tx.creditor_refs.last_mut() {
                                match state {
                                    S::CriCd => r.code = entry::ref_code(t),
                                    S::CriPrtry => r.proprietary = value(),
                                    _ => r.reference = value(),
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// The currency of the amount element just read (`parse_amount`'s `Ccy` checks), resolved
    /// once per distinct code.
    fn amount_currency(&mut self, text: &str) -> Result<remit_domain::model::money::Currency, String> {
        if !self.has_ccy {
            return Err(format!("amount \"{}\" has no Ccy attribute", shown(text)));
        }
        if let Some((code, cur)) = &self.ccy_cache {
            if *code == self.ccy {
                return Ok(*cur);
            }
        }
        let cur = remit_domain::model::money::currency(&self.ccy)
            .map_err(|_| format!("unknown ISO 4217 currency \"{}\"", shown(&self.ccy)))?;
        self.ccy_cache = Some((self.ccy.clone(), cur));
        Ok(cur)
    }

    fn on_eof(&mut self) -> Result<(), ParseError> {
        let offset = self.byte_pos();
        if !self.stack.is_empty() {
            let open = self.here();
            return Err(self.structure(offset, format!("unexpected end of file inside {open}")));
        }
        if self.format.is_none() {
            return Err(ParseError::structure(
                &self.ctx.file_name,
                Location::File,
                "no camt message in the file (expected a Document holding BkToCstmrDbtCdtNtfctn, \
                 BkToCstmrStmt or BkToCstmrAcctRpt, at the root or inside an envelope)",
            ));
        }
        if self.report_no == 0 {
            // The schema requires at least one Ntfctn / Stmt: a message without any is broken,
            // not an empty day (an empty day is a statement with no entries).
            let what = entry::report_name(self.format.unwrap_or(SourceFormat::Camt054));
            return Err(ParseError::structure(
                &self.ctx.file_name,
                Location::File,
                format!("the message holds no {what}: the file is incomplete"),
            ));
        }
        self.done = true;
        Ok(())
    }
}

/// True when the tag has more than `most` attributes, counted without quick-xml's duplicate
/// check (quadratic in their number); counting stops at the first malformed one.
#[inline(never)]
fn more_attributes(e: &quick_xml::events::BytesStart<'_>, most: usize) -> bool {
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    attributes.take_while(Result::is_ok).nth(most).is_some()
}

/// The `Ccy` attribute of an amount element, trimmed, into `ccy`; `has_ccy` tells it was there.
#[inline(never)]
fn read_ccy(
    e: &quick_xml::events::BytesStart<'_>,
    ccy: &mut String,
    has_ccy: &mut bool,
) -> Result<(), quick_xml::events::attributes::AttrError> {
    // The usual case, ` Ccy="EUR"` alone, without the general attribute parser.
    if let [b' ', b'C', b'c', b'y', b'=', q @ (b'"' | b'\''), code @ .., end] = e.attributes_raw() {
        if end == q && code.len() == 3 && code.iter().all(u8::is_ascii_alphanumeric) {
            *has_ccy = true;
            ccy.extend(code.iter().map(|&b| char::from(b)));
            return Ok(());
        }
    }
    for a in e.attributes() {
        let a = a?;
        if a.key.local_name().as_ref() == b"Ccy" {
            *has_ccy = true;
            ccy.push_str(String::from_utf8_lossy(&a.value).trim());
        }
    }
    Ok(())
}

/// The local part of an element name (after any `prefix:`). Names are short: a plain loop beats
/// a memchr call here.
fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// A leaf's text: decoded with the document's encoding, unescaped, trimmed. Borrows when it can.
///
/// Fast path for UTF-8 documents (nearly all): validate in place and unescape only when the
/// text holds an `&`. Anything unusual (another encoding, invalid UTF-8) takes the general path,
/// so results and error messages are the same either way. A control character is refused
/// (on the general path) before trimming, which would drop one at either end unseen.
fn leaf_text<'a>(encoding: &'static Encoding, raw: &'a [u8]) -> Result<Cow<'a, str>, String> {
    // One pass (without an early exit, so it vectorises) for what the fast path cannot take:
    // an `&` to unescape, a byte below 0x20 (a control character, or tab, CR, LF).
    if encoding == encoding_rs::UTF_8 && !raw.iter().fold(false, |u, &b| u | (b == b'&') | (b < 0x20)) {
        if let Ok(s) = std::str::from_utf8(raw) {
            return Ok(Cow::Borrowed(trim(s)));
        }
    }
    leaf_text_slow(encoding, raw)
}

/// Refuses a C0 control character other than tab, CR and LF: not allowed anywhere in an XML
/// 1.0 document, escaped (`&#1;`) or not, so a field holding one is refused, never cleaned.
fn no_controls(text: &str) -> Result<(), String> {
    match text.bytes().find(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) {
        None => Ok(()),
        Some(c) => Err(format!("control character U+{c:04X} in the text: not allowed in XML 1.0")),
    }
}

/// `str::trim`, answering at once for the usual text that starts and ends with a visible ASCII
/// character.
fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        [only] if only.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

fn leaf_text_slow<'a>(encoding: &'static Encoding, raw: &'a [u8]) -> Result<Cow<'a, str>, String> {
    let decoded = quick_xml::encoding::decode(raw, encoding)
        .map_err(|e| format!("text not in the declared encoding: {}", shown(&e.to_string())))?;
    let bad_escape = |e: quick_xml::escape::EscapeError| format!("bad escape: {}", shown(&e.to_string()));
    let unescaped = match decoded {
        Cow::Borrowed(s) => quick_xml::escape::unescape(s).map_err(bad_escape)?,
        Cow::Owned(s) => Cow::Owned(quick_xml::escape::unescape(&s).map_err(bad_escape)?.into_owned()),
    };
    no_controls(&unescaped)?;
    Ok(match unescaped {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    })
}

impl<R: BufRead> Iterator for CamtReader<R> {
    type Item = Result<Payment, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending.is_empty() && !self.done {
            if let Err(e) = self.advance() {
                // Payments read before the error come first; nothing is read after it.
                self.done = true;
                self.deferred = Some(e);
            }
        }
        match self.pending.pop_front() {
            Some(p) => Some(Ok(p)),
            None => self.deferred.take().map(Err),
        }
    }
}
