//! The rows a drain reads: each record's position and the catalog fields its selector needs,
//! as the export path's [`RowBlock`]s — read by `Store::read_after_block` (binary COPY on
//! PostgreSQL, `rusqlite` on SQLite), so a backlog costs no `Value` per cell on the way in.
//! Column 0 of every block is the position; the others are the fields read, in catalog order.

use crate::domain::DataType;
use crate::domain::catalog;
use crate::store::{CellRef, Row, RowBlock, StoredRecord};
use std::sync::Arc;

/// Rows read after a cursor, in position order.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    blocks: Vec<RowBlock>,
    /// Catalog field index → block column (`None`: not read, reads as NULL).
    columns: Arc<[Option<usize>]>,
}

/// Catalog field index → block column for the fields marked in `wanted`.
fn layout(data_type: DataType, wanted: &[bool]) -> Arc<[Option<usize>]> {
    let fields = catalog::spec(data_type).fields.len();
    let mut next = 1;
    (0..fields)
        .map(|i| {
            wanted.get(i).copied().unwrap_or(true).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

impl Rows {
    /// Blocks read with the fields `wanted` marks (aligned with the type's catalog fields).
    pub fn new(data_type: DataType, wanted: &[bool], blocks: Vec<RowBlock>) -> Rows {
        Rows {
            blocks: blocks.into_iter().filter(|b| !b.is_empty()).collect(),
            columns: layout(data_type, wanted),
        }
    }

    /// Stored records (every field) as rows, for callers and tests holding records.
    pub fn from_records(data_type: DataType, records: &[StoredRecord]) -> Rows {
        let width = catalog::spec(data_type).fields.len();
        let mut block = RowBlock::with_capacity(width + 1, records.len(), 0);
        for r in records {
            block.push_integer(r.pos);
            for v in &r.values {
                block.push_value(v);
            }
            block.end_row();
        }
        Rows::new(data_type, &vec![true; width], vec![block])
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.blocks.iter().map(RowBlock::len).sum()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The rows in position order.
    pub fn iter(&self) -> impl Iterator<Item = RowRef<'_>> + '_ {
        self.blocks.iter().flat_map(move |b| {
            b.rows().map(move |row| RowRef {
                row,
                columns: &self.columns,
            })
        })
    }

    /// The first row's position.
    pub fn first_pos(&self) -> Option<i64> {
        self.iter().next().map(|r| r.pos())
    }

    /// The last row's position.
    pub fn last_pos(&self) -> Option<i64> {
        let block = self.blocks.last()?;
        Some(position(block.row(block.len() - 1)))
    }

    /// Keeps the rows at or before position `last` (the rows are in position order).
    pub fn keep_through(&mut self, last: i64) {
        let mut keep_blocks = self.blocks.len();
        for (b, block) in self.blocks.iter_mut().enumerate() {
            let cut = block.rows().position(|r| position(r) > last);
            if let Some(cut) = cut {
                block.truncate(cut);
                keep_blocks = if cut == 0 { b } else { b + 1 };
                break;
            }
        }
        self.blocks.truncate(keep_blocks);
    }
}

fn position(row: Row<'_>) -> i64 {
    match row.get(0) {
        CellRef::Integer(p) => p,
        _ => 0,
    }
}

/// One row: its position and its cells by catalog field index.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    row: Row<'a>,
    columns: &'a [Option<usize>],
}

impl<'a> RowRef<'a> {
    /// The record's position.
    pub fn pos(&self) -> i64 {
        position(self.row)
    }

    /// The cell of catalog field `field` (NULL when it was not read).
    #[inline]
    pub fn cell(&self, field: usize) -> CellRef<'a> {
        match self.columns.get(field).copied().flatten() {
            Some(c) => self.row.get(c),
            None => CellRef::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    fn records(positions: &[i64]) -> Vec<StoredRecord> {
        let width = catalog::spec(DataType::Workflows).fields.len();
        positions
            .iter()
            .map(|&pos| StoredRecord {
                pos,
                values: vec![Value::Null; width],
            })
            .collect()
    }

    fn positions(rows: &Rows) -> Vec<i64> {
        rows.iter().map(|r| r.pos()).collect()
    }

    #[test]
    fn rows_keep_their_order_across_blocks_and_can_be_cut_at_a_position() {
        let a = Rows::from_records(DataType::Workflows, &records(&[3, 5]));
        let b = Rows::from_records(DataType::Workflows, &records(&[8, 9]));
        let columns = a.columns.clone();
        let mut rows = Rows {
            blocks: [a.blocks, b.blocks].concat(),
            columns,
        };
        assert_eq!(positions(&rows), [3, 5, 8, 9]);
        assert_eq!((rows.first_pos(), rows.last_pos()), (Some(3), Some(9)));
        assert_eq!(rows.len(), 4);
        rows.keep_through(8);
        assert_eq!(positions(&rows), [3, 5, 8]);
        assert_eq!(rows.last_pos(), Some(8));
        rows.keep_through(6);
        assert_eq!(positions(&rows), [3, 5]);
        assert_eq!(rows.last_pos(), Some(5));
        rows.keep_through(2);
        assert!(rows.is_empty());
        assert_eq!((rows.first_pos(), rows.last_pos()), (None, None));
    }

    #[test]
    fn cells_are_found_by_catalog_index_and_unread_fields_are_null() {
        let spec = catalog::spec(DataType::Workflows);
        let run_id = spec.fields.iter().position(|f| f.id == "run_id").unwrap();
        let mut wanted = vec![false; spec.fields.len()];
        wanted[run_id] = true;
        let mut block = RowBlock::with_capacity(2, 1, 8);
        block.push_integer(7);
        block.push_text("r1");
        block.end_row();
        let rows = Rows::new(DataType::Workflows, &wanted, vec![block]);
        let row = rows.iter().next().unwrap();
        assert_eq!(row.pos(), 7);
        assert_eq!(row.cell(run_id), CellRef::Text("r1"));
        assert_eq!(row.cell((run_id + 1) % spec.fields.len()), CellRef::Null);
    }
}
