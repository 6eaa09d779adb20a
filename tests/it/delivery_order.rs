//! The delivery order: a tailing reader never misses a record, whatever order concurrent
//! ingest transactions commit in.

use crate::both_backends;
use crate::helpers::*;
use outflow::domain::DataType;
use outflow::store::{RecordBatch, Store};
use sqlx::Connection;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn batch(ids: &[String]) -> RecordBatch {
    let values = ids.iter().map(|id| run_record("acme", id)).collect();
    let (batch, rejected, _) = outflow::ingest::validate(DataType::Workflows, values);
    assert!(rejected.is_empty());
    batch
}

fn run_id(store_row: &outflow::store::StoredRecord) -> String {
    let spec = outflow::domain::catalog::spec(DataType::Workflows);
    store_row
        .get(spec, "run_id")
        .unwrap()
        .as_text()
        .unwrap()
        .to_string()
}

/// Tails from `cursor` until nothing new is readable; returns the cursor and what it read.
async fn drain(store: &Store, cursor: &mut i64, seen: &mut Vec<String>) {
    loop {
        let rows = store
            .read_after(DataType::Workflows, "acme", *cursor, 1000)
            .await
            .unwrap();
        if rows.is_empty() {
            return;
        }
        for r in &rows {
            assert!(r.pos > *cursor, "positions strictly increase");
            *cursor = r.pos;
            seen.push(run_id(r));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reader_misses_nothing_when_commits_come_in_reverse_order() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    acme_org(&store).await;
    let mut a = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut b = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut ta = a.begin().await.unwrap();
    outflow::store::postgres::insert_in_tx(&mut ta, &batch(&["a1".into(), "a2".into()]))
        .await
        .unwrap();
    let mut tb = b.begin().await.unwrap();
    outflow::store::postgres::insert_in_tx(&mut tb, &batch(&["b1".into()]))
        .await
        .unwrap();
    tb.commit().await.unwrap();

    // B committed first. The BIGSERIAL trap: a reader ordering by position alone would now
    // read b1 and move its cursor past A's positions.
    let naive: Vec<(i64,)> = sqlx::query_as("SELECT pos FROM workflow_runs ORDER BY pos")
        .fetch_all(&mut b)
        .await
        .unwrap();
    assert_eq!(naive.len(), 1, "a naive reader sees only b1 …");
    let (mut cursor, mut seen) = (0, Vec::new());
    drain(&store, &mut cursor, &mut seen).await;
    assert!(
        seen.is_empty(),
        "… but the tailing read holds b1 back while A is in flight"
    );

    ta.commit().await.unwrap();
    // Other tests' transactions on the same cluster may hold the horizon back for a moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 3 && Instant::now() < deadline {
        drain(&store, &mut cursor, &mut seen).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, ["a1", "a2", "b1"]);
    let a_positions: Vec<(i64,)> =
        sqlx::query_as("SELECT pos FROM workflow_runs WHERE run_id LIKE 'a%'")
            .fetch_all(&mut b)
            .await
            .unwrap();
    assert!(
        a_positions.iter().all(|(p,)| *p < naive[0].0),
        "A's positions precede B's: a naive cursor would have skipped them"
    );
}

/// Many writers commit in scrambled order while a reader tails; the reader sees every record
/// exactly once.
async fn concurrent_writers_and_a_tailing_reader(b: Backend) {
    let db = TestDb::new(b).await;
    let store = db.store().await;
    acme_org(&store).await;
    const WRITERS: usize = 8;
    const BATCHES: usize = 6;
    let mut expected = HashSet::new();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let ids: Vec<Vec<String>> = (0..BATCHES)
            .map(|n| (0..25).map(|i| format!("w{w}-b{n}-{i}")).collect())
            .collect();
        expected.extend(ids.iter().flatten().cloned());
        let url = db.url.clone();
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for (n, ids) in ids.into_iter().enumerate() {
                // Hold each transaction open for a writer-dependent time so commit order
                // differs from start order.
                let hold = Duration::from_millis(((w * 7 + n * 3) % 11) as u64 * 3);
                match b {
                    Backend::Postgres => {
                        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                        let mut tx = c.begin().await.unwrap();
                        outflow::store::postgres::insert_in_tx(&mut tx, &batch(&ids))
                            .await
                            .unwrap();
                        tokio::time::sleep(hold).await;
                        tx.commit().await.unwrap();
                    }
                    Backend::Sqlite => {
                        tokio::time::sleep(hold).await;
                        store.insert_records(&batch(&ids)).await.unwrap();
                    }
                }
            }
        }));
    }
    let (mut cursor, mut seen) = (0, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < expected.len() && Instant::now() < deadline {
        drain(&store, &mut cursor, &mut seen).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for w in writers {
        w.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < expected.len() && Instant::now() < deadline {
        drain(&store, &mut cursor, &mut seen).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no record read twice");
    assert_eq!(unique, expected, "no record missed");
}

both_backends!(
    tailing_reader_sees_every_concurrent_write_once,
    |b| async move { concurrent_writers_and_a_tailing_reader(b).await }
);
