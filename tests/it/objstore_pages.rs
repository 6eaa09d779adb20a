//! The Add Drain wizard's Google Cloud Storage and Azure Blob Storage cards, server side: the
//! cards and their labelled fields, a Parquet GCS drain created through the wizard against the
//! GCS emulator (preflight included) and shown on its detail and edit pages without its key,
//! and an Azure card without credentials refused with what to enter.

use crate::admin_pages::Browser;
use crate::both_backends;
use crate::objstore::{GCS_BUCKET, GCS_KEY, start_gcs};
use outflow::drain::dest::DestinationConfig;
use outflow::drain::dest::config::S3Format;

const NEW: &str = "/settings/organization/data_export/drains/new";
const DE: &str = "/settings/organization/data_export";

fn settings(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.exports.workers = 0;
}

/// Every `<label for=…>` of the page names a control with that id.
fn assert_labelled(html: &str, ids: &[&str]) {
    for id in ids {
        assert!(
            html.contains(&format!("<label for=\"{id}\"")),
            "no label for {id}"
        );
        assert!(html.contains(&format!("id=\"{id}\"")), "no control {id}");
    }
}

both_backends!(
    the_wizard_offers_gcs_and_azure_cards_and_creates_a_parquet_gcs_drain,
    |backend| async move {
        let b = Browser::signed_in_with(backend, settings).await;
        let (status, html) = b
            .submit_text(
                NEW,
                &[
                    ("step", "destination"),
                    ("data_type", "workflows"),
                    ("field_preset", "minimal"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{html}");
        for text in [
            "Google Cloud Storage",
            "Azure Blob Storage",
            "value=\"gcs\"",
            "value=\"azure_blob\"",
            "data-dest=\"gcs\"",
            "data-dest=\"azure_blob\"",
            "Parquet (typed columns)",
        ] {
            assert!(html.contains(text), "{text} missing");
        }
        assert_labelled(
            &html,
            &[
                "gcs_bucket",
                "gcs_prefix",
                "gcs_endpoint",
                "gcs_format",
                "gcs_service_account_json",
                "az_account",
                "az_container",
                "az_prefix",
                "az_endpoint",
                "az_access_key",
                "az_sas_token",
                "az_format",
                "s3_format",
            ],
        );

        // Azure without a key or a SAS token: the step says what to enter; nothing stored.
        let (status, html) = b
            .submit_text(
                NEW,
                &[
                    ("step", "create"),
                    ("data_type", "workflows"),
                    ("field_preset", "minimal"),
                    ("name", "To Azure"),
                    ("dest_type", "azure_blob"),
                    ("az_account", "acmeusage"),
                    ("az_container", "drains"),
                ],
            )
            .await;
        assert_eq!(status, 400, "{html}");
        assert!(
            html.contains("either the access key or a SAS token"),
            "{html}"
        );

        let Some(gcs) = start_gcs() else { return };
        let (status, html) = b
            .submit_text(
                NEW,
                &[
                    ("step", "create"),
                    ("data_type", "workflows"),
                    ("field_preset", "minimal"),
                    ("name", "Runs to GCS"),
                    ("dest_type", "gcs"),
                    ("gcs_bucket", GCS_BUCKET),
                    ("gcs_prefix", "/usage/"),
                    ("gcs_endpoint", &gcs.endpoint),
                    ("gcs_format", "parquet"),
                    ("gcs_service_account_json", GCS_KEY),
                ],
            )
            .await;
        assert_eq!(status, 303, "{html}");
        let drains = outflow::drain::repo::list(&b.app.store, "acme")
            .await
            .unwrap();
        assert_eq!(drains.len(), 1);
        let d = &drains[0];
        assert_eq!(
            d.destination,
            DestinationConfig::Gcs {
                bucket: GCS_BUCKET.into(),
                prefix: "usage".into(),
                endpoint: Some(gcs.endpoint.clone()),
                format: S3Format::Parquet,
            }
        );
        let secrets = outflow::drain::secrets::list(&b.app.store, "acme")
            .await
            .unwrap();
        assert_eq!(secrets[0].kind, "gcp");

        let detail = b.page(&format!("{DE}/drains/{}", d.id)).await;
        assert!(detail.contains(GCS_BUCKET) && detail.contains("parquet"));
        assert!(detail.contains("Google Cloud Storage"));
        assert!(!detail.contains("disable_oauth"), "the key is never shown");
        let edit = b.page(&format!("{DE}/drains/{}/edit", d.id)).await;
        assert!(edit.contains(&format!("value=\"{GCS_BUCKET}\"")));
        assert!(
            edit.contains("<option value=\"parquet\" selected"),
            "format kept"
        );
        assert!(!edit.contains("disable_oauth"), "the key is never shown");
    }
);
