//! Streaming from S3 keeps memory flat: hashing and reading a large object through the CPA-005
//! reader allocates no more than a few buffers, whatever the object's size. Its own test binary:
//! the counting allocator sees every thread of the process.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Emulator;
use remit_formats::Format;
use remit_formats::Source;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak live bytes above the level when `f` started.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

#[test]
fn a_large_object_streams_in_flat_memory() {
    let (aws, files, bucket) = Emulator::landing(false);
    let payments = 120_000;
    let mut file = Vec::new();
    remit_formats::generate("cpa005", &mut file, payments, 7).unwrap();
    let size = file.len();
    let limit = 8 << 20;
    assert!(size > 3 * limit, "a file far larger than the limit: {size} bytes");
    let obj = aws.put(&bucket, "ca/cpa005/big.txt", file);

    let (meta, hashing) = peak_growth(|| files.file_meta(&obj).unwrap());
    assert_eq!(meta.size, size as u64);
    let (count, reading) = peak_growth(|| {
        let (format, stream) =
            common::open_payments(&files, &obj, &meta, &Source::Native(Format::Cpa005)).unwrap();
        assert_eq!(format, Some(Format::Cpa005));
        stream.inspect(|p| assert!(p.is_ok(), "{p:?}")).count() as u64
    });
    assert_eq!(count, payments);
    eprintln!("{size} bytes: peak growth hashing {hashing}, reading {reading}");
    assert!(
        hashing < limit && reading < limit,
        "{size} bytes: peak growth hashing {hashing}, reading {reading}"
    );
}
