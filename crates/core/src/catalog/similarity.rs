//! How alike two names are, for "did you mean" and for fixes: the words of a CamelCase or
//! snake_case name, and a bounded edit distance.
//!
//! LLMs mostly get a class's words right and their order or one word wrong
//! (`DataprocClusterCreateOperator` for `DataprocCreateClusterOperator`), which plain edit
//! distance ranks far away; comparing words first finds them.

/// The lower-cased words of a name: `GCSToBigQueryOperator` → `gcs to big query operator`,
/// `S3KeySensor` → `s3 key sensor`, `aws_conn_id` → `aws conn id`. Digits stay with the word
/// before them; an acronym ends before the capital that starts the next word.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c == '.' {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The words, sorted: two names with the same key have the same words in any order.
pub fn word_key(name: &str) -> Vec<String> {
    let mut w = words(name);
    w.sort();
    w
}

/// How many words two sorted word lists share (as multisets).
pub fn shared_words(a: &[String], b: &[String]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    n
}

/// Levenshtein distance over bytes if it is at most `max`, else `None`, reusing the caller's
/// row buffers (the "did you mean" search compares a name with thousands of others).
pub fn bounded_levenshtein_bytes(
    a: &[u8],
    b: &[u8],
    max: usize,
    (prev, cur): &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    prev.clear();
    prev.extend(0..=b.len());
    cur.clear();
    cur.resize(b.len() + 1, 0);
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// Case-insensitive edit distance, if at most `max`.
pub fn distance_at_most(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    bounded_levenshtein_bytes(a.as_bytes(), b.as_bytes(), max, &mut (Vec::new(), Vec::new()))
}

/// How close `candidate` is to what was written, for fixes: `Some(0)` for the same words in
/// another order (or the same letters with other word breaks, `servicebus` / `service_bus`),
/// `Some(1)` for one small edit (one character, or one word more or less), else `None`.
pub fn closeness(written: &str, candidate: &str) -> Option<u8> {
    if written == candidate {
        return None;
    }
    let (wk, ck) = (word_key(written), word_key(candidate));
    if wk == ck {
        return Some(0);
    }
    let squash = |s: &str| -> String {
        s.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect()
    };
    if squash(written) == squash(candidate) {
        return Some(0);
    }
    if distance_at_most(written, candidate, 1).is_some() {
        return Some(1);
    }
    // One whole word added or dropped (`S3ToRedshiftTransferOperator`), keeping at least two.
    let shared = shared_words(&wk, &ck);
    if wk.len().abs_diff(ck.len()) == 1 && shared == wk.len().min(ck.len()) && shared >= 2 {
        return Some(1);
    }
    None
}

/// The one candidate closest to `written` by [`closeness`], when no other is as close.
pub fn confident_match<'c>(
    written: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let mut best: Option<(u8, &'c str)> = None;
    let mut tie = false;
    for c in candidates {
        let Some(score) = closeness(written, c) else { continue };
        match best {
            Some((b, name)) if score == b && name != c => tie = true,
            Some((b, _)) if score >= b => {}
            _ => {
                best = Some((score, c));
                tie = false;
            }
        }
    }
    if tie { None } else { best.map(|(_, c)| c) }
}

/// How close a candidate is to a queried name; smaller is closer. Ordered by words first (each
/// word of either name without a partner in the other counts 2, a partner one edit away from
/// four letters on counts 1), then by the case-insensitive edit distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rank {
    pub words: usize,
    pub distance: usize,
}

/// A name to rank candidates against; its words are split once.
pub struct Query {
    lower: String,
    words: Vec<String>,
    /// Edit distance up to which an otherwise unrelated candidate still counts.
    max_distance: usize,
}

impl Query {
    pub fn new(name: &str) -> Self {
        Query {
            lower: name.to_ascii_lowercase(),
            words: words(name),
            max_distance: (name.len() / 3).max(2),
        }
    }

    /// The candidate's rank, or `None` when it is unrelated: more than half of the words
    /// differ and it is more than a third of the name's length of edits away.
    pub fn rank(&self, candidate: &str) -> Option<Rank> {
        self.rank_with_words(candidate, &words(candidate))
    }

    /// [`rank`](Self::rank) with the candidate's words already split.
    pub fn rank_with_words(&self, candidate: &str, candidate_words: &[String]) -> Option<Rank> {
        let (unmatched, near) = unmatched_words(&self.words, candidate_words);
        let total = self.words.len() + candidate_words.len();
        let matched = (total - unmatched) / 2;
        let related_by_words =
            matched > 0 && matched * 2 > self.words.len().max(candidate_words.len());
        let lower = candidate.to_ascii_lowercase();
        let bound =
            if related_by_words { self.lower.len().max(lower.len()) } else { self.max_distance };
        let distance = bounded_levenshtein_bytes(
            self.lower.as_bytes(),
            lower.as_bytes(),
            bound,
            &mut (Vec::new(), Vec::new()),
        );
        distance.map(|d| Rank { words: 2 * unmatched + near, distance: d })
    }
}

/// Words of `a` and `b` left without a partner, and how many partners are only near (one
/// edit apart, words of four letters or more, matched after the exact ones).
fn unmatched_words(a: &[String], b: &[String]) -> (usize, usize) {
    let mut used = vec![false; b.len()];
    let mut matched = 0;
    let mut pending: Vec<&String> = Vec::new();
    for w in a {
        match (0..b.len()).find(|&j| !used[j] && b[j] == *w) {
            Some(j) => {
                used[j] = true;
                matched += 1;
            }
            None => pending.push(w),
        }
    }
    let mut near = 0;
    let mut buffers = (Vec::new(), Vec::new());
    for w in pending {
        if w.len() < 4 {
            continue;
        }
        let close = (0..b.len()).find(|&j| {
            !used[j]
                && b[j].len() >= 4
                && bounded_levenshtein_bytes(w.as_bytes(), b[j].as_bytes(), 1, &mut buffers)
                    .is_some()
        });
        if let Some(j) = close {
            used[j] = true;
            matched += 1;
            near += 1;
        }
    }
    (a.len() + b.len() - 2 * matched, near)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_names() {
        assert_eq!(words("GCSToBigQueryOperator"), ["gcs", "to", "big", "query", "operator"]);
        assert_eq!(words("S3KeySensor"), ["s3", "key", "sensor"]);
        assert_eq!(words("aws_conn_id"), ["aws", "conn", "id"]);
        assert_eq!(words("DAG"), ["dag"]);
        assert_eq!(words("EC2StartInstanceOperator"), ["ec2", "start", "instance", "operator"]);
        assert_eq!(
            word_key("DataprocClusterCreateOperator"),
            word_key("DataprocCreateClusterOperator")
        );
    }

    #[test]
    fn closeness_and_confidence() {
        assert_eq!(
            closeness("DataprocClusterCreateOperator", "DataprocCreateClusterOperator"),
            Some(0)
        );
        assert_eq!(closeness("azure_servicebus_conn_id", "azure_service_bus_conn_id"), Some(0));
        assert_eq!(closeness("bash_comand", "bash_command"), Some(1));
        assert_eq!(closeness("S3ToRedshiftTransferOperator", "S3ToRedshiftOperator"), Some(1));
        assert_eq!(closeness("retries", "retry_delay"), None);
        assert_eq!(closeness("same", "same"), None);
        assert_eq!(confident_match("sql_conn", ["sql_conn_id", "conn_id"]), Some("sql_conn_id"));
        // Two equally close candidates: no confident match.
        assert_eq!(confident_match("cat", ["bat", "hat"]), None);
        // A word-order match beats a one-letter one.
        assert_eq!(confident_match("ab_cd", ["cd_ab", "ab_ce"]), Some("cd_ab"));
    }

    #[test]
    fn ranks_words_before_letters() {
        let q = Query::new("DataprocClusterCreateOperator");
        let permuted = q.rank("DataprocCreateClusterOperator").unwrap();
        let other_verb = q.rank("DataprocDeleteClusterOperator").unwrap();
        assert_eq!(permuted.words, 0);
        assert!(permuted < other_verb, "{permuted:?} {other_verb:?}");
        assert!(q.rank("S3KeySensor").is_none());
        // A typo in one word still matches that word.
        let q = Query::new("BashOpertor");
        assert_eq!(q.rank("BashOperator"), Some(Rank { words: 1, distance: 1 }));
        // Exact words beat near ones: `BashOperator` for `OperatorBash`, not `BaseOperator`.
        let q = Query::new("OperatorBash");
        assert!(q.rank("BashOperator") < q.rank("BaseOperator"));
        assert!(q.rank("BashSensor").is_none_or(|r| r > q.rank("BashOperator").unwrap()));
    }
}
