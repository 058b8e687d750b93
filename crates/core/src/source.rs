//! Maps byte offsets to 1-based line/column positions (columns in Unicode code points).

use ruff_text_size::{TextRange, TextSize};

use crate::finding::Position;

pub struct LineIndex<'a> {
    source: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<u32>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        let bytes = source.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line_starts.push(i as u32 + 1),
                // A lone `\r` ends a line in Python too.
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => line_starts.push(i as u32 + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { source, line_starts }
    }

    pub fn source(&self) -> &'a str {
        self.source
    }

    pub fn position(&self, offset: TextSize) -> Position {
        let offset = u32::from(offset).min(self.source.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        // Offsets from error recovery can fall inside a multi-byte character.
        while end > start && !self.source.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.source[start..end].chars().count() as u32 + 1;
        Position { line: line as u32 + 1, column }
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
        u32::try_from(start + byte).ok().map(TextSize::from)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: u32) -> &'a str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self.line_starts.get(i + 1).map_or(self.source.len(), |&e| e as usize);
        self.source[start as usize..end].trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
