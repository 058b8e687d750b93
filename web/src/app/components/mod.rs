//! The page's parts, one module per column.

mod code;
mod controls;
mod report;

pub use code::{Attempts, Editor, Notices, Toolbar};
pub use controls::{Controls, HealthBadge};
pub use report::{Findings, Graph, Verdict};
