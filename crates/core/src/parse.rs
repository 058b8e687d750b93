//! Parsing Python with ruff's parser, and letting go of the tree safely.
//!
//! Dropping a tree recurses once per level, and no guard can sit inside ruff's `Drop`:
//! `x = 1 + 1 + ... + 1` is as many levels as it has terms without a single bracket, and at
//! 50,000 terms it overflowed a 2 MiB thread (a request to the local server could end the
//! server). A [`Tree`] is dropped where there is stack for as many levels as it has tokens.

use ruff_python_ast::Mod;
use ruff_python_parser::{Mode, ParseOptions, Parsed, parse_unchecked};

/// Stack a tree may need per token to be dropped (a few frames per level; a tree has fewer
/// levels than tokens). Generous enough for debug builds' frames.
const DROP_STACK_PER_TOKEN: usize = 256;

/// A parsed module (with its tokens and syntax errors).
pub(crate) struct Tree(Option<Parsed<Mod>>);

/// Parses `source` as a module, recovering from syntax errors (they are in the result).
pub(crate) fn parse_module(source: &str) -> Tree {
    Tree(Some(parse_unchecked(source, ParseOptions::from(Mode::Module))))
}

/// Parses `source` and lets the tree go, as `validate` does around its own work: the floor
/// validation is measured against (`dagsmith bench validate --parse-only`), in the same binary
/// and allocator. Returns how many syntax errors the parser found.
pub fn parse_only(source: &str) -> usize {
    parse_module(source).errors().len()
}

impl std::ops::Deref for Tree {
    type Target = Parsed<Mod>;

    fn deref(&self) -> &Parsed<Mod> {
        self.0.as_ref().expect("a tree is only taken out when it is dropped")
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        if let Some(parsed) = self.0.take() {
            let need = parsed.tokens().len().saturating_mul(DROP_STACK_PER_TOKEN);
            stacker::maybe_grow(need, need, move || drop(parsed));
        }
    }
}
