//! `cargo run --release -p remit-bench --example gen_mt940 -- PAYMENTS OUT [SEED]`: a synthetic
//! MT940 file for the benchmarks, for when `remit generate --format mt940` is not available.

use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(out)) = (args.first().and_then(|s| s.parse::<u64>().ok()), args.get(1)) else {
        eprintln!("usage: gen_mt940 PAYMENTS OUT [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(42);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    remit_bench::write_mt940(&mut w, n, seed)?;
    let size = std::fs::metadata(out)?.len();
    println!("wrote {n} mt940 payments to {out} ({:.1} MB)", size as f64 / 1e6);
    Ok(())
}
