//! Builds the bank profiles and the routing table (`profiles/*.toml`) into the binaries, so the
//! ingest Lambda routes files with exactly what the repository holds and needs no file system.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("../profiles");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("profiles/ beside the functions crate")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// Every `profiles/*.toml` as (file name, text).\npub const PROFILE_FILES: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        let path = dir.join(n).canonicalize().expect("a profile file");
        let _ = writeln!(out, "    ({n:?}, include_str!({:?})),", path.display().to_string());
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("profiles.rs"), out).expect("OUT_DIR is writable");
}
