//! A trickling response read in gulps: a server streams a chunk per token as it samples it, and
//! a thread that reads each one as it arrives is woken once per token — about 800 context
//! switches per DAG, far more than everything else the client does for it (docs/SCALE-OUT.md,
//! "Packets"). After a short read (the server sends slower than it is read), the next one waits
//! until `gap` has passed since it, so that the tokens sent meanwhile come in one read; and a
//! little longer, to the next point of a grid shared by all requests, so that the waiting
//! threads wake together: a timer each, expiring at its own time, cost as much as the reads.

use std::io::{self, Read};
use std::time::{Duration, Instant};

/// A read shorter than this is a trickle: a token's chunk is ~200 bytes, and an answer sent all
/// at once comes in reads of the buffer's size or the transport's (not always full: ureq hands
/// over what its own buffer holds).
pub(crate) const TRICKLE: usize = 4 << 10;

/// The waits of all requests end on one grid of a quarter of the gap (since the first wait of
/// the process): their threads wake together, on one timer, instead of each on its own.
pub(crate) const GRID_STEPS: u32 = 4;

/// The first point of a grid of `step` (from the process's first call) at or after `t`.
pub(crate) fn on_the_grid(t: Instant, step: Duration) -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    let step = step.as_nanos().max(1);
    let since = t.saturating_duration_since(origin).as_nanos();
    let steps = since.div_ceil(step);
    origin + Duration::from_nanos(u64::try_from(steps * step).unwrap_or(u64::MAX))
}

pub(crate) struct Gapped<R> {
    inner: R,
    gap: Duration,
    /// When the last read, a short one, returned.
    trickling_since: Option<Instant>,
}

impl<R> Gapped<R> {
    /// `gap` zero: every read goes straight through.
    pub fn new(inner: R, gap: Duration) -> Self {
        Gapped { inner, gap, trickling_since: None }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads go straight through from now on (the rest is read to its end at once).
    pub fn stop_waiting(&mut self) {
        self.gap = Duration::ZERO;
    }
}

impl<R: Read> Read for Gapped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(since) = self.trickling_since {
            let now = Instant::now();
            let until = on_the_grid(since + self.gap, self.gap / GRID_STEPS);
            if until > now {
                std::thread::sleep(until - now);
            }
        }
        let n = self.inner.read(buf)?;
        self.trickling_since = (n < TRICKLE && !self.gap.is_zero()).then(Instant::now);
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn waits_end_on_one_grid() {
        let step = Duration::from_millis(25);
        let now = Instant::now();
        let ends: Vec<Instant> = (0..200u64)
            .map(|i| now + Duration::from_micros(i * 997))
            .map(|t| {
                let end = on_the_grid(t, step);
                assert!(end >= t && end - t < step, "{t:?} -> {end:?}");
                end
            })
            .collect();
        // Points within one step of the grid end together; the ends are a step apart.
        let mut distinct = ends.clone();
        distinct.dedup();
        assert!((8..=10).contains(&distinct.len()), "{}", distinct.len());
        for pair in distinct.windows(2) {
            assert_eq!(pair[1] - pair[0], step);
        }
        assert_eq!(on_the_grid(distinct[0], step), distinct[0]);
    }

    /// Hands out `pieces` one per read, as a socket does packets.
    pub(crate) struct Packets(pub Vec<Vec<u8>>);

    impl Read for Packets {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let piece = self.0.remove(0);
            let n = piece.len().min(buf.len());
            buf[..n].copy_from_slice(&piece[..n]);
            if n < piece.len() {
                self.0.insert(0, piece[n..].to_vec());
            }
            Ok(n)
        }
    }

    #[test]
    fn reads_after_a_short_one_wait_and_after_long_ones_do_not() {
        let gap = Duration::from_millis(30);
        let long = TRICKLE + 100;
        let packets = vec![vec![1; 2 * long], vec![2; long], vec![3; 3], vec![4; 3]];
        let mut r = Gapped::new(Packets(packets), gap);
        let mut buf = vec![0u8; 2 * long];
        let start = Instant::now();
        assert_eq!(r.read(&mut buf).unwrap(), 2 * long); // long: no wait before the next
        assert_eq!(r.read(&mut buf).unwrap(), long); // not full, still long: no wait either
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        assert!(start.elapsed() < gap, "{:?}", start.elapsed());
        let short = Instant::now(); // short: the next waits
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        assert!(short.elapsed() >= gap, "{:?}", short.elapsed());
        r.stop_waiting();
        let at_end = Instant::now();
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert!(at_end.elapsed() < gap, "{:?}", at_end.elapsed());
        let mut all = Vec::new();
        let mut whole = Gapped::new(Packets(vec![b"ab".to_vec(), b"cd".to_vec()]), Duration::ZERO);
        whole.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"abcd");
    }
}
