//! Module and name queries: does a module exist in a target, what does `from MODULE import
//! NAME` find, and which provider release has what a target lacks.

use super::{Catalog, ModuleInfo, ModuleStatus, NameStatus, Target};

const MODULE_DUNDERS: &[&str] = &[
    "__name__",
    "__doc__",
    "__package__",
    "__loader__",
    "__spec__",
    "__file__",
    "__cached__",
    "__builtins__",
    "__dict__",
    "__path__",
];

impl Catalog {
    /// Whether `import PATH` finds the module in this target.
    pub fn module_exists(&self, t: Target, path: &str) -> ModuleStatus {
        if self.existence(t, path).is_some() {
            ModuleStatus::Exists
        } else if self.older_provider_has(t, path, None).is_some() {
            ModuleStatus::InOlderProvider
        } else {
            ModuleStatus::Missing
        }
    }

    /// The version of `dist` used in target `t`.
    fn dist_version(&self, dist: u16, t: Target) -> Option<&'static str> {
        self.dists[dist as usize].1[t.index()]
    }

    /// If a provider module (or `module.name`) is absent from target `t` but present in the
    /// release of that provider that was current when the target's Airflow version came out
    /// (and that admits it): that provider's name and release.
    pub fn older_provider_has(
        &self,
        t: Target,
        module: &str,
        name: Option<&str>,
    ) -> Option<(&str, &str)> {
        let snap = self.snapshot(t)?;
        let m = self.module(module)?;
        let e = m.exists.iter().find(|e| e.mask & snap.bit() != 0)?;
        let (dist_name, _) = &self.dists[e.dist as usize];
        if !dist_name.starts_with("apache-airflow-providers-") {
            return None;
        }
        let version = self.dist_version(e.dist, snap)?;
        let has = match name {
            None => true,
            Some(n) => {
                m.classes.iter().any(|c| c.name == n && c.mask & snap.bit() != 0)
                    || m.names.iter().any(|r| r.name == n && r.mask & snap.bit() != 0)
                    || self.existence(snap, &super::qualified(module, n)).is_some()
            }
        };
        has.then_some((dist_name.as_str(), version))
    }

    /// Facts about a module that exists in this target.
    pub fn module_info(&self, t: Target, path: &str) -> Option<ModuleInfo<'_>> {
        let (_, e) = self.existence(t, path)?;
        Some(ModuleInfo {
            distribution: &self.dists[e.dist as usize].0,
            is_package: e.package,
            is_deprecated_shim: e.shim,
            is_open: e.open && e.forward.is_none(),
            requires_airflow: e.requires,
        })
    }

    /// The distribution that ships the module in this target, e.g.
    /// `Some("apache-airflow-providers-google")`.
    pub fn module_distribution(&self, t: Target, path: &str) -> Option<&str> {
        self.module_info(t, path).map(|i| i.distribution)
    }

    /// The distribution that ships the module in any target (newest first).
    pub fn module_distribution_any(&self, path: &str) -> Option<&str> {
        let m = self.module(path)?;
        let t = self.module_targets(path).into_iter().last()?;
        m.exists
            .iter()
            .find(|e| e.mask & t.bit() != 0)
            .map(|e| self.dists[e.dist as usize].0.as_str())
    }

    /// The targets in which the module exists.
    pub fn module_targets(&self, path: &str) -> Vec<Target> {
        let mask = self.module(path).map_or(0, |m| m.exists.iter().fold(0, |a, e| a | e.mask));
        self.targets().filter(|t| mask & t.bit() != 0).collect()
    }

    /// Whether the module exists in at least one target.
    pub fn module_exists_in_any(&self, path: &str) -> bool {
        !self.module_targets(path).is_empty()
    }

    /// Whether `from MODULE import NAME` finds NAME in this target's distributions
    /// ([`NameStatus::Unknown`] counts as found; [`NameStatus::InOlderProvider`] does not).
    pub fn name_in_module(&self, t: Target, module: &str, name: &str) -> bool {
        matches!(self.name_status(t, module, name), NameStatus::Exists | NameStatus::Unknown)
    }

    /// What `from MODULE import NAME` does in this target.
    pub fn name_status(&self, t: Target, module: &str, name: &str) -> NameStatus {
        match self.name_status_depth(t, module, name, 0) {
            NameStatus::ModuleMissing if self.older_provider_has(t, module, None).is_some() => {
                if self.older_provider_has(t, module, Some(name)).is_some() {
                    NameStatus::InOlderProvider
                } else {
                    // The module is only in the older provider release, and that lacks the name.
                    NameStatus::Missing
                }
            }
            NameStatus::Missing if self.older_provider_has(t, module, Some(name)).is_some() => {
                NameStatus::InOlderProvider
            }
            s => s,
        }
    }

    fn name_status_depth(&self, t: Target, module: &str, name: &str, depth: u8) -> NameStatus {
        let Some((m, e)) = self.existence(t, module) else { return NameStatus::ModuleMissing };
        if MODULE_DUNDERS.contains(&name) {
            return NameStatus::Exists;
        }
        if m.classes.iter().any(|c| c.name == name && c.mask & t.bit() != 0)
            || m.names.iter().any(|n| n.name == name && n.mask & t.bit() != 0)
        {
            return NameStatus::Exists;
        }
        if self.existence(t, &super::qualified(module, name)).is_some() {
            return NameStatus::Exists;
        }
        if let Some(fwd) = e.forward
            && depth < 8
            && self.existence(t, fwd).is_some()
        {
            return self.name_status_depth(t, fwd, name, depth + 1);
        }
        if e.open { NameStatus::Unknown } else { NameStatus::Missing }
    }

    /// The targets in which `from MODULE import NAME` works.
    pub fn name_targets(&self, module: &str, name: &str) -> Vec<Target> {
        // Asked about a name that is missing where it was imported: usually one that no target
        // has, which one look at the module's record shows, where asking each target looked
        // at the record (and built `module.name`) again every time.
        let Some(m) = self.module(module) else { return Vec::new() };
        if !MODULE_DUNDERS.contains(&name)
            && !m.classes.iter().any(|c| c.name == name)
            && !m.names.iter().any(|n| n.name == name)
            && m.exists.iter().all(|e| e.forward.is_none())
            && self.module(&super::qualified(module, name)).is_none()
        {
            return Vec::new();
        }
        self.targets()
            .filter(|t| self.name_status(*t, module, name) == NameStatus::Exists)
            .collect()
    }
}
