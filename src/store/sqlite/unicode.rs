//! A Unicode `lower()` for SQLite connections, so text search folds case the same on both
//! backends.
//!
//! SQLite's built-in `lower()` folds ASCII letters only, PostgreSQL's every letter: a search
//! for `åsa` found the member `Åsa` on PostgreSQL and not on SQLite. Every connection of the
//! pools replaces the built-in with Rust's `str::to_lowercase` (application functions take
//! precedence over built-ins), registered through rusqlite's function API on sqlx's handle.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use sqlx::sqlite::SqliteConnection;

/// Registers the Unicode `lower(x)` on a newly opened connection.
#[allow(unsafe_code)]
pub(super) async fn install(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: the handle is sqlx's open connection, locked for this call; rusqlite's
    // `from_handle` neither owns nor closes it, and the function it registers belongs to the
    // connection (SQLite frees the closure when the connection closes).
    let wrapped = unsafe { rusqlite::Connection::from_handle(raw) }.map_err(to_sqlx)?;
    wrapped
        .create_scalar_function(
            "lower",
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                Ok(match ctx.get_raw(0) {
                    ValueRef::Null => None,
                    ValueRef::Integer(i) => Some(i.to_string()),
                    ValueRef::Real(r) => Some(r.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).to_lowercase())
                    }
                })
            },
        )
        .map_err(to_sqlx)
}

fn to_sqlx(e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Configuration(format!("registering lower() on SQLite: {e}").into())
}
