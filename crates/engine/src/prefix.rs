//! Prompt prefix reuse. The requests of a batch share a long prefix (system prompt, API sheet),
//! and a repair round's prompt starts with the whole previous round. Each sequence's KV cells
//! stay in the cache after its request ends, and a new request starts from the longest token
//! prefix it has in common with any sequence's cells (llama.cpp shares those cells between
//! sequences), so only the rest of its prompt is decoded. When another sequence is still
//! decoding a longer common prefix, the new one waits for it instead of decoding the same tokens
//! a second time.
//!
//! This module only decides; the batch loop does the copying and decoding.

/// The tokens each sequence has in the KV cache, at positions `0..len`.
#[derive(Debug)]
pub struct CacheMap<T> {
    seqs: Vec<Vec<T>>,
}

/// Where a new request in a sequence gets its first tokens from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Reuse the first `tokens` cells of sequence `from` (possibly the request's own sequence;
    /// `tokens` may be 0) and decode the rest of the prompt.
    Copy { from: usize, tokens: usize },
    /// Sequence `leader` is decoding a prompt that shares `tokens` tokens with this one and has
    /// not got that far yet: wait until it has, then copy.
    Wait { leader: usize, tokens: usize },
}

/// Waiting for a leader pays only when it saves at least this many tokens over copying what is
/// in the cache now (below that, waiting only delays the request).
pub const MIN_WAIT_GAIN: usize = 16;

impl<T: Copy + PartialEq> CacheMap<T> {
    pub fn new(sequences: usize) -> Self {
        CacheMap { seqs: (0..sequences).map(|_| Vec::new()).collect() }
    }

    pub fn tokens(&self, seq: usize) -> &[T] {
        &self.seqs[seq]
    }

    /// A token was decoded for `seq` at the next position.
    pub fn push(&mut self, seq: usize, token: T) {
        self.seqs[seq].push(token);
    }

    /// `seq` keeps its first `len` cells.
    pub fn truncate(&mut self, seq: usize, len: usize) {
        self.seqs[seq].truncate(len);
    }

    /// `dst` now holds the first `len` cells of `src` (and nothing else).
    pub fn copy(&mut self, src: usize, dst: usize, len: usize) {
        if src == dst {
            self.seqs[dst].truncate(len);
        } else {
            let prefix = self.seqs[src][..len].to_vec();
            self.seqs[dst] = prefix;
        }
    }

    /// How a request with `prompt` starting in sequence `seq` should begin. `feeding` lists the
    /// sequences that are decoding their prompt now, with that whole prompt (their cells hold the
    /// part decoded so far). At least the prompt's last token is always left to decode: its
    /// logits give the first new token.
    pub fn plan(&self, seq: usize, prompt: &[T], feeding: &[(usize, &[T])]) -> Plan {
        let limit = prompt.len().saturating_sub(1);
        // The own sequence first: on a tie, reusing its cells needs no copy.
        let mut best = (seq, common_prefix(&self.seqs[seq], prompt).min(limit));
        for (other, cells) in self.seqs.iter().enumerate() {
            let n = common_prefix(cells, prompt).min(limit);
            if n > best.1 {
                best = (other, n);
            }
        }
        let mut wait: Option<(usize, usize)> = None;
        for &(leader, leader_prompt) in feeding {
            if leader == seq {
                continue;
            }
            let n = common_prefix(leader_prompt, prompt).min(limit);
            if n >= best.1 + MIN_WAIT_GAIN && wait.is_none_or(|(_, w)| n > w) {
                wait = Some((leader, n));
            }
        }
        match wait {
            Some((leader, tokens)) => Plan::Wait { leader, tokens },
            None => Plan::Copy { from: best.0, tokens: best.1 },
        }
    }
}

fn common_prefix<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(seqs: &[&[u32]]) -> CacheMap<u32> {
        let mut m = CacheMap::new(seqs.len());
        for (s, tokens) in seqs.iter().enumerate() {
            for &t in *tokens {
                m.push(s, t);
            }
        }
        m
    }

    #[test]
    fn reuses_the_longest_cached_prefix() {
        let m = map(&[&[1, 2, 3, 9], &[1, 2, 3, 4, 5], &[]]);
        assert_eq!(m.plan(2, &[1, 2, 3, 4, 6], &[]), Plan::Copy { from: 1, tokens: 4 });
        // Its own cells win a tie; nothing in common reuses nothing.
        assert_eq!(m.plan(0, &[1, 2, 3, 8], &[]), Plan::Copy { from: 0, tokens: 3 });
        assert_eq!(m.plan(2, &[7, 7], &[]), Plan::Copy { from: 2, tokens: 0 });
    }

    #[test]
    fn leaves_the_last_prompt_token_to_decode() {
        let m = map(&[&[1, 2, 3, 4, 5], &[]]);
        assert_eq!(m.plan(1, &[1, 2, 3], &[]), Plan::Copy { from: 0, tokens: 2 });
        assert_eq!(m.plan(1, &[], &[]), Plan::Copy { from: 1, tokens: 0 });
    }

    #[test]
    fn waits_for_a_leader_only_when_it_saves_enough() {
        let long: Vec<u32> = (0..100).collect();
        let mut mine = long.clone();
        mine.push(7);
        // Sequence 0 has decoded 10 of its 100 prompt tokens.
        let m = map(&[&long[..10], &[]]);
        let plan = m.plan(1, &mine, &[(0, &long)]);
        assert_eq!(plan, Plan::Wait { leader: 0, tokens: 100 });
        // Almost all of it decoded already: copy now.
        let m = map(&[&long[..95], &[]]);
        assert_eq!(m.plan(1, &mine, &[(0, &long)]), Plan::Copy { from: 0, tokens: 95 });
    }

    #[test]
    fn copies_and_truncates() {
        let mut m = map(&[&[1, 2, 3], &[4]]);
        m.copy(0, 1, 2);
        assert_eq!(m.tokens(1), &[1, 2]);
        m.copy(0, 0, 1);
        assert_eq!(m.tokens(0), &[1]);
        m.truncate(1, 0);
        assert!(m.tokens(1).is_empty());
    }
}
