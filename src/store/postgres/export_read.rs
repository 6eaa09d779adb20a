//! The export read path on PostgreSQL: binary `COPY (SELECT …) TO STDOUT`, read as consecutive
//! time windows on several connections at once that share one snapshot.
//!
//! Why windows: one COPY runs in one server process, and on a small machine that process
//! (scan, sort, per-cell send functions) is slower than everything Outflow does with the rows.
//! Cutting the range into windows lets `streams` server processes work at once, like
//! `pg_dump --jobs`. The rows stay exactly those of the single query:
//! - every connection runs in a `REPEATABLE READ` transaction that imports the first one's
//!   snapshot (`pg_export_snapshot` / `SET TRANSACTION SNAPSHOT`), so all windows see one
//!   state of the database;
//! - windows are consecutive half-open ranges of the leading `ORDER BY` column (see
//!   [`TimeSplit`]), handed out in order and consumed in that same order, so concatenating
//!   them is the single query's order.
//!
//! Window sizes adapt: the first is 1/64 of the time span, each later one aims at
//! [`TARGET_BYTES`] of COPY data and at most [`TARGET_ROWS`] rows by the density seen so far
//! (more rows per window and PostgreSQL's planner turns the window's index scan into a
//! bitmap heap scan plus a sort, about 40 % more server work). Memory is bounded: each window
//! buffers at most [`WINDOW_BLOCKS`] blocks (of at most `chunk` rows and about
//! [`crate::store::rows::BLOCK_TEXT`] bytes of text), and at most `streams + 1` windows exist
//! at once (a producer waits for a permit before it opens another). Counting blocks alone let
//! peak RSS swing by tens of MiB from run to run (how far the readers got ahead of the encoder
//! depended on timing), so every block also takes its bytes from one [`READ_BUDGET`] shared
//! by all windows and gives them back when it is dropped (after encoding): readers ahead of
//! the consumer wait once the budget is spent. The window being consumed may pass a spent
//! budget (its channel still bounds it), so a later window holding the budget can never
//! starve the one the consumer waits for.
//!
//! Each reader parses its COPY messages in place (`copy.rs`) into [`RowBlock`]s, so parsing
//! runs beside the consumer, which only passes the windows' blocks on in order.

use super::super::{RowBlock, StoreError, StoreResult, StreamQuery, TimeSplit, Value};
use super::copy;
use crate::domain::FieldType;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

/// Blocks one window may buffer ahead of the consumer.
const WINDOW_BLOCKS: usize = 4;
/// COPY bytes a window aims at once the density is known.
const TARGET_BYTES: u64 = 3 * 512 * 1024;
/// Rows a window aims at at most: on a 1M-row table, windows of 58k rows were planned as
/// a bitmap heap scan plus a sort (3.3 against 2.3 busy core-s an export), 10k-row ones as
/// the plain ordered index scan. Narrow rows (the `minimal` preset) reach the byte target
/// only at about 25k rows.
const TARGET_ROWS: u64 = 10_000;
/// Bytes of blocks (cells and text) read ahead of the encoder, over all windows.
const READ_BUDGET: usize = 8 * 1024 * 1024;
/// How long to wait for each extra connection before reading with fewer.
const EXTRA_CONNECTION_WAIT: Duration = Duration::from_millis(500);

type Conn = PoolConnection<Postgres>;

/// Every reader's transaction: one snapshot for all its statements.
const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// What a reader sends for a window: blocks, then `None` once the window's COPY has ended
/// cleanly. A window whose channel closes without that end lost rows (its reader failed
/// without reporting, e.g. panicked), which the consumer turns into an error.
type WindowItem = StoreResult<Option<RowBlock>>;

/// One window's data on its way to the consumer, and its place among the windows in flight.
struct Window {
    data: mpsc::Receiver<WindowItem>,
    _permit: OwnedSemaphorePermit,
    /// Its place in the order (from 1).
    seq: u64,
}

/// The byte budget of one export's read-ahead (see the module header).
#[derive(Clone)]
struct Budget {
    /// Permits are KiB.
    kib: Arc<Semaphore>,
    /// The window the consumer is reading.
    head: Arc<watch::Sender<u64>>,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            kib: Arc::new(Semaphore::new(READ_BUDGET / 1024)),
            head: Arc::new(watch::channel(0).0),
        }
    }

    /// Charges `block` to the budget, waiting while it is spent, unless window `seq` is the
    /// one being consumed. `false`: the export is over.
    async fn admit(&self, seq: u64, block: &mut RowBlock) -> bool {
        let kib = block
            .heap_bytes()
            .div_ceil(1024)
            .clamp(1, READ_BUDGET / 1024) as u32;
        let mut head = self.head.subscribe();
        tokio::select! {
            // Budget first: the head window pays too while there is budget left.
            biased;
            share = self.kib.clone().acquire_many_owned(kib) => match share {
                Ok(share) => {
                    block.hold(share);
                    true
                }
                Err(_) => false,
            },
            at_head = head.wait_for(|h| *h >= seq) => at_head.is_ok(),
        }
    }
}

/// Streams `query`'s rows into `tx` in blocks of `chunk` rows.
pub(super) async fn stream(
    pool: &PgPool,
    query: &StreamQuery,
    chunk: usize,
    tx: &mpsc::Sender<StoreResult<RowBlock>>,
) -> StoreResult<()> {
    let (order_tx, mut order_rx) = mpsc::unbounded_channel::<Window>();
    let streams = query.streams.max(1);
    let budget = Budget::new();
    let readers = match &query.split {
        Some(split) if streams > 1 => {
            start_split(pool, query, chunk, split, streams, order_tx, &budget).await?
        }
        _ => {
            let conn = pool.acquire().await?;
            let planner = Planner::whole(order_tx, &budget);
            vec![tokio::spawn(read_windows(
                conn,
                query.clone(),
                chunk,
                planner,
                false,
            ))]
        }
    };
    let result = consume(&mut order_rx, tx, &budget).await;
    // Dropping the windows stops the readers at their next piece.
    drop(order_rx);
    for r in readers {
        let _ = r.await;
    }
    result
}

/// Opens the leader's snapshot and the followers, finds the time bounds, starts the readers.
async fn start_split(
    pool: &PgPool,
    query: &StreamQuery,
    chunk: usize,
    split: &TimeSplit,
    streams: usize,
    order_tx: mpsc::UnboundedSender<Window>,
    budget: &Budget,
) -> StoreResult<Vec<tokio::task::JoinHandle<()>>> {
    let mut leader = pool.acquire().await?;
    let setup = async {
        exec(&mut leader, &[BEGIN]).await?;
        let bounds = copy::render(&split.bounds_sql, &split.bounds_params)?;
        let (snapshot, lo, hi) = snapshot_and_bounds(&mut leader, &bounds).await?;
        StoreResult::Ok((snapshot, lo, hi))
    };
    let (snapshot, lo, hi) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            leader.close_on_drop();
            return Err(e);
        }
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        // No rows: an empty COPY still yields the header and trailer the consumer expects.
        let planner = Planner::whole(order_tx, budget);
        return Ok(vec![tokio::spawn(read_windows(
            leader,
            query.clone(),
            chunk,
            planner,
            true,
        ))]);
    };
    let mut conns = vec![leader];
    while conns.len() < streams {
        let Ok(Ok(mut conn)) = tokio::time::timeout(EXTRA_CONNECTION_WAIT, pool.acquire()).await
        else {
            break;
        };
        let import = format!(
            "SET TRANSACTION SNAPSHOT '{}'",
            snapshot.replace('\'', "''")
        );
        let joined = exec(&mut conn, &[BEGIN, &import]).await;
        match joined {
            Ok(_) => conns.push(conn),
            Err(e) => {
                tracing::debug!(error = %e, "cannot share the export snapshot; reading with fewer connections");
                conn.close_on_drop();
                break;
            }
        }
    }
    let planner = Planner::split(
        order_tx,
        budget,
        conns.len(),
        split,
        lo.timestamp_micros(),
        hi.timestamp_micros().saturating_add(1),
    );
    Ok(conns
        .into_iter()
        .map(|conn| {
            tokio::spawn(read_windows(
                conn,
                query.clone(),
                chunk,
                planner.clone(),
                true,
            ))
        })
        .collect())
}

/// Passes the windows' blocks on to `tx`, window by window in the order they were opened.
async fn consume(
    order: &mut mpsc::UnboundedReceiver<Window>,
    tx: &mpsc::Sender<StoreResult<RowBlock>>,
    budget: &Budget,
) -> StoreResult<()> {
    while let Some(mut window) = order.recv().await {
        budget.head.send_replace(window.seq);
        loop {
            match window.data.recv().await {
                Some(Ok(Some(block))) => {
                    if tx.send(Ok(block)).await.is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(None)) => break,
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(StoreError::Corrupt(
                        "PostgreSQL export: a reader stopped before the end of its window".into(),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A window handed to a reader.
struct NextWindow {
    params: Vec<Value>,
    data: mpsc::Sender<WindowItem>,
    width: i64,
    seq: u64,
}

/// Hands out windows in order and registers each with the consumer as it goes.
#[derive(Clone)]
struct Planner {
    state: Arc<Mutex<PlanState>>,
    permits: Arc<Semaphore>,
    order: mpsc::UnboundedSender<Window>,
    budget: Budget,
}

struct PlanState {
    /// `None`: the query is read whole, once.
    range: Option<Range>,
    whole_taken: bool,
    /// Windows handed out so far.
    handed_out: u64,
}

struct Range {
    start_param: usize,
    end_param: usize,
    /// Next window's start, microseconds.
    next: i64,
    /// End of the range (exclusive).
    end: i64,
    /// Width of the last window handed out.
    width: i64,
    seen_bytes: u64,
    seen_rows: u64,
    seen_width: i64,
}

impl Planner {
    fn new(
        order: mpsc::UnboundedSender<Window>,
        budget: &Budget,
        readers: usize,
        range: Option<Range>,
    ) -> Planner {
        Planner {
            state: Arc::new(Mutex::new(PlanState {
                range,
                whole_taken: false,
                handed_out: 0,
            })),
            permits: Arc::new(Semaphore::new(readers + 1)),
            order,
            budget: budget.clone(),
        }
    }

    /// The query read whole, by one reader.
    fn whole(order: mpsc::UnboundedSender<Window>, budget: &Budget) -> Planner {
        Planner::new(order, budget, 1, None)
    }

    fn split(
        order: mpsc::UnboundedSender<Window>,
        budget: &Budget,
        readers: usize,
        split: &TimeSplit,
        lo: i64,
        end: i64,
    ) -> Planner {
        Planner::new(
            order,
            budget,
            readers,
            Some(Range {
                start_param: split.start_param,
                end_param: split.end_param,
                next: lo,
                end,
                width: ((end - lo) / 64).max(1),
                seen_bytes: 0,
                seen_rows: 0,
                seen_width: 0,
            }),
        )
    }

    /// The next window's parameters and the sender for its data, registered with the
    /// consumer; `None` when every window has been handed out or the consumer is gone.
    async fn next(&self, params: &[Value]) -> Option<NextWindow> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        let (params, width) = match &mut state.range {
            None if state.whole_taken => return None,
            None => {
                state.whole_taken = true;
                (params.to_vec(), 0)
            }
            Some(r) if r.next >= r.end => return None,
            Some(r) => {
                let width = if r.seen_bytes == 0 {
                    r.width
                } else {
                    // Aim at TARGET_BYTES and TARGET_ROWS by the density so far, growing at
                    // most 8× a step so one sparse stretch does not swallow the rest of the
                    // range.
                    let by_bytes = i128::from(r.seen_width) * i128::from(TARGET_BYTES)
                        / i128::from(r.seen_bytes);
                    let by_rows = i128::from(r.seen_width) * i128::from(TARGET_ROWS)
                        / i128::from(r.seen_rows.max(1));
                    let w = by_bytes.min(by_rows).min(i128::from(i64::MAX)) as i64;
                    w.clamp(1, r.width.saturating_mul(8))
                };
                let width = width.min(r.end - r.next).max(1);
                let (from, to) = (r.next, r.next + width);
                r.next = to;
                r.width = width;
                let mut p = params.to_vec();
                p[r.start_param] = micros(from);
                p[r.end_param] = micros(to);
                (p, width)
            }
        };
        state.handed_out += 1;
        let seq = state.handed_out;
        let (data_tx, data_rx) = mpsc::channel(WINDOW_BLOCKS);
        self.order
            .send(Window {
                data: data_rx,
                _permit: permit,
                seq,
            })
            .ok()?;
        Some(NextWindow {
            params,
            data: data_tx,
            width,
            seq,
        })
    }

    /// Records a finished window's size for the density estimate.
    fn observe(&self, bytes: u64, rows: u64, width: i64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = &mut state.range {
            r.seen_bytes += bytes;
            r.seen_rows += rows;
            r.seen_width += width;
            if bytes == 0 {
                // Nothing there yet: widen the next try.
                r.width = r.width.saturating_mul(2);
            }
        }
    }
}

// The two helpers below return boxed futures: sqlx's executor futures written inline trip
// the compiler's "Executor is not general enough" when the caller is spawned.

/// Runs the statements `sql` one after another.
fn exec<'c>(conn: &'c mut Conn, sql: &'c [&'c str]) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move {
        let c: &mut sqlx::PgConnection = conn;
        for statement in sql {
            sqlx::query(statement)
                .persistent(false)
                .execute(&mut *c)
                .await?;
        }
        Ok(())
    })
}

type Bounds = (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Exports the transaction's snapshot and reads the time bounds within it.
fn snapshot_and_bounds<'c>(
    conn: &'c mut Conn,
    bounds_sql: &'c str,
) -> BoxFuture<'c, Result<Bounds, sqlx::Error>> {
    Box::pin(async move {
        let c: &mut sqlx::PgConnection = conn;
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .persistent(false)
            .fetch_one(&mut *c)
            .await?;
        let (lo, hi): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(bounds_sql)
            .persistent(false)
            .fetch_one(&mut *c)
            .await?;
        Ok((snapshot, lo, hi))
    })
}

fn micros(us: i64) -> Value {
    DateTime::<Utc>::from_timestamp_micros(us).map_or(Value::NullTimestamp, Value::Timestamp)
}

/// One connection's reader: COPYs windows until none are left. `in_tx`: the connection is
/// inside a transaction to commit at the end.
async fn read_windows(
    mut conn: Conn,
    query: StreamQuery,
    chunk: usize,
    planner: Planner,
    in_tx: bool,
) {
    while let Some(NextWindow {
        params,
        data,
        width,
        seq,
    }) = planner.next(&query.params).await
    {
        let window = CopyWindow {
            sql: &query.sql,
            params: &params,
            types: &query.types,
            chunk,
            budget: &planner.budget,
            seq,
        };
        match window.read(&mut conn, &data).await {
            Ok(Some((bytes, rows))) => planner.observe(bytes, rows, width),
            Ok(None) => {
                // The consumer stopped listening mid-COPY: the connection is mid-protocol.
                conn.close_on_drop();
                return;
            }
            Err(e) => {
                let _ = data.send(Err(e)).await;
                conn.close_on_drop();
                return;
            }
        }
    }
    if in_tx && exec(&mut conn, &["COMMIT"]).await.is_err() {
        conn.close_on_drop();
    }
}

/// One window's COPY.
struct CopyWindow<'a> {
    sql: &'a str,
    params: &'a [Value],
    types: &'a [FieldType],
    chunk: usize,
    budget: &'a Budget,
    seq: u64,
}

impl CopyWindow<'_> {
    /// COPYs the window into `data` as blocks; the COPY bytes and rows read, or `None` when
    /// the receiver went away.
    async fn read(
        &self,
        conn: &mut Conn,
        data: &mpsc::Sender<WindowItem>,
    ) -> StoreResult<Option<(u64, u64)>> {
        let statement = format!(
            "COPY ({}) TO STDOUT (FORMAT binary)",
            copy::render(self.sql, self.params)?
        );
        let new_block = || RowBlock::for_chunk(self.types.len(), self.chunk);
        let mut stream = conn.copy_out_raw(&statement).await?;
        let mut parser = copy::Parser::new();
        let mut block = new_block();
        let (mut total, mut rows) = (0u64, 0u64);
        while let Some(message) = stream.try_next().await? {
            total += message.len() as u64;
            let mut input = &message[..];
            while parser.next_row(&mut input, self.types, &mut block)? {
                rows += 1;
                if block.is_full(self.chunk) {
                    let mut full = std::mem::replace(&mut block, new_block());
                    if !self.budget.admit(self.seq, &mut full).await
                        || data.send(Ok(Some(full))).await.is_err()
                    {
                        return Ok(None);
                    }
                }
            }
        }
        if !parser.done() {
            return Err(StoreError::Corrupt(
                "binary COPY: the data ended early".into(),
            ));
        }
        if !block.is_empty()
            && (!self.budget.admit(self.seq, &mut block).await
                || data.send(Ok(Some(block))).await.is_err())
        {
            return Ok(None);
        }
        if data.send(Ok(None)).await.is_err() {
            return Ok(None);
        }
        Ok(Some((total, rows)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split() -> TimeSplit {
        TimeSplit {
            bounds_sql: String::new(),
            bounds_params: Vec::new(),
            start_param: 0,
            end_param: 1,
        }
    }

    fn bounds(p: &[Value]) -> (i64, i64) {
        let us = |v: &Value| v.as_timestamp().unwrap().timestamp_micros();
        (us(&p[0]), us(&p[1]))
    }

    #[tokio::test]
    async fn windows_tile_the_range_in_order_and_adapt_to_density() {
        let (order_tx, mut order_rx) = mpsc::unbounded_channel();
        let (lo, end) = (1_000_000_000, 1_000_000_000 + 64_000_000);
        let planner = Planner::split(order_tx, &Budget::new(), 2, &split(), lo, end);
        let params = vec![Value::Null, Value::Null];
        let mut next = lo;
        let mut widths = Vec::new();
        while let Some(NextWindow {
            params: p, width, ..
        }) = planner.next(&params).await
        {
            let (from, to) = bounds(&p);
            assert_eq!(from, next, "windows are consecutive");
            assert_eq!(to - from, width);
            next = to;
            widths.push(width);
            // Half the byte target per million microseconds, the first window's width, and
            // few rows.
            planner.observe((width as u64) * (TARGET_BYTES / 2) / 1_000_000, 10, width);
            // The consumer finishes each window at once, returning its permit.
            drop(order_rx.recv().await.unwrap());
        }
        assert_eq!(next, end, "the windows cover the whole range");
        assert_eq!(widths[0], 1_000_000, "the first window is 1/64 of the span");
        assert_eq!(
            widths[1], 2_000_000,
            "then TARGET_BYTES by the density seen"
        );
    }

    #[tokio::test]
    async fn narrow_rows_cap_windows_at_target_rows() {
        let (order_tx, mut order_rx) = mpsc::unbounded_channel();
        let planner = Planner::split(order_tx, &Budget::new(), 2, &split(), 0, 64_000_000);
        let params = vec![Value::Null, Value::Null];
        let first = planner.next(&params).await.unwrap().width;
        drop(order_rx.recv().await.unwrap());
        // The first window held a tenth of the byte target but a full TARGET_ROWS.
        planner.observe(TARGET_BYTES / 10, TARGET_ROWS, first);
        let second = planner.next(&params).await.unwrap().width;
        assert_eq!(second, first, "the row target, not 10× by bytes");
    }

    #[tokio::test]
    async fn a_whole_query_is_one_window_with_its_own_parameters() {
        let (order_tx, _order_rx) = mpsc::unbounded_channel();
        let planner = Planner::whole(order_tx, &Budget::new());
        let params = vec![Value::Integer(7)];
        let p = planner.next(&params).await.unwrap().params;
        assert_eq!(p, params);
        assert!(planner.next(&params).await.is_none());
    }

    #[tokio::test]
    async fn a_window_that_ends_without_its_end_mark_is_an_error() {
        let permits = Arc::new(Semaphore::new(2));
        let (order_tx, mut order_rx) = mpsc::unbounded_channel();
        let (out_tx, mut out_rx) = mpsc::channel(8);
        let block = || {
            let mut b = RowBlock::with_capacity(1, 1, 1);
            b.push_integer(1);
            b.end_row();
            b
        };
        // A complete window, then one whose reader vanished after its first block.
        for (seq, complete) in [(1, true), (2, false)] {
            let (data_tx, data_rx) = mpsc::channel(4);
            data_tx.send(Ok(Some(block()))).await.unwrap();
            if complete {
                data_tx.send(Ok(None)).await.unwrap();
            }
            order_tx
                .send(Window {
                    data: data_rx,
                    _permit: permits.clone().acquire_owned().await.unwrap(),
                    seq,
                })
                .unwrap();
        }
        drop(order_tx);
        let err = consume(&mut order_rx, &out_tx, &Budget::new())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("before the end of its window"),
            "{err}"
        );
        assert_eq!(out_rx.recv().await.unwrap().unwrap().len(), 1);
        assert_eq!(out_rx.recv().await.unwrap().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn windows_in_flight_are_bounded_by_permits() {
        let (order_tx, mut order_rx) = mpsc::unbounded_channel();
        let planner = Planner::split(order_tx, &Budget::new(), 2, &split(), 0, 1_000_000_000);
        let params = vec![Value::Null, Value::Null];
        for _ in 0..3 {
            planner.next(&params).await.unwrap();
        }
        let blocked = tokio::time::timeout(Duration::from_millis(50), planner.next(&params)).await;
        assert!(blocked.is_err(), "a fourth window waits for a permit");
        drop(order_rx.recv().await.unwrap());
        assert!(planner.next(&params).await.is_some());
    }

    #[tokio::test]
    async fn read_ahead_is_bounded_by_bytes_but_never_starves_the_head() {
        let budget = Budget::new();
        // Just under half the budget each (a block also counts its cells).
        let big = || RowBlock::with_capacity(1, 1, READ_BUDGET / 2 - 4096);
        // Window 2 runs ahead and spends the whole budget.
        let (mut a, mut b) = (big(), big());
        assert!(budget.admit(2, &mut a).await);
        assert!(budget.admit(2, &mut b).await);
        let mut c = big();
        let waits = tokio::time::timeout(Duration::from_millis(50), budget.admit(2, &mut c)).await;
        assert!(
            waits.is_err(),
            "a window ahead waits once the budget is spent"
        );
        // The consumer reads window 1: it may pass the spent budget.
        budget.head.send_replace(1);
        let mut head = big();
        assert!(budget.admit(1, &mut head).await);
        // Blocks give their bytes back when dropped (after encoding).
        drop(a);
        assert!(budget.admit(2, &mut c).await);
        assert!(c.heap_bytes() >= READ_BUDGET / 2 - 4096);
    }
}
