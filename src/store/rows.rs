//! Row blocks: the export read path's unit of transfer. A block holds a few thousand rows of
//! fixed width as one `Vec` of small [`Cell`]s plus one `String` arena for every text and JSON
//! cell, so reading, masking and encoding a row allocates nothing per cell: a block costs two
//! allocations however many rows it carries, and it moves between tasks as a whole.
//!
//! Readers append cells row by row (`push_*`, then [`RowBlock::end_row`]); consumers read rows
//! as [`Row`]s of borrowed [`CellRef`]s and may rewrite single cells ([`RowBlock::set_text`],
//! [`RowBlock::set_null`]) — privacy masking and enum labels do — which appends to the arena.

use super::Value;
use chrono::{DateTime, Utc};

/// Text a block holds at most before a reader hands it over, bar its last row.
pub const BLOCK_TEXT: usize = 512 * 1024;

/// One stored cell. Text and JSON point into the block's arena.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// UTF-8 text at `arena[start..start + len]`.
    Text {
        /// Byte offset in the arena.
        start: u32,
        /// Byte length.
        len: u32,
    },
    /// A float.
    Number(f64),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
    /// Microseconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// JSON text (any valid formatting) at `arena[start..start + len]`.
    Json {
        /// Byte offset in the arena.
        start: u32,
        /// Byte length.
        len: u32,
    },
}

/// A cell as a consumer sees it: text borrowed from the block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    /// SQL NULL.
    Null,
    /// Text.
    Text(&'a str),
    /// A float.
    Number(f64),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
    /// Microseconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// JSON text, valid but not necessarily compact.
    Json(&'a str),
}

impl<'a> CellRef<'a> {
    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&'a str> {
        match self {
            CellRef::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The owned [`Value`] of this cell (JSON that does not parse becomes a JSON string).
    pub fn to_value(&self) -> Value {
        match *self {
            CellRef::Null => Value::Null,
            CellRef::Text(s) => Value::Text(s.to_owned()),
            CellRef::Number(n) => Value::Number(n),
            CellRef::Integer(i) => Value::Integer(i),
            CellRef::Bool(b) => Value::Bool(b),
            CellRef::Timestamp(us) => DateTime::<Utc>::from_timestamp_micros(us)
                .map_or(Value::NullTimestamp, Value::Timestamp),
            CellRef::Json(s) => Value::Json(
                serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.into())),
            ),
        }
    }
}

/// The share of a byte budget a block holds from its reader until it is dropped, wherever
/// that happens (see `store/postgres/export_read.rs`). Clones hold none.
#[derive(Debug, Default)]
pub struct BudgetShare {
    /// Held only to be released on drop.
    _share: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Clone for BudgetShare {
    fn clone(&self) -> Self {
        BudgetShare::default()
    }
}

/// Rows of `width` cells, text in one arena.
#[derive(Debug, Clone, Default)]
pub struct RowBlock {
    width: usize,
    cells: Vec<Cell>,
    arena: String,
    /// Cells of the row being appended (not yet ended).
    open: usize,
    budget: BudgetShare,
}

impl RowBlock {
    /// An empty block for rows of `width` cells, with room for `rows` rows and `text` bytes.
    pub fn with_capacity(width: usize, rows: usize, text: usize) -> RowBlock {
        RowBlock {
            width,
            cells: Vec::with_capacity(width * rows),
            arena: String::with_capacity(text),
            open: 0,
            budget: BudgetShare::default(),
        }
    }

    /// Bytes the block has allocated (cells and text), what a byte budget counts.
    pub fn heap_bytes(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<Cell>() + self.arena.capacity()
    }

    /// Makes the block hold `share` of a byte budget until it is dropped.
    pub fn hold(&mut self, share: tokio::sync::OwnedSemaphorePermit) {
        self.budget = BudgetShare {
            _share: Some(share),
        };
    }

    /// An empty block for a reader that hands blocks over by [`RowBlock::is_full`]: room for
    /// `chunk` rows of `width` cells and 64 bytes of text a row (at most [`BLOCK_TEXT`]).
    pub fn for_chunk(width: usize, chunk: usize) -> RowBlock {
        RowBlock::with_capacity(width, chunk, (chunk * 64).min(BLOCK_TEXT))
    }

    /// Cells per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Complete rows held.
    pub fn len(&self) -> usize {
        (self.cells.len() - self.open)
            .checked_div(self.width)
            .unwrap_or(0)
    }

    /// Whether no complete row is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of text held, a measure of the block's size beside its cell count.
    pub fn text_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Whether a reader filling blocks of `chunk` rows should hand this one over: at `chunk`
    /// rows, or sooner once it holds [`BLOCK_TEXT`] bytes of text, so rows with large JSON
    /// cells do not make a block of thousands of rows huge.
    pub fn is_full(&self, chunk: usize) -> bool {
        self.len() >= chunk || self.arena.len() >= BLOCK_TEXT
    }

    fn span(&mut self, s: &str) -> (u32, u32) {
        let start = self.arena.len();
        self.arena.push_str(s);
        // A block is cut long before 4 GiB of text; saturating keeps a bad input from
        // wrapping around into another cell's text.
        (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(s.len()).unwrap_or(u32::MAX),
        )
    }

    fn push(&mut self, cell: Cell) {
        self.cells.push(cell);
        self.open += 1;
    }

    /// Appends a NULL cell to the open row.
    pub fn push_null(&mut self) {
        self.push(Cell::Null);
    }

    /// Appends a text cell to the open row.
    pub fn push_text(&mut self, s: &str) {
        let (start, len) = self.span(s);
        self.push(Cell::Text { start, len });
    }

    /// Appends a JSON cell (valid JSON text) to the open row.
    pub fn push_json(&mut self, s: &str) {
        let (start, len) = self.span(s);
        self.push(Cell::Json { start, len });
    }

    /// Appends a float cell to the open row.
    pub fn push_number(&mut self, n: f64) {
        self.push(Cell::Number(n));
    }

    /// Appends an integer cell to the open row.
    pub fn push_integer(&mut self, i: i64) {
        self.push(Cell::Integer(i));
    }

    /// Appends a boolean cell to the open row.
    pub fn push_bool(&mut self, b: bool) {
        self.push(Cell::Bool(b));
    }

    /// Appends a timestamp cell (microseconds since the Unix epoch) to the open row.
    pub fn push_timestamp(&mut self, micros: i64) {
        self.push(Cell::Timestamp(micros));
    }

    /// Appends `v` to the open row.
    pub fn push_value(&mut self, v: &Value) {
        match v {
            Value::Null | Value::NullTimestamp => self.push_null(),
            Value::Text(s) => self.push_text(s),
            Value::Number(n) => self.push_number(*n),
            Value::Integer(i) => self.push_integer(*i),
            Value::Bool(b) => self.push_bool(*b),
            Value::Timestamp(t) => self.push_timestamp(t.timestamp_micros()),
            Value::Json(j) => self.push_json(&j.to_string()),
        }
    }

    /// Closes the open row. Panics unless it has exactly `width` cells: a reader bug.
    pub fn end_row(&mut self) {
        assert_eq!(self.open, self.width, "a row of the wrong width");
        self.open = 0;
    }

    /// Drops the open row's cells (a reader that failed midway through a row).
    pub fn abandon_row(&mut self) {
        let first = self.cells.len() - self.open;
        // Text is appended in cell order, so the row's first text cell starts its text.
        let text_start = self.cells[first..].iter().find_map(|c| match c {
            Cell::Text { start, .. } | Cell::Json { start, .. } => Some(*start as usize),
            _ => None,
        });
        if let Some(start) = text_start {
            self.arena.truncate(start);
        }
        self.cells.truncate(first);
        self.open = 0;
    }

    /// A block holding `rows`, each of `width` values.
    pub fn from_values(width: usize, rows: &[Vec<Value>]) -> RowBlock {
        let mut block = RowBlock::with_capacity(width, rows.len(), 0);
        for row in rows {
            for v in row {
                block.push_value(v);
            }
            block.end_row();
        }
        block
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> Row<'_> {
        Row {
            cells: &self.cells[i * self.width..(i + 1) * self.width],
            arena: &self.arena,
        }
    }

    /// The complete rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        (0..self.len()).map(move |i| self.row(i))
    }

    /// Keeps the first `rows` complete rows and drops the rest (their text stays in the arena
    /// until the block is dropped).
    pub fn truncate(&mut self, rows: usize) {
        if rows < self.len() {
            self.cells.truncate(rows * self.width);
            self.open = 0;
        }
    }

    /// Replaces cell `col` of row `row` with text.
    pub fn set_text(&mut self, row: usize, col: usize, s: &str) {
        let (start, len) = self.span(s);
        self.cells[row * self.width + col] = Cell::Text { start, len };
    }

    /// Replaces cell `col` of row `row` with NULL.
    pub fn set_null(&mut self, row: usize, col: usize) {
        self.cells[row * self.width + col] = Cell::Null;
    }
}

/// One row of a block.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    cells: &'a [Cell],
    arena: &'a str,
}

impl<'a> Row<'a> {
    /// Cells in the row.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the row has no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Cell `i`.
    #[inline]
    pub fn get(&self, i: usize) -> CellRef<'a> {
        match self.cells[i] {
            Cell::Null => CellRef::Null,
            Cell::Text { start, len } => CellRef::Text(self.text(start, len)),
            Cell::Number(n) => CellRef::Number(n),
            Cell::Integer(v) => CellRef::Integer(v),
            Cell::Bool(b) => CellRef::Bool(b),
            Cell::Timestamp(us) => CellRef::Timestamp(us),
            Cell::Json { start, len } => CellRef::Json(self.text(start, len)),
        }
    }

    #[inline]
    fn text(&self, start: u32, len: u32) -> &'a str {
        let start = start as usize;
        &self.arena[start..start + len as usize]
    }

    /// The cells in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = CellRef<'a>> + '_ {
        (0..self.cells.len()).map(move |i| self.get(i))
    }

    /// The row as owned values.
    pub fn to_values(&self) -> Vec<Value> {
        self.iter().map(|c| c.to_value()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_cells_can_be_rewritten() {
        let t = DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap();
        let rows = vec![
            vec![
                Value::Text("héllo".into()),
                Value::Integer(-3),
                Value::Timestamp(t),
                Value::Json(serde_json::json!({"k": [1]})),
            ],
            vec![
                Value::Null,
                Value::Number(2.5),
                Value::NullTimestamp,
                Value::Bool(true),
            ],
        ];
        let mut block = RowBlock::from_values(4, &rows);
        assert_eq!(block.len(), 2);
        assert_eq!(block.row(0).get(0), CellRef::Text("héllo"));
        assert_eq!(
            block.row(0).get(2),
            CellRef::Timestamp(t.timestamp_micros())
        );
        assert_eq!(block.row(0).to_values()[3], rows[0][3]);
        assert_eq!(block.row(1).to_values()[2], Value::Null);

        block.set_text(1, 0, "anon_1");
        block.set_null(0, 0);
        assert_eq!(block.row(1).get(0), CellRef::Text("anon_1"));
        assert_eq!(block.row(0).get(0), CellRef::Null);
    }

    #[test]
    fn an_open_row_is_not_counted_and_can_be_abandoned() {
        let mut block = RowBlock::with_capacity(2, 4, 16);
        block.push_text("a");
        block.push_integer(1);
        block.end_row();
        block.push_text("b");
        assert_eq!(block.len(), 1);
        block.abandon_row();
        block.push_text("c");
        block.push_integer(2);
        block.end_row();
        assert_eq!(block.len(), 2);
        assert_eq!(block.row(1).get(0), CellRef::Text("c"));
        // The abandoned row's text went with it: a parser that retries a row cut short at
        // every piece boundary must not grow the block.
        assert_eq!(block.text_bytes(), 2);
    }
}
