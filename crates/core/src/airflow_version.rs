//! The Airflow version a DAG is checked against.
//!
//! Rules depend on the major/minor version (2.x and 3.x differ a lot); the patch level is
//! kept only so reports echo what the user asked for.

use std::fmt;
use std::str::FromStr;

/// A target Airflow version such as `2.7`, `2.11.2` or `3.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AirflowVersion {
    pub major: u16,
    pub minor: u16,
    pub patch: Option<u16>,
}

impl AirflowVersion {
    /// The oldest and newest versions whose rules dagsmith knows.
    pub const OLDEST: AirflowVersion = AirflowVersion::new(2, 0, None);
    pub const NEWEST: AirflowVersion = AirflowVersion::new(3, 1, None);
    /// The target used when neither the user nor a dataset row names one: the newest release
    /// line, because that is what a new `dags/` folder is written for.
    pub const DEFAULT: AirflowVersion = AirflowVersion::new(3, 1, None);

    pub const fn new(major: u16, minor: u16, patch: Option<u16>) -> Self {
        AirflowVersion { major, minor, patch }
    }

    pub fn is_v3(&self) -> bool {
        self.major >= 3
    }

    /// `true` when this version is at least `major.minor`.
    pub fn at_least(&self, major: u16, minor: u16) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl Default for AirflowVersion {
    fn default() -> Self {
        AirflowVersion::DEFAULT
    }
}

impl fmt::Display for AirflowVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{}", self.major, self.minor, p),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

/// Why a version string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionError(pub String);

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VersionError {}

impl FromStr for AirflowVersion {
    type Err = VersionError;

    /// Accepts `2`, `2.7`, `2.11.2`, `v3.1` and pre-release suffixes such as `3.0.0rc1`
    /// (the suffix is ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let body = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
        let bad = || {
            VersionError(format!(
                "invalid Airflow version {s:?}: expected MAJOR.MINOR[.PATCH], e.g. 2.11.2 or 3.1"
            ))
        };
        let mut parts = body.split('.');
        let mut next_num = |required: bool| -> Result<Option<u16>, VersionError> {
            match parts.next() {
                None if required => Err(bad()),
                None => Ok(None),
                Some(p) => {
                    let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if digits.is_empty() {
                        return Err(bad());
                    }
                    digits.parse::<u16>().map(Some).map_err(|_| bad())
                }
            }
        };
        let major = next_num(true)?.ok_or_else(bad)?;
        let minor = next_num(false)?.unwrap_or(0);
        let patch = next_num(false)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        let v = AirflowVersion::new(major, minor, patch);
        if !(2..=3).contains(&major) {
            return Err(VersionError(format!(
                "unsupported Airflow version {s:?}: dagsmith knows Airflow {} to {}",
                AirflowVersion::OLDEST,
                AirflowVersion::NEWEST
            )));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_long_forms() {
        assert_eq!("2.7".parse::<AirflowVersion>().unwrap(), AirflowVersion::new(2, 7, None));
        assert_eq!(
            "2.11.2".parse::<AirflowVersion>().unwrap(),
            AirflowVersion::new(2, 11, Some(2))
        );
        assert_eq!("v3".parse::<AirflowVersion>().unwrap(), AirflowVersion::new(3, 0, None));
        assert_eq!(
            "3.0.0rc1".parse::<AirflowVersion>().unwrap(),
            AirflowVersion::new(3, 0, Some(0))
        );
        assert_eq!("3.1".parse::<AirflowVersion>().unwrap().to_string(), "3.1");
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["", "x", "1.10", "4.0", "2..1", "2.7.1.5", "three"] {
            assert!(bad.parse::<AirflowVersion>().is_err(), "{bad}");
        }
    }
}
