//! Splitting one large file's work into chunks (issue 7), so that no single run of the pipeline
//! has to fit a whole file into one Lambda invocation's 15 minutes.
//!
//! The file still validates whole first (the orchestrator's first pass, `crate::ingest`):
//! nothing posts from a file that fails anywhere. Then its payments are cut into consecutive
//! ranges of positions; each chunk re-reads the file from its start, skips to its range and
//! processes it (`ingest::process_chunk`), and the chunks' summaries add up to the file's
//! (`sum_summaries`). Every payment is exactly-once by its key whatever runs it, so a chunk run
//! twice posts nothing twice.

use serde::{Deserialize, Serialize};

use crate::ports::FileSummary;

/// How a file's payments are cut: `chunks()` consecutive ranges of `chunk_size` payments, the
/// last one shorter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkPlan {
    /// Payments in the file (pass 1's count).
    pub payments: u64,
    /// Payments per chunk, at least 1.
    pub chunk_size: u64,
}

/// One chunk: its index and the range of payment positions it processes (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub index: u64,
    pub first: u64,
    pub count: u64,
}

impl Chunk {
    /// The positions it covers.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.first..self.first + self.count
    }
}

impl ChunkPlan {
    /// The plan for `payments` payments in chunks of `chunk_size` (0 is taken as 1).
    pub fn new(payments: u64, chunk_size: u64) -> Self {
        Self { payments, chunk_size: chunk_size.max(1) }
    }

    /// True when the file is worth splitting: more payments than one chunk holds.
    pub fn splits(&self) -> bool {
        self.payments > self.chunk_size
    }

    /// How many chunks.
    pub fn chunks(&self) -> u64 {
        self.payments.div_ceil(self.chunk_size.max(1))
    }

    /// Chunk `index`, if the plan has it.
    pub fn chunk(&self, index: u64) -> Option<Chunk> {
        let size = self.chunk_size.max(1);
        (index < self.chunks()).then(|| {
            let first = index * size;
            Chunk { index, first, count: size.min(self.payments - first) }
        })
    }

    /// Every chunk in order.
    pub fn iter(&self) -> impl Iterator<Item = Chunk> + '_ {
        (0..self.chunks()).filter_map(|i| self.chunk(i))
    }

    /// True when `chunk` is one of this plan's chunks exactly (a message naming another range
    /// comes from another plan, or was tampered with).
    pub fn contains(&self, chunk: &Chunk) -> bool {
        self.chunk(chunk.index).as_ref() == Some(chunk)
    }
}

/// The file's summary from its chunks' summaries, given in chunk order (the market is the first
/// chunk's, as the unsplit run takes the first payment's).
pub fn sum_summaries<'a>(parts: impl IntoIterator<Item = &'a FileSummary>) -> FileSummary {
    let mut sum = FileSummary::default();
    for p in parts {
        sum.add(p);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::payment::Market;
    use crate::ports::CurrencyTotals;
    use rust_decimal_macros::dec;

    #[test]
    fn chunks_cover_every_payment_once_in_order() {
        for (payments, size) in [(0u64, 5u64), (1, 5), (5, 5), (6, 5), (17, 5), (17, 1), (3, 0)] {
            let plan = ChunkPlan::new(payments, size);
            let chunks: Vec<Chunk> = plan.iter().collect();
            assert_eq!(chunks.len() as u64, plan.chunks());
            let mut next = 0;
            for (i, c) in chunks.iter().enumerate() {
                assert_eq!(c.index, i as u64);
                assert_eq!(c.first, next, "{payments}/{size}");
                assert!(c.count >= 1 && c.count <= plan.chunk_size);
                assert!(plan.contains(c));
                next += c.count;
            }
            assert_eq!(next, payments);
            assert_eq!(plan.chunk(plan.chunks()), None);
        }
        assert!(!ChunkPlan::new(5, 5).splits());
        assert!(ChunkPlan::new(6, 5).splits());
    }

    #[test]
    fn a_chunk_from_another_plan_is_not_contained() {
        let plan = ChunkPlan::new(10, 4);
        assert!(!plan.contains(&Chunk { index: 1, first: 3, count: 4 }));
        assert!(!plan.contains(&Chunk { index: 2, first: 8, count: 4 }));
        assert!(plan.contains(&Chunk { index: 2, first: 8, count: 2 }));
    }

    fn part(market: Option<Market>, applied: u64, queued: u64, amount: rust_decimal::Decimal) -> FileSummary {
        let mut s = FileSummary { payments: applied + queued, applied, queued, market, ..Default::default() };
        s.totals.insert(
            "CAD".into(),
            CurrencyTotals {
                credits: amount,
                credit_count: applied + queued,
                applied: amount,
                ..Default::default()
            },
        );
        s
    }

    #[test]
    fn summaries_add_up_and_keep_the_first_market() {
        let a = part(Some(Market::CA), 2, 1, dec!(10.50));
        let b = part(Some(Market::EU), 1, 0, dec!(0.25));
        let sum = sum_summaries([&a, &b]);
        assert_eq!((sum.payments, sum.applied, sum.queued), (4, 3, 1));
        assert_eq!(sum.totals["CAD"].credits, dec!(10.75));
        assert_eq!(sum.totals["CAD"].credit_count, 4);
        assert_eq!(sum.market, Some(Market::CA));
        assert_eq!(sum_summaries([&FileSummary::default(), &b]).market, Some(Market::EU));
        assert_eq!(sum_summaries([]), FileSummary::default());
    }
}
