//! Delivery-order positions on PostgreSQL, derived from transaction ids.
//!
//! **The trap.** A `BIGSERIAL` is handed out when a row is inserted, not when its transaction
//! commits. Transaction A takes 10, B takes 11 and commits first; a reader that consumed 11
//! moves its cursor past 10 and never sees A's row when A commits later.
//!
//! **The technique.** Every row written by a transaction gets the position
//! `xid << 16 | k`, where `xid` is the transaction's 64-bit id (`pg_current_xact_id()`, which
//! never wraps) and `k` counts the rows that transaction wrote (at most 65,536). A tailing
//! reader only returns rows whose position lies below `pg_snapshot_xmin(pg_current_snapshot())
//! << 16`, evaluated in the same statement as the read.
//!
//! **Why it is sound.** `xmin` of the statement's snapshot is the oldest transaction id that
//! was still running when the snapshot was taken. Every transaction with a smaller id has
//! finished: if it committed, all its rows are visible to this statement; if it aborted, it
//! will never have rows. Any transaction that commits *later* was running at snapshot time or
//! started after it, so its id is ≥ `xmin` and every position it writes is ≥ `xmin << 16` —
//! above everything the reader could have returned. So a reader that has consumed everything
//! up to position P (P < `xmin << 16`) never later sees a new row at a position ≤ P, whatever
//! order concurrent ingest transactions commit in. Ingest runs fully concurrently: no lock,
//! no counter row, no second pass.
//!
//! **Costs and limits.** A long-running *writing* transaction anywhere in the cluster (ids are
//! cluster-wide) holds `xmin` back and so delays — never loses — delivery until it ends; plain
//! reads take no transaction id and do not. 48 bits of transaction id outlast any real
//! cluster (2^48 transactions at 10,000 a second is ~900 years).

use sqlx::PgConnection;

/// Bits of a position that number the rows within one transaction.
pub const ROW_BITS: u32 = 16;

/// Most rows one transaction may position.
pub const MAX_ROWS_PER_TX: usize = 1 << ROW_BITS;

/// SQL predicate true for rows no later commit can precede (see the module docs).
pub const VISIBLE: &str = "pos < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)";

/// SQL expression: the visibility horizon itself (everything below it is final).
pub const HORIZON: &str = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)";

/// Hands out the positions of one transaction.
pub struct TxPositions {
    base: i64,
    used: usize,
}

impl TxPositions {
    /// Reads (and if needed assigns) the current transaction's id.
    pub async fn start(conn: &mut PgConnection) -> Result<Self, sqlx::Error> {
        let base: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint << 16")
            .fetch_one(conn)
            .await?;
        Ok(TxPositions { base, used: 0 })
    }

    /// Reserves `n` consecutive positions and returns the first.
    pub fn take(&mut self, n: usize) -> Result<i64, TooManyRows> {
        if self.used + n > MAX_ROWS_PER_TX {
            return Err(TooManyRows);
        }
        let first = self.base + self.used as i64;
        self.used += n;
        Ok(first)
    }
}

/// A transaction tried to write more rows than positions allow.
#[derive(Debug, thiserror::Error)]
#[error("one transaction can store at most {MAX_ROWS_PER_TX} records; split the batch")]
pub struct TooManyRows;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_consecutive_and_bounded() {
        let mut p = TxPositions {
            base: 7 << ROW_BITS,
            used: 0,
        };
        assert_eq!(p.take(3).unwrap(), 7 << ROW_BITS);
        assert_eq!(p.take(1).unwrap(), (7 << ROW_BITS) + 3);
        assert!(p.take(MAX_ROWS_PER_TX).is_err());
    }
}
