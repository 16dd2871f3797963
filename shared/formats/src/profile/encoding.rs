//! Character encodings a profile may declare. Single-byte encodings decode through a 256-entry
//! table; a byte that has no printable character there (a C0/C1 control) is an error, never a
//! U+FFFD, so a profile with the wrong encoding fails on its first accented name.

use std::sync::OnceLock;

use super::schema::EncodingName;

/// EBCDIC code page 037 (IBM US/Canada) to Unicode, from the published Unicode/IBM mapping
/// (`VENDORS/MICSFT/EBCDIC/CP037.TXT`, which Python's `cp037` codec also uses).
#[rustfmt::skip]
const CP037: [u16; 256] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x009C, 0x0009, 0x0086, 0x007F, 0x0097, 0x008D, 0x008E, 0x000B, 0x000C, 0x000D, 0x000E, 0x000F,
    0x0010, 0x0011, 0x0012, 0x0013, 0x009D, 0x0085, 0x0008, 0x0087, 0x0018, 0x0019, 0x0092, 0x008F, 0x001C, 0x001D, 0x001E, 0x001F,
    0x0080, 0x0081, 0x0082, 0x0083, 0x0084, 0x000A, 0x0017, 0x001B, 0x0088, 0x0089, 0x008A, 0x008B, 0x008C, 0x0005, 0x0006, 0x0007,
    0x0090, 0x0091, 0x0016, 0x0093, 0x0094, 0x0095, 0x0096, 0x0004, 0x0098, 0x0099, 0x009A, 0x009B, 0x0014, 0x0015, 0x009E, 0x001A,
    0x0020, 0x00A0, 0x00E2, 0x00E4, 0x00E0, 0x00E1, 0x00E3, 0x00E5, 0x00E7, 0x00F1, 0x00A2, 0x002E, 0x003C, 0x0028, 0x002B, 0x007C,
    0x0026, 0x00E9, 0x00EA, 0x00EB, 0x00E8, 0x00ED, 0x00EE, 0x00EF, 0x00EC, 0x00DF, 0x0021, 0x0024, 0x002A, 0x0029, 0x003B, 0x00AC,
    0x002D, 0x002F, 0x00C2, 0x00C4, 0x00C0, 0x00C1, 0x00C3, 0x00C5, 0x00C7, 0x00D1, 0x00A6, 0x002C, 0x0025, 0x005F, 0x003E, 0x003F,
    0x00F8, 0x00C9, 0x00CA, 0x00CB, 0x00C8, 0x00CD, 0x00CE, 0x00CF, 0x00CC, 0x0060, 0x003A, 0x0023, 0x0040, 0x0027, 0x003D, 0x0022,
    0x00D8, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x00AB, 0x00BB, 0x00F0, 0x00FD, 0x00FE, 0x00B1,
    0x00B0, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x00AA, 0x00BA, 0x00E6, 0x00B8, 0x00C6, 0x00A4,
    0x00B5, 0x007E, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00A1, 0x00BF, 0x00D0, 0x00DD, 0x00DE, 0x00AE,
    0x005E, 0x00A3, 0x00A5, 0x00B7, 0x00A9, 0x00A7, 0x00B6, 0x00BC, 0x00BD, 0x00BE, 0x005B, 0x005D, 0x00AF, 0x00A8, 0x00B4, 0x00D7,
    0x007B, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x00AD, 0x00F4, 0x00F6, 0x00F2, 0x00F3, 0x00F5,
    0x007D, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x00B9, 0x00FB, 0x00FC, 0x00F9, 0x00FA, 0x00FF,
    0x005C, 0x00F7, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x00B2, 0x00D4, 0x00D6, 0x00D2, 0x00D3, 0x00D5,
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x00B3, 0x00DB, 0x00DC, 0x00D9, 0x00DA, 0x009F,
];

/// A byte that does not decode: its offset inside the field and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadByte {
    pub at: usize,
    pub byte: u8,
}

/// A compiled encoding: how field bytes become text.
#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    Utf8,
    /// A single-byte encoding; `None` entries are bytes without a character.
    Table {
        name: &'static str,
        table: &'static [Option<char>; 256],
        ascii_compatible: bool,
    },
}

fn table_from(f: impl Fn(u8) -> char) -> [Option<char>; 256] {
    let mut t = [None; 256];
    for (b, slot) in t.iter_mut().enumerate() {
        let c = f(b as u8);
        let control = (c < ' ' && c != '\t') || ('\u{7f}'..='\u{9f}').contains(&c);
        *slot = (!control).then_some(c);
    }
    t
}

fn windows_1252() -> &'static [Option<char>; 256] {
    static T: OnceLock<[Option<char>; 256]> = OnceLock::new();
    T.get_or_init(|| {
        table_from(|b| {
            let bytes = [b];
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
            text.chars().next().unwrap_or('\u{0}')
        })
    })
}

fn latin1() -> &'static [Option<char>; 256] {
    static T: OnceLock<[Option<char>; 256]> = OnceLock::new();
    T.get_or_init(|| table_from(char::from))
}

fn cp037() -> &'static [Option<char>; 256] {
    static T: OnceLock<[Option<char>; 256]> = OnceLock::new();
    T.get_or_init(|| table_from(|b| char::from_u32(u32::from(CP037[b as usize])).unwrap_or('\u{0}')))
}

impl Encoding {
    /// The compiled form of a declared encoding. ISO-8859-1 is decoded as itself (every byte is
    /// U+00XX), not as encoding_rs's windows-1252 alias, so 0x80-0x9F are refused as controls.
    pub fn of(name: EncodingName) -> Self {
        match name {
            EncodingName::Utf8 => Encoding::Utf8,
            EncodingName::Windows1252 => {
                Encoding::Table { name: "windows-1252", table: windows_1252(), ascii_compatible: true }
            }
            EncodingName::Iso88591 => {
                Encoding::Table { name: "iso-8859-1", table: latin1(), ascii_compatible: true }
            }
            EncodingName::Cp037 => Encoding::Table { name: "cp037", table: cp037(), ascii_compatible: false },
        }
    }

    /// The encoding's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Table { name, .. } => name,
        }
    }

    /// The bytes of an ASCII character in this encoding (for the space used to pad short
    /// records and for record type codes).
    pub fn encode_ascii(&self, c: u8) -> u8 {
        match self {
            Encoding::Table { table, ascii_compatible: false, .. } => {
                table.iter().position(|&x| x == Some(char::from(c))).map_or(c, |b| b as u8)
            }
            _ => c,
        }
    }

    /// Appends the text of `bytes` to `out`, or says which byte has no character.
    pub fn decode_into(&self, bytes: &[u8], out: &mut String) -> Result<(), BadByte> {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => {
                    out.push_str(s);
                    Ok(())
                }
                Err(e) => {
                    let at = e.valid_up_to();
                    Err(BadByte { at, byte: bytes[at] })
                }
            },
            Encoding::Table { table, ascii_compatible, .. } => {
                if *ascii_compatible && bytes.is_ascii() {
                    if let Some(at) = bytes.iter().position(|&b| b < b' ' && b != b'\t' || b == 0x7f) {
                        return Err(BadByte { at, byte: bytes[at] });
                    }
                    // ASCII is valid UTF-8.
                    out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
                    return Ok(());
                }
                for (at, &byte) in bytes.iter().enumerate() {
                    match table[byte as usize] {
                        Some(c) => out.push(c),
                        None => return Err(BadByte { at, byte }),
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(enc: EncodingName, bytes: &[u8]) -> Result<String, BadByte> {
        let mut s = String::new();
        Encoding::of(enc).decode_into(bytes, &mut s).map(|()| s)
    }

    #[test]
    fn cp037_known_bytes() {
        assert_eq!(
            decode(EncodingName::Cp037, &[0xC1, 0x81, 0xF0, 0x40, 0x4B, 0x51, 0x5B]).unwrap(),
            "Aa0 .é$"
        );
        assert_eq!(decode(EncodingName::Cp037, &[0xC3, 0xCB, 0xA3, 0x51]).unwrap(), "Côté");
        assert_eq!(Encoding::of(EncodingName::Cp037).encode_ascii(b' '), 0x40);
        assert_eq!(Encoding::of(EncodingName::Cp037).encode_ascii(b'D'), 0xC4);
        assert_eq!(decode(EncodingName::Cp037, &[0xC1, 0x00]), Err(BadByte { at: 1, byte: 0 }));
    }

    #[test]
    fn windows_1252_keeps_accents_and_refuses_holes() {
        assert_eq!(decode(EncodingName::Windows1252, b"C\xf4t\xe9 \x80").unwrap(), "Côté €");
        assert_eq!(decode(EncodingName::Windows1252, b"ab\x81"), Err(BadByte { at: 2, byte: 0x81 }));
        assert_eq!(decode(EncodingName::Iso88591, b"\xe9").unwrap(), "é");
        assert!(decode(EncodingName::Iso88591, b"\x80").is_err());
    }

    #[test]
    fn utf8_invalid_byte_is_named() {
        assert_eq!(decode(EncodingName::Utf8, "é".as_bytes()).unwrap(), "é");
        assert_eq!(decode(EncodingName::Utf8, b"ab\xe9cd"), Err(BadByte { at: 2, byte: 0xe9 }));
    }
}
