//! What every fuzz target does: read arbitrary bytes to the end, as the pipeline's validation
//! pass would. Any panic is a bug.

use remit_formats::{Format, SourceContext};

/// Reads `data` with the reader for `format`, or with whatever `open` detects when `None`.
pub fn read_to_end(format: Option<Format>, data: &[u8]) {
    let ctx = SourceContext { file_id: remit_domain::FileId::of_bytes(data), file_name: "fuzz".into() };
    match format {
        Some(f) => remit_formats::open_as(f, ctx, data).for_each(drop),
        None => {
            if let Ok((_, stream)) = remit_formats::open(ctx, data) {
                stream.for_each(drop)
            }
        }
    }
}
