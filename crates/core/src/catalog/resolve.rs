//! Following imports, lazy imports and shims to where a class or name is defined.

use rustc_hash::FxHashMap as HashMap;

use super::{Catalog, ClassRec, Target, is_private_module};

fn expand_target(raw: &str, name: &str) -> String {
    if raw.ends_with('.') { format!("{raw}{name}") } else { raw.to_string() }
}

impl Catalog {
    fn class_index(&self) -> &HashMap<&'static str, Vec<u32>> {
        self.class_index.get_or_init(|| {
            let mut idx: HashMap<&'static str, Vec<u32>> = HashMap::default();
            for (i, m) in self.modules.iter().enumerate() {
                let mut seen: Vec<&'static str> = Vec::new();
                for c in &m.classes {
                    if !seen.contains(&c.name) {
                        seen.push(c.name);
                        idx.entry(c.name).or_default().push(i as u32);
                    }
                }
                for nr in &m.names {
                    if nr.target.is_some()
                        && nr.name.starts_with(|c: char| c.is_ascii_uppercase())
                        && !seen.contains(&nr.name)
                    {
                        seen.push(nr.name);
                        idx.entry(nr.name).or_default().push(i as u32);
                    }
                }
            }
            idx
        })
    }

    /// Public modules from which `from MODULE import CLASS_NAME` gives a class of that name in
    /// this target (where it is defined first, then re-exports; shorter paths first). For
    /// "right name, wrong module" hints.
    pub fn find_class(&self, t: Target, class_name: &str) -> Vec<String> {
        let (defs, reexports) = self.class_locations(t, class_name);
        defs.into_iter().chain(reexports).map(str::to_string).collect()
    }

    /// [`find_class`](Self::find_class) in two lists: the public modules that define the class,
    /// and those that re-export it (each with shorter paths first).
    pub fn class_locations(&self, t: Target, class_name: &str) -> (Vec<&str>, Vec<&str>) {
        (self.class_definitions(t, class_name), self.class_reexports(t, class_name))
    }

    /// The public modules of this target that define the class, shorter paths first. Cheap,
    /// unlike [`class_reexports`](Self::class_reexports): most callers need only these.
    pub fn class_definitions(&self, t: Target, class_name: &str) -> Vec<&str> {
        let mut defs: Vec<&str> = self
            .public_modules_naming(t, class_name)
            .filter(|(_, defines)| *defines)
            .map(|(p, _)| p)
            .collect();
        defs.sort_by_key(|p| (p.len(), *p));
        defs
    }

    /// The public modules of this target that re-export the class (defined elsewhere), shorter
    /// paths first: every candidate's imports followed to the definition, so a few hundred
    /// resolutions for a class as widely imported as `BaseOperator`. A re-export of a private
    /// module's class counts only before the first module that defines one.
    pub fn class_reexports(&self, t: Target, class_name: &str) -> Vec<&str> {
        let mut reexports: Vec<&str> = Vec::new();
        let mut defined = false;
        for (path, defines) in self.public_modules_naming(t, class_name) {
            if defines {
                defined = true;
            } else if let Some((dm, _)) = self.resolve_class(t, path, class_name)
                && (!is_private_module(&dm) || !defined)
            {
                reexports.push(path);
            }
        }
        reexports.sort_by_key(|p| (p.len(), *p));
        reexports
    }

    /// The public modules of this target that have a name `class_name` (in index order), and
    /// whether each defines a class of that name.
    fn public_modules_naming<'s, 'n>(
        &'s self,
        t: Target,
        class_name: &'n str,
    ) -> impl Iterator<Item = (&'s str, bool)> + use<'s, 'n> {
        let mods = self.class_index().get(class_name).map_or(&[][..], Vec::as_slice);
        mods.iter().filter_map(move |&i| {
            let m = &self.modules[i as usize];
            if is_private_module(&m.path) || self.existence(t, &m.path).is_none() {
                return None;
            }
            let defines = m.classes.iter().any(|c| c.name == class_name && c.mask & t.bit() != 0);
            Some((m.path.as_str(), defines))
        })
    }

    /// Follows imports, lazy imports and shims from `module.name` to the class definition:
    /// returns (defining module, class record).
    pub(super) fn resolve_class(
        &self,
        t: Target,
        module: &str,
        name: &str,
    ) -> Option<(String, ClassRec)> {
        let mut module = module.to_string();
        let mut name = name.to_string();
        for _ in 0..16 {
            let (m, e) = self.existence(t, &module)?;
            if let Some(c) = m.classes.iter().find(|c| c.name == name && c.mask & t.bit() != 0) {
                return Some((module, *c));
            }
            let (nm, nn) = match m.names.iter().find(|n| n.name == name && n.mask & t.bit() != 0) {
                // Candidates separated by `|` are tried in order (lazy imports that fall back
                // from `airflow.sdk` to the Airflow 2 module).
                Some(nr) => nr
                    .target?
                    .split('|')
                    .find_map(|raw| self.split_dotted(t, &expand_target(raw, &name)))?,
                None => self.split_dotted(t, &super::qualified(e.forward?, &name))?,
            };
            module = nm;
            name = nn;
        }
        None
    }

    /// What `from MODULE import NAME` gives, followed through imports, lazy imports and shims:
    /// the dotted path of its definition (`airflow.providers.standard.operators.bash.BashOperator`)
    /// or of the object from outside Airflow it re-exports (`datetime.datetime`). Two import
    /// paths give the same object exactly when this is the same. `None` when it cannot be
    /// followed.
    pub fn resolve_name(&self, t: Target, module: &str, name: &str) -> Option<String> {
        let mut module = module.to_string();
        let mut name = name.to_string();
        for _ in 0..16 {
            let (m, e) = self.existence(t, &module)?;
            let defined_here = m.classes.iter().any(|c| c.name == name && c.mask & t.bit() != 0)
                || self.existence(t, &super::qualified(&module, &name)).is_some();
            let next = match m.names.iter().find(|n| n.name == name && n.mask & t.bit() != 0) {
                _ if defined_here => return Some(super::qualified(&module, &name)),
                Some(nr) => match nr.target {
                    Some(raw) => expand_target(raw, &name),
                    None => return Some(super::qualified(&module, &name)),
                },
                None => super::qualified(e.forward?, &name),
            };
            let (nm, nn) = next.rsplit_once('.')?;
            if nm != "airflow" && !nm.starts_with("airflow.") {
                return Some(next);
            }
            module = nm.to_string();
            name = nn.to_string();
        }
        None
    }

    /// Splits `a.b.c.Name` into an existing module and an attribute name.
    pub(super) fn split_dotted(&self, t: Target, dotted: &str) -> Option<(String, String)> {
        let (m, n) = dotted.rsplit_once('.')?;
        if self.existence(t, m).is_some() {
            return Some((m.to_string(), n.to_string()));
        }
        // `pkg.mod.Class.Inner` and the like are not followed.
        None
    }
}
