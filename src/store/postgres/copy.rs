//! The export read path on PostgreSQL: `COPY (SELECT …) TO STDOUT (FORMAT binary)` and a
//! parser for the binary COPY format, instead of a row-by-row extended-protocol query.
//!
//! COPY streams rows without per-row `DataRow` handling in sqlx and without its generic
//! per-cell type checks; cells are decoded straight into [`Value`]s, exactly as `decode` in
//! `mod.rs` decodes them. COPY takes no bind parameters, so [`render`] turns the query's `?`
//! placeholders into typed SQL literals.

use super::super::{RowBlock, StoreError, StoreResult, Value};
use crate::domain::FieldType;
use chrono::{DateTime, SecondsFormat, Utc};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

fn corrupt(msg: impl Into<String>) -> StoreError {
    StoreError::Corrupt(format!("binary COPY: {}", msg.into()))
}

/// Replaces each `?` placeholder of `sql` (outside quoted strings and identifiers) with the
/// matching parameter as a typed literal. Literals carry the type sqlx would bind them as.
pub(super) fn render(sql: &str, params: &[Value]) -> StoreResult<String> {
    let mut out = String::with_capacity(sql.len() + 16 * params.len());
    let mut params = params.iter();
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) => {
                // A doubled quote closes and reopens: same result as staying inside.
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let p = params.next().ok_or_else(|| {
                    StoreError::Config("more placeholders than parameters".into())
                })?;
                literal(&mut out, p)?;
            }
            None => out.push(c),
        }
    }
    if params.next().is_some() {
        return Err(StoreError::Config(
            "more parameters than placeholders".into(),
        ));
    }
    Ok(out)
}

/// Writes `v` as a SQL literal. Text uses the escape-string form (`E'…'`, backslashes and
/// quotes doubled) so the result does not depend on `standard_conforming_strings`.
fn literal(out: &mut String, v: &Value) -> StoreResult<()> {
    match v {
        Value::Null => out.push_str("NULL::text"),
        Value::NullTimestamp => out.push_str("NULL::timestamptz"),
        Value::Text(s) => {
            string(out, s)?;
            out.push_str("::text");
        }
        Value::Number(n) => {
            let s = if n.is_nan() {
                "NaN".to_string()
            } else if n.is_infinite() {
                if *n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
            } else {
                format!("{n:?}")
            };
            out.push('\'');
            out.push_str(&s);
            out.push_str("'::float8");
        }
        Value::Integer(i) => out.push_str(&format!("'{i}'::int8")),
        Value::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Value::Timestamp(t) => {
            out.push('\'');
            out.push_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true));
            out.push_str("'::timestamptz");
        }
        Value::Json(j) => {
            string(out, &j.to_string())?;
            out.push_str("::jsonb");
        }
    }
    Ok(())
}

fn string(out: &mut String, s: &str) -> StoreResult<()> {
    if s.contains('\0') {
        return Err(StoreError::Config("a text parameter contains NUL".into()));
    }
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(())
}

/// Parses a binary COPY stream that arrives in arbitrary pieces into [`RowBlock`] rows.
///
/// Rows are decoded straight from each piece in one pass. Only a row split across two pieces
/// is copied, into a small carry-over buffer: the readers hand over whole COPY messages, and
/// PostgreSQL sends one row a message, so that copy is rare.
pub(super) struct Parser {
    /// The tail of earlier pieces that did not hold a whole row, from `pos`.
    carry: Vec<u8>,
    pos: usize,
    header: bool,
    done: bool,
}

/// What one step over the data found.
enum Step {
    /// A row was appended; the bytes it took.
    Row(usize),
    /// More data is needed; nothing was appended.
    Need,
    /// The trailer; the bytes it took.
    Trailer(usize),
}

impl Parser {
    pub(super) fn new() -> Self {
        Parser {
            carry: Vec::new(),
            pos: 0,
            header: false,
            done: false,
        }
    }

    /// Whether the trailer has been seen.
    pub(super) fn done(&self) -> bool {
        self.done
    }

    /// Appends the next complete row to `block`, reading from what was carried over and then
    /// from `input` (advanced past what was used). False when the trailer was seen, or when
    /// `input` is used up: its unused tail is then carried over to the next call.
    pub(super) fn next_row(
        &mut self,
        input: &mut &[u8],
        types: &[FieldType],
        block: &mut RowBlock,
    ) -> StoreResult<bool> {
        if self.done {
            return Ok(false);
        }
        if self.pos == self.carry.len() {
            let (used, row) = self.step(input, types, block)?;
            *input = &input[used..];
            if !row && !self.done {
                self.carry.clear();
                self.pos = 0;
                self.carry.extend_from_slice(input);
                *input = &[];
            }
            return Ok(row);
        }
        // A row split across pieces: finish it (and whatever follows) in the carry buffer.
        if !input.is_empty() {
            self.carry.drain(..self.pos);
            self.pos = 0;
            self.carry.extend_from_slice(input);
            *input = &[];
        }
        let carry = std::mem::take(&mut self.carry);
        let result = self.step(&carry[self.pos..], types, block);
        self.carry = carry;
        let (used, row) = result?;
        self.pos += used;
        if self.pos == self.carry.len() {
            self.carry.clear();
            self.pos = 0;
        }
        Ok(row)
    }

    /// The header if not yet read, then one row or the trailer, from the start of `data`:
    /// the bytes used and whether a row was appended.
    fn step(
        &mut self,
        data: &[u8],
        types: &[FieldType],
        block: &mut RowBlock,
    ) -> StoreResult<(usize, bool)> {
        let mut used = 0;
        if !self.header {
            if data.len() < SIGNATURE.len() + 8 {
                return Ok((0, false));
            }
            if &data[..SIGNATURE.len()] != SIGNATURE {
                return Err(corrupt("bad signature"));
            }
            let ext = be_i32(&data[SIGNATURE.len() + 4..]);
            let ext = usize::try_from(ext).map_err(|_| corrupt("bad header extension"))?;
            used = SIGNATURE.len() + 8 + ext;
            if data.len() < used {
                return Ok((0, false));
            }
            self.header = true;
        }
        match row(&data[used..], types, block)? {
            Step::Row(n) => Ok((used + n, true)),
            Step::Need => Ok((used, false)),
            Step::Trailer(n) => {
                self.done = true;
                Ok((used + n, false))
            }
        }
    }
}

/// Decodes one tuple (or the trailer) from the start of `data` in a single pass. A tuple cut
/// short, or one that fails to decode, leaves `block` as it was.
fn row(data: &[u8], types: &[FieldType], block: &mut RowBlock) -> StoreResult<Step> {
    if data.len() < 2 {
        return Ok(Step::Need);
    }
    let count = i16::from_be_bytes([data[0], data[1]]);
    if count == -1 {
        return Ok(Step::Trailer(2));
    }
    if count as usize != types.len() {
        return Err(corrupt(format!(
            "{count} fields where {} are expected",
            types.len()
        )));
    }
    let mut at = 2;
    for ty in types {
        let Some(len) = data.get(at..at + 4).map(be_i32) else {
            block.abandon_row();
            return Ok(Step::Need);
        };
        at += 4;
        if len == -1 {
            block.push_null();
            continue;
        }
        let Some(field) = usize::try_from(len)
            .ok()
            .and_then(|len| data.get(at..at + len))
        else {
            block.abandon_row();
            return if len < 0 {
                Err(corrupt("bad field length"))
            } else {
                Ok(Step::Need)
            };
        };
        at += field.len();
        if let Err(e) = decode(field, *ty, block) {
            block.abandon_row();
            return Err(e);
        }
    }
    block.end_row();
    Ok(Step::Row(at))
}

/// The microseconds chrono can represent; a range check, not a date computation per cell.
fn chrono_range() -> std::ops::RangeInclusive<i64> {
    static RANGE: std::sync::LazyLock<std::ops::RangeInclusive<i64>> =
        std::sync::LazyLock::new(|| {
            DateTime::<Utc>::MIN_UTC.timestamp_micros()
                ..=DateTime::<Utc>::MAX_UTC.timestamp_micros()
        });
    RANGE.clone()
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

fn decode(b: &[u8], ty: FieldType, block: &mut RowBlock) -> StoreResult<()> {
    let wrong = || corrupt(format!("a {}-byte value for a {}", b.len(), ty.name()));
    let utf8 = |b| std::str::from_utf8(b).map_err(|e| corrupt(format!("text is not UTF-8: {e}")));
    match ty {
        FieldType::Text | FieldType::Enum(_) => block.push_text(utf8(b)?),
        FieldType::Number => match b.len() {
            8 => block.push_number(f64::from_bits(be_i64(b) as u64)),
            _ => return Err(wrong()),
        },
        FieldType::Integer => block.push_integer(match b.len() {
            8 => be_i64(b),
            4 => i64::from(be_i32(b)),
            2 => i64::from(i16::from_be_bytes([b[0], b[1]])),
            _ => return Err(wrong()),
        }),
        FieldType::Boolean => match b {
            [v] => block.push_bool(*v != 0),
            _ => return Err(wrong()),
        },
        FieldType::Timestamp => match b.len() {
            8 => {
                // `infinity` and friends are outside chrono's range: refuse them here rather
                // than let an encoder meet them.
                let micros = be_i64(b)
                    .checked_add(PG_EPOCH_US)
                    .filter(|us| chrono_range().contains(us))
                    .ok_or_else(|| corrupt("timestamp out of range"))?;
                block.push_timestamp(micros);
            }
            _ => return Err(wrong()),
        },
        // jsonb carries a version byte (1); plain json is the text. JSON text never starts
        // with byte 1, so the two cannot be confused. PostgreSQL validated the document.
        FieldType::Json => block.push_json(utf8(match b {
            [1, rest @ ..] => rest,
            _ => b,
        })?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_as_typed_literals() {
        let t = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let sql = render(
            "SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' AND \"d?\" IN (?, ?, ?) \
             AND e = ? AND f = ? AND g = ? AND h = ? AND '?' = '?'",
            &[
                Value::Text("it's a \\ test".into()),
                Value::Text("%x%".into()),
                Value::Integer(-5),
                Value::Number(1.5),
                Value::Number(f64::NAN),
                Value::Bool(true),
                Value::Timestamp(t),
                Value::Null,
                Value::NullTimestamp,
            ],
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT a FROM t WHERE b = E'it''s a \\\\ test'::text AND c LIKE E'%x%'::text \
             ESCAPE '\\' AND \"d?\" IN ('-5'::int8, '1.5'::float8, 'NaN'::float8) \
             AND e = TRUE AND f = '2023-11-14T22:13:20.123456Z'::timestamptz \
             AND g = NULL::text AND h = NULL::timestamptz AND '?' = '?'"
        );
        assert_eq!(
            render("x = ?", &[Value::Json(serde_json::json!({"a": "b'"}))]).unwrap(),
            "x = E'{\"a\":\"b''\"}'::jsonb"
        );
        assert!(render("x = ?", &[Value::Text("a\0b".into())]).is_err());
        assert!(render("x = ? AND y = ?", &[Value::Integer(1)]).is_err());
        assert!(render("x = 1", &[Value::Integer(1)]).is_err());
    }

    #[test]
    fn infinite_timestamps_are_refused_and_leave_no_partial_row() {
        let mut data = SIGNATURE.to_vec();
        data.extend_from_slice(&[0; 8]);
        data.extend_from_slice(&2i16.to_be_bytes());
        data.extend_from_slice(&1i32.to_be_bytes());
        data.push(1);
        data.extend_from_slice(&8i32.to_be_bytes());
        // PostgreSQL's `infinity`.
        data.extend_from_slice(&i64::MAX.to_be_bytes());
        let mut p = Parser::new();
        let mut block = RowBlock::with_capacity(2, 1, 8);
        let err = p
            .next_row(
                &mut data.as_slice(),
                &[FieldType::Boolean, FieldType::Timestamp],
                &mut block,
            )
            .unwrap_err();
        assert!(err.to_string().contains("timestamp out of range"), "{err}");
        assert!(block.is_empty());
        block.push_bool(true);
        block.push_timestamp(0);
        block.end_row();
        assert_eq!(block.len(), 1, "the block stays usable");
    }

    #[test]
    fn parses_binary_copy_in_any_pieces() {
        let mut data = SIGNATURE.to_vec();
        data.extend_from_slice(&0i32.to_be_bytes());
        data.extend_from_slice(&0i32.to_be_bytes());
        let types = [
            FieldType::Text,
            FieldType::Integer,
            FieldType::Number,
            FieldType::Boolean,
            FieldType::Timestamp,
            FieldType::Json,
        ];
        let field = |data: &mut Vec<u8>, b: &[u8]| {
            data.extend_from_slice(&(b.len() as i32).to_be_bytes());
            data.extend_from_slice(b);
        };
        for _ in 0..2 {
            data.extend_from_slice(&6i16.to_be_bytes());
            field(&mut data, "héllo".as_bytes());
            field(&mut data, &7i32.to_be_bytes());
            field(&mut data, &2.5f64.to_be_bytes());
            field(&mut data, &[1]);
            field(&mut data, &1_000_000i64.to_be_bytes());
            field(&mut data, b"\x01{\"k\":[1]}");
        }
        data.extend_from_slice(&6i16.to_be_bytes());
        for _ in 0..6 {
            data.extend_from_slice(&(-1i32).to_be_bytes());
        }
        data.extend_from_slice(&(-1i16).to_be_bytes());
        let full = vec![
            Value::Text("héllo".into()),
            Value::Integer(7),
            Value::Number(2.5),
            Value::Bool(true),
            Value::Timestamp(DateTime::from_timestamp(946_684_801, 0).unwrap()),
            Value::Json(serde_json::json!({"k": [1]})),
        ];
        let nulls = vec![Value::Null; 6];
        for piece in [1, 2, 3, 5, 7, 13, 64, data.len()] {
            let mut p = Parser::new();
            let mut block = RowBlock::with_capacity(types.len(), 4, 64);
            for mut part in data.chunks(piece) {
                while p.next_row(&mut part, &types, &mut block).unwrap() {}
                assert!(part.is_empty(), "a piece is used up or carried over");
            }
            assert!(p.done());
            let rows: Vec<Vec<Value>> = block.rows().map(|r| r.to_values()).collect();
            assert_eq!(rows, vec![full.clone(), full.clone(), nulls.clone()]);
        }
    }
}
