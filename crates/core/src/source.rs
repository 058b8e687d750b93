//! Maps byte offsets to 1-based line/column positions (columns in Unicode code points).

// Offsets come from any input: no arithmetic may overflow, no conversion truncate.
#![deny(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use ruff_text_size::{TextRange, TextSize};

use crate::finding::Position;

pub struct LineIndex<'a> {
    source: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<u32>,
    /// For sources that are not all ASCII: how many characters start before every
    /// `CHUNK`-th byte, then in the whole source, so that a column costs at most `CHUNK` bytes
    /// of counting however long the line (files with thousands of findings on one long line
    /// stay fast). Empty for ASCII sources, where a column is a byte offset.
    chars_before_chunk: Vec<u32>,
}

/// Bytes between two entries of `chars_before_chunk`.
const CHUNK: usize = 64;

/// Characters that start in `bytes`: every byte but UTF-8 continuation bytes (`0b10xx_xxxx`).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}

/// A byte offset or count as the parser's `u32` offsets (sources are below 4 GiB).
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What [`push_newline_ends`] saw besides the line ends.
struct Seen {
    carriage_return: bool,
    ascii: bool,
}

/// Pushes the offset just past every `\n` of `bytes` onto `out`, in one pass that also sees
/// whether `bytes` has a `\r` and whether it is all ASCII: 64 bytes a step with AVX2 where the
/// processor has it, else 32 with SSE2 (every x86-64 has it). Line ends are every few dozen
/// bytes, so `memchr_iter`'s set-up per match was most of the cost.
#[cfg(target_arch = "x86_64")]
fn push_newline_ends(bytes: &[u8], out: &mut Vec<u32>) -> Seen {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (asked just now).
        return unsafe { push_newline_ends_avx2(bytes, out) };
    }
    // SAFETY: every x86-64 processor has SSE2 (it is part of the architecture's baseline).
    unsafe { push_newline_ends_sse2(bytes, out) }
}

/// The vector loop of [`push_newline_ends`] for one register type, two loads a step: `$half`
/// bytes a register, `$mask` the integer holding a step's line ends, then the intrinsics.
/// Offsets are the parser's `u32`s, added without checks: sources are under 4 GiB (past that,
/// the portable search, which saturates).
#[cfg(target_arch = "x86_64")]
macro_rules! push_newline_ends_by {
    ($bytes:ident, $out:ident, $half:literal, $step:literal, $vector:ty, $mask:ty,
     $set1:ident, $load:ident, $cmpeq:ident, $or:ident, $movemask:ident) => {{
        if u32::try_from($bytes.len()).is_err() {
            return push_newline_ends_portable($bytes, $out);
        }
        let (newline, carriage_return) = ($set1(b'\n'.cast_signed()), $set1(b'\r'.cast_signed()));
        let (mut cr, mut high) = (0i32, 0i32);
        let mut blocks = $bytes.chunks_exact($step);
        // The offset just past the step's first byte.
        let mut past_first = 1u32;
        for block in &mut blocks {
            let (lo, hi) = block.split_at($half);
            // SAFETY: `lo` and `hi` are `$half` readable bytes each; the loads are unaligned.
            let (lo, hi) = unsafe {
                ($load(lo.as_ptr().cast::<$vector>()), $load(hi.as_ptr().cast::<$vector>()))
            };
            let ends = |v| <$mask>::from($movemask($cmpeq(v, newline)).cast_unsigned());
            let mut mask = ends(lo) | ends(hi) << $half;
            cr |= $movemask($or($cmpeq(lo, carriage_return), $cmpeq(hi, carriage_return)));
            high |= $movemask($or(lo, hi));
            while mask != 0 {
                $out.push(past_first.wrapping_add(mask.trailing_zeros()));
                mask &= mask.wrapping_sub(1);
            }
            past_first = past_first.wrapping_add($step);
        }
        push_tail(blocks.remainder(), past_first, cr != 0, high != 0, $out)
    }};
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn push_newline_ends_avx2(bytes: &[u8], out: &mut Vec<u32>) -> Seen {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    push_newline_ends_by!(
        bytes,
        out,
        32,
        64,
        __m256i,
        u64,
        _mm256_set1_epi8,
        _mm256_loadu_si256,
        _mm256_cmpeq_epi8,
        _mm256_or_si256,
        _mm256_movemask_epi8
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn push_newline_ends_sse2(bytes: &[u8], out: &mut Vec<u32>) -> Seen {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    push_newline_ends_by!(
        bytes,
        out,
        16,
        32,
        __m128i,
        u32,
        _mm_set1_epi8,
        _mm_loadu_si128,
        _mm_cmpeq_epi8,
        _mm_or_si128,
        _mm_movemask_epi8
    )
}

/// The bytes after a vector loop's last whole step: `past_first` is the offset just past their
/// first; `cr` and `high` what the loop saw.
#[cfg(target_arch = "x86_64")]
fn push_tail(rest: &[u8], past_first: u32, cr: bool, high: bool, out: &mut Vec<u32>) -> Seen {
    let base = past_first.wrapping_sub(1) as usize;
    out.extend(
        memchr::memchr_iter(b'\n', rest).map(|i| to_u32(base.saturating_add(i).saturating_add(1))),
    );
    Seen { carriage_return: cr || rest.contains(&b'\r'), ascii: !high && rest.is_ascii() }
}

/// [`push_newline_ends`] elsewhere (the wasm32 build): `memchr`'s own search.
#[cfg(not(target_arch = "x86_64"))]
fn push_newline_ends(bytes: &[u8], out: &mut Vec<u32>) -> Seen {
    push_newline_ends_portable(bytes, out)
}

fn push_newline_ends_portable(bytes: &[u8], out: &mut Vec<u32>) -> Seen {
    out.extend(memchr::memchr_iter(b'\n', bytes).map(|i| to_u32(i.saturating_add(1))));
    Seen { carriage_return: memchr::memchr(b'\r', bytes).is_some(), ascii: bytes.is_ascii() }
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let bytes = source.as_bytes();
        // Python lines average a few dozen bytes: room for lines of 16, grown rarely.
        let mut line_starts = Vec::with_capacity((bytes.len() / 16).saturating_add(1));
        line_starts.push(0);
        let seen = push_newline_ends(bytes, &mut line_starts);
        if seen.carriage_return {
            line_starts.truncate(1);
            for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
                let next = i.saturating_add(1);
                // A lone `\r` ends a line in Python too; in `\r\n` the `\n` does.
                if bytes.get(i) == Some(&b'\r') && bytes.get(next) == Some(&b'\n') {
                    continue;
                }
                line_starts.push(to_u32(next));
            }
        }
        let chars_before_chunk = if seen.ascii {
            Vec::new()
        } else {
            let mut total = 0u32;
            let mut before: Vec<u32> = bytes
                .chunks(CHUNK)
                .map(|chunk| {
                    let before = total;
                    total = total.saturating_add(to_u32(char_starts(chunk)));
                    before
                })
                .collect();
            // The end of a source whose length is a multiple of CHUNK starts a chunk of its own.
            before.push(total);
            before
        };
        LineIndex { source, line_starts, chars_before_chunk }
    }

    pub fn source(&self) -> &'a str {
        self.source
    }

    /// Characters that start before byte `offset` (at most the source's length).
    fn chars_before(&self, offset: usize) -> usize {
        if self.chars_before_chunk.is_empty() {
            return offset;
        }
        let chunk = offset / CHUNK;
        let counted = self.chars_before_chunk.get(chunk).map_or(0, |&n| n as usize);
        let rest = self.source.as_bytes().get(chunk.saturating_mul(CHUNK)..offset).unwrap_or(&[]);
        counted.saturating_add(char_starts(rest))
    }

    pub fn position(&self, offset: TextSize) -> Position {
        let offset = u32::from(offset).min(to_u32(self.source.len()));
        // The first line starts at 0, so some line starts at or before any offset.
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).map_or(0, |&s| s as usize);
        let mut end = offset as usize;
        // Offsets from error recovery can fall inside a multi-byte character.
        while end > start && !self.source.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        let column = self.chars_before(end).saturating_sub(self.chars_before(start));
        Position { line: to_u32(line).saturating_add(1), column: to_u32(column).saturating_add(1) }
    }

    pub fn span(&self, range: TextRange) -> (Position, Position) {
        (self.position(range.start()), self.position(range.end()))
    }

    /// The byte offset of a 1-based line and code-point column, the inverse of
    /// [`LineIndex::position`]. The column just past the line's last character is its end;
    /// `None` beyond that or past the last line.
    pub fn offset(&self, line: u32, column: u32) -> Option<TextSize> {
        let start = *self.line_starts.get((line as usize).checked_sub(1)?)? as usize;
        let text = self.line_text(line);
        let index = column.checked_sub(1)? as usize;
        let byte = match text.char_indices().nth(index) {
            Some((i, _)) => i,
            None if text.chars().count() == index => text.len(),
            None => return None,
        };
        u32::try_from(start.checked_add(byte)?).ok().map(TextSize::from)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: u32) -> &'a str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end =
            self.line_starts.get(i.saturating_add(1)).map_or(self.source.len(), |&e| e as usize);
        self.source.get(start as usize..end).unwrap_or("").trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)] // small test strings
mod tests {
    use super::*;

    #[test]
    fn line_ends_across_blocks() {
        // `\r\n` split by a 64-byte block boundary, and lines of every length around it.
        let mut source = String::new();
        for n in 0..150 {
            source.push_str(&"x".repeat(n % 70));
            source.push_str(["\n", "\r\n", "\r"][n % 3]);
        }
        let mut expected = vec![0u32];
        let bytes = source.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                expected.push(i as u32 + 1);
            }
        }
        assert_eq!(LineIndex::new(&source).line_starts, expected);
        assert_eq!(expected.len(), 151);
    }

    #[test]
    fn line_ends_without_carriage_returns() {
        // Every ASCII character and a few wider ones next to line ends, lines of every length
        // to 20, at every alignment.
        let mut text = String::new();
        for (n, c) in (0..0x7fu8).map(char::from).chain(['é', '😀', '✓']).enumerate() {
            if c != '\r' {
                text.extend(std::iter::repeat_n(c, n % 21));
                text.push('\n');
                text.push(c);
            }
        }
        for start in 0..9 {
            let source = &text[start..];
            let mut expected = vec![0u32];
            expected.extend(source.match_indices('\n').map(|(i, _)| i as u32 + 1));
            assert_eq!(LineIndex::new(source).line_starts, expected, "from {start}");
        }
    }

    #[test]
    fn a_carriage_return_or_a_wide_character_is_seen_wherever_it_is() {
        // At every offset of a text longer than two 32-byte steps, and in the tail after them.
        for at in 0..75 {
            let mut line = "x".repeat(75);
            line.replace_range(at..at + 1, "\r");
            let source = format!("{line}\nend");
            let index = LineIndex::new(&source);
            // A lone `\r` ends a line; the last one is followed by the `\n`.
            let expected = if at < 74 { vec![0, at as u32 + 1, 76] } else { vec![0, 76] };
            assert_eq!(index.line_starts, expected, "\\r at {at}");

            let mut line = "x".repeat(75);
            line.replace_range(at..at + 1, "é");
            let source = format!("{line}\nend");
            let index = LineIndex::new(&source);
            assert!(!index.chars_before_chunk.is_empty(), "é at {at}");
            let end = index.position(TextSize::from(line.len() as u32));
            assert_eq!((end.line, end.column), (1, 76), "é at {at}");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn every_line_end_search_finds_the_same() {
        // Lines of every length to 70 (past both vector steps), with `\r`, `\r\n` and wide
        // characters among them, from every starting offset: the portable search, SSE2 and,
        // where the processor has it, AVX2 agree.
        let mut text = String::new();
        for n in 0..140 {
            text.push_str(&"x".repeat(n % 71));
            text.push_str(["\n", "\r\n", "\r", "é\n", "\n\n"][n % 5]);
        }
        for start in 0..66 {
            let bytes = &text.as_bytes()[start..];
            let run = |f: &dyn Fn(&mut Vec<u32>) -> Seen| {
                let mut out = vec![0];
                let seen = f(&mut out);
                (out, seen.carriage_return, seen.ascii)
            };
            let portable = run(&|out| push_newline_ends_portable(bytes, out));
            // SAFETY: SSE2 is part of x86-64.
            assert_eq!(run(&|out| unsafe { push_newline_ends_sse2(bytes, out) }), portable);
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2.
                assert_eq!(run(&|out| unsafe { push_newline_ends_avx2(bytes, out) }), portable);
            }
            let ascii_only = &bytes[..bytes.len().min(200)];
            let ascii = run(&|out| push_newline_ends_portable(ascii_only, out));
            // SAFETY: as above.
            assert_eq!(run(&|out| unsafe { push_newline_ends_sse2(ascii_only, out) }), ascii);
        }
    }

    #[test]
    fn positions_are_one_based_code_points() {
        let idx = LineIndex::new("a = 1\nbé = 2\r\nc\rd");
        assert_eq!(idx.position(TextSize::from(0)), Position { line: 1, column: 1 });
        assert_eq!(idx.position(TextSize::from(6)), Position { line: 2, column: 1 });
        // `=` after the two-byte `é`.
        assert_eq!(idx.position(TextSize::from(10)), Position { line: 2, column: 4 });
        assert_eq!(idx.position(TextSize::from(15)), Position { line: 3, column: 1 });
        assert_eq!(idx.position(TextSize::from(17)), Position { line: 4, column: 1 });
        assert_eq!(idx.line_text(2), "bé = 2");
        assert_eq!(idx.line_text(9), "");
        assert_eq!(idx.offset(2, 4), Some(TextSize::from(10)));
        assert_eq!(idx.offset(2, 7), Some(TextSize::from(13)));
        assert_eq!(idx.offset(2, 8), None);
        assert_eq!(idx.offset(0, 1), None);
        assert_eq!(idx.offset(5, 1), None);
        for offset in [0u32, 6, 10, 15, 17] {
            let p = idx.position(TextSize::from(offset));
            assert_eq!(idx.offset(p.line, p.column), Some(TextSize::from(offset)));
        }
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        // Columns past many chunks, with multi-byte characters before and inside them.
        let line = "é😀a".repeat(100);
        let source = format!("x\r\n{line}\n{line}");
        let idx = LineIndex::new(&source);
        for (i, (offset, _)) in source.char_indices().enumerate() {
            let naive_line = source[..offset].matches('\n').count() as u32 + 1;
            let line_start = source[..offset].rfind('\n').map_or(0, |p| p + 1);
            let naive_column = source[line_start..offset].chars().count() as u32 + 1;
            let pos = idx.position(TextSize::from(offset as u32));
            assert_eq!((pos.line, pos.column), (naive_line, naive_column), "char {i} at {offset}");
        }
        // The end of a source whose length is a multiple of the chunk size (found by fuzzing:
        // its column came out as 1).
        for len in [64usize, 128, 192] {
            let source = format!("é\n{}", "a".repeat(len - 3));
            assert_eq!(source.len(), len);
            let idx = LineIndex::new(&source);
            let end = idx.position(TextSize::from(len as u32));
            assert_eq!((end.line, end.column), (2, (len - 3) as u32 + 1), "length {len}");
        }
        // Inside a character: the column of that character.
        let inside = source.find('😀').unwrap() + 2;
        assert_eq!(idx.position(TextSize::from(inside as u32)).column, 2);
    }
}
