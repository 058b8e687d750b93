//! Sampling parameters and the per-sequence sampler built from them.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

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

/// Index of the largest logit (the first one on ties, as llama.cpp's greedy sampler) and its
/// lead over the second largest.
fn argmax(logits: &[f32]) -> (usize, f32) {
    let (mut best, mut first, mut second) = (0, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for (i, &l) in logits.iter().enumerate() {
        if l > first {
            second = first;
            first = l;
            best = i;
        } else if l > second {
            second = l;
        }
    }
    (best, first - second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum_and_measures_the_lead() {
        assert_eq!(argmax(&[1.0, 3.0, 2.5, 3.0]), (1, 0.0));
        assert_eq!(argmax(&[0.5, -1.0, 2.0]), (2, 1.5));
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
