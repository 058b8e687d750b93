//! "Did you mean": the modules, names and classes closest to one that was not found.

use rustc_hash::FxHashMap as HashMap;

use super::similarity::{self, bounded_levenshtein_bytes};
use super::{Catalog, Target, is_private_module};

/// A public class of a public module, its name prepared for comparisons once.
#[derive(Debug)]
pub(super) struct ClassName {
    pub(super) module: u32,
    /// Targets in which the module exists (not as a deprecation shim) and defines the class.
    pub(super) mask: u16,
    pub(super) prepared: similarity::Prepared,
}

/// [`ClassName`]s, and for each word that is not common (in fewer than 1 in 20 names) the
/// names that have it: "did you mean" looks only at names sharing such a word.
#[derive(Debug, Default)]
pub(super) struct ClassNames {
    pub(super) names: Vec<ClassName>,
    pub(super) by_word: HashMap<String, Vec<u32>>,
}

impl Catalog {
    /// The modules whose last path segment is `name`, by index.
    fn modules_named(&self, name: &str) -> &[u32] {
        let index = self.by_last_segment.get_or_init(|| {
            let mut index: HashMap<String, Vec<u32>> = HashMap::default();
            for (i, m) in self.modules.iter().enumerate() {
                let last = m.path.rsplit('.').next().unwrap_or(&m.path);
                index.entry(last.to_string()).or_default().push(i as u32);
            }
            index
        });
        index.get(name).map_or(&[], Vec::as_slice)
    }

    /// Up to `n` existing modules closest to `path` (for "did you mean"), best first.
    pub fn closest_modules(&self, t: Target, path: &str, n: usize) -> Vec<&str> {
        // Cheap on purpose (it runs for every unresolved import): siblings with a similar last
        // segment (a typo), and modules elsewhere with the same last one or two segments (moved
        // to another package). Comparing whole paths with every module was far too slow.
        let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
        let last2: String = {
            let parts: Vec<&str> = path.rsplitn(3, '.').collect();
            if parts.len() >= 2 { format!(".{}.{}", parts[1], parts[0]) } else { String::new() }
        };
        let max = (last.len() / 3).clamp(1, 3);
        let mut buffers = (Vec::new(), Vec::new());
        let mut scored: Vec<(usize, &str)> = Vec::new();
        // Only two kinds of module can score: the siblings (modules are sorted by path, so the
        // modules under `parent.` are one range; deeper ones only score by their last
        // segment) and modules whose last segment is `last`. The two sets share only `path`.
        let prefix = format!("{parent}.");
        let first = self.modules.partition_point(|m| m.path.as_str() < prefix.as_str());
        let under = &self.modules[first..];
        let under = &under[..under.partition_point(|m| m.path.starts_with(&prefix))];
        let siblings =
            under.iter().filter(|m| !parent.is_empty() && !m.path[prefix.len()..].contains('.'));
        let same_name = self.modules_named(last).iter().map(|&i| &self.modules[i as usize]);
        for m in siblings.chain(same_name) {
            let p = m.path.as_str();
            if p == path {
                continue;
            }
            let Some((m_parent, m_last)) = p.rsplit_once('.') else { continue };
            let score = if m_parent == parent {
                if last.starts_with(m_last) || m_last.starts_with(last) {
                    // `bash_operator` → `bash`
                    Some(2)
                } else {
                    bounded_levenshtein_bytes(last.as_bytes(), m_last.as_bytes(), max, &mut buffers)
                }
            } else if !last2.is_empty() && p.ends_with(&last2) {
                Some(1 + p.len().abs_diff(path.len()) / 8)
            } else if m_last == last {
                Some(2 + p.len().abs_diff(path.len()) / 8)
            } else {
                None
            };
            let Some(score) = score else { continue };
            if !m.exists.iter().any(|e| e.mask & t.bit() != 0)
                || (is_private_module(p) && !is_private_module(path))
            {
                continue;
            }
            scored.push((score, p));
        }
        scored.sort();
        scored.into_iter().take(n).map(|(_, p)| p).collect()
    }

    /// Up to `n` public names of `module` (attributes and submodules) closest to `name`, best
    /// first: the same words in another order before names with a word wrong or missing, then
    /// by edit distance (see [`similarity::rank`]).
    pub fn closest_names(&self, t: Target, module: &str, name: &str, n: usize) -> Vec<&str> {
        let Some(m) = self.module(module) else { return Vec::new() };
        let mut cands: Vec<&str> = Vec::new();
        cands.extend(m.classes.iter().filter(|c| c.mask & t.bit() != 0).map(|c| c.name));
        cands.extend(m.names.iter().filter(|c| c.mask & t.bit() != 0).map(|c| c.name));
        // The submodules: modules are sorted by path, so those under `module.` are one range.
        let prefix = format!("{module}.");
        let first = self.modules.partition_point(|m| m.path.as_str() < prefix.as_str());
        let end = first + self.modules[first..].partition_point(|m| m.path.starts_with(&prefix));
        for sub in &self.modules[first..end] {
            if let Some(rest) = sub.path.strip_prefix(&prefix)
                && !rest.contains('.')
                && sub.exists.iter().any(|e| e.mask & t.bit() != 0)
            {
                cands.push(rest);
            }
        }
        let query = similarity::Query::new(name);
        // Ranks order by words first: the edit distances (the costly part) are computed group
        // by group of equal words, best group first, until `n` names are ranked.
        let mut by_words: Vec<(similarity::WordRank, &str)> = cands
            .into_iter()
            .filter(|c| !c.starts_with('_') && *c != name)
            .filter_map(|c| Some((query.rank_by_words(c)?, c)))
            .collect();
        by_words.sort_by_key(|(w, c)| (w.words, *c));
        by_words.dedup_by(|a, b| a.1 == b.1);
        let mut scored: Vec<(similarity::Rank, &str)> = Vec::new();
        for group in by_words.chunk_by(|a, b| a.0.words == b.0.words) {
            if scored.len() >= n {
                break;
            }
            scored.extend(group.iter().filter_map(|&(w, c)| Some((query.finish(c, w)?, c))));
        }
        scored.sort();
        scored.into_iter().take(n).map(|(_, c)| c).collect()
    }

    pub(super) fn class_names(&self) -> &ClassNames {
        self.class_names.get_or_init(|| {
            let mut names: Vec<ClassName> = Vec::new();
            for (i, m) in self.modules.iter().enumerate() {
                if is_private_module(&m.path) {
                    continue;
                }
                let real = m.exists.iter().filter(|e| !e.shim).fold(0, |a, e| a | e.mask);
                let first = names.len();
                for c in &m.classes {
                    let mask = c.mask & real;
                    if mask == 0 || c.name.starts_with('_') {
                        continue;
                    }
                    match names[first..].iter_mut().find(|e| e.prepared.name == c.name) {
                        Some(e) => e.mask |= mask,
                        None => names.push(ClassName {
                            module: i as u32,
                            mask,
                            prepared: similarity::Prepared::new(c.name),
                        }),
                    }
                }
            }
            let mut by_word: HashMap<String, Vec<u32>> = HashMap::default();
            for (i, n) in names.iter().enumerate() {
                for w in &n.prepared.key {
                    let list = by_word.entry(w.clone()).or_default();
                    if list.last() != Some(&(i as u32)) {
                        list.push(i as u32);
                    }
                }
            }
            let common = names.len() / 20;
            by_word.retain(|_, list| list.len() <= common);
            ClassNames { names, by_word }
        })
    }

    /// Public classes defined in this target in modules whose path starts with `prefix`
    /// (`airflow.providers.google.`, or a module's own path), as (module, class name split
    /// into words).
    pub fn classes_under(
        &self,
        t: Target,
        prefix: &str,
    ) -> impl Iterator<Item = (&str, &similarity::Prepared)> {
        let (lo, hi) = self.class_names_under(prefix);
        let names = &self.class_names().names;
        names[lo..hi].iter().filter_map(move |c| self.class_in(c, t, prefix))
    }

    /// The range of [`ClassNames::names`] whose modules' paths start with `prefix`: modules are
    /// sorted by path and names by module, so both ranges are found by bisection.
    fn class_names_under(&self, prefix: &str) -> (usize, usize) {
        let first = self.modules.partition_point(|m| m.path.as_str() < prefix);
        let end = first + self.modules[first..].partition_point(|m| m.path.starts_with(prefix));
        let names = &self.class_names().names;
        let lo = names.partition_point(|c| (c.module as usize) < first);
        let hi = names.partition_point(|c| (c.module as usize) < end);
        (lo, hi)
    }

    /// [`classes_under`](Self::classes_under) that share a word with `name`, common words
    /// (`operator`, `to`, `sensor`...) aside: where a misremembered class name is looked for.
    pub fn classes_sharing_a_word(
        &self,
        t: Target,
        prefix: &str,
        name: &str,
    ) -> Vec<(&str, &similarity::Prepared)> {
        let index = self.class_names();
        // Each word's list is in ascending order: only its part under `prefix` is read (a
        // provider's classes are a few hundred of the tens of thousands).
        let (lo, hi) = self.class_names_under(prefix);
        let words = similarity::words(name);
        let lists = words.iter().filter_map(|w| index.by_word.get(w)).map(|list| {
            let start = list.partition_point(|&i| (i as usize) < lo);
            let end = list.partition_point(|&i| (i as usize) < hi);
            &list[start..end]
        });
        crate::id_set::union_in_order(lo, hi, lists)
            .filter_map(|i| self.class_in(&index.names[i], t, prefix))
            .collect()
    }

    fn class_in<'s>(
        &'s self,
        c: &'s ClassName,
        t: Target,
        prefix: &str,
    ) -> Option<(&'s str, &'s similarity::Prepared)> {
        let path = self.modules[c.module as usize].path.as_str();
        (c.mask & t.bit() != 0 && path.starts_with(prefix)).then_some((path, &c.prepared))
    }

    /// Up to `n` classes under `prefix` closest to `name`, best first: by words (as
    /// [`closest_names`](Self::closest_names); only classes that share most of the words), then
    /// by how many leading path segments their module shares with `near_module`, then by edit
    /// distance. As (module, class).
    pub fn closest_classes(
        &self,
        t: Target,
        prefix: &str,
        near_module: &str,
        name: &str,
        n: usize,
    ) -> Vec<(&str, &str)> {
        let query = similarity::Query::by_words(name);
        let shared_segments =
            |m: &str| m.split('.').zip(near_module.split('.')).take_while(|(a, b)| a == b).count();
        let mut scored: Vec<_> = self
            .classes_sharing_a_word(t, prefix, name)
            .into_iter()
            .filter(|(_, c)| c.name != name)
            .filter_map(|(m, c)| {
                let rank = query.rank_with_words(&c.name, &c.words)?;
                Some((
                    (rank.words, usize::MAX - shared_segments(m), rank.distance),
                    c.name.as_str(),
                    m,
                ))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(n).map(|(_, c, m)| (m, c)).collect()
    }
}
