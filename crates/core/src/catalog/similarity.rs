//! How alike two names are, for "did you mean" and for fixes: the words of a CamelCase or
//! snake_case name, and a bounded edit distance.
//!
//! LLMs mostly get a class's words right and their order or one word wrong
//! (`DataprocClusterCreateOperator` for `DataprocCreateClusterOperator`), which plain edit
//! distance ranks far away; comparing words first finds them.

use std::cell::RefCell;

/// The lower-cased words of a name: `GCSToBigQueryOperator` → `gcs to big query operator`,
/// `S3KeySensor` → `s3 key sensor`, `aws_conn_id` → `aws conn id`. Digits stay with the word
/// before them; an acronym ends before the capital that starts the next word.
pub fn words(name: &str) -> Vec<String> {
    if !name.is_ascii() {
        return words_unicode(name);
    }
    // Identifiers are ASCII in practice: work on bytes, slicing words out of the name.
    let mut out: Vec<String> = Vec::with_capacity(4);
    ascii_word_ranges(name.as_bytes(), |start, end| {
        out.push(name[start..end].to_ascii_lowercase())
    });
    out
}

/// Where each of [`words`] starts and ends in an ASCII name, in order.
fn ascii_word_ranges(b: &[u8], mut word: impl FnMut(usize, usize)) {
    let mut start = 0;
    for i in 0..b.len() {
        let c = b[i];
        if matches!(c, b'_' | b'-' | b'.') {
            if start < i {
                word(start, i);
            }
            start = i + 1;
            continue;
        }
        if c.is_ascii_uppercase() && start < i {
            let prev = b[i - 1];
            let next_lower = b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                word(start, i);
                start = i;
            }
        }
    }
    if start < b.len() {
        word(start, b.len());
    }
}

/// How many words of a candidate [`Query::rank_by_words`] splits without allocating, the
/// longest such word, and the longest name it lower-cases on the stack: a search meets
/// thousands of candidates, nearly all within these.
const SLICED_WORDS: usize = 16;
const SLICED_WORD_LEN: usize = 64;
const LOWERED_LEN: usize = 128;

/// `name` lower-cased into `buf` when it is ASCII and fits.
fn lowered_ascii<'b>(name: &str, buf: &'b mut [u8; LOWERED_LEN]) -> Option<&'b str> {
    let out = buf.get_mut(..name.len()).filter(|_| name.is_ascii())?;
    out.copy_from_slice(name.as_bytes());
    out.make_ascii_lowercase();
    // ASCII in, ASCII out.
    std::str::from_utf8(out).ok()
}

/// [`words`] of an ASCII `name` as slices of `lower` (the name lower-cased) into `out`: how
/// many, or `None` when `name` has more or longer words than `out` and [`SLICED_WORD_LEN`] hold.
fn sliced_words<'l>(
    name: &str,
    lower: &'l str,
    out: &mut [Lowered<'l>; SLICED_WORDS],
) -> Option<usize> {
    debug_assert!(name.is_ascii() && name.len() == lower.len());
    let (mut n, mut fits) = (0, true);
    ascii_word_ranges(name.as_bytes(), |start, end| match out.get_mut(n) {
        Some(slot) if end - start <= SLICED_WORD_LEN => {
            *slot = Lowered(&lower[start..end]);
            n += 1;
        }
        _ => fits = false,
    });
    fits.then_some(n)
}

/// A word of a candidate: lower-cased already (from [`words`]) or an ASCII slice of its name.
trait Word {
    fn len(&self) -> usize;
    /// Whether it is `lower` (a lower-cased word).
    fn is(&self, lower: &str) -> bool;
    /// Its lower-cased bytes, written into `buf` when they need lower-casing.
    fn lower<'s>(&'s self, buf: &'s mut [u8; SLICED_WORD_LEN]) -> &'s [u8];
}

impl Word for String {
    fn len(&self) -> usize {
        self.len()
    }
    fn is(&self, lower: &str) -> bool {
        self == lower
    }
    fn lower<'s>(&'s self, _: &'s mut [u8; SLICED_WORD_LEN]) -> &'s [u8] {
        self.as_bytes()
    }
}

/// A word from [`sliced_words`]: lower-cased ASCII, at most [`SLICED_WORD_LEN`] bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Lowered<'l>(&'l str);

impl AsRef<str> for Lowered<'_> {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl Word for Lowered<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn is(&self, lower: &str) -> bool {
        self.0 == lower
    }
    fn lower<'s>(&'s self, _: &'s mut [u8; SLICED_WORD_LEN]) -> &'s [u8] {
        self.0.as_bytes()
    }
}

/// Which of `n` items are marked: bits of one word up to 64 items (no allocation).
struct Marks {
    bits: u64,
    many: Vec<bool>,
}

impl Marks {
    fn new(n: usize) -> Self {
        Marks { bits: 0, many: if n > 64 { vec![false; n] } else { Vec::new() } }
    }
    fn get(&self, i: usize) -> bool {
        if self.many.is_empty() { self.bits >> i & 1 == 1 } else { self.many[i] }
    }
    fn set(&mut self, i: usize) {
        if self.many.is_empty() {
            self.bits |= 1 << i;
        } else {
            self.many[i] = true;
        }
    }
}

/// [`words`] for names with non-ASCII letters.
fn words_unicode(name: &str) -> Vec<String> {
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
pub fn shared_words<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i].as_ref().as_bytes(), b[j].as_ref().as_bytes());
        // Most pairs of words differ in their first letter, which then orders them: no call to
        // compare the rest.
        let order = match (x.first(), y.first()) {
            (Some(p), Some(q)) if p != q => p.cmp(q),
            _ => x.cmp(y),
        };
        match order {
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
    buffers: &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if max <= 1 {
        // "Is this word one typo away?", asked of every pair of words: no table needed.
        return within_one_edit(short, long).filter(|&d| d <= max);
    }
    if short.is_empty() || short.len() > 64 {
        return bounded_levenshtein(a, b, max, buffers);
    }
    let d = levenshtein_bit_parallel(short, long);
    (d <= max).then_some(d)
}

/// The edit distance of `short` and `long` (at most one byte longer) when it is 0 or 1: after
/// their common prefix, the rest must match with one byte of both, or of `long`, skipped.
fn within_one_edit(short: &[u8], long: &[u8]) -> Option<usize> {
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    let longer = long.len() - short.len();
    if prefix == short.len() {
        return Some(longer);
    }
    let rest_matches = match longer {
        0 => short[prefix + 1..] == long[prefix + 1..],
        _ => short[prefix..] == long[prefix + 1..],
    };
    rest_matches.then_some(1)
}

/// The Levenshtein distance of a pattern of 1 to 64 bytes and a text, by Myers' bit-vector
/// algorithm in Hyyrö's form: one column of the distance matrix per text byte, as bits of a
/// word (the names compared here are a few dozen bytes; the row-by-row DP was most of the
/// "did you mean" cost).
fn levenshtein_bit_parallel(pattern: &[u8], text: &[u8]) -> usize {
    debug_assert!((1..=64).contains(&pattern.len()));
    // The pattern's bit masks per byte, in a table that is all zeros between calls: zeroing a
    // fresh 2 KiB table cost more than comparing the two names.
    thread_local! {
        static PEQ: RefCell<[u64; 256]> = const { RefCell::new([0; 256]) };
    }
    PEQ.with_borrow_mut(|peq| {
        for (i, &c) in pattern.iter().enumerate() {
            peq[c as usize] |= 1 << i;
        }
        let d = bit_parallel_distance(peq, pattern.len(), text);
        for &c in pattern {
            peq[c as usize] = 0;
        }
        d
    })
}

/// [`levenshtein_bit_parallel`] with the pattern's masks (`peq`) of its `len` bytes.
fn bit_parallel_distance(peq: &[u64; 256], len: usize, text: &[u8]) -> usize {
    let last = 1u64 << (len - 1);
    let (mut pv, mut mv) = (!0u64, 0u64);
    let mut score = len;
    for &c in text {
        let eq = peq[c as usize];
        let xv = eq | mv;
        let xh = ((eq & pv).wrapping_add(pv) ^ pv) | eq;
        let mut ph = mv | !(xh | pv);
        let mut mh = pv & xh;
        if ph & last != 0 {
            score += 1;
        } else if mh & last != 0 {
            score -= 1;
        }
        ph = (ph << 1) | 1;
        mh <<= 1;
        pv = mh | !(xv | ph);
        mv = ph & xv;
    }
    score
}

/// Levenshtein distance over characters if it is at most `max`, else `None` (a non-ASCII
/// letter counts as one edit, not as its bytes).
pub fn bounded_levenshtein_chars(a: &str, b: &str, max: usize) -> Option<usize> {
    bounded_levenshtein_str(a, b, max, &mut (Vec::new(), Vec::new()))
}

/// [`bounded_levenshtein_chars`] with the caller's row buffers (for many comparisons in a
/// row); ASCII text, nearly all of it here, is compared as bytes without collecting chars.
pub fn bounded_levenshtein_str(
    a: &str,
    b: &str,
    max: usize,
    buffers: &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    if a.is_ascii() && b.is_ascii() {
        return bounded_levenshtein_bytes(a.as_bytes(), b.as_bytes(), max, buffers);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    bounded_levenshtein(&a, &b, max, buffers)
}

/// The one Levenshtein distance of the crate, over any symbols (bytes, characters): the
/// distance if it is at most `max`, else `None`. Stops as soon as every cell of a row is past
/// `max`.
pub fn bounded_levenshtein<T: PartialEq>(
    a: &[T],
    b: &[T],
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

/// A name split once, for comparing it with many others.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub name: String,
    pub lower: String,
    pub words: Vec<String>,
    /// The words, sorted.
    pub key: Vec<String>,
    /// Lower-cased, without `_`.
    pub squashed: String,
    /// The words' bytes in all: names with the same words have the same count, which rules
    /// out most candidates before their words are compared.
    pub letters: usize,
}

impl Prepared {
    pub fn new(name: &str) -> Self {
        let words = words(name);
        let mut key = words.clone();
        key.sort();
        let lower = name.to_ascii_lowercase();
        let squashed = if name.is_ascii() {
            // By whole runs between underscores, not a character at a time.
            lower.replace('_', "")
        } else {
            name.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect()
        };
        Prepared {
            name: name.to_string(),
            lower,
            squashed,
            letters: words.iter().map(String::len).sum(),
            words,
            key,
        }
    }
}

/// [`closeness`] of two prepared names.
pub fn closeness_prepared(written: &Prepared, candidate: &Prepared) -> Option<u8> {
    if written.name == candidate.name {
        return None;
    }
    if (written.letters == candidate.letters && written.key == candidate.key)
        || written.squashed == candidate.squashed
    {
        return Some(0);
    }
    one_edit_apart(written, &candidate.lower, &candidate.key).then_some(1)
}

/// Whether a candidate (lower-cased, and its sorted words) is one character or one whole word
/// (`S3ToRedshiftTransferOperator`, keeping at least two) away from what was written.
fn one_edit_apart<W: AsRef<str>>(written: &Prepared, lower: &str, key: &[W]) -> bool {
    if written.lower.len().abs_diff(lower.len()) <= 1
        && bounded_levenshtein_bytes(
            written.lower.as_bytes(),
            lower.as_bytes(),
            1,
            &mut (Vec::new(), Vec::new()),
        )
        .is_some()
    {
        return true;
    }
    let wk = &written.key;
    wk.len().abs_diff(key.len()) == 1 && {
        let shared = shared_words(wk, key);
        shared == wk.len().min(key.len()) && shared >= 2
    }
}

/// [`closeness_prepared`] of a candidate not prepared: the same answer without the candidate's
/// five allocations when it is ASCII and short (a fix compares a misspelt argument with every
/// parameter of its operator).
pub fn closeness_to(written: &Prepared, candidate: &str) -> Option<u8> {
    if written.name == candidate {
        return None;
    }
    let mut buf = [0u8; LOWERED_LEN];
    let mut sliced = [Lowered(""); SLICED_WORDS];
    let Some((lower, n)) = lowered_ascii(candidate, &mut buf)
        .and_then(|lower| Some((lower, sliced_words(candidate, lower, &mut sliced)?)))
    else {
        return closeness_prepared(written, &Prepared::new(candidate));
    };
    let key = &mut sliced[..n];
    key.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let same_key =
        key.len() == written.key.len() && key.iter().zip(&written.key).all(|(a, b)| a.0 == b);
    // ASCII: lower-cased without `_` is what `Prepared` squashes.
    let squashed = lower.bytes().filter(|&b| b != b'_');
    if same_key || squashed.eq(written.squashed.bytes()) {
        return Some(0);
    }
    one_edit_apart(written, lower, key).then_some(1)
}

/// How close `candidate` is to what was written, for fixes: `Some(0)` for the same words in
/// another order (or the same letters with other word breaks, `servicebus` / `service_bus`),
/// `Some(1)` for one small edit (one character, or one word more or less), else `None`.
pub fn closeness(written: &str, candidate: &str) -> Option<u8> {
    closeness_to(&Prepared::new(written), candidate)
}

/// The one candidate closest to `written` by [`closeness`], when no other is as close.
pub fn confident_match<'c>(
    written: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let written = Prepared::new(written);
    // Only candidates that could be close are split into words: one letter apart, or
    // containing one of the written words. A word is looked for only in a candidate that has
    // all its letters (most of an operator's arguments lack some).
    let words: Vec<(u32, &str)> =
        written.words.iter().map(|w| (letter_set(w), w.as_str())).collect();
    let worth_it = |c: &str| {
        c.len().abs_diff(written.lower.len()) <= 1 || {
            let letters = letter_set(c);
            words.iter().any(|&(set, w)| set & !letters == 0 && contains_ignoring_case(c, w))
        }
    };
    let candidates = candidates.into_iter().filter(|c| worth_it(c));
    confident_by(candidates, |c| c, |c| closeness_to(&written, c))
}

/// [`confident_match`] over items that carry their prepared name.
pub fn confident_among<T, I: IntoIterator<Item = T>>(
    items: I,
    written: &Prepared,
    prepared: impl for<'x> Fn(&'x T) -> (&'x str, &'x Prepared),
) -> Option<T> {
    confident_by(items, |t| prepared(t).0, |t| closeness_prepared(written, prepared(t).1))
}

/// The item of best (lowest) `score`, when no item of another `name` scores as well.
fn confident_by<T>(
    items: impl IntoIterator<Item = T>,
    name: impl for<'x> Fn(&'x T) -> &'x str,
    score: impl Fn(&T) -> Option<u8>,
) -> Option<T> {
    let mut best: Option<(u8, T)> = None;
    let mut tie = false;
    for item in items {
        let Some(s) = score(&item) else { continue };
        match &best {
            Some((b, other)) if s == *b => {
                if name(other) != name(&item) {
                    tie = true;
                }
            }
            Some((b, _)) if s > *b => {}
            _ => {
                best = Some((s, item));
                tie = false;
            }
        }
    }
    if tie { None } else { best.map(|(_, item)| item) }
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
    /// Only candidates related by words count (searches over thousands of classes, where a few
    /// letters in common mean nothing).
    words_only: bool,
}

impl Query {
    pub fn new(name: &str) -> Self {
        Query {
            lower: name.to_ascii_lowercase(),
            words: words(name),
            max_distance: (name.len() / 3).max(2),
            words_only: false,
        }
    }

    /// A query for which only candidates sharing most words count.
    pub fn by_words(name: &str) -> Self {
        Query { words_only: true, ..Query::new(name) }
    }

    /// The candidate's rank, or `None` when it is unrelated: more than half of the words
    /// differ and it is more than a third of the name's length of edits away.
    pub fn rank(&self, candidate: &str) -> Option<Rank> {
        self.finish(candidate, self.rank_by_words(candidate)?)
    }

    /// The part of [`rank`](Self::rank) that needs no edit distance: `words` is final, and a
    /// candidate with a worse one ranks after this one whatever the distances. `None`: unrelated
    /// whatever the distance.
    pub fn rank_by_words(&self, candidate: &str) -> Option<WordRank> {
        // Splitting into words is the costly part: a candidate that contains none of the
        // query's words can only be related by letters, and ranks after every candidate that
        // shares a word.
        // (`to`, `id`, `s` are inside too many names to say anything.)
        let telling = |w: &&String| w.len() >= 3 || w.bytes().any(|b| b.is_ascii_digit());
        // Lower-cased once, so that each test below compares bytes as they are.
        let mut buf = [0u8; LOWERED_LEN];
        let lower = lowered_ascii(candidate, &mut buf);
        let shares_a_word = match lower {
            Some(lower) => self.words.iter().filter(telling).any(|w| contains(lower, w)),
            None => self.words.iter().filter(telling).any(|w| contains_ignoring_case(candidate, w)),
        };
        if !shares_a_word {
            if self.words_only || candidate.len().abs_diff(self.lower.len()) > self.max_distance {
                return None;
            }
            return Some(WordRank { words: usize::MAX / 2, related: false });
        }
        let mut sliced = [Lowered(""); SLICED_WORDS];
        match lower.and_then(|lower| sliced_words(candidate, lower, &mut sliced)) {
            Some(n) => self.by_split_words(candidate, &sliced[..n]),
            None => self.by_split_words(candidate, &words(candidate)),
        }
    }

    /// [`rank_by_words`](Self::rank_by_words) with the candidate's words already split.
    fn by_split_words<W: Word>(&self, candidate: &str, candidate_words: &[W]) -> Option<WordRank> {
        let (unmatched, near) = unmatched_words(&self.words, candidate_words);
        let total = self.words.len() + candidate_words.len();
        let matched = (total - unmatched) / 2;
        let related = matched > 0 && matched * 2 > self.words.len().max(candidate_words.len());
        if !related
            && (self.words_only || candidate.len().abs_diff(self.lower.len()) > self.max_distance)
        {
            return None;
        }
        Some(WordRank { words: 2 * unmatched + near, related })
    }

    /// The rank of a candidate from its [`WordRank`]: the edit distance added.
    pub fn finish(&self, candidate: &str, by_words: WordRank) -> Option<Rank> {
        // Lower-cased on the stack: a search finishes hundreds of candidates.
        let mut buf = [0u8; 128];
        let owned;
        let lower: &[u8] = match buf.get_mut(..candidate.len()) {
            Some(b) => {
                b.copy_from_slice(candidate.as_bytes());
                b.make_ascii_lowercase();
                b
            }
            None => {
                owned = candidate.to_ascii_lowercase();
                owned.as_bytes()
            }
        };
        let distance = bounded_levenshtein_bytes(
            self.lower.as_bytes(),
            lower,
            self.max_distance,
            &mut (Vec::new(), Vec::new()),
        );
        let words = by_words.words;
        match distance {
            Some(d) => Some(Rank { words, distance: d }),
            // Related by words but far in letters: the distance only breaks ties between
            // candidates as far apart, so its exact value is not worth computing.
            None if by_words.related => Some(Rank { words, distance: self.max_distance + 1 }),
            None => None,
        }
    }

    /// [`rank`](Self::rank) with the candidate's words already split.
    pub fn rank_with_words(&self, candidate: &str, candidate_words: &[String]) -> Option<Rank> {
        self.finish(candidate, self.by_split_words(candidate, candidate_words)?)
    }
}

/// A candidate's rank before its edit distance: see [`Query::rank_by_words`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WordRank {
    pub words: usize,
    /// Related by words: it counts even when far in letters.
    pub related: bool,
}

/// Whether `haystack` contains `needle` (both lower-case).
fn contains(haystack: &str, needle: &str) -> bool {
    contains_by(haystack.as_bytes(), needle.as_bytes(), |b| b)
}

/// The ASCII letters of `s`, either case, as bits (`a` the lowest): a name without every
/// letter of a word does not contain the word, ignoring case.
fn letter_set(s: &str) -> u32 {
    s.bytes().fold(0, |set, b| match b.to_ascii_lowercase() {
        l @ b'a'..=b'z' => set | 1 << (l - b'a'),
        _ => set,
    })
}

/// Whether `haystack` contains `needle` (lower-case ASCII), ignoring ASCII case.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    contains_by(haystack.as_bytes(), needle.as_bytes(), |b| b.to_ascii_lowercase())
}

/// Whether `h` contains `n`, each byte of both mapped by `fold` before comparing.
fn contains_by(h: &[u8], n: &[u8], fold: impl Fn(u8) -> u8) -> bool {
    let Some((&first, rest)) = n.split_first() else { return false };
    let Some(last_start) = h.len().checked_sub(n.len()) else { return false };
    // The first byte alone rules out nearly every position (a search tries thousands of names).
    let first = fold(first);
    h[..=last_start].iter().enumerate().any(|(i, &c)| {
        fold(c) == first
            && h[i + 1..i + n.len()].iter().zip(rest).all(|(&x, &y)| fold(x) == fold(y))
    })
}

/// Words of `a` and `b` left without a partner, and how many partners are only near (one
/// edit apart, words of four letters or more, matched after the exact ones).
fn unmatched_words<W: Word>(a: &[String], b: &[W]) -> (usize, usize) {
    let mut used = Marks::new(b.len());
    let mut pending = Marks::new(a.len());
    let mut matched = 0;
    for (i, w) in a.iter().enumerate() {
        match (0..b.len()).find(|&j| !used.get(j) && b[j].is(w)) {
            Some(j) => {
                used.set(j);
                matched += 1;
            }
            None => pending.set(i),
        }
    }
    let mut near = 0;
    let mut buffers = (Vec::new(), Vec::new());
    let mut lower = [0u8; SLICED_WORD_LEN];
    for (i, w) in a.iter().enumerate() {
        if !pending.get(i) || w.len() < 4 {
            continue;
        }
        let close = (0..b.len()).find(|&j| {
            !used.get(j)
                && b[j].len() >= 4
                && bounded_levenshtein_bytes(w.as_bytes(), b[j].lower(&mut lower), 1, &mut buffers)
                    .is_some()
        });
        if let Some(j) = close {
            used.set(j);
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
    fn bit_parallel_distance_is_the_dp_distance() {
        // Every pair of a pseudo-random set over a small alphabet (many near matches), lengths
        // 0..70 (past the 64-byte word), against the row-by-row DP.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut words: Vec<Vec<u8>> = (0..120)
            .map(|_| {
                let len = (next() % 70) as usize;
                (0..len).map(|_| b"abcdeAB_"[(next() % 8) as usize]).collect()
            })
            .collect();
        // And words one or two edits from others, which random words rarely are.
        for i in 0..60 {
            let mut w = words[i].clone();
            for _ in 0..1 + i % 2 {
                let at = (next() as usize) % (w.len() + 1);
                match next() % 3 {
                    0 => w.insert(at, b'c'),
                    1 if at < w.len() => drop(w.remove(at)),
                    _ if at < w.len() => w[at] = b'e',
                    _ => w.push(b'a'),
                }
            }
            words.push(w);
        }
        for a in &words {
            for b in &words {
                for max in [0, 1, 3, 10, 80] {
                    let dp = bounded_levenshtein(a, b, max, &mut (Vec::new(), Vec::new()));
                    let fast = bounded_levenshtein_bytes(a, b, max, &mut (Vec::new(), Vec::new()));
                    assert_eq!(
                        fast,
                        dp,
                        "{:?} {:?} {max}",
                        String::from_utf8_lossy(a),
                        String::from_utf8_lossy(b)
                    );
                }
            }
        }
    }

    #[test]
    fn sliced_words_rank_like_split_words() {
        let names = [
            "GCSToBigQueryOperator",
            "GcsToBigqueryOperator",
            "S3KeySensor",
            "S3KeysSensor",
            "aws_conn_id",
            "DAG",
            "EC2StartInstanceOperator",
            "HTTPSHook",
            "v2Api",
            "a_b__c",
            "X",
            "DataprocCreateClusterOperator",
            "DataprocClusterCreateOperator",
            "BigQueryInsertJobOperator",
            "ÉtéOperator",
        ];
        let mut compared = 0;
        for q in names {
            let query = Query::new(q);
            for c in names {
                let mut buf = [0u8; LOWERED_LEN];
                let Some(lower) = lowered_ascii(c, &mut buf) else {
                    assert!(!c.is_ascii(), "{c}");
                    continue;
                };
                assert_eq!(lower, c.to_ascii_lowercase());
                let mut sliced = [Lowered(""); SLICED_WORDS];
                let n = sliced_words(c, lower, &mut sliced).unwrap();
                let lowered: Vec<String> = sliced[..n].iter().map(|w| w.0.to_string()).collect();
                assert_eq!(lowered, words(c), "{c}");
                assert_eq!(
                    query.by_split_words(c, &sliced[..n]),
                    query.by_split_words(c, &words(c))
                );
                compared += 1;
            }
        }
        assert!(compared > 150);
        // Too many words, or too long a word, for the slices: the allocating path.
        let (many, long) = ("a_".repeat(20), "a".repeat(65));
        let mut sliced = [Lowered(""); SLICED_WORDS];
        assert_eq!(sliced_words(&many, &many, &mut sliced), None);
        assert_eq!(sliced_words(&long, &long, &mut sliced), None);
        // Too long a name to lower-case on the stack, or not ASCII: the allocating path too.
        let mut buf = [0u8; LOWERED_LEN];
        assert_eq!(lowered_ascii(&"A".repeat(LOWERED_LEN + 1), &mut buf), None);
        assert_eq!(lowered_ascii("ÉtéOperator", &mut buf), None);
        assert_eq!(
            lowered_ascii(&"A".repeat(LOWERED_LEN), &mut buf),
            Some("a".repeat(LOWERED_LEN).as_str())
        );
    }

    #[test]
    fn letter_sets_fold_case_and_skip_what_is_not_a_letter() {
        assert_eq!(letter_set("Ab_z9"), 0b11 | 1 << 25);
        assert_eq!(letter_set("ba"), letter_set("AAB"));
        assert_eq!(letter_set("é_1"), 0);
    }

    #[test]
    fn contains_ignoring_case_is_a_lowercase_contains() {
        let names = ["S3KeySensor", "s3", "KEY", "keys", "", "sensor", "ÉtéS3", "é", "s3keysensor"];
        for h in names {
            for n in names {
                let expected = !n.is_empty()
                    && h.to_ascii_lowercase().contains(n.to_ascii_lowercase().as_str());
                assert_eq!(contains_ignoring_case(h, n), expected, "{h} {n}");
                // What confident_match's filter relies on.
                if expected {
                    assert_eq!(letter_set(n) & !letter_set(h), 0, "{h} {n}");
                }
                let (h, n) = (h.to_ascii_lowercase(), n.to_ascii_lowercase());
                assert_eq!(contains(&h, &n), expected, "{h} {n}");
            }
        }
    }

    #[test]
    fn words_of_names() {
        assert_eq!(words("GCSToBigQueryOperator"), ["gcs", "to", "big", "query", "operator"]);
        assert_eq!(words("S3KeySensor"), ["s3", "key", "sensor"]);
        assert_eq!(words("aws_conn_id"), ["aws", "conn", "id"]);
        assert_eq!(words("DAG"), ["dag"]);
        assert_eq!(words("EC2StartInstanceOperator"), ["ec2", "start", "instance", "operator"]);
        assert_eq!(words("__init__"), ["init"]);
        assert_eq!(words("ÉtéOperator"), ["été", "operator"]);
        for name in ["GCSToBigQueryOperator", "S3KeySensor", "a_b__c", "X", "HTTPSHook", "v2Api"] {
            assert_eq!(words(name), words_unicode(name), "{name}");
        }
        assert_eq!(
            word_key("DataprocClusterCreateOperator"),
            word_key("DataprocCreateClusterOperator")
        );
    }

    #[test]
    fn closeness_of_an_unprepared_candidate_is_that_of_a_prepared_one() {
        let long_word = format!("{}Operator", "x".repeat(70));
        let many_words = (0..20).map(|i| format!("W{i}")).collect::<String>();
        let names = [
            "bash_command",
            "bash_cmd",
            "BashCommand",
            "command_bash",
            "bashcommand",
            "env",
            "envs",
            "S3KeySensor",
            "s3_key_sensor",
            "SensorKeyS3",
            "S3KeySensorAsync",
            "sql",
            "sqls",
            "retry_delay",
            "retries",
            "provide_context",
            "op_kwargs",
            "op_args",
            "ÄpfelOperator",
            "AepfelOperator",
            "x",
            "",
            "__init__",
            "GCSToBigQueryOperator",
            "GcsToBigQueryOperator",
            "BigQueryToGCSOperator",
            "GCSToBigQuery",
            &long_word,
            &many_words,
        ];
        for a in names {
            let written = Prepared::new(a);
            for b in names {
                let expected = closeness_prepared(&written, &Prepared::new(b));
                assert_eq!(closeness_to(&written, b), expected, "{a} / {b}");
            }
        }
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
