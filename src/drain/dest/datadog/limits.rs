//! The Datadog Logs intake's limits, in one place. Source: the Logs API reference, "Send
//! logs" — <https://docs.datadoghq.com/api/latest/logs/#send-logs>:
//!
//! > Limits per HTTP request are: maximum content size per payload (uncompressed): 5MB;
//! > maximum size for a single log: 1MB; maximum array size if sending multiple logs in an
//! > array: 1000 entries.
//!
//! The documentation does not say whether MB means 10^6 or 2^20 bytes; the smaller reading is
//! used, so a request that fits here fits either way.
//!
//! The same page says log events "can be submitted with a timestamp that is up to 18 hours in
//! the past". Nothing here enforces that: a backfill or replay of older records is sent with
//! the records' own times, and Datadog decides what it keeps.

/// Most log entries in one request (the array size limit).
pub const MAX_ENTRIES_PER_REQUEST: usize = 1_000;

/// Most bytes of one request body before compression.
pub const MAX_REQUEST_BYTES: usize = 5_000_000;

/// Most bytes of one log entry (its JSON object). Datadog would accept and truncate a larger
/// one silently; Outflow truncates the message itself and marks the entry instead.
pub const MAX_LOG_BYTES: usize = 1_000_000;

/// Most records the engine puts in one batch for Datadog: one full request.
pub const MAX_RECORDS: usize = MAX_ENTRIES_PER_REQUEST;

/// Longest tag Datadog keeps: <https://docs.datadoghq.com/getting_started/tagging/#define-tags>.
pub const MAX_TAG_LEN: usize = 200;

/// Longest `service` or `ddsource` value accepted in a drain's settings: Outflow's own cap,
/// generous for a name and small next to [`MAX_LOG_BYTES`], which every entry repeats it in.
pub const MAX_ATTRIBUTE_LEN: usize = 100;
