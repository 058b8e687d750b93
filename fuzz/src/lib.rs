//! Shared parts of dagsmith's fuzz targets (`fuzz_targets/`): the checks every `validate()`
//! call must pass, a generator of DAG-like Python, and a structure-aware mutator.

pub mod check;
pub mod grammar;
pub mod mutate;
