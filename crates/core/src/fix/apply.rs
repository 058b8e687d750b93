//! Applying fixes: one validated step at a time, reverting any step that makes the file worse.

use std::collections::{BTreeMap, HashSet};

use super::{AppliedFix, Edit, Fix, FixMode, FixOutcome};
use crate::finding::Severity;
use crate::report::Report;
use crate::rules;
use crate::validate::{ValidateOptions, validate};

/// Passes over the file's findings; each pass applies every fix that does not overlap another.
pub const MAX_PASSES: usize = 12;
/// Fixes kept in one file at most (a bound on validation work for pathological inputs).
const MAX_FIXES: usize = 256;

/// The import and name rules whose fixes make classes known.
const IMPORT_RULES: &[&str] = &[
    rules::UNDEFINED_NAME.code,
    rules::MODULE_NOT_FOUND.code,
    rules::NAME_NOT_IN_MODULE.code,
    rules::VERSION_MISMATCH_IMPORT.code,
];

/// Why [`apply_edits`] refused a set of edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditError(pub String);

/// Applies edits (byte offsets into `source`, sorted, non-overlapping) and returns the new
/// text. Refuses edits out of bounds, off character boundaries, unsorted or overlapping.
pub fn apply_edits(source: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut out = String::with_capacity(source.len() + 64);
    let mut at = 0usize;
    for e in edits {
        let (start, end) = (e.start as usize, e.end as usize);
        if start < at || end < start || end > source.len() {
            return Err(EditError(format!("edit {start}..{end} is out of order or out of bounds")));
        }
        if !source.is_char_boundary(start) || !source.is_char_boundary(end) {
            return Err(EditError(format!("edit {start}..{end} splits a character")));
        }
        out.push_str(&source[at..start]);
        out.push_str(&e.content);
        at = end;
    }
    out.push_str(&source[at..]);
    Ok(out)
}

/// Applies the fixes `mode` allows to `source`, validating after every fix, until no fix is
/// left (at most [`MAX_PASSES`] passes). A fix is reverted when, after it, the file has more
/// errors of some rule than before (errors that an import fix reveals, or that new tasks bring,
/// excepted: see `keeps_the_file_whole`) or has lost a DAG or a task. Deterministic.
pub fn fix_source(source: &str, options: &ValidateOptions, mode: FixMode) -> FixOutcome {
    fix_source_selected(source, options, mode, |_| true)
}

/// [`fix_source`], applying only the fixes of findings whose rule code `select` accepts (the
/// CLI's `--select`/`--ignore`).
pub fn fix_source_selected(
    source: &str,
    options: &ValidateOptions,
    mode: FixMode,
    select: impl Fn(&str) -> bool,
) -> FixOutcome {
    fix_selected_from(source, validate(source, options), options, mode, select)
}

/// [`fix_source`] for a file whose report the caller already has (`report` must be
/// `validate(source, options)`): the pipeline validates every answer before fixing it, and
/// validating is most of a request's cost.
pub fn fix_source_from(
    source: &str,
    report: Report,
    options: &ValidateOptions,
    mode: FixMode,
) -> FixOutcome {
    fix_selected_from(source, report, options, mode, |_| true)
}

fn fix_selected_from(
    source: &str,
    mut report: Report,
    options: &ValidateOptions,
    mode: FixMode,
    select: impl Fn(&str) -> bool,
) -> FixOutcome {
    let mut current = source.to_string();
    let mut applied: Vec<AppliedFix> = Vec::new();
    // Fixes that made the file worse, by what they change (offsets move between passes).
    let mut refused: HashSet<FixKey> = HashSet::new();
    for _ in 0..MAX_PASSES {
        let batch = non_overlapping(&report, mode, &select, &refused, &current);
        if batch.is_empty() {
            break;
        }
        // The whole pass at once first: most passes keep every fix, and validating once per
        // pass instead of once per fix halves what fixing costs (validation is most of it).
        // When the pass as a whole would make the file worse, one fix at a time decides which.
        if batch.len() > 1
            && let Some((next, next_report)) = apply_all(&current, &batch, options)
            && every_rule_improves(&report, &next_report, &batch)
            && keeps_the_file_whole(&report, &next_report)
        {
            // Listed in the order one at a time would have applied them.
            applied.extend(
                batch.into_iter().rev().map(|(code, line, fix)| applied_fix(code, line, fix)),
            );
            current = next;
            report = next_report;
            if applied.len() >= MAX_FIXES {
                return FixOutcome { source: current, applied, report };
            }
            continue;
        }
        // Last first: a fix never moves the text of the fixes before it.
        for (code, line, fix) in batch.into_iter().rev() {
            let key = FixKey::new(&current, code, &fix);
            let Ok(next) = apply_edits(&current, &fix.edits) else {
                refused.insert(key);
                continue;
            };
            let next_report = validate(&next, options);
            if keeps_the_file_whole(&report, &next_report) {
                applied.push(applied_fix(code, line, fix));
                current = next;
                report = next_report;
            } else {
                refused.insert(key);
            }
            if applied.len() >= MAX_FIXES {
                return FixOutcome { source: current, applied, report };
            }
        }
    }
    FixOutcome { source: current, applied, report }
}

fn applied_fix(code: &'static str, line: u32, fix: Fix) -> AppliedFix {
    AppliedFix { code, applicability: fix.applicability, message: fix.message, line }
}

/// The file with every fix of a pass applied (last first), and its report.
fn apply_all(
    source: &str,
    batch: &[(&'static str, u32, Fix)],
    options: &ValidateOptions,
) -> Option<(String, Report)> {
    let mut text = source.to_string();
    for (_, _, fix) in batch.iter().rev() {
        text = apply_edits(&text, &fix.edits).ok()?;
    }
    let report = validate(&text, options);
    Some((text, report))
}

/// Whether a pass's fixes, taken together, did what each is for: every rule with a fixed error
/// has at least that many errors fewer, and no other rule has more. A pass that only trades
/// errors around is tried one fix at a time instead, which keeps exactly the fixes that
/// help.
fn every_rule_improves(
    before: &Report,
    after: &Report,
    batch: &[(&'static str, u32, Fix)],
) -> bool {
    let (b, a) = (errors_by_rule(before), errors_by_rule(after));
    let mut fixed: BTreeMap<&str, usize> = BTreeMap::new();
    for (code, _, _) in batch {
        if b.contains_key(code) {
            *fixed.entry(code).or_default() += 1;
        }
    }
    b.keys().chain(a.keys()).all(|code| {
        let (before, after) =
            (b.get(code).copied().unwrap_or(0), a.get(code).copied().unwrap_or(0));
        after + fixed.get(code).copied().unwrap_or(0) <= before
    })
}

/// How many errors each rule has in a report.
fn errors_by_rule(report: &Report) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.severity == Severity::Error) {
        *m.entry(f.code).or_default() += 1;
    }
    m
}

/// The fixes to try in one pass: allowed, not refused before, one per distinct fix, and no two
/// overlapping (earlier positions first). Returned sorted by position.
fn non_overlapping(
    report: &Report,
    mode: FixMode,
    select: &impl Fn(&str) -> bool,
    refused: &HashSet<FixKey>,
    source: &str,
) -> Vec<(&'static str, u32, Fix)> {
    let mut candidates: Vec<(&'static str, u32, &Fix)> = Vec::new();
    for f in &report.findings {
        let Some(fix) = &f.autofix else { continue };
        if !mode.allows(fix.applicability) || !select(f.code) || fix.edits.is_empty() {
            continue;
        }
        if candidates.iter().any(|(_, _, other)| other.edits == fix.edits) {
            continue;
        }
        if refused.contains(&FixKey::new(source, f.code, fix)) {
            continue;
        }
        candidates.push((f.code, f.line, fix));
    }
    candidates.sort_by_key(|(code, _, fix)| (fix.span(), *code));
    let mut out: Vec<(&'static str, u32, Fix)> = Vec::new();
    let mut taken_end: Option<u32> = None;
    // Insertion points taken: two fixes inserting at one point (`dag=dag` for a task, and again
    // for the edge that links it) would both land.
    let mut inserted_at: Vec<u32> = Vec::new();
    let insertions = |fix: &Fix| -> Vec<u32> {
        fix.edits.iter().filter(|e| e.start == e.end).map(|e| e.start).collect()
    };
    for (code, line, fix) in candidates {
        let (start, end) = fix.span();
        // Strict overlap only: an insertion at the point where another fix starts is fine.
        if taken_end.is_some_and(|e| start < e) {
            continue;
        }
        let points = insertions(fix);
        if points.iter().any(|p| inserted_at.contains(p)) {
            continue;
        }
        inserted_at.extend(points);
        taken_end = Some(end.max(taken_end.unwrap_or(0)));
        out.push((code, line, fix.clone()));
    }
    out
}

/// What a fix changes, independent of where the text is now: the rule, the message, and per
/// edit the replaced text, the new text and the line it is on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FixKey {
    code: &'static str,
    message: String,
    edits: Vec<(String, String, String)>,
}

impl FixKey {
    fn new(source: &str, code: &'static str, fix: &Fix) -> Self {
        let edits = fix
            .edits
            .iter()
            .map(|e| {
                let (start, end) = (e.start as usize, e.end as usize);
                let old = source.get(start..end).unwrap_or_default().to_string();
                let line_start =
                    source.get(..start).map_or(0, |s| s.rfind('\n').map_or(0, |i| i + 1));
                let line_end = source
                    .get(start..)
                    .map_or(start, |s| s.find('\n').map_or(source.len(), |i| start + i));
                let line = source.get(line_start..line_end).unwrap_or_default().to_string();
                (old, e.content.clone(), line)
            })
            .collect();
        FixKey { code, message: fix.message.clone(), edits }
    }
}

/// After a fix: no rule has more errors than before, and every DAG and task is still there (a
/// task may have gained a group prefix: `with task_group("g"):` made a group of nothing, `with
/// TaskGroup("g"):` prefixes its tasks' ids). Excepted are the errors a fix reveals: when it
/// clears an import or name error, or makes tasks appear (`@task` from the package
/// `airflow.task` made none), the file is checked further than before, and what shows there was
/// hidden all along (Airflow stops at the first error). Never excepted: syntax errors, and
/// import or name errors (one import fix must not trade for another's).
fn keeps_the_file_whole(before: &Report, after: &Report) -> bool {
    let (b, a) = (errors_by_rule(before), errors_by_rule(after));
    let fewer_import_errors = IMPORT_RULES
        .iter()
        .any(|c| a.get(c).copied().unwrap_or(0) < b.get(c).copied().unwrap_or(0));
    let tasks = |r: &Report| r.dags.iter().map(|d| d.tasks.len()).sum::<usize>();
    let reveals = fewer_import_errors || tasks(after) > tasks(before);
    let never_revealed = |code: &str| {
        IMPORT_RULES.contains(&code)
            || code == rules::SYNTAX_ERROR.code
            || code == rules::COMPILE_ERROR.code
    };
    for (code, n) in &a {
        let excused = reveals && !never_revealed(code);
        if *n > b.get(code).copied().unwrap_or(0) && !excused {
            return false;
        }
    }
    if after.dags.len() < before.dags.len() {
        return false;
    }
    before.dags.iter().all(|dag| {
        let Some(id) = &dag.dag_id else { return true };
        after
            .dags
            .iter()
            .any(|d| d.dag_id.as_ref() == Some(id) && dag.tasks.iter().all(|t| has_task(d, t)))
    })
}

fn has_task(dag: &crate::DagSummary, id: &str) -> bool {
    dag.tasks.iter().any(|t| {
        t == id || t.strip_suffix(id).is_some_and(|group| group.ends_with('.') && group.len() > 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: u32, end: u32, content: &str) -> Edit {
        Edit { start, end, content: content.into(), line: 1, column: 1, end_line: 1, end_column: 1 }
    }

    #[test]
    fn edits_apply_in_order_and_bad_ones_are_refused() {
        let s = "abcdef";
        assert_eq!(
            apply_edits(s, &[edit(0, 1, "X"), edit(3, 3, "-"), edit(5, 6, "")]).unwrap(),
            "Xbc-de"
        );
        assert!(apply_edits(s, &[edit(3, 4, ""), edit(1, 2, "")]).is_err());
        assert!(apply_edits(s, &[edit(2, 9, "")]).is_err());
        assert!(apply_edits("é", &[edit(1, 1, "x")]).is_err());
        assert_eq!(apply_edits(s, &[]).unwrap(), s);
    }
}
