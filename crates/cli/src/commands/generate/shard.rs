//! `--shard K/N`: a deterministic 1/N of the input rows, so that N machines (a Kubernetes
//! Indexed Job, a Slurm array) each generate their own share and `dagsmith merge` joins them.
//!
//! A row belongs to shard `hash(key) mod N`, its key being its id (`metadata.file_name`, else
//! `metadata.id`) or, without one, its line (`#LINE`). The hash is FNV-1a (64 bits) mixed by
//! splitmix64's finalizer: defined here bit for bit, so the split is the same on every machine
//! and in every dagsmith version.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// `K/N`, or `N` with K from `job_index` (`JOB_COMPLETION_INDEX`).
    pub fn resolve(text: &str, job_index: Option<String>) -> Result<Shard, String> {
        let number = |s: &str, what: &str| {
            s.trim().parse::<u32>().map_err(|_| format!("{what} {s:?} is not a whole number"))
        };
        let (index, count) = match text.split_once('/') {
            Some((k, n)) => (number(k, "the shard index")?, number(n, "the shard count")?),
            None => {
                let count = number(text, "the shard count")?;
                let Some(k) = job_index else {
                    return Err(
                        "give K/N, or N with JOB_COMPLETION_INDEX set (a Kubernetes Indexed Job)"
                            .into(),
                    );
                };
                (number(&k, "JOB_COMPLETION_INDEX")?, count)
            }
        };
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards (0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether the row with this id (or, without one, at this line) is this shard's.
    pub fn contains(&self, id: Option<&str>, line: usize) -> bool {
        shard_of(&key(id, line), self.count) == self.index
    }
}

fn key(id: Option<&str>, line: usize) -> String {
    match id {
        Some(id) => id.to_string(),
        None => format!("#{line}"),
    }
}

/// The shard of `key` among `count`.
pub fn shard_of(key: &str, count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h % u64::from(count)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_the_job_index() {
        assert_eq!(Shard::resolve("3/8", None).unwrap(), Shard { index: 3, count: 8 });
        assert_eq!(Shard::resolve("8", Some("5".into())).unwrap(), Shard { index: 5, count: 8 });
        // An explicit K wins over the environment.
        assert_eq!(Shard::resolve("1/2", Some("0".into())).unwrap().index, 1);
        assert!(Shard::resolve("8", None).unwrap_err().contains("JOB_COMPLETION_INDEX"));
        assert!(Shard::resolve("8/8", None).unwrap_err().contains("0 to 7"));
        assert!(Shard::resolve("0/0", None).is_err());
        assert!(Shard::resolve("a/2", None).unwrap_err().contains("\"a\""));
    }

    #[test]
    fn the_split_is_fixed_and_even() {
        // Pinned values: a change would reshuffle every sharded dataset.
        assert_eq!(shard_of("dag_0_variant_1", 8), shard_of("dag_0_variant_1", 8));
        let pinned: Vec<u32> =
            ["a", "b", "#1", "#2", "dag_17"].iter().map(|k| shard_of(k, 7)).collect();
        assert_eq!(pinned, PINNED);
        let mut counts = [0usize; 8];
        for i in 0..80_000 {
            counts[shard_of(&format!("dag_{i}_variant_1"), 8) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        // Each row is in exactly one shard.
        for line in 1..200 {
            let n = (0..5).filter(|&k| Shard { index: k, count: 5 }.contains(None, line)).count();
            assert_eq!(n, 1);
        }
    }

    // Computed independently (Python, same constants) when the split was defined.
    const PINNED: [u32; 5] = [3, 2, 5, 5, 6];
}
