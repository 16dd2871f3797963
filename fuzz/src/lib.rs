//! What every fuzz target does: read arbitrary bytes to the end, as the pipeline's validation
//! pass would. Any panic is a bug. `structured` builds near-valid files from the bytes instead.

pub mod structured;

use std::sync::OnceLock;

use remit_formats::profile::Profile;
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

/// The shipped bank profiles, in the order a fuzz input's first byte picks them.
pub const PROFILES: [&str; 5] = [
    include_str!("../../profiles/ca-billpay-remittance.toml"),
    include_str!("../../profiles/ca-eft80.toml"),
    include_str!("../../profiles/in-ecollect-mis-a.toml"),
    include_str!("../../profiles/in-ecollect-mis-b.toml"),
    include_str!("../../profiles/in-push-alert.toml"),
];

/// The shipped profiles compiled, once: parsing the TOML on every input spent most of each
/// execution on the profile rather than on the reader.
fn profiles() -> &'static [Profile] {
    static COMPILED: OnceLock<Vec<Profile>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        PROFILES.iter().map(|text| Profile::from_toml("fuzz.toml", text).expect("shipped profiles parse")).collect()
    })
}

/// Reads `data[1..]` with the shipped profile `data[0]` picks (fixed-width, CSV and JSON).
pub fn read_with_profile(data: &[u8]) {
    let Some((&pick, file)) = data.split_first() else { return };
    let profiles = profiles();
    let profile = &profiles[usize::from(pick) % profiles.len()];
    let ctx = SourceContext { file_id: remit_domain::FileId::of_bytes(file), file_name: "fuzz".into() };
    profile.open(ctx, file).for_each(drop);
}
