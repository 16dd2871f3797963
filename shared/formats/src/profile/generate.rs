//! Big synthetic files for shipped profiles, for benchmarks.
