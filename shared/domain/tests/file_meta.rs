//! A file's identity is read with a size bound (issue 17): an endless source ends with an
//! error naming the limit instead of being hashed forever.

use std::io::{ErrorKind, Read};

use remit_domain::ingest::FileMeta;
use remit_domain::FileId;

#[test]
fn the_identity_read_stops_at_the_limit() {
    let endless = std::io::repeat(b'a');
    let e = FileMeta::read_at_most("endless", endless, 1 << 20).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::FileTooLarge);
    assert!(e.to_string().contains("exceeds the limit of 1048576 bytes"), "{e}");
    // Exactly at the limit is fine, and the same identity as an unbounded read.
    let bytes = std::io::repeat(b'b').take(1 << 20);
    let meta = FileMeta::read_at_most("full", bytes, 1 << 20).unwrap();
    assert_eq!(meta.size, 1 << 20);
    assert_eq!(meta.id, FileId::of_reader(std::io::repeat(b'b').take(1 << 20)).unwrap());
    assert_eq!(meta.id, FileMeta::read("full", std::io::repeat(b'b').take(1 << 20)).unwrap().id);
}
