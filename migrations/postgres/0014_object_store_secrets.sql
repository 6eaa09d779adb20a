-- Secrets of kind `gcp` (a GCS service account) and `azure` (an Azure Blob key or SAS token),
-- for the GCS and Azure Blob drain destinations.
ALTER TABLE secrets DROP CONSTRAINT secrets_kind_check;
ALTER TABLE secrets ADD CONSTRAINT secrets_kind_check
    CHECK (kind IN ('http', 'aws', 'gcp', 'azure', 'datadog'));
