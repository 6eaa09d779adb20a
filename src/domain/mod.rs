//! The domain: data types, the field catalog, identifiers, entities, time and the local
//! calendar, latency histograms — pure values, no I/O.
//!
//! Everything here is shared by ingest, storage, exports and drains, so it stays free of
//! database and HTTP concerns.

pub mod calendar;
pub mod catalog;
pub mod credit;
pub mod data_type;
pub mod entity;
pub mod histogram;
pub mod ids;
pub mod range;
pub mod role;
pub mod schema;
pub mod time;
pub mod values;

pub use catalog::{FieldDef, FieldType, Preset, TypeSpec};
pub use data_type::DataType;
pub use ids::{Id, IdError};
