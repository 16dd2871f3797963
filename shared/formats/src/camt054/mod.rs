//! ISO 20022 camt.054 (bank-to-customer debit/credit notification), versions 001.02 to 001.08
//! and later ones with the same paths. A pull parser over quick-xml events that holds one
//! `Ntry` at a time, so memory stays flat whatever the file size.

mod entry;
pub mod generate;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader;
use remit_domain::Payment;

use crate::{Location, ParseError, SourceContext};
use entry::{parse_amount, parse_bool, parse_date, parse_direction, Batch, Entry, NtfctnInfo, Tx};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The message element of a camt.054 document.
const MESSAGE: &str = "BkToCstmrDbtCdtNtfctn";

/// What one XML event asked of the reader, once the event's borrow of the buffer is over.
enum Step {
    Start,
    End,
    Eof,
    Skip,
}

/// Streams the payments of a camt.054 file: one per `TxDtls`, or one per `Ntry` that has no
/// details. Only one entry is held in memory, so 100 MB files cost what small ones do.
pub struct Camt054Reader<R> {
    xml: Reader<R>,
    ctx: SourceContext,
    buf: Vec<u8>,
    /// Local names of the open elements joined by '/', from the root.
    path: String,
    /// Length of `path` before each open element was pushed.
    marks: Vec<usize>,
    /// Local name of the element just started.
    name: String,
    /// Text of the innermost open element.
    text: String,
    /// `Ccy` of the `Amt` / `TtlAmt` just started.
    ccy: Option<String>,
    /// Byte length of the start tag just read, between `<` and `>`.
    tag_len: u64,
    /// Byte offset of the start tag just read.
    elem_offset: u64,
    /// Bytes of BOM removed before quick-xml saw the stream (its positions start after it).
    bom: u64,
    /// Number of open elements once the message element is open.
    msg_depth: Option<usize>,
    root_closed: bool,
    /// `path` length with `Ntfctn` / `Ntry` / `TxDtls` open.
    ntfctn_at: Option<usize>,
    ntry_at: Option<usize>,
    tx_at: Option<usize>,
    ntf: NtfctnInfo,
    entry: Option<Entry>,
    tx: Option<Tx>,
    batch: Option<Batch>,
    record: u64,
    pending: VecDeque<Payment>,
    done: bool,
}

impl<R: BufRead> Camt054Reader<R> {
    /// Wraps a buffered byte stream; nothing is read beyond the BOM check until iteration.
    pub fn new(mut reader: R, ctx: SourceContext) -> Self {
        // quick-xml drops a UTF-8 BOM without counting it; remove it here so offsets stay exact.
        let bom = match reader.fill_buf() {
            Ok(head) if head.starts_with(BOM) => {
                reader.consume(BOM.len());
                BOM.len() as u64
            }
            _ => 0,
        };
        let mut xml = Reader::from_reader(reader);
        let config = xml.config_mut();
        config.trim_text(true);
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Self {
            xml,
            ctx,
            buf: Vec::with_capacity(4096),
            path: String::with_capacity(256),
            marks: Vec::with_capacity(16),
            name: String::new(),
            text: String::new(),
            ccy: None,
            tag_len: 0,
            elem_offset: 0,
            bom,
            msg_depth: None,
            root_closed: false,
            ntfctn_at: None,
            ntry_at: None,
            tx_at: None,
            ntf: NtfctnInfo::default(),
            entry: None,
            tx: None,
            batch: None,
            record: 0,
            pending: VecDeque::new(),
            done: false,
        }
    }

    fn byte_pos(&self) -> u64 {
        self.xml.buffer_position() + self.bom
    }

    /// Where we are, for errors: the path below the message element, entries numbered.
    fn here(&self) -> String {
        if let (Some(e), Some(at)) = (&self.entry, self.ntry_at) {
            let rel = self.path.get(at + 1..).unwrap_or("");
            let rel = match (self.tx_at, rel.strip_prefix("NtryDtls/TxDtls")) {
                (Some(_), Some(rest)) => format!("NtryDtls/TxDtls[{}]{rest}", e.txs.len() + 1),
                _ => rel.to_string(),
            };
            let sep = if rel.is_empty() { "" } else { "/" };
            return format!("Ntfctn/Ntry[{}]{sep}{rel}", e.record);
        }
        match self.msg_depth.and_then(|d| self.marks.get(d).copied()) {
            Some(m) => self.path.get(m + 1..).unwrap_or("").to_string(),
            None => self.path.clone(),
        }
    }

    fn structure(&self, offset: u64, problem: impl Into<String>) -> ParseError {
        ParseError::structure(&self.ctx.file_name, Location::Element { path: self.here(), offset }, problem)
    }

    fn field(&self, problem: impl Into<String>) -> ParseError {
        ParseError::field(
            &self.ctx.file_name,
            Location::Element { path: self.here(), offset: self.elem_offset },
            self.name_of_current(),
            problem,
        )
    }

    fn name_of_current(&self) -> String {
        self.path.rsplit('/').next().unwrap_or("").to_string()
    }

    fn xml_error(&self, e: quick_xml::Error) -> ParseError {
        if let quick_xml::Error::Io(io) = &e {
            return ParseError::io(&self.ctx.file_name, std::io::Error::new(io.kind(), io.to_string()));
        }
        let offset = self.xml.error_position() + self.bom;
        self.structure(offset, format!("malformed XML: {e}"))
    }

    /// Reads events until the next entry has produced payments, or the file ends.
    fn advance(&mut self) -> Result<(), ParseError> {
        while self.pending.is_empty() {
            self.buf.clear();
            let step = match self.xml.read_event_into(&mut self.buf) {
                Err(e) => return Err(self.xml_error(e)),
                Ok(Event::Start(e)) => {
                    self.name.clear();
                    self.ccy = None;
                    self.tag_len = e.len() as u64;
                    let local = e.local_name();
                    match std::str::from_utf8(local.as_ref()) {
                        Ok(n) => self.name.push_str(n),
                        Err(_) => self.name.push('\u{FFFD}'),
                    }
                    let mut bad_attr = None;
                    if matches!(self.name.as_str(), "Amt" | "TtlAmt") {
                        for a in e.attributes() {
                            match a {
                                Ok(a) if a.key.local_name().as_ref() == b"Ccy" => match a.unescape_value() {
                                    Ok(v) => self.ccy = Some(v.trim().to_string()),
                                    Err(err) => bad_attr = Some(err.to_string()),
                                },
                                Ok(_) => {}
                                Err(err) => bad_attr = Some(err.to_string()),
                            }
                        }
                    }
                    if let Some(err) = bad_attr {
                        let offset = self.byte_pos();
                        return Err(self.structure(offset, format!("malformed XML attribute: {err}")));
                    }
                    Step::Start
                }
                Ok(Event::End(_)) => Step::End,
                Ok(Event::Text(t)) => match t.unescape() {
                    Ok(s) => {
                        if self.marks.is_empty() && !s.trim().is_empty() {
                            let offset = self.byte_pos();
                            return Err(self.structure(offset, "text outside the root element: not XML"));
                        }
                        self.text.push_str(&s);
                        Step::Skip
                    }
                    Err(e) => return Err(self.xml_error(e)),
                },
                Ok(Event::CData(c)) => match std::str::from_utf8(&c) {
                    Ok(s) => {
                        self.text.push_str(s);
                        Step::Skip
                    }
                    Err(_) => {
                        let offset = self.byte_pos();
                        return Err(self.structure(offset, "CDATA is not UTF-8"));
                    }
                },
                Ok(Event::Eof) => Step::Eof,
                Ok(_) => Step::Skip,
            };
            match step {
                Step::Start => self.on_start()?,
                Step::End => self.on_end()?,
                Step::Eof => return self.on_eof(),
                Step::Skip => {}
            }
        }
        Ok(())
    }

    fn on_start(&mut self) -> Result<(), ParseError> {
        self.elem_offset = self.byte_pos().saturating_sub(self.tag_len + 2);
        if self.root_closed {
            return Err(self.structure(self.elem_offset, "content after the end of the root element"));
        }
        let depth_before = self.marks.len();
        self.marks.push(self.path.len());
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(&self.name);
        self.text.clear();

        if self.msg_depth.is_none() {
            match (depth_before, self.name.as_str()) {
                (0, "Document") => {}
                (0 | 1, MESSAGE) => self.msg_depth = Some(depth_before + 1),
                (0 | 1, other) => return Err(self.root_error(other)),
                _ => {}
            }
            return Ok(());
        }
        let Some(md) = self.msg_depth else {
            return Ok(());
        };
        let depth = self.marks.len();
        if depth == md + 1 && self.name == "Ntfctn" {
            self.ntfctn_at = Some(self.path.len());
            self.ntf = NtfctnInfo::default();
        } else if self.ntfctn_at.is_some() && self.entry.is_none() && depth == md + 2 && self.name == "Ntry" {
            self.record += 1;
            self.entry = Some(Entry { record: self.record, offset: self.elem_offset, ..Entry::default() });
            self.ntry_at = Some(self.path.len());
            self.batch = None;
        } else if let (Some(entry), Some(at), None) = (&self.entry, self.ntry_at, self.tx_at) {
            match &self.path[at + 1..] {
                "NtryDtls" => self.batch = None,
                "NtryDtls/Btch" => self.batch = Some(Batch { first_tx: entry.txs.len(), ..Batch::default() }),
                "NtryDtls/TxDtls" => {
                    self.tx = Some(Tx { offset: self.elem_offset, ..Tx::default() });
                    self.tx_at = Some(self.path.len());
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn root_error(&self, name: &str) -> ParseError {
        let problem = match name {
            "BkToCstmrStmt" => {
                "camt.053 statement, not a camt.054 notification (camt.053 support comes later)".to_string()
            }
            "BkToCstmrAcctRpt" => "camt.052 account report, not a camt.054 notification".to_string(),
            other => {
                format!("root element {other} is not a camt.054 notification (expected Document/{MESSAGE})")
            }
        };
        self.structure(self.elem_offset, problem)
    }

    fn on_end(&mut self) -> Result<(), ParseError> {
        let len = self.path.len();
        let mut text = std::mem::take(&mut self.text);
        let result = self.handle_end(len, &text);
        text.clear();
        self.text = text;
        result?;
        if let Some(m) = self.marks.pop() {
            self.path.truncate(m);
        }
        if self.marks.is_empty() {
            self.root_closed = true;
        }
        Ok(())
    }

    fn handle_end(&mut self, len: usize, text: &str) -> Result<(), ParseError> {
        let t = text.trim();
        if let Some(at) = self.tx_at {
            if len == at {
                if let (Some(tx), Some(entry)) = (self.tx.take(), self.entry.as_mut()) {
                    entry.txs.push(tx);
                }
                self.tx_at = None;
            } else if len > at {
                self.tx_leaf(at, t)?;
            }
            return Ok(());
        }
        if let Some(at) = self.ntry_at {
            if len == at {
                self.ntry_at = None;
                if let Some(entry) = self.entry.take() {
                    entry.into_payments(&self.ctx, &self.ntf, &mut self.pending)?;
                }
            } else if len > at {
                self.entry_leaf(at, t)?;
            }
            return Ok(());
        }
        if let Some(at) = self.ntfctn_at {
            if len == at {
                self.ntfctn_at = None;
            } else if len > at {
                let value = Some(t.to_string()).filter(|s| !s.is_empty());
                match &self.path[at + 1..] {
                    "Id" => self.ntf.id = value,
                    "Acct/Id/IBAN" => self.ntf.iban = value,
                    "Acct/Svcr/FinInstnId/BIC" | "Acct/Svcr/FinInstnId/BICFI" => self.ntf.bic = value,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn entry_leaf(&mut self, at: usize, t: &str) -> Result<(), ParseError> {
        enum Leaf {
            Amt,
            Dir,
            Rvsl,
            Sts,
            Bookg,
            Val,
            Ref,
            DtlsEnd,
            NbOfTxs,
            TtlAmt,
            Other,
        }
        let leaf = match &self.path[at + 1..] {
            "Amt" => Leaf::Amt,
            "CdtDbtInd" => Leaf::Dir,
            "RvslInd" => Leaf::Rvsl,
            "Sts" | "Sts/Cd" | "Sts/Prtry" => Leaf::Sts,
            "BookgDt/Dt" | "BookgDt/DtTm" => Leaf::Bookg,
            "ValDt/Dt" | "ValDt/DtTm" => Leaf::Val,
            "AcctSvcrRef" => Leaf::Ref,
            "NtryDtls" => Leaf::DtlsEnd,
            "NtryDtls/Btch/NbOfTxs" => Leaf::NbOfTxs,
            "NtryDtls/Btch/TtlAmt" => Leaf::TtlAmt,
            _ => Leaf::Other,
        };
        let Some(entry) = self.entry.as_mut() else {
            return Ok(());
        };
        match leaf {
            Leaf::Amt => match parse_amount(t, self.ccy.as_deref()) {
                Ok(m) => entry.amount = Some(m),
                Err(p) => return Err(self.field(p)),
            },
            Leaf::Dir => match parse_direction(t) {
                Some(d) => entry.direction = Some(d),
                None => return Err(self.field(format!("expected CRDT or DBIT, got {t:?}"))),
            },
            Leaf::Rvsl => match parse_bool(t) {
                Some(b) => entry.reversal = b,
                None => return Err(self.field(format!("expected true or false, got {t:?}"))),
            },
            Leaf::Sts => {
                if !t.is_empty() && entry.status.is_none() {
                    entry.status = Some(t.to_string());
                }
            }
            Leaf::Bookg | Leaf::Val => match parse_date(t) {
                Some(d) if matches!(leaf, Leaf::Bookg) => entry.booking_date = Some(d),
                Some(d) => entry.value_date = Some(d),
                None => return Err(self.field(format!("not a date: {t:?}"))),
            },
            Leaf::Ref => entry.acct_svcr_ref = Some(t.to_string()).filter(|s| !s.is_empty()),
            Leaf::DtlsEnd => {
                if let Some(mut b) = self.batch.take() {
                    b.end_tx = entry.txs.len();
                    entry.batches.push(b);
                }
            }
            Leaf::NbOfTxs => {
                if let Some(b) = self.batch.as_mut() {
                    b.nb_of_txs = Some(t.to_string());
                }
            }
            Leaf::TtlAmt => match parse_amount(t, self.ccy.as_deref()) {
                Ok(m) => {
                    if let Some(b) = self.batch.as_mut() {
                        b.total = Some(m);
                    }
                }
                Err(p) => return Err(self.field(p)),
            },
            Leaf::Other => {}
        }
        Ok(())
    }

    fn tx_leaf(&mut self, at: usize, t: &str) -> Result<(), ParseError> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(());
        };
        let value = || Some(t.to_string()).filter(|s| !s.is_empty());
        match &self.path[at + 1..] {
            "Refs/EndToEndId" => tx.end_to_end_id = value(),
            "Refs/AcctSvcrRef" => tx.acct_svcr_ref = value(),
            "Refs/InstrId" => tx.instr_id = value(),
            "Refs/TxId" => tx.tx_id = value(),
            "Refs/UETR" => tx.uetr = value(),
            rel @ ("Amt" | "AmtDtls/TxAmt/Amt") => match parse_amount(t, self.ccy.as_deref()) {
                Ok(m) if rel == "Amt" => tx.amount = Some(m),
                Ok(m) => tx.amount_dtls = Some(m),
                Err(p) => return Err(self.field(p)),
            },
            "CdtDbtInd" => match parse_direction(t) {
                Some(d) => tx.direction = Some(d),
                None => return Err(self.field(format!("expected CRDT or DBIT, got {t:?}"))),
            },
            "RltdPties/Dbtr/Nm" | "RltdPties/Dbtr/Pty/Nm" => tx.debtor_name = value(),
            "RltdPties/UltmtDbtr/Nm" | "RltdPties/UltmtDbtr/Pty/Nm" => tx.ultimate_debtor = value(),
            "RltdPties/DbtrAcct/Id/IBAN" => tx.debtor_iban = value(),
            "RltdPties/DbtrAcct/Id/Othr/Id" => tx.debtor_other = value(),
            "RmtInf/Ustrd" => tx.ustrd.extend(value()),
            "RmtInf/Strd/CdtrRefInf/Ref" => tx.creditor_refs.extend(value()),
            _ => {}
        }
        Ok(())
    }

    fn on_eof(&mut self) -> Result<(), ParseError> {
        let offset = self.byte_pos();
        if !self.marks.is_empty() {
            let open = self.path.clone();
            return Err(self.structure(offset, format!("unexpected end of file inside {open}")));
        }
        if self.msg_depth.is_none() {
            return Err(ParseError::structure(
                &self.ctx.file_name,
                Location::File,
                format!("no camt.054 Document/{MESSAGE} in the file"),
            ));
        }
        self.done = true;
        Ok(())
    }
}

impl<R: BufRead> Iterator for Camt054Reader<R> {
    type Item = Result<Payment, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(p) = self.pending.pop_front() {
            return Some(Ok(p));
        }
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(()) => {
                let p = self.pending.pop_front();
                if p.is_none() {
                    self.done = true;
                }
                p.map(Ok)
            }
            Err(e) => {
                self.done = true;
                self.pending.clear();
                Some(Err(e))
            }
        }
    }
}
