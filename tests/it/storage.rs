//! The storage suite, on SQLite and PostgreSQL: schema matches the catalog, entities upsert
//! and list, records round-trip with their types.

use crate::both_backends;
use crate::helpers::*;
use outflow::domain::entity::{EntityKind, MemberInput, Role, TeamInput};
use outflow::domain::{DataType, FieldType, Id, catalog};
use outflow::store::ListQuery;
use serde_json::json;

both_backends!(
    record_tables_have_exactly_the_catalog_columns,
    |b| async move {
        let db = TestDb::new(b).await;
        let store = db.store().await;
        for dt in DataType::ALL {
            let spec = catalog::spec(dt);
            let sql = match b {
                Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{}')", spec.table),
                Backend::Postgres => format!(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_name = '{}'",
                    spec.table
                ),
            };
            let rows = store.query(&sql, &[], &[FieldType::Text]).await.unwrap();
            let mut columns: Vec<String> = rows
                .into_iter()
                .map(|r| r[0].as_text().unwrap().to_string())
                .collect();
            let mut expected: Vec<String> = spec.fields.iter().map(|f| f.id.to_string()).collect();
            expected.extend(["org_id".to_string(), "pos".to_string()]);
            columns.sort();
            expected.sort();
            assert_eq!(columns, expected, "{dt}");
        }
    }
);

both_backends!(every_field_type_round_trips, |b| async move {
    let db = TestDb::new(b).await;
    let store = db.store().await;
    store
        .upsert_org(
            &Id::parse("acme").unwrap(),
            &serde_json::from_value(json!({"name": "Acme"})).unwrap(),
        )
        .await
        .unwrap();
    let mut record = run_record("acme", "r1");
    record["pipeline"] = json!({"nodes": [1, 2], "name": "ü"});
    record["run_status"] = json!("failed");
    let (batch, rejected, _) = outflow::ingest::validate(DataType::Workflows, vec![record]);
    assert!(rejected.is_empty());
    store.insert_records(&batch).await.unwrap();
    let rows = read_all(&store, DataType::Workflows, "acme").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].values, batch.records[0].values,
        "stored values come back unchanged"
    );
    let spec = catalog::spec(DataType::Workflows);
    assert_eq!(
        rows[0].get(spec, "pl_run_created_ts").unwrap().to_json(),
        json!("2026-03-29T00:30:00.000000Z")
    );
    assert!(rows[0].get(spec, "parent_run_id").unwrap().is_null());
});

both_backends!(
    members_get_a_personal_space_and_lists_search_and_page,
    |b| async move {
        let db = TestDb::new(b).await;
        let store = db.store().await;
        let org = Id::parse("acme").unwrap();
        store
            .upsert_org(
                &org,
                &serde_json::from_value(json!({"name": "Acme"})).unwrap(),
            )
            .await
            .unwrap();
        for (id, name) in [
            ("t1", "Engineering"),
            ("t2", "Sales"),
            ("t3", "Sales Ops 50%"),
        ] {
            let team = TeamInput {
                name: name.into(),
                personal: None,
                owner_id: None,
                privacy: None,
                created_at: None,
            };
            store
                .upsert_team("acme", &Id::parse(id).unwrap(), &team)
                .await
                .unwrap();
        }
        for i in 0..3 {
            let m = MemberInput {
                email: format!("user{i}@acme.example"),
                name: format!("User {i}"),
                role: Some(if i == 0 { Role::Admin } else { Role::Member }),
                custom_role_ids: Some(vec![Id::parse("cr-fin").unwrap()]),
                department: Some(Some("Finance".into())),
                joined_at: chrono::Utc::now(),
                personal_team_id: None,
            };
            store
                .upsert_member("acme", &Id::parse(&format!("u{i}")).unwrap(), &m)
                .await
                .unwrap();
        }
        // Re-upserting a member changes it without creating a second personal space.
        let again = MemberInput {
            email: "user0@acme.example".into(),
            name: "User Zero".into(),
            role: Some(Role::Admin),
            custom_role_ids: Some(vec![]),
            department: Some(None),
            joined_at: chrono::Utc::now(),
            personal_team_id: None,
        };
        store
            .upsert_member("acme", &Id::parse("u0").unwrap(), &again)
            .await
            .unwrap();

        let q = |q: Option<&str>, personal: Option<bool>| ListQuery {
            q: q.map(str::to_string),
            personal,
            page: None,
            page_size: None,
        };
        let personal = store
            .list_entities("acme", EntityKind::Teams, &q(None, Some(true)))
            .await
            .unwrap();
        assert_eq!(personal.total, 3);
        assert_eq!(personal.items[0].id, "personal-u0");
        let sales = store
            .list_entities("acme", EntityKind::Teams, &q(Some("sales"), Some(false)))
            .await
            .unwrap();
        assert_eq!(
            sales
                .items
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["Sales", "Sales Ops 50%"]
        );
        let literal = store
            .list_entities("acme", EntityKind::Teams, &q(Some("50%"), None))
            .await
            .unwrap();
        assert_eq!(literal.total, 1, "% is matched literally");
        let by_email = store
            .list_entities("acme", EntityKind::Members, &q(Some("USER2@"), None))
            .await
            .unwrap();
        assert_eq!(by_email.items[0].id, "u2");
        assert_eq!(
            by_email.items[0].attributes["custom_role_ids"],
            json!(["cr-fin"])
        );
        let zero = store
            .list_entities("acme", EntityKind::Members, &q(Some("zero"), None))
            .await
            .unwrap();
        assert_eq!(zero.items[0].attributes["role"], "admin");
        let page2 = store
            .list_entities(
                "acme",
                EntityKind::Teams,
                &ListQuery {
                    page: Some(2),
                    page_size: Some(4),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!((page2.total, page2.items.len()), (6, 2));
        assert!(
            store
                .list_entities("other", EntityKind::Teams, &q(None, None))
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
);

both_backends!(
    organization_settings_are_validated_over_http,
    |b| async move {
        let app = spawn_app(b).await;
        let r = app
            .client
            .put(format!("{}/v1/orgs/acme", app.url))
            .bearer_auth(INGEST_KEY)
            .json(&json!({"name": "Acme", "timezone": "Mars/Base"}))
            .send()
            .await
            .unwrap();
        assert!(error_message(r, 400).await.contains("timezone"));
        let r = app
            .client
            .put(format!("{}/v1/orgs/acme", app.url))
            .bearer_auth(INGEST_KEY)
            .json(&json!({"name": "Acme", "privacy": "secret"}))
            .send()
            .await
            .unwrap();
        assert!(error_message(r, 400).await.contains("pseudonymized"));
        let r = app
            .put_entity("ghost", "teams", "t1", json!({"name": "x"}))
            .await;
        error_message(r, 404).await;
        app.put_org("acme").await;
        let r = app
            .put_entity("acme", "teams", "t1", json!({"name": "x", "colour": "red"}))
            .await;
        assert!(error_message(r, 400).await.contains("colour"));
        let r = app
            .put_entity("acme", "rockets", "t1", json!({"name": "x"}))
            .await;
        assert!(error_message(r, 400).await.contains("custom-roles"));
        let org = app.store.get_org("acme").await.unwrap().unwrap();
        assert_eq!(
            (org.timezone.as_str(), org.billing_anchor_day),
            ("Europe/Berlin", 15)
        );
    }
);

both_backends!(
    a_fenced_change_stores_its_audit_record_only_when_the_fence_holds,
    |b| async move {
        let db = TestDb::new(b).await;
        let store = db.store().await;
        let audits = |store: outflow::store::Store| async move {
            store
                .query(
                    "SELECT event_type FROM audit_logs WHERE org_id = 'acme' ORDER BY pos",
                    &[],
                    &[FieldType::Text],
                )
                .await
                .unwrap()
                .into_iter()
                .map(|r| r[0].as_text().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let actor = outflow::audit::Actor::cli();
        let delete = || {
            vec![(
                "DELETE FROM fence_probe WHERE id = ?".to_string(),
                vec![outflow::store::Value::from("acme")],
            )]
        };
        let gone = outflow::audit::event("acme", "org_deleted", &actor, Some("acme"), json!({}));
        store
            .execute("CREATE TABLE fence_probe (id TEXT PRIMARY KEY)", &[])
            .await
            .unwrap();
        // Nothing to delete: the fence fails, and no audit record is written.
        assert!(
            !store
                .execute_fenced_with_records(&delete(), &gone)
                .await
                .unwrap()
        );
        assert!(audits(store.clone()).await.is_empty());
        // Once the row is there, the change and its record land together.
        store
            .execute("INSERT INTO fence_probe (id) VALUES ('acme')", &[])
            .await
            .unwrap();
        assert!(
            store
                .execute_fenced_with_records(&delete(), &gone)
                .await
                .unwrap()
        );
        assert_eq!(audits(store.clone()).await, ["org_deleted"]);
    }
);

both_backends!(lower_folds_every_letter_on_both_backends, |b| async move {
    let db = TestDb::new(b).await;
    let store = db.store().await;
    let rows = store
        .query(
            "SELECT LOWER(?), lower(?), LOWER(NULL)",
            &["ÅSA Émile ÖZIL ΣΟΦΊΑ".into(), "Straße".into()],
            &[FieldType::Text, FieldType::Text, FieldType::Text],
        )
        .await
        .unwrap();
    assert_eq!(rows[0][0].as_text(), Some("åsa émile özil σοφία"));
    assert_eq!(rows[0][1].as_text(), Some("straße"));
    assert!(rows[0][2].as_text().is_none());
});

/// PostgreSQL never JIT-compiles Outflow's statements: a usage page's statement over a few
/// dozen spans is estimated past `jit_above_cost` and spent most of its time compiling
/// (`store/postgres/mod.rs`). Every connection of the pool has it off, whatever the server's
/// default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_have_jit_off() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    // Four at once, each holding its connection a moment, so four connections answer.
    let shows = futures::future::join_all((0..4).map(|_| {
        store.query(
            "SELECT current_setting('jit'), pg_sleep(0.05)::text",
            &[],
            &[FieldType::Text, FieldType::Text],
        )
    }))
    .await;
    for rows in shows {
        let rows = rows.unwrap();
        assert_eq!(rows[0][0].as_text(), Some("off"));
    }
}
