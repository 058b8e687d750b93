//! Dotted Python paths (`airflow.providers.standard.operators.bash.BashOperator`) split at
//! their last dot. A plain loop from the end: the last segment is a few bytes long, and
//! `rsplit('.')` / `rsplit_once('.')` set up a searcher on every call, which cost more than
//! the search (validation splits the path of every imported name it calls).

/// `path` before and after its last dot; `None` when it has no dot.
pub(crate) fn split_last(path: &str) -> Option<(&str, &str)> {
    let dot = path.bytes().rposition(|b| b == b'.')?;
    Some((&path[..dot], &path[dot + 1..]))
}

/// What follows the last dot of `path` (all of it when it has none).
pub(crate) fn last(path: &str) -> &str {
    split_last(path).map_or(path, |(_, last)| last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_rsplit_once_does() {
        for path in ["airflow.sdk.DAG", "DAG", "", ".", "a.", ".b", "a..b", "é.ü", "a.b.c.d"] {
            assert_eq!(split_last(path), path.rsplit_once('.'), "{path:?}");
            assert_eq!(last(path), path.rsplit('.').next().unwrap(), "{path:?}");
        }
    }
}
