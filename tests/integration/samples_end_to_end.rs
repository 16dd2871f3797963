//! (filled after the readers land)
