//! The elements the reader cares about, as a state per open element. A child's state comes from
//! its parent's and its local name, so matching costs one byte-slice comparison per event and
//! nothing at all under elements we skip.

use remit_domain::SourceFormat;

/// Why a root element was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BadRoot {
    /// A `Document` holding no message we read.
    Other,
    /// Envelopes nested deeper than `MAX_WRAPPERS`.
    TooDeep,
}

/// Envelope elements around a `Document` (a transport wrapper holding a business application
/// header and the document, say) that are looked through. Deeper nesting is refused.
pub(super) const MAX_WRAPPERS: usize = 4;

/// One open element's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum S {
    Skip,
    BadRoot(BadRoot),
    /// An element around the `Document`: an envelope or transport wrapper.
    Wrap,
    /// `AppHdr`, the business application header (head.001) beside the `Document`.
    Hdr,
    HdrBizMsgIdr,
    HdrMsgDefIdr,
    HdrCreDt,
    Doc,
    Msg(SourceFormat),
    /// `Ntfctn` (camt.054) or `Stmt` (camt.053).
    Rpt,
    RptId,
    RptAcct,
    RptAcctId,
    RptIban,
    RptSvcr,
    RptFin,
    RptBic,
    Bal,
    BalTp,
    BalCdOrPrtry,
    BalCd,
    BalAmt,
    BalDir,
    Ntry,
    NAmt,
    NDir,
    NRvsl,
    NSts,
    NStsCd,
    NBookg,
    NBookgDt,
    NVal,
    NValDt,
    NRef,
    NDtls,
    /// The report's and the message's own dates: fallbacks for an entry without dates.
    RptCreDtTm,
    RptFrToDt,
    RptToDtTm,
    MsgGrpHdr,
    MsgCreDtTm,
    TxRltdDts,
    TxSttlmDt,
    Btch,
    BtchNb,
    BtchTtl,
    Tx,
    TxRefs,
    TxE2e,
    TxAsr,
    TxInstr,
    TxId,
    TxUetr,
    TxMndt,
    TxAmt,
    TxAmtDtlsC,
    TxTxAmt,
    TxAmtDtls,
    TxDir,
    Pties,
    Dbtr,
    DbtrPty,
    DbtrNm,
    UDbtr,
    UDbtrPty,
    UDbtrNm,
    DbtrAcct,
    DbtrAcctId,
    DbtrIban,
    DbtrOthr,
    DbtrOthrId,
    Cdtr,
    CdtrPty,
    CdtrNm,
    UCdtr,
    UCdtrPty,
    UCdtrNm,
    CdtrAcct,
    CdtrAcctId,
    CdtrIban,
    CdtrOthr,
    CdtrOthrId,
    Rmt,
    Ustrd,
    Strd,
    CdtrRefInf,
    CriTp,
    CriCdOrPrtry,
    CriCd,
    CriPrtry,
    CriRef,
}

const NTFCTN: &[u8] = b"BkToCstmrDbtCdtNtfctn";
const STMT: &[u8] = b"BkToCstmrStmt";
const RPT: &[u8] = b"BkToCstmrAcctRpt";

/// The state of an element named `name` (local name) under an element in state `parent`, at
/// `depth` open elements. Callers pass `Skip` children without asking.
pub(super) fn child(parent: S, depth: usize, name: &[u8]) -> S {
    use S::*;
    let message = |name: &[u8]| match name {
        NTFCTN => Some(Msg(SourceFormat::Camt054)),
        STMT => Some(Msg(SourceFormat::Camt053)),
        RPT => Some(Msg(SourceFormat::Camt052)),
        _ => None,
    };
    // The root and the envelopes around a `Document`: the root may be the `Document`, the
    // message itself, or a wrapper (an envelope holding an `AppHdr` and the `Document`).
    if depth == 0 || parent == Wrap {
        return match name {
            b"Document" => Doc,
            b"AppHdr" if parent == Wrap => Hdr,
            _ if depth == 0 => message(name).unwrap_or(Wrap),
            _ if depth >= MAX_WRAPPERS => BadRoot(self::BadRoot::TooDeep),
            _ => Wrap,
        };
    }
    if parent == Doc {
        return message(name).unwrap_or(BadRoot(self::BadRoot::Other));
    }
    match (parent, name) {
        (Hdr, b"BizMsgIdr") => HdrBizMsgIdr,
        (Hdr, b"MsgDefIdr") => HdrMsgDefIdr,
        (Hdr, b"CreDt") => HdrCreDt,
        (Msg(_), b"GrpHdr") => MsgGrpHdr,
        (MsgGrpHdr, b"CreDtTm") => MsgCreDtTm,
        (Msg(SourceFormat::Camt054), b"Ntfctn")
        | (Msg(SourceFormat::Camt053), b"Stmt")
        | (Msg(SourceFormat::Camt052), b"Rpt") => Rpt,
        (Rpt, b"CreDtTm") => RptCreDtTm,
        (Rpt, b"FrToDt") => RptFrToDt,
        (RptFrToDt, b"ToDtTm") => RptToDtTm,
        (Rpt, b"Ntry") => Ntry,
        (Rpt, b"Id") => RptId,
        (Rpt, b"Acct") => RptAcct,
        (Rpt, b"Bal") => Bal,
        (RptAcct, b"Id") => RptAcctId,
        (RptAcct, b"Svcr") => RptSvcr,
        (RptAcctId, b"IBAN") => RptIban,
        (RptSvcr, b"FinInstnId") => RptFin,
        (RptFin, b"BIC" | b"BICFI") => RptBic,
        (Bal, b"Tp") => BalTp,
        (Bal, b"Amt") => BalAmt,
        (Bal, b"CdtDbtInd") => BalDir,
        (BalTp, b"CdOrPrtry") => BalCdOrPrtry,
        (BalCdOrPrtry, b"Cd") => BalCd,

        (Ntry, b"Amt") => NAmt,
        (Ntry, b"CdtDbtInd") => NDir,
        (Ntry, b"RvslInd") => NRvsl,
        (Ntry, b"Sts") => NSts,
        (Ntry, b"BookgDt") => NBookg,
        (Ntry, b"ValDt") => NVal,
        (Ntry, b"AcctSvcrRef") => NRef,
        (Ntry, b"NtryDtls") => NDtls,
        (NSts, b"Cd" | b"Prtry") => NStsCd,
        (NBookg, b"Dt" | b"DtTm") => NBookgDt,
        (NVal, b"Dt" | b"DtTm") => NValDt,
        (NDtls, b"Btch") => Btch,
        (NDtls, b"TxDtls") => Tx,
        (Btch, b"NbOfTxs") => BtchNb,
        (Btch, b"TtlAmt") => BtchTtl,

        (Tx, b"Refs") => TxRefs,
        (Tx, b"Amt") => TxAmt,
        (Tx, b"AmtDtls") => TxAmtDtlsC,
        (Tx, b"CdtDbtInd") => TxDir,
        (Tx, b"RltdPties") => Pties,
        (Tx, b"RmtInf") => Rmt,
        (Tx, b"RltdDts") => TxRltdDts,
        (TxRltdDts, b"IntrBkSttlmDt") => TxSttlmDt,
        (TxRefs, b"EndToEndId") => TxE2e,
        (TxRefs, b"AcctSvcrRef") => TxAsr,
        (TxRefs, b"InstrId") => TxInstr,
        (TxRefs, b"TxId") => TxId,
        (TxRefs, b"UETR") => TxUetr,
        (TxRefs, b"MndtId") => TxMndt,
        (TxAmtDtlsC, b"TxAmt") => TxTxAmt,
        (TxTxAmt, b"Amt") => TxAmtDtls,
        (Pties, b"Dbtr") => Dbtr,
        (Pties, b"UltmtDbtr") => UDbtr,
        (Pties, b"DbtrAcct") => DbtrAcct,
        (Dbtr, b"Nm") | (DbtrPty, b"Nm") => DbtrNm,
        (Dbtr, b"Pty") => DbtrPty,
        (UDbtr, b"Nm") | (UDbtrPty, b"Nm") => UDbtrNm,
        (UDbtr, b"Pty") => UDbtrPty,
        (DbtrAcct, b"Id") => DbtrAcctId,
        (DbtrAcctId, b"IBAN") => DbtrIban,
        (DbtrAcctId, b"Othr") => DbtrOthr,
        (DbtrOthr, b"Id") => DbtrOthrId,
        // The creditor side: the payer of a DBIT entry (see `entry::Entry::into_payments`).
        (Pties, b"Cdtr") => Cdtr,
        (Pties, b"UltmtCdtr") => UCdtr,
        (Pties, b"CdtrAcct") => CdtrAcct,
        (Cdtr, b"Nm") | (CdtrPty, b"Nm") => CdtrNm,
        (Cdtr, b"Pty") => CdtrPty,
        (UCdtr, b"Nm") | (UCdtrPty, b"Nm") => UCdtrNm,
        (UCdtr, b"Pty") => UCdtrPty,
        (CdtrAcct, b"Id") => CdtrAcctId,
        (CdtrAcctId, b"IBAN") => CdtrIban,
        (CdtrAcctId, b"Othr") => CdtrOthr,
        (CdtrOthr, b"Id") => CdtrOthrId,
        (Rmt, b"Ustrd") => Ustrd,
        (Rmt, b"Strd") => Strd,
        (Strd, b"CdtrRefInf") => CdtrRefInf,
        (CdtrRefInf, b"Tp") => CriTp,
        (CdtrRefInf, b"Ref") => CriRef,
        (CriTp, b"CdOrPrtry") => CriCdOrPrtry,
        (CriCdOrPrtry, b"Cd") => CriCd,
        (CriCdOrPrtry, b"Prtry") => CriPrtry,
        _ => Skip,
    }
}

impl S {
    /// Leaves whose text we read.
    pub(super) fn wants_text(self) -> bool {
        use S::*;
        matches!(
            self,
            RptId
                | HdrBizMsgIdr
                | HdrMsgDefIdr
                | HdrCreDt
                | MsgCreDtTm
                | RptCreDtTm
                | RptToDtTm
                | TxSttlmDt
                | RptIban
                | RptBic
                | BalCd
                | BalAmt
                | BalDir
                | NAmt
                | NDir
                | NRvsl
                | NSts
                | NStsCd
                | NBookgDt
                | NValDt
                | NRef
                | BtchNb
                | BtchTtl
                | TxE2e
                | TxAsr
                | TxInstr
                | TxId
                | TxUetr
                | TxMndt
                | TxAmt
                | TxAmtDtls
                | TxDir
                | DbtrNm
                | UDbtrNm
                | DbtrIban
                | DbtrOthrId
                | CdtrNm
                | UCdtrNm
                | CdtrIban
                | CdtrOthrId
                | Ustrd
                | CriCd
                | CriPrtry
                | CriRef
        )
    }

    /// Containers whose start sets something up (see `CamtReader::start_container`).
    pub(super) fn acts_on_start(self) -> bool {
        use S::*;
        matches!(self, BadRoot(_) | Msg(_) | Rpt | Bal | Ntry | NDtls | Btch | Tx | CdtrRefInf)
    }

    /// Containers whose end finishes something.
    pub(super) fn acts_on_end(self) -> bool {
        matches!(self, S::Rpt | S::Bal | S::Ntry | S::NDtls | S::Tx)
    }

    /// Amount elements, whose `Ccy` attribute we read.
    pub(super) fn has_ccy(self) -> bool {
        matches!(self, S::NAmt | S::BtchTtl | S::TxAmt | S::TxAmtDtls | S::BalAmt)
    }

    /// The element's local name, for error paths (`Rpt` is named by the caller's format).
    pub(super) fn name(self) -> &'static str {
        use S::*;
        match self {
            Skip | BadRoot(_) | Wrap => "…",
            Hdr => "AppHdr",
            HdrBizMsgIdr => "BizMsgIdr",
            HdrMsgDefIdr => "MsgDefIdr",
            HdrCreDt => "CreDt",
            Doc => "Document",
            Msg(SourceFormat::Camt053) => "BkToCstmrStmt",
            Msg(SourceFormat::Camt052) => "BkToCstmrAcctRpt",
            Msg(_) => "BkToCstmrDbtCdtNtfctn",
            Rpt => "Ntfctn",
            MsgGrpHdr => "GrpHdr",
            MsgCreDtTm | RptCreDtTm => "CreDtTm",
            RptFrToDt => "FrToDt",
            RptToDtTm => "ToDtTm",
            TxRltdDts => "RltdDts",
            TxSttlmDt => "IntrBkSttlmDt",
            RptId | TxId => "Id",
            RptAcct => "Acct",
            RptAcctId | DbtrAcctId | DbtrOthrId | CdtrAcctId | CdtrOthrId => "Id",
            RptIban | DbtrIban | CdtrIban => "IBAN",
            RptSvcr => "Svcr",
            RptFin => "FinInstnId",
            RptBic => "BIC",
            Bal => "Bal",
            BalTp | CriTp => "Tp",
            BalCdOrPrtry | CriCdOrPrtry => "CdOrPrtry",
            BalCd | NStsCd | CriCd => "Cd",
            BalAmt | NAmt | TxAmt | TxAmtDtls => "Amt",
            BalDir | NDir | TxDir => "CdtDbtInd",
            Ntry => "Ntry",
            NRvsl => "RvslInd",
            NSts => "Sts",
            NBookg => "BookgDt",
            NBookgDt | NValDt => "Dt",
            NVal => "ValDt",
            NRef | TxAsr => "AcctSvcrRef",
            NDtls => "NtryDtls",
            Btch => "Btch",
            BtchNb => "NbOfTxs",
            BtchTtl => "TtlAmt",
            Tx => "TxDtls",
            TxRefs => "Refs",
            TxE2e => "EndToEndId",
            TxInstr => "InstrId",
            TxUetr => "UETR",
            TxMndt => "MndtId",
            TxAmtDtlsC => "AmtDtls",
            TxTxAmt => "TxAmt",
            Pties => "RltdPties",
            Dbtr => "Dbtr",
            DbtrPty | UDbtrPty | CdtrPty | UCdtrPty => "Pty",
            DbtrNm | UDbtrNm | CdtrNm | UCdtrNm => "Nm",
            UDbtr => "UltmtDbtr",
            DbtrAcct => "DbtrAcct",
            DbtrOthr | CdtrOthr => "Othr",
            Cdtr => "Cdtr",
            UCdtr => "UltmtCdtr",
            CdtrAcct => "CdtrAcct",
            Rmt => "RmtInf",
            Ustrd => "Ustrd",
            Strd => "Strd",
            CdtrRefInf => "CdtrRefInf",
            CriPrtry => "Prtry",
            CriRef => "Ref",
        }
    }
}
