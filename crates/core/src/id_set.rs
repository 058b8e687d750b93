//! Indices into a table gathered from several lists (a word's classes, a class's candidates):
//! each once and in ascending order, marked in a bit set rather than by sorting lists that run
//! to thousands for a common word.

/// The indices in `lists` in `lo..hi` (others are ignored), each once, ascending.
pub(crate) fn union_in_order<'l>(
    lo: usize,
    hi: usize,
    lists: impl IntoIterator<Item = &'l [u32]>,
) -> impl Iterator<Item = usize> {
    let mut marked = vec![0u64; hi.saturating_sub(lo).div_ceil(64)];
    for &i in lists.into_iter().flatten() {
        let Some(at) = (i as usize).checked_sub(lo).filter(|_| (i as usize) < hi) else {
            continue;
        };
        marked[at / 64] |= 1 << (at % 64);
    }
    marked.into_iter().enumerate().flat_map(move |(k, mut bits)| {
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let i = lo + k * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                i
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_index_once_in_order() {
        let lists: [&[u32]; 4] = [&[130, 3, 64], &[3, 63, 0], &[], &[200, 129]];
        let got: Vec<usize> = union_in_order(0, 131, lists).collect();
        assert_eq!(got, [0, 3, 63, 64, 129, 130]);
        assert_eq!(union_in_order(0, 0, [&[1u32][..]]).count(), 0);
        let got: Vec<usize> = union_in_order(3, 130, lists).collect();
        assert_eq!(got, [3, 63, 64, 129]);
    }
}
