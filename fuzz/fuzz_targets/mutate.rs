//! Fuzzes `dagsmith_core::validate` with structure-aware mutations (`mutate`) of real DAG
//! files: inputs are laid out as in the `validate` target (version byte, then Python source) and
//! seeded from `../shared/corpus`; three mutations in four parse the source and splice generated
//! statements and expressions into it, the fourth is libFuzzer's own byte-level one (which also
//! takes over when the source does not parse).
#![no_main]

use dagsmith_fuzz::check::validate_checked;
use dagsmith_fuzz::mutate::{Rng, mutate};
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    validate_checked(selector, &String::from_utf8_lossy(rest));
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    let mut rng = Rng::new(seed);
    if size > 1 && rng.below(4) != 0 {
        if let Ok(source) = std::str::from_utf8(&data[1..size]) {
            if let Some(mutant) = mutate(source, &mut rng) {
                let len = mutant.len() + 1;
                if len <= max_size {
                    data[1..len].copy_from_slice(mutant.as_bytes());
                    return len;
                }
            }
        }
    }
    fuzzer_mutate(data, size, max_size)
});
