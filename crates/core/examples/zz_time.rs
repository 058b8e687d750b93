fn main() {
    let mut all = Vec::new();
    for path in std::env::args().skip(1) {
        let src = std::fs::read_to_string(&path).unwrap();
        let opts = dagsmith_core::ValidateOptions::default();
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let r = dagsmith_core::validate(&src, &opts);
            best = best.min(t.elapsed().as_secs_f64());
            n = r.findings.len();
        }
        all.push((best, n, path));
    }
    all.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for (best, n, path) in all.iter().take(15) {
        println!("{:>9.2} ms  {:>7} findings  {path}", best * 1e3, n);
    }
}
