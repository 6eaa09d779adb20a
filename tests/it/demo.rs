//! `outflow demo` seeding: the counts the foundation promises, and a second run reuses data.

use crate::helpers::*;
use outflow::domain::DataType;
use outflow::domain::entity::EntityKind;
use outflow::store::ListQuery;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeds_a_realistic_organization_once() {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store().await;
    let seeded = outflow::demo::seed(&store, 1).await.unwrap();
    assert!(seeded.created);
    let org = seeded.org_id.as_str();
    let count = |kind, personal| {
        let store = store.clone();
        async move {
            store
                .list_entities(
                    org,
                    kind,
                    &ListQuery {
                        personal,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .total
        }
    };
    let members = count(EntityKind::Members, None).await;
    assert!(members >= 100, "{members} members");
    assert!(count(EntityKind::Teams, Some(false)).await >= 8);
    assert_eq!(
        count(EntityKind::Teams, Some(true)).await,
        members,
        "one personal space each"
    );
    assert!(count(EntityKind::CustomRoles, None).await >= 1);
    assert!(count(EntityKind::Workbooks, None).await >= 1);
    assert!(count(EntityKind::Agents, None).await >= 1);
    let total: i64 = seeded.counts.iter().map(|(_, n)| n).sum();
    assert!(total >= 200_000, "{total} records");
    for (dt, n) in &seeded.counts {
        assert!(*n > 0, "{dt} has records");
    }
    let versions = store.count_records(DataType::Agents, org).await.unwrap();
    assert!(
        versions > count(EntityKind::Agents, None).await,
        "agents have several versions"
    );
    let child_runs = store
        .query(
            "SELECT COUNT(*) FROM workflow_runs WHERE org_id = ? AND parent_run_id IS NOT NULL",
            &[org.into()],
            &[outflow::domain::FieldType::Integer],
        )
        .await
        .unwrap();
    assert!(
        child_runs[0][0].as_i64().unwrap() > 0,
        "some runs are child runs"
    );
    let span = store
        .query(
            "SELECT MIN(pl_run_created_ts), MAX(pl_run_created_ts) FROM workflow_runs WHERE org_id = ?",
            &[org.into()],
            &[outflow::domain::FieldType::Timestamp, outflow::domain::FieldType::Timestamp],
        )
        .await
        .unwrap();
    let (first, last) = (
        span[0][0].as_timestamp().unwrap(),
        span[0][1].as_timestamp().unwrap(),
    );
    assert!((last - first).num_days() >= 365, "12+ months of runs");

    let again = outflow::demo::seed(&store, 1).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.counts, seeded.counts, "a second run reuses the data");
}
