//! Sampling parameters and the per-sequence sampler built from them.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use rayon::ThreadPool;
use rayon::prelude::*;

// The parameters and their defaults live in dagsmith-core's wire types, where the server's
// requests and the playground (which cannot link llama.cpp) read them too.
pub use dagsmith_core::wire::SamplingParams;

/// A sequence's sampler. Plain greedy skips llama.cpp's sampler chain: the chain copies all
/// ~150k logits into a candidate array per token, an argmax reads them in place (measurably
/// faster with 8 sequences on a 150k-token vocabulary).
pub enum Sampler {
    Argmax,
    Chain(LlamaSampler),
}

impl Sampler {
    pub fn new(params: &SamplingParams, n_vocab: i32) -> Sampler {
        let penalties = params.repeat_penalty != 1.0 && params.repeat_last_n > 0;
        if params.is_greedy() && !penalties {
            return Sampler::Argmax;
        }
        let mut chain = Vec::new();
        if penalties {
            chain.push(LlamaSampler::penalties(
                n_vocab,
                params.repeat_last_n,
                params.repeat_penalty,
                0.0,
                0.0,
            ));
        }
        if params.is_greedy() {
            chain.push(LlamaSampler::greedy());
        } else {
            if params.top_k > 0 {
                chain.push(LlamaSampler::top_k(params.top_k));
            }
            if params.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(params.top_p, 1));
            }
            if params.min_p > 0.0 {
                chain.push(LlamaSampler::min_p(params.min_p, 1));
            }
            chain.push(LlamaSampler::temp(params.temperature));
            chain.push(LlamaSampler::dist(params.seed));
        }
        Sampler::Chain(LlamaSampler::chain_simple(chain))
    }

    /// Plain greedy: its tokens can be taken from [`argmax_rows`] instead of [`Sampler::sample`].
    pub fn is_argmax(&self) -> bool {
        matches!(self, Sampler::Argmax)
    }

    /// The next token from the logits at `index` of the last decoded batch, and for argmax the
    /// margin over the runner-up.
    pub fn sample(&mut self, ctx: &LlamaContext<'_>, index: i32) -> (LlamaToken, Option<f32>) {
        match self {
            Sampler::Argmax => {
                let (best, margin) = argmax(ctx.get_logits_ith(index));
                (LlamaToken(best as i32), Some(margin))
            }
            // `sample` also accepts the token into the chain (penalty history).
            Sampler::Chain(s) => (s.sample(ctx, index), None),
        }
    }
}

/// The argmax of each of `rows` (see [`argmax`]), in order, spread over `pool`'s threads when
/// there is one. Reading ~150k logits per sequence per step on one core is what held back
/// throughput at high `--parallel` with the model on a GPU (docs/BENCHMARKS.md, "On an NVIDIA
/// GPU"), while the CPU's cores sat idle between decode steps.
pub fn argmax_rows(rows: &[&[f32]], pool: Option<&ThreadPool>) -> Vec<(usize, f32)> {
    match pool {
        Some(pool) if rows.len() > 1 => {
            pool.install(|| rows.par_iter().map(|row| argmax(row)).collect())
        }
        _ => rows.iter().map(|row| argmax(row)).collect(),
    }
}

/// Index of the largest logit (the first one on ties, as llama.cpp's greedy sampler) and its
/// lead over the second largest; NaNs are skipped. Each of `LANES` lanes keeps its own top two
/// with branch-free min/max, which the compiler turns into SIMD; a second pass finds the index.
fn argmax(logits: &[f32]) -> (usize, f32) {
    const LANES: usize = 16;
    // `b > a` is false for a NaN `b`, so a NaN never displaces a value.
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let smaller = |a: f32, b: f32| if b > a { a } else { b };
    let mut first = [f32::NEG_INFINITY; LANES];
    let mut second = [f32::NEG_INFINITY; LANES];
    let chunks = logits.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for lane in 0..LANES {
            let x = chunk[lane];
            second[lane] = larger(second[lane], smaller(first[lane], x));
            first[lane] = larger(first[lane], x);
        }
    }
    // The overall top two are among the lanes' top twos.
    let (mut top, mut runner_up) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &x in first.iter().chain(&second).chain(rest) {
        runner_up = larger(runner_up, smaller(top, x));
        top = larger(top, x);
    }
    let best = logits.iter().position(|&x| x == top).unwrap_or(0);
    (best, top - runner_up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum_and_measures_the_lead() {
        assert_eq!(argmax(&[1.0, 3.0, 2.5, 3.0]), (1, 0.0));
        assert_eq!(argmax(&[0.5, -1.0, 2.0]), (2, 1.5));
        assert_eq!(argmax(&[0.5, f32::NAN, 2.0, f32::NAN]), (2, 1.5));
    }

    /// The plain scan the lane-wise version replaces, as the reference for long rows.
    fn argmax_by_scan(logits: &[f32]) -> (usize, f32) {
        let (mut best, mut first, mut second) = (0, f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (i, &l) in logits.iter().enumerate() {
            if l > first {
                (second, first, best) = (first, l, i);
            } else if l > second {
                second = l;
            }
        }
        (best, first - second)
    }

    fn rows(n: usize, len: usize) -> Vec<Vec<f32>> {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        (0..n)
            .map(|r| {
                let mut row: Vec<f32> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x >> 40) as f32 / 65536.0
                    })
                    .collect();
                // Ties for the top and for the runner-up, in varying lanes and in the tail.
                let top = 1000.0 + r as f32;
                row[(r * 37) % len] = top;
                if r % 2 == 0 {
                    row[(len - 1).saturating_sub(r % 5)] = top;
                }
                if r % 3 == 0 {
                    row[(r * 11 + 5) % len] = top - 0.5;
                    row[(r * 13 + 9) % len] = top - 0.5;
                }
                row
            })
            .collect()
    }

    #[test]
    fn lanes_agree_with_a_plain_scan() {
        for len in [1, 15, 16, 17, 100, 151_936] {
            for row in rows(7, len) {
                assert_eq!(argmax(&row), argmax_by_scan(&row), "length {len}");
            }
        }
    }

    #[test]
    fn rows_over_threads_keep_their_order() {
        let data = rows(13, 1000);
        let slices: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
        let expected: Vec<_> = slices.iter().map(|r| argmax_by_scan(r)).collect();
        assert_eq!(argmax_rows(&slices, None), expected);
        for threads in [1, 2, 4, 13, 64] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            assert_eq!(argmax_rows(&slices, Some(&pool)), expected, "{threads} threads");
            assert!(argmax_rows(&[], Some(&pool)).is_empty());
        }
    }

    #[test]
    fn default_is_greedy_and_valid() {
        let p = SamplingParams::default();
        assert!(p.is_greedy());
        assert_eq!(p.check(), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_named() {
        let bad = |f: fn(&mut SamplingParams)| {
            let mut p = SamplingParams::default();
            f(&mut p);
            p.check().unwrap_err()
        };
        assert!(bad(|p| p.temperature = -1.0).contains("temperature"));
        assert!(bad(|p| p.top_p = 0.0).contains("top_p"));
        assert!(bad(|p| p.top_p = f32::NAN).contains("top_p"));
        assert!(bad(|p| p.top_k = -2).contains("top_k"));
        assert!(bad(|p| p.repeat_penalty = 0.0).contains("repeat_penalty"));
    }
}
