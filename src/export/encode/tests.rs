//! Encoder tests: every format is read back with an independent reader (the `csv` crate's
//! reader, `serde_json`, Arrow's Parquet reader, flate2's decoder). Most write owned rows with
//! `write_row`; the `write_block` tests at the end check that blocks give the same bytes.

use super::*;
use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use std::io::Read;

const STATUS: FieldType = FieldType::Enum(&[("completed", "Completed"), ("failed", "Failed")]);

fn col(id: &str, ty: FieldType) -> Column {
    Column {
        id: id.to_string(),
        ty,
    }
}

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn opts(format: Format) -> EncodeOptions {
    EncodeOptions {
        format,
        ..EncodeOptions::default()
    }
}

/// One column of every type.
fn all_types() -> Vec<Column> {
    vec![
        col("name", FieldType::Text),
        col("status", STATUS),
        col("credits", FieldType::Number),
        col("tokens", FieldType::Integer),
        col("ok", FieldType::Boolean),
        col("at", FieldType::Timestamp),
        col("details", FieldType::Json),
    ]
}

/// A ten-column row shaped like a workflow run, `i` varying the values.
fn workflow_columns() -> Vec<Column> {
    vec![
        col("workflow_run_id", FieldType::Text),
        col("workflow_id", FieldType::Text),
        col("team_id", FieldType::Text),
        col("user_email", FieldType::Text),
        col("status", STATUS),
        col("started_at", FieldType::Timestamp),
        col("finished_at", FieldType::Timestamp),
        col("duration_ms", FieldType::Integer),
        col("credits", FieldType::Number),
        col("is_scheduled", FieldType::Boolean),
    ]
}

fn workflow_row(i: u64) -> Vec<Value> {
    let start = ts("2026-01-01T00:00:00Z") + chrono::Duration::milliseconds(i as i64 * 1_337);
    vec![
        Value::Text(format!("run_{i:012}")),
        Value::Text(format!("wf_{}", i % 97)),
        Value::Text(format!("team_{}", i % 7)),
        if i.is_multiple_of(5) {
            Value::Null
        } else {
            Value::Text(format!("user{}@acme.example", i % 300))
        },
        Value::Text(
            if i.is_multiple_of(9) {
                "failed"
            } else {
                "completed"
            }
            .into(),
        ),
        Value::Timestamp(start),
        Value::opt_ts(
            (!i.is_multiple_of(11)).then(|| start + chrono::Duration::milliseconds(4_250)),
        ),
        Value::Integer(4_250 + (i % 1000) as i64),
        Value::Number((i % 400) as f64 * 0.25),
        Value::Bool(i.is_multiple_of(3)),
    ]
}

/// Writes all rows, then finishes.
fn encode(columns: Vec<Column>, opts: EncodeOptions, rows: &[Vec<Value>]) -> Bytes {
    let mut enc = Encoder::new(columns, opts).unwrap();
    for row in rows {
        enc.write_row(row).unwrap();
    }
    assert_eq!(enc.rows(), rows.len() as u64);
    enc.finish().unwrap()
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = ::csv::ReaderBuilder::new().from_reader(bytes);
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn csv_round_trips_through_the_csv_reader_with_rfc_4180_quoting() {
    let texts = [
        "plain",
        "comma, inside",
        "a \"quoted\" word",
        "two\nlines",
        "cr\r\nlf",
        "ünïcödé — 東京 🚀",
        "",
        " leading and trailing ",
    ];
    let rows: Vec<Vec<Value>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                Value::Text(t.to_string()),
                Value::Text("completed".into()),
                Value::Number(0.1 + i as f64),
                Value::Integer(i as i64),
                Value::Bool(i % 2 == 0),
                Value::Timestamp(ts("2026-08-19T17:18:04.512Z")),
                Value::Json(serde_json::json!({"k": t, "n": [1, 2.5, null]})),
            ]
        })
        .collect();
    let bytes = encode(all_types(), opts(Format::Csv), &rows);
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "no byte-order mark");
    assert!(bytes.starts_with(b"name,status,credits,tokens,ok,at,details\r\n"));
    assert!(bytes.ends_with(b"\r\n"));

    let (header, read) = read_csv(&bytes);
    assert_eq!(
        header,
        ["name", "status", "credits", "tokens", "ok", "at", "details"]
    );
    assert_eq!(read.len(), texts.len());
    for (i, (row, text)) in read.iter().zip(texts).enumerate() {
        assert_eq!(row[0], text);
        assert_eq!(row[1], "completed");
        assert_eq!(row[2].parse::<f64>().unwrap(), 0.1 + i as f64);
        assert_eq!(row[3], i.to_string());
        assert_eq!(row[4], if i % 2 == 0 { "true" } else { "false" });
        assert_eq!(row[5], "2026-08-19T17:18:04.512000Z");
        let json: serde_json::Value = serde_json::from_str(&row[6]).unwrap();
        assert_eq!(json, serde_json::json!({"k": text, "n": [1, 2.5, null]}));
    }
    // Quoted only where needed.
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("\r\nplain,completed,0.1,0,true,"));
    assert!(text.contains("\"a \"\"quoted\"\" word\""));
}

#[test]
fn csv_writes_nulls_as_empty_cells() {
    let row = vec![
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::NullTimestamp,
        Value::Null,
    ];
    let bytes = encode(all_types(), opts(Format::Csv), &[row]);
    assert!(bytes.ends_with(b"\r\n,,,,,,\r\n"));
    let (_, rows) = read_csv(&bytes);
    assert_eq!(rows, vec![vec![String::new(); 7]]);
}

#[test]
fn csv_single_column_null_row_is_not_a_blank_line() {
    let rows = vec![vec![Value::Null], vec![Value::Text("x".into())]];
    let bytes = encode(vec![col("a", FieldType::Text)], opts(Format::Csv), &rows);
    assert_eq!(&bytes[..], b"a\r\n\"\"\r\nx\r\n");
    let (_, read) = read_csv(&bytes);
    assert_eq!(read, vec![vec![String::new()], vec!["x".to_string()]]);
}

#[test]
fn csv_timestamps_in_utc_and_across_berlin_dst_changes() {
    let instants = [
        "2026-03-29T00:59:59.999999Z",
        "2026-03-29T01:00:00Z",
        "2026-10-25T00:59:59Z",
        "2026-10-25T01:00:00Z",
        "2026-01-15T12:00:00.000001Z",
    ];
    let rows: Vec<Vec<Value>> = instants
        .iter()
        .map(|s| vec![Value::Timestamp(ts(s))])
        .collect();
    let columns = || vec![col("at", FieldType::Timestamp)];

    let (_, utc) = read_csv(&encode(columns(), opts(Format::Csv), &rows));
    let utc: Vec<&str> = utc.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        utc,
        [
            "2026-03-29T00:59:59.999999Z",
            "2026-03-29T01:00:00.000000Z",
            "2026-10-25T00:59:59.000000Z",
            "2026-10-25T01:00:00.000000Z",
            "2026-01-15T12:00:00.000001Z",
        ]
    );

    let berlin = EncodeOptions {
        tz: Some(chrono_tz::Europe::Berlin),
        ..opts(Format::Csv)
    };
    let (_, local) = read_csv(&encode(columns(), berlin, &rows));
    let local: Vec<&str> = local.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        local,
        [
            "2026-03-29T01:59:59.999999+01:00",
            "2026-03-29T03:00:00.000000+02:00",
            "2026-10-25T02:59:59.000000+02:00",
            "2026-10-25T02:00:00.000000+01:00",
            "2026-01-15T13:00:00.000001+01:00",
        ]
    );
    // Same instants either way.
    for (l, s) in local.iter().zip(instants) {
        assert_eq!(DateTime::parse_from_rfc3339(l).unwrap(), ts(s));
    }

    // A zone at offset zero still writes its offset.
    let london = EncodeOptions {
        tz: Some(chrono_tz::Europe::London),
        ..opts(Format::Csv)
    };
    let (_, london) = read_csv(&encode(columns(), london, &rows[4..]));
    assert_eq!(london[0][0], "2026-01-15T12:00:00.000001+00:00");
}

#[test]
fn csv_neutralises_formula_text_but_never_numbers() {
    let texts = [
        "=SUM(A1:A9)",
        "+1",
        "-2",
        "@cmd",
        "\tx",
        "\rx",
        "a=b",
        "'quoted",
        "safe",
    ];
    let columns = vec![
        col("text", FieldType::Text),
        col("status", FieldType::Enum(&[("-x", "Minus")])),
        col("credits", FieldType::Number),
        col("delta", FieldType::Integer),
        col("details", FieldType::Json),
    ];
    let rows: Vec<Vec<Value>> = texts
        .iter()
        .map(|t| {
            vec![
                Value::Text(t.to_string()),
                Value::Text("-x".into()),
                Value::Number(-3.5),
                Value::Integer(-7),
                Value::Json(serde_json::json!(-1)),
            ]
        })
        .collect();

    let (_, on) = read_csv(&encode(columns.clone(), opts(Format::Csv), &rows));
    let guarded: Vec<&str> = on.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        guarded,
        [
            "'=SUM(A1:A9)",
            "'+1",
            "'-2",
            "'@cmd",
            "'\tx",
            "'\rx",
            "a=b",
            "'quoted",
            "safe"
        ]
    );
    for row in &on {
        assert_eq!(row[1], "'-x", "enum columns are text");
        assert_eq!(row[2], "-3.5");
        assert_eq!(row[3], "-7");
        assert_eq!(row[4], "-1", "JSON is never changed");
    }

    let off = EncodeOptions {
        neutralise_formulas: false,
        ..opts(Format::Csv)
    };
    let (_, off) = read_csv(&encode(columns, off, &rows));
    let raw: Vec<&str> = off.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(raw, texts);
    assert_eq!(off[0][1], "-x");
}

#[test]
fn csv_numbers_are_plain_decimals_and_non_finite_is_empty() {
    let values = [1e21, 1.5e-7, -0.0, 42.0, f64::NAN, f64::INFINITY];
    let rows: Vec<Vec<Value>> = values
        .iter()
        .map(|n| vec![Value::Number(*n), Value::Integer(i64::MIN)])
        .collect();
    let columns = vec![col("n", FieldType::Number), col("i", FieldType::Integer)];
    let (_, read) = read_csv(&encode(columns, opts(Format::Csv), &rows));
    let cells: Vec<&str> = read.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        cells,
        ["1000000000000000000000", "0.00000015", "-0", "42", "", ""]
    );
    assert!(read.iter().all(|r| r[1] == i64::MIN.to_string()));
}

#[test]
fn ndjson_round_trips_through_serde_json() {
    let rows = vec![
        vec![
            Value::Text("line\n\"quoted\" =1".into()),
            Value::Text("failed".into()),
            Value::Number(2.5),
            Value::Integer(-9_007_199_254_740_993),
            Value::Bool(true),
            Value::Timestamp(ts("2026-03-29T01:00:00Z")),
            Value::Json(serde_json::json!({"a": [1, {"b": null}]})),
        ],
        vec![
            Value::Null,
            Value::Null,
            Value::Number(f64::NAN),
            Value::Null,
            Value::Null,
            Value::NullTimestamp,
            Value::Null,
        ],
        vec![
            Value::Text("ü".into()),
            Value::Null,
            Value::Integer(3),
            Value::Integer(0),
            Value::Bool(false),
            Value::Null,
            Value::Json(serde_json::json!("a string")),
        ],
    ];
    let berlin = EncodeOptions {
        tz: Some(chrono_tz::Europe::Berlin),
        ..opts(Format::Ndjson)
    };
    let bytes = encode(all_types(), berlin, &rows);
    let text = std::str::from_utf8(&bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(text.ends_with("}\n"));
    // Keys in column order.
    assert!(lines[1].starts_with(
        r#"{"name":null,"status":null,"credits":null,"tokens":null,"ok":null,"at":null,"#
    ));

    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        parsed[0],
        serde_json::json!({
            "name": "line\n\"quoted\" =1",
            "status": "failed",
            "credits": 2.5,
            "tokens": -9_007_199_254_740_993_i64,
            "ok": true,
            "at": "2026-03-29T03:00:00.000000+02:00",
            "details": {"a": [1, {"b": null}]},
        })
    );
    assert!(parsed[1].as_object().unwrap().values().all(|v| v.is_null()));
    assert_eq!(parsed[2]["credits"], serde_json::json!(3));
    assert_eq!(parsed[2]["details"], serde_json::json!("a string"));
}

#[test]
fn ndjson_timestamps_in_utc_use_z() {
    let rows = vec![vec![Value::Timestamp(ts("2026-03-29T01:00:00Z"))]];
    let bytes = encode(
        vec![col("at", FieldType::Timestamp)],
        opts(Format::Ndjson),
        &rows,
    );
    assert_eq!(&bytes[..], b"{\"at\":\"2026-03-29T01:00:00.000000Z\"}\n");
}

fn read_parquet(
    bytes: Bytes,
) -> (
    arrow_schema::SchemaRef,
    usize,
    Vec<arrow_array::RecordBatch>,
) {
    let builder =
        ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
    let schema = builder.schema().clone();
    let groups = builder.metadata().num_row_groups();
    let batches = builder.build().unwrap().map(|b| b.unwrap()).collect();
    (schema, groups, batches)
}

#[test]
fn parquet_has_typed_nullable_columns_and_reads_back() {
    use arrow_schema::{DataType, TimeUnit};
    let rows = vec![
        vec![
            Value::Text("=not neutralised".into()),
            Value::Text("completed".into()),
            Value::Number(1.25),
            Value::Integer(42),
            Value::Bool(true),
            Value::Timestamp(ts("2026-03-29T01:00:00.123456Z")),
            Value::Json(serde_json::json!({"k": [1, "two"]})),
        ],
        vec![
            Value::Null,
            Value::Null,
            Value::Integer(7),
            Value::Null,
            Value::Null,
            Value::NullTimestamp,
            Value::Null,
        ],
    ];
    let (schema, groups, batches) = read_parquet(encode(all_types(), opts(Format::Parquet), &rows));
    assert_eq!(groups, 1);
    let types: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| {
            assert!(f.is_nullable());
            (f.name().as_str(), f.data_type())
        })
        .collect();
    assert_eq!(
        types,
        [
            ("name", &DataType::Utf8),
            ("status", &DataType::Utf8),
            ("credits", &DataType::Float64),
            ("tokens", &DataType::Int64),
            ("ok", &DataType::Boolean),
            (
                "at",
                &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            ),
            ("details", &DataType::Utf8),
        ]
    );

    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(b.num_rows(), 2);
    assert_eq!(b.column(0).as_string::<i32>().value(0), "=not neutralised");
    assert_eq!(b.column(1).as_string::<i32>().value(0), "completed");
    let credits = b.column(2).as_primitive::<Float64Type>();
    assert_eq!((credits.value(0), credits.value(1)), (1.25, 7.0));
    assert_eq!(b.column(3).as_primitive::<Int64Type>().value(0), 42);
    assert!(b.column(4).as_boolean().value(0));
    assert_eq!(
        b.column(5)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        ts("2026-03-29T01:00:00.123456Z").timestamp_micros()
    );
    let details: serde_json::Value =
        serde_json::from_str(b.column(6).as_string::<i32>().value(0)).unwrap();
    assert_eq!(details, serde_json::json!({"k": [1, "two"]}));
    for (i, c) in b.columns().iter().enumerate() {
        assert!(c.is_null(1) || i == 2, "column {i} row 1 is null");
    }
}

#[test]
fn parquet_streams_row_groups_and_reads_back_every_row() {
    let n = 150_000_u64;
    let mut enc = Encoder::new(workflow_columns(), opts(Format::Parquet)).unwrap();
    let mut file = Vec::new();
    for i in 0..n {
        enc.write_row(&workflow_row(i)).unwrap();
        if i % 10_000 == 0 {
            file.extend_from_slice(&enc.take_ready());
        }
    }
    file.extend_from_slice(&enc.finish().unwrap());

    let (_, groups, batches) = read_parquet(Bytes::from(file));
    assert_eq!(
        groups,
        3,
        "150k rows in row groups of {}",
        parquet::ROW_GROUP_ROWS
    );
    let mut seen = 0_u64;
    for b in &batches {
        let ids = b.column(0).as_string::<i32>();
        let emails = b.column(3).as_string::<i32>();
        let durations = b.column(7).as_primitive::<Int64Type>();
        for r in 0..b.num_rows() {
            let i = seen + r as u64;
            assert_eq!(ids.value(r), format!("run_{i:012}"));
            assert_eq!(emails.is_null(r), i.is_multiple_of(5));
            assert_eq!(durations.value(r), 4_250 + (i % 1000) as i64);
        }
        seen += b.num_rows() as u64;
    }
    assert_eq!(seen, n);
}

#[test]
fn parquet_without_rows_is_a_valid_file() {
    let (schema, groups, batches) = read_parquet(encode(all_types(), opts(Format::Parquet), &[]));
    assert_eq!(schema.fields().len(), 7);
    assert_eq!(groups, 0);
    assert!(batches.is_empty());
}

#[test]
fn parquet_refuses_gzip_at_creation() {
    let err = Encoder::new(
        all_types(),
        EncodeOptions {
            gzip: true,
            ..opts(Format::Parquet)
        },
    )
    .unwrap_err();
    assert!(matches!(err, EncodeError::GzipParquet));
    assert!(err.to_string().contains("already compressed"), "{err}");
}

/// The output of writing `rows` rows, taking the ready bytes every `every` rows (0: never).
fn stream(format: Format, gzip: bool, rows: u64, every: u64) -> Vec<u8> {
    let o = EncodeOptions {
        gzip,
        ..opts(format)
    };
    let mut enc = Encoder::new(workflow_columns(), o).unwrap();
    let mut file = Vec::new();
    for i in 0..rows {
        enc.write_row(&workflow_row(i)).unwrap();
        if every > 0 && i % every == 0 {
            file.extend_from_slice(&enc.take_ready());
        }
    }
    file.extend_from_slice(&enc.finish().unwrap());
    file
}

#[test]
fn taking_bytes_mid_stream_yields_the_one_shot_file() {
    for (format, gzip) in [
        (Format::Csv, false),
        (Format::Csv, true),
        (Format::Ndjson, false),
        (Format::Ndjson, true),
        (Format::Parquet, false),
    ] {
        let one_shot = stream(format, gzip, 20_000, 0);
        let pieces = stream(format, gzip, 20_000, 997);
        assert!(one_shot == pieces, "{format} gzip={gzip}");
    }
}

#[test]
fn gzip_round_trips() {
    let plain = stream(Format::Csv, false, 30_000, 0);
    let gz = stream(Format::Csv, true, 30_000, 1_000);
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(
        gz.len() * 4 < plain.len(),
        "compressed {} of {}",
        gz.len(),
        plain.len()
    );
    assert!(gunzip(&gz) == plain);
    let (_, rows) = read_csv(&gunzip(&gz));
    assert_eq!(rows.len(), 30_000);

    let nd = stream(Format::Ndjson, false, 5_000, 0);
    assert!(gunzip(&stream(Format::Ndjson, true, 5_000, 100)) == nd);

    // An empty export is still a valid gzip file (of the header row).
    let enc = Encoder::new(
        workflow_columns(),
        EncodeOptions {
            gzip: true,
            ..opts(Format::Csv)
        },
    )
    .unwrap();
    let header = gunzip(&enc.finish().unwrap());
    assert!(header.starts_with(b"workflow_run_id,") && header.ends_with(b"\r\n"));
}

#[test]
fn memory_stays_bounded_when_ready_bytes_are_taken() {
    // 10k workflow rows are about 1.5 MB of CSV; compressed or Parquet far less, but a
    // Parquet row group lands in one piece.
    let bounds = [
        (Format::Csv, false, 2 << 20),
        (Format::Ndjson, false, 4 << 20),
        (Format::Csv, true, 1 << 20),
        (Format::Parquet, false, 4 << 20),
    ];
    for (format, gzip, bound) in bounds {
        let mut enc = Encoder::new(
            workflow_columns(),
            EncodeOptions {
                gzip,
                ..opts(format)
            },
        )
        .unwrap();
        let mut max = 0;
        let mut total = 0;
        for i in 0..300_000 {
            enc.write_row(&workflow_row(i)).unwrap();
            max = max.max(enc.ready_len());
            if i % 10_000 == 0 {
                total += enc.take_ready().len();
            }
        }
        total += enc.finish().unwrap().len();
        assert!(max < bound, "{format} gzip={gzip}: ready_len reached {max}");
        assert!(
            total > 2 * max,
            "{format} gzip={gzip}: output {total} is not held at once"
        );
    }
}

#[test]
fn a_value_of_the_wrong_type_is_an_error_naming_the_column() {
    for format in Format::ALL {
        let mut enc = Encoder::new(all_types(), opts(format)).unwrap();
        let mut row = vec![
            Value::Text("a".into()),
            Value::Text("completed".into()),
            Value::Number(1.0),
            Value::Integer(1),
            Value::Bool(true),
            Value::Timestamp(ts("2026-01-01T00:00:00Z")),
            Value::Json(serde_json::json!({})),
        ];
        enc.write_row(&row).unwrap();
        let before = enc.ready_len();

        row[3] = Value::Text("12".into());
        let err = enc.write_row(&row).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `tokens` is of type integer but the row holds text"
        );
        row[3] = Value::Integer(1);
        row[5] = Value::Text("2026-01-01".into());
        let err = enc.write_row(&row).unwrap_err();
        assert!(err.to_string().contains("`at`"), "{err}");
        let err = enc.write_row(&row[..2]).unwrap_err();
        assert_eq!(err.to_string(), "a row has 2 values for 7 columns");

        // Refused rows leave no trace: the encoder goes on, and the file reads back.
        assert_eq!(enc.ready_len(), before);
        assert_eq!(enc.rows(), 1);
        row[5] = Value::Null;
        enc.write_row(&row).unwrap();
        let bytes = enc.finish().unwrap();
        match format {
            Format::Csv => assert_eq!(read_csv(&bytes).1.len(), 2),
            Format::Ndjson => assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 2),
            Format::Parquet => {
                let (_, _, batches) = read_parquet(bytes);
                assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
            }
        }
    }
}

#[test]
fn formats_parse_case_insensitively_and_name_files() {
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
    assert_eq!("NdJson".parse::<Format>().unwrap(), Format::Ndjson);
    assert_eq!("parquet".parse::<Format>().unwrap(), Format::Parquet);
    let err = "xlsx".parse::<Format>().unwrap_err().to_string();
    assert_eq!(err, "unknown format `xlsx`; allowed: csv, ndjson, parquet");

    let mut o = opts(Format::Csv);
    assert_eq!(file_name("workflows-2026-01", &o), "workflows-2026-01.csv");
    assert_eq!(o.content_type(), "text/csv; charset=utf-8");
    o.gzip = true;
    assert_eq!(file_name("w", &o), "w.csv.gz");
    assert_eq!(o.content_type(), "application/gzip");
    o.format = Format::Ndjson;
    assert_eq!(file_name("w", &o), "w.ndjson.gz");
    assert_eq!(Format::Ndjson.content_type(), "application/x-ndjson");
    assert_eq!(file_name("w", &opts(Format::Parquet)), "w.parquet");
    assert_eq!(
        Format::Parquet.content_type(),
        "application/vnd.apache.parquet"
    );
    assert!(EncodeOptions::default().neutralise_formulas);
    assert!(matches!(
        Encoder::new(Vec::new(), opts(Format::Csv)),
        Err(EncodeError::NoColumns)
    ));
}

/// Writes `rows` as blocks of `per_block` rows, then finishes.
fn encode_blocks(
    columns: Vec<Column>,
    opts: EncodeOptions,
    width: usize,
    rows: &[Vec<Value>],
    per_block: usize,
) -> Vec<u8> {
    let mut enc = Encoder::new(columns, opts).unwrap();
    let mut file = Vec::new();
    for chunk in rows.chunks(per_block) {
        enc.write_block(&RowBlock::from_values(width, chunk))
            .unwrap();
        file.extend_from_slice(&enc.take_ready());
    }
    assert_eq!(enc.rows(), rows.len() as u64);
    file.extend_from_slice(&enc.finish().unwrap());
    file
}

const EVERY_OUTPUT: [(Format, bool); 5] = [
    (Format::Csv, false),
    (Format::Csv, true),
    (Format::Ndjson, false),
    (Format::Ndjson, true),
    (Format::Parquet, false),
];

/// Rows of every type, NULLs and JSON included.
fn all_types_rows() -> Vec<Vec<Value>> {
    (0..50)
        .map(|i| {
            vec![
                Value::Text(format!("=n{i}, \"q\"")),
                Value::Text("failed".into()),
                if i % 3 == 0 {
                    Value::Integer(i)
                } else {
                    Value::Number(i as f64 / 7.0)
                },
                Value::Integer(-i),
                Value::Bool(i % 2 == 0),
                if i % 5 == 0 {
                    Value::NullTimestamp
                } else {
                    Value::Timestamp(
                        ts("1950-03-29T01:00:00.5Z") + chrono::Duration::hours(i * 1_234),
                    )
                },
                if i % 4 == 0 {
                    Value::Null
                } else {
                    Value::Json(
                        serde_json::json!({"i": i, "a": [i as f64 / 7.0, null, "x, y"], "z": {}}),
                    )
                },
            ]
        })
        .collect()
}

#[test]
fn write_block_and_write_row_give_identical_bytes() {
    let workflow: Vec<Vec<Value>> = (0..20_000).map(workflow_row).collect();
    let typed = all_types_rows();
    for (format, gzip) in EVERY_OUTPUT {
        for tz in [None, Some(chrono_tz::America::St_Johns)] {
            let o = EncodeOptions {
                gzip,
                tz,
                ..opts(format)
            };
            if tz.is_none() {
                let by_row = stream(format, gzip, 20_000, 0);
                let by_block = encode_blocks(workflow_columns(), o, 10, &workflow, 1_000);
                assert!(by_row == by_block, "workflow {format} gzip={gzip}");
            }
            let by_row = encode(all_types(), o, &typed);
            let by_block = encode_blocks(all_types(), o, 7, &typed, 7);
            assert!(
                by_row == by_block,
                "all types {format} gzip={gzip} tz={tz:?}"
            );
        }
    }
}

#[test]
fn write_block_ignores_cells_beyond_the_columns() {
    let columns = || vec![col("a", FieldType::Text), col("n", FieldType::Integer)];
    let narrow: Vec<Vec<Value>> = (0..3)
        .map(|i| vec![Value::Text(format!("r{i}")), Value::Integer(i)])
        .collect();
    // The trailing cell would not even fit a column of the encoder.
    let wide: Vec<Vec<Value>> = narrow
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.push(Value::Json(serde_json::json!({"private": true})));
            r
        })
        .collect();
    for (format, gzip) in EVERY_OUTPUT {
        let o = EncodeOptions {
            gzip,
            ..opts(format)
        };
        let want = encode(columns(), o, &narrow);
        assert!(
            encode_blocks(columns(), o, 3, &wide, 2) == want,
            "{format} gzip={gzip}"
        );
    }
    let text = encode_blocks(columns(), opts(Format::Csv), 3, &wide, 3);
    assert_eq!(&text[..], b"a,n\r\nr0,0\r\nr1,1\r\nr2,2\r\n");

    let mut enc = Encoder::new(columns(), opts(Format::Ndjson)).unwrap();
    let err = enc
        .write_block(&RowBlock::from_values(1, &[vec![Value::Null]]))
        .unwrap_err();
    assert_eq!(err.to_string(), "a row has 1 values for 2 columns");
    assert_eq!((enc.rows(), enc.ready_len()), (0, 0));
}

#[test]
fn json_cells_with_spaces_are_written_compactly_in_every_format() {
    let stored = "{\"k\": [1, 2.5, {\"n\": null}],\n  \"s\": \"a, b\"}";
    let compact = r#"{"k":[1,2.5,{"n":null}],"s":"a, b"}"#;
    let block = || {
        let mut b = RowBlock::with_capacity(2, 2, 64);
        b.push_integer(1);
        b.push_json(stored);
        b.end_row();
        b.push_integer(2);
        b.push_json(" \"text\" ");
        b.end_row();
        b
    };
    let columns = || {
        vec![
            col("i", FieldType::Integer),
            col("details", FieldType::Json),
        ]
    };
    let write = |format| {
        let mut enc = Encoder::new(columns(), opts(format)).unwrap();
        enc.write_block(&block()).unwrap();
        enc.finish().unwrap()
    };

    let csv = write(Format::Csv);
    assert_eq!(
        std::str::from_utf8(&csv).unwrap(),
        "i,details\r\n1,\"{\"\"k\"\":[1,2.5,{\"\"n\"\":null}],\"\"s\"\":\"\"a, b\"\"}\"\r\n2,\"\"\"text\"\"\"\r\n"
    );
    assert_eq!(read_csv(&csv).1[0][1], compact);

    let nd = write(Format::Ndjson);
    assert_eq!(
        std::str::from_utf8(&nd).unwrap(),
        format!("{{\"i\":1,\"details\":{compact}}}\n{{\"i\":2,\"details\":\"text\"}}\n")
    );

    let (_, _, batches) = read_parquet(write(Format::Parquet));
    let details = batches[0].column(1).as_string::<i32>();
    assert_eq!(details.value(0), compact);
    assert_eq!(details.value(1), "\"text\"");
}

#[test]
fn a_refused_row_mid_block_keeps_the_rows_before_it() {
    for format in Format::ALL {
        for bad in ["type", "json"] {
            let mut block = RowBlock::with_capacity(3, 4, 64);
            for i in 0..4 {
                block.push_text(&format!("r{i}"));
                match (i, bad) {
                    (2, "type") => block.push_text("12"),
                    _ => block.push_integer(i),
                }
                match (i, bad) {
                    (2, "json") => block.push_json("{\"k\": "),
                    _ => block.push_json("[1, 2]"),
                }
                block.end_row();
            }
            let columns = vec![
                col("name", FieldType::Text),
                col("tokens", FieldType::Integer),
                col("details", FieldType::Json),
            ];
            let mut enc = Encoder::new(columns, opts(format)).unwrap();
            let err = enc.write_block(&block).unwrap_err();
            match bad {
                "type" => assert_eq!(
                    err.to_string(),
                    "column `tokens` is of type integer but the row holds text"
                ),
                _ => assert!(matches!(err, EncodeError::Json(_)), "{err}"),
            }
            assert_eq!(enc.rows(), 2, "{format} {bad}");
            // The encoder goes on; the file holds rows 0, 1 and the next block's row.
            let next = RowBlock::from_values(
                3,
                &[vec![
                    Value::Text("after".into()),
                    Value::Integer(9),
                    Value::Null,
                ]],
            );
            enc.write_block(&next).unwrap();
            assert_eq!(enc.rows(), 3);
            let bytes = enc.finish().unwrap();
            let names: Vec<String> = match format {
                Format::Csv => read_csv(&bytes)
                    .1
                    .into_iter()
                    .map(|r| r[0].clone())
                    .collect(),
                Format::Ndjson => std::str::from_utf8(&bytes)
                    .unwrap()
                    .lines()
                    .map(|l| {
                        let v: serde_json::Value = serde_json::from_str(l).unwrap();
                        v["name"].as_str().unwrap().to_string()
                    })
                    .collect(),
                Format::Parquet => {
                    let (_, _, batches) = read_parquet(bytes);
                    let b = &batches[0];
                    assert_eq!(b.column(2).as_string::<i32>().value(1), "[1,2]");
                    assert!(b.column(2).is_null(2));
                    let names = b.column(0).as_string::<i32>();
                    (0..b.num_rows())
                        .map(|r| names.value(r).to_string())
                        .collect()
                }
            };
            assert_eq!(names, ["r0", "r1", "after"], "{format} {bad}");
        }
    }
}

#[test]
fn block_timestamps_in_a_zone() {
    let instants = [
        "2026-03-29T00:59:59.999999Z",
        "2026-03-29T01:00:00Z",
        "1969-12-31T23:59:59.999999Z",
        "1900-01-01T00:00:00Z",
    ];
    let mut block = RowBlock::with_capacity(1, instants.len() + 1, 0);
    for s in instants {
        block.push_timestamp(ts(s).timestamp_micros());
        block.end_row();
    }
    block.push_null();
    block.end_row();
    let columns = || vec![col("at", FieldType::Timestamp)];
    let write = |o: EncodeOptions| {
        let mut enc = Encoder::new(columns(), o).unwrap();
        enc.write_block(&block).unwrap();
        enc.finish().unwrap()
    };
    let berlin = Some(chrono_tz::Europe::Berlin);

    let csv = write(EncodeOptions {
        tz: berlin,
        ..opts(Format::Csv)
    });
    assert_eq!(
        std::str::from_utf8(&csv).unwrap(),
        "at\r\n2026-03-29T01:59:59.999999+01:00\r\n2026-03-29T03:00:00.000000+02:00\r\n\
         1970-01-01T00:59:59.999999+01:00\r\n1900-01-01T01:00:00.000000+01:00\r\n\"\"\r\n"
    );
    let nd = write(EncodeOptions {
        tz: berlin,
        ..opts(Format::Ndjson)
    });
    let first = std::str::from_utf8(&nd).unwrap().lines().next().unwrap();
    assert_eq!(first, r#"{"at":"2026-03-29T01:59:59.999999+01:00"}"#);
    assert!(nd.ends_with(b"{\"at\":null}\n"));

    let (_, _, batches) = read_parquet(write(opts(Format::Parquet)));
    let at = batches[0]
        .column(0)
        .as_primitive::<TimestampMicrosecondType>();
    for (r, s) in instants.iter().enumerate() {
        assert_eq!(at.value(r), ts(s).timestamp_micros());
    }
    assert!(at.is_null(instants.len()));
}

#[test]
fn json_values_keep_every_bit_of_their_floats() {
    // Full-precision floats, about one in ten of which `serde_json`'s default parser would
    // read off by one unit in the last place.
    let values: Vec<serde_json::Value> = (1..500)
        .map(|i| serde_json::json!({"v": [i as f64 / 7.0, 1.0 / i as f64 * 1e-40]}))
        .collect();
    let rows: Vec<Vec<Value>> = values
        .iter()
        .map(|v| vec![Value::Json(v.clone())])
        .collect();
    let want: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    let columns = || vec![col("j", FieldType::Json)];

    let (_, csv) = read_csv(&encode(columns(), opts(Format::Csv), &rows));
    assert_eq!(csv.concat(), want);
    let nd = encode(columns(), opts(Format::Ndjson), &rows);
    let lines: Vec<String> = want.iter().map(|w| format!("{{\"j\":{w}}}\n")).collect();
    assert_eq!(std::str::from_utf8(&nd).unwrap(), lines.concat());
    let (_, _, batches) = read_parquet(encode(columns(), opts(Format::Parquet), &rows));
    let texts = batches[0].column(0).as_string::<i32>();
    assert!(want.iter().enumerate().all(|(r, w)| texts.value(r) == w));
}
