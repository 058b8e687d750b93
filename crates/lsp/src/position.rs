//! Positions: LSP's (0-based line, UTF-16 code units) against dagsmith's (1-based line,
//! code-point column) and byte offsets, on one document's text.

use dagsmith_core::Finding;
use dagsmith_core::source::LineIndex;
use lsp_types::{Position, Range};

/// UTF-16 units before the 1-based code-point `column` of `line_text` (clamped to the line).
fn utf16_units(line_text: &str, column: u32) -> u32 {
    line_text.chars().take(column.saturating_sub(1) as usize).map(|c| c.len_utf16() as u32).sum()
}

/// The LSP position of a dagsmith position.
pub fn to_lsp(lines: &LineIndex<'_>, line: u32, column: u32) -> Position {
    let line = line.max(1);
    Position { line: line - 1, character: utf16_units(lines.line_text(line), column) }
}

/// The dagsmith position (1-based line, code-point column) of an LSP position; a character
/// past the end of the line is clamped to just after its last character.
pub fn from_lsp(lines: &LineIndex<'_>, position: Position) -> (u32, u32) {
    let line = position.line.saturating_add(1);
    let mut units = 0u32;
    let mut column = 1u32;
    for c in lines.line_text(line).chars() {
        if units >= position.character {
            break;
        }
        units += c.len_utf16() as u32;
        column += 1;
    }
    (line, column)
}

/// The byte offset of an LSP position (clamped to the end of its line or of the text).
pub fn offset_of(lines: &LineIndex<'_>, position: Position) -> usize {
    let (line, column) = from_lsp(lines, position);
    lines.offset(line, column).map_or(lines.source().len(), usize::from)
}

/// The LSP position of a byte offset.
pub fn position_of_offset(lines: &LineIndex<'_>, offset: usize) -> Position {
    let offset = u32::try_from(offset.min(lines.source().len())).unwrap_or(u32::MAX);
    let p = lines.position(offset.into());
    to_lsp(lines, p.line, p.column)
}

/// A finding's span as an LSP range (an empty or reversed span becomes its start).
pub fn finding_range(lines: &LineIndex<'_>, f: &Finding) -> Range {
    let start = to_lsp(lines, f.line, f.column);
    let end = to_lsp(lines, f.end_line.max(f.line), f.end_column);
    let end = if (end.line, end.character) < (start.line, start.character) { start } else { end };
    Range { start, end }
}

/// Whether `position` lies in `range` (ends included: a cursor just after a name touches it).
pub fn contains(range: &Range, position: Position) -> bool {
    let p = (position.line, position.character);
    (range.start.line, range.start.character) <= p && p <= (range.end.line, range.end.character)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_round_trips() {
        // `é` is one UTF-16 unit, `𝔸` two.
        let text = "x = 'é𝔸'\ny\n";
        let lines = LineIndex::new(text);
        assert_eq!(to_lsp(&lines, 1, 7), Position { line: 0, character: 6 });
        assert_eq!(to_lsp(&lines, 1, 8), Position { line: 0, character: 8 });
        assert_eq!(from_lsp(&lines, Position { line: 0, character: 8 }), (1, 8));
        assert_eq!(from_lsp(&lines, Position { line: 0, character: 99 }), (1, 9));
        assert_eq!(from_lsp(&lines, Position { line: 1, character: 0 }), (2, 1));
        assert_eq!(offset_of(&lines, Position { line: 0, character: 8 }), 11);
        assert_eq!(offset_of(&lines, Position { line: 7, character: 0 }), text.len());
        assert_eq!(position_of_offset(&lines, 11), Position { line: 0, character: 8 });
        assert_eq!(position_of_offset(&lines, 13), Position { line: 1, character: 0 });
    }
}
