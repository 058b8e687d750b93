//! CPU thread count: physical cores, not hardware threads. llama.cpp's matrix kernels saturate a
//! core's SIMD units; two threads on one core's hyper-threads mostly wait on each other.

use std::collections::HashSet;

/// Physical cores on this machine (Linux: distinct (package, core) pairs in /proc/cpuinfo);
/// the available parallelism elsewhere or when that cannot be read.
pub fn physical_cores() -> usize {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
    match std::fs::read_to_string("/proc/cpuinfo") {
        Ok(info) => count_cores(&info).map_or(logical, |n| n.min(logical)),
        Err(_) => logical,
    }
}

fn count_cores(cpuinfo: &str) -> Option<usize> {
    let mut cores = HashSet::new();
    let mut package = None;
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        match key.trim() {
            "physical id" => package = Some(value.trim().to_string()),
            "core id" => {
                cores.insert((package.clone(), value.trim().to_string()));
            }
            _ => {}
        }
    }
    (!cores.is_empty()).then_some(cores.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_threads_count_once() {
        let info = "processor: 0\nphysical id: 0\ncore id: 0\n\nprocessor: 1\nphysical id: 0\n\
                    core id: 0\n\nprocessor: 2\nphysical id: 0\ncore id: 1\n\n\
                    processor: 3\nphysical id: 1\ncore id: 1\n";
        assert_eq!(count_cores(info), Some(3));
        assert_eq!(count_cores("processor: 0\n"), None);
        assert!(physical_cores() >= 1);
    }
}
