//! Unified diffs of fixed files (`dagsmith validate --diff`).

use std::fmt::Write as _;

/// Lines of context around each change.
const CONTEXT: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// A unified diff (`--- path` / `+++ path`, 3 lines of context) from `old` to `new`; empty when
/// they are equal. Lines keep their own endings; a last line without one is marked
/// `\ No newline at end of file`, as diff(1) does.
pub fn unified_diff(old: &str, new: &str, path: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = myers(&a, &b);
    let mut out = format!("--- {path}\n+++ {path}\n");
    // Walk the script, emitting hunks: runs of changes with up to CONTEXT lines around them,
    // merged when the equal lines between two changes are at most 2 * CONTEXT.
    let mut i = 0;
    while i < ops.len() {
        let Some(first_change) = ops[i..].iter().position(|(op, _, _)| *op != Op::Equal) else {
            break;
        };
        let change = i + first_change;
        let start = change.saturating_sub(CONTEXT).max(i);
        let mut end = change;
        loop {
            while end < ops.len() && ops[end].0 != Op::Equal {
                end += 1;
            }
            let equal_run = ops[end..].iter().take_while(|(op, _, _)| *op == Op::Equal).count();
            if end + equal_run < ops.len() && equal_run <= 2 * CONTEXT {
                end += equal_run;
                continue;
            }
            end = (end + equal_run.min(CONTEXT)).min(ops.len());
            break;
        }
        let hunk = &ops[start..end];
        let (a_start, b_start) = (hunk[0].1, hunk[0].2);
        let a_len = hunk.iter().filter(|(op, _, _)| *op != Op::Insert).count();
        let b_len = hunk.iter().filter(|(op, _, _)| *op != Op::Delete).count();
        let range = |start: usize, len: usize| {
            if len == 0 { format!("{start},0") } else { format!("{},{len}", start + 1) }
        };
        let _ = writeln!(out, "@@ -{} +{} @@", range(a_start, a_len), range(b_start, b_len));
        for (op, ai, bi) in hunk {
            let (mark, line) = match op {
                Op::Equal => (' ', a[*ai]),
                Op::Delete => ('-', a[*ai]),
                Op::Insert => ('+', b[*bi]),
            };
            out.push(mark);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
        i = end;
    }
    out
}

/// Myers' O((N+M)·D) shortest edit script over lines: (op, index in `a`, index in `b`) per
/// line, where the index of the side an op does not consume is where it would be.
fn myers(a: &[&str], b: &[&str]) -> Vec<(Op, usize, usize)> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    // The V row at the start of each round d, for backtracking (only k in -d..=d matter).
    let mut trace: Vec<Vec<isize>> = Vec::new();
    'outer: for d in 0..=max as isize {
        trace.push(v[(offset - d) as usize..=(offset + d) as usize].to_vec());
        let mut k = -d;
        while k <= d {
            let idx = (offset + k) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                break 'outer;
            }
            k += 2;
        }
    }
    // Backtrack from (n, m) through the saved rows.
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (0..trace.len() as isize).rev() {
        let row = &trace[d as usize];
        let at = |k: isize| row[(k + d) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) { k + 1 } else { k - 1 };
        let prev_x = if d == 0 { 0 } else { at(prev_k) };
        let prev_y = prev_x - prev_k;
        while x > prev_x.max(0) && y > prev_y.max(0) {
            x -= 1;
            y -= 1;
            ops.push((Op::Equal, x as usize, y as usize));
        }
        if d > 0 {
            if x == prev_x {
                y -= 1;
                ops.push((Op::Insert, x as usize, y as usize));
            } else {
                x -= 1;
                ops.push((Op::Delete, x as usize, y as usize));
            }
        }
    }
    ops.reverse();
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_an_insertion_and_a_replacement() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        let new = "a\nNEW\nb\nc\nd\ne\nf\ng\nh\ni\nJ\nk\n";
        let d = unified_diff(old, new, "x.py");
        assert_eq!(
            d,
            "--- x.py\n+++ x.py\n@@ -1,4 +1,5 @@\n a\n+NEW\n b\n c\n d\n@@ -7,5 +8,5 @@\n g\n h\n i\n-j\n+J\n k\n"
        );
    }

    #[test]
    fn diff_edge_cases() {
        assert_eq!(unified_diff("same\n", "same\n", "p"), "");
        assert_eq!(unified_diff("", "x\n", "p"), "--- p\n+++ p\n@@ -0,0 +1,1 @@\n+x\n");
        assert_eq!(
            unified_diff("a", "b", "p"),
            "--- p\n+++ p\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"
        );
        // Replaying the script gives the new text.
        let old = "x\ny\nz\nx\ny\n";
        let new = "y\nx\nz\ny\n";
        let a: Vec<&str> = old.split_inclusive('\n').collect();
        let b: Vec<&str> = new.split_inclusive('\n').collect();
        let rebuilt: String = myers(&a, &b)
            .iter()
            .filter(|(op, _, _)| *op != Op::Delete)
            .map(|(op, ai, bi)| if *op == Op::Equal { a[*ai] } else { b[*bi] })
            .collect();
        assert_eq!(rebuilt, new);
    }
}
