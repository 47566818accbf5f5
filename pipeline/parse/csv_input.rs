//! Semicolon CSV with Danish habits: UTF-8 (BOM accepted) or Latin-1, headers matched
//! case-insensitively, every field located by line and column.

use std::collections::HashMap;
use std::io::Read;

use csv::{ByteRecord, ReaderBuilder, StringRecord};

use super::{Locus, ParseError};
use crate::config::Encoding;
use crate::redact;

/// The longest line an extract may have. Real lines are under a few kilobytes (a register's
/// line with 52 weeks of codes is about 300 bytes); a longer one is a broken file, and
/// refusing it here keeps the memory a broken file can take to this much.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// A reader that fails once a line runs past [`MAX_LINE_BYTES`] without a line end.
struct LineLimit<R> {
    inner: R,
    /// Bytes since the last `\n`.
    since: u64,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        self.since = match chunk.iter().rposition(|b| *b == b'\n') {
            Some(last) => (n - last - 1) as u64,
            None => self.since + n as u64,
        };
        if self.since > MAX_LINE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a line longer than {} MiB: no extract has lines like that",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        Ok(n)
    }
}

/// A CSV file being read record by record.
pub struct CsvInput<R: Read> {
    reader: csv::Reader<LineLimit<R>>,
    encoding: Encoding,
    /// Lowercased header names in file order.
    pub header: Vec<String>,
    index: HashMap<String, usize>,
    /// Rejections name this file.
    pub locus: Locus,
    /// The current record, decoded (its buffer is reused for the next one).
    record: StringRecord,
    /// Line of the current record.
    pub line: u64,
}

impl<R: Read> CsvInput<R> {
    /// Reads the header line.
    pub fn open(input: R, encoding: Encoding, locus: Locus) -> Result<Self, ParseError> {
        let reader = ReaderBuilder::new()
            .delimiter(b';')
            // Lines end at `\n`; a `\r` before it is dropped below. (With the csv
            // crate's default CRLF terminator, every line of a CRLF file after the
            // first was reported one too low.)
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(LineLimit {
                inner: input,
                since: 0,
            });
        let mut me = Self {
            reader,
            encoding,
            header: Vec::new(),
            index: HashMap::new(),
            locus,
            record: StringRecord::new(),
            line: 0,
        };
        if !me.next_raw()? {
            return Err(me.locus.file("empty file: no header line"));
        }
        me.header = me
            .record
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_lowercase()
            })
            .collect();
        for (i, h) in me.header.iter().enumerate() {
            if h.is_empty() {
                return Err(me.locus.field(
                    me.line,
                    me.column_of(i),
                    "",
                    format!("header {} is empty", i + 1),
                ));
            }
            if me.index.insert(h.clone(), i).is_some() {
                return Err(me.locus.field(
                    me.line,
                    me.column_of(i),
                    h,
                    "column appears twice in the header",
                ));
            }
        }
        Ok(me)
    }

    /// Index of a header name (lowercase), if present.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Index of a required column (first of the alternatives found).
    pub fn require(&self, names: &[&str]) -> Result<usize, ParseError> {
        names.iter().find_map(|n| self.find(n)).ok_or_else(|| {
            let alts = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            let have = self
                .header
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            self.locus
                .line(1, format!("missing column {alts}; the header has {have}"))
        })
    }

    fn next_raw(&mut self) -> Result<bool, ParseError> {
        // One allocation-free pass per record: the bytes are read into the previous
        // record's buffer and validated (or decoded) as a whole.
        let mut raw: ByteRecord = std::mem::take(&mut self.record).into_byte_record();
        let more = self.reader.read_byte_record(&mut raw).map_err(|e| {
            let line = e.position().map_or(self.line + 1, csv::Position::line);
            self.locus.line(
                line,
                format!("unreadable CSV: {}", redact::value(&e.to_string())),
            )
        })?;
        if !more {
            return Ok(false);
        }
        if let Some(last) = raw.get(raw.len().wrapping_sub(1))
            && let Some(kept) = last.strip_suffix(b"\r")
        {
            let kept = kept.to_vec();
            raw.truncate(raw.len() - 1);
            raw.push_field(&kept);
        }
        self.line = raw.position().map_or(self.line + 1, csv::Position::line);
        self.record = match self.encoding {
            Encoding::Utf8 => StringRecord::from_byte_record(raw).map_err(|e| {
                let (field, valid) = (e.utf8_error().field(), e.utf8_error().valid_up_to());
                let raw = e.into_byte_record();
                let start = raw.position().map_or(0, csv::Position::byte);
                let offset = start
                    + raw.range(field).map_or(0, |r| r.start as u64)
                    + field as u64
                    + valid as u64;
                self.locus.reject(
                    Some(self.line),
                    None,
                    None,
                    format!("not valid UTF-8 at byte offset {offset} (declare `encoding = \"latin1\"` for a Windows-1252 export)"),
                )
            })?,
            Encoding::Latin1 => {
                let mut rec = StringRecord::with_capacity(raw.as_slice().len() * 2, raw.len());
                for field in &raw {
                    rec.push_field(&encoding_rs::WINDOWS_1252.decode_without_bom_handling(field).0);
                }
                rec
            }
        };
        Ok(true)
    }

    /// Advances to the next data record; false at the end. Blank lines are skipped.
    pub fn next_record(&mut self) -> Result<bool, ParseError> {
        loop {
            if !self.next_raw()? {
                return Ok(false);
            }
            if self.record.len() == 1 && self.get(0).is_empty() {
                continue;
            }
            if self.record.len() != self.header.len() {
                return Err(self.locus.line(
                    self.line,
                    format!(
                        "expected {} fields (as in the header), found {}",
                        self.header.len(),
                        self.record.len()
                    ),
                ));
            }
            return Ok(true);
        }
    }

    /// The current record's field `i`, trimmed.
    #[must_use]
    pub fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or_default().trim()
    }

    /// 1-based character column where field `i` starts on the current line.
    #[must_use]
    pub fn column_of(&self, i: usize) -> u64 {
        1 + self
            .record
            .iter()
            .take(i)
            .map(|f| f.chars().count() as u64 + 1)
            .sum::<u64>()
    }

    /// A rejection for field `i` of the current record, showing its (redacted) value.
    #[must_use]
    pub fn bad(&self, i: usize, expected: &str) -> ParseError {
        let value = redact::value(self.get(i));
        self.locus.field(
            self.line,
            self.column_of(i),
            &self.header[i],
            format!("invalid value \"{value}\": expected {expected}"),
        )
    }

    /// A rejection for field `i` that must not show the value (CPR).
    #[must_use]
    pub fn bad_hidden(&self, i: usize, expected: &str) -> ParseError {
        self.locus.field(
            self.line,
            self.column_of(i),
            &self.header[i],
            format!("invalid value (withheld: personal data): expected {expected}"),
        )
    }

    /// The columns not in `known`: the extras a contract keeps (work this out once,
    /// not per record).
    #[must_use]
    pub fn other_columns(&self, known: &[usize]) -> Vec<usize> {
        let mut is_known = vec![false; self.header.len()];
        for k in known {
            if let Some(slot) = is_known.get_mut(*k) {
                *slot = true;
            }
        }
        (0..self.header.len()).filter(|i| !is_known[*i]).collect()
    }

    /// The current record's values of the `extra` columns, with their names.
    #[must_use]
    pub fn extras(&self, extra: &[usize]) -> Vec<(&str, &str)> {
        extra
            .iter()
            .map(|i| (self.header[*i].as_str(), self.get(*i)))
            .collect()
    }
}
