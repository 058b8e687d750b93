//! Stop strings: where generated text must end, and how much of a streamed tail to hold back
//! because it may be the start of a stop string.

/// Byte offset of the earliest stop string in `text` that ends at or after `from` (only the new
/// tail needs searching), if any.
pub fn find_stop(text: &str, stops: &[String], from: usize) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            // A match ending in the new tail starts at most len(s) - 1 bytes before it.
            let mut start = from.saturating_sub(s.len() - 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            text[start..].find(s.as_str()).map(|i| start + i)
        })
        .min()
}

/// Length of the prefix of `text` that cannot become part of a stop string, whatever comes next.
pub fn safe_len(text: &str, stops: &[String]) -> usize {
    let mut hold = 0;
    for s in stops {
        for k in (1..s.len()).rev() {
            if k > hold && s.is_char_boundary(k) && text.ends_with(&s[..k]) {
                hold = k;
                break;
            }
        }
    }
    text.len() - hold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stops(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_the_earliest_stop_in_the_tail() {
        let s = stops(&["```\n", "END"]);
        assert_eq!(find_stop("code\n```\nmore", &s, 5), Some(5));
        assert_eq!(find_stop("aEND", &s, 2), Some(1), "a match spanning the old text counts");
        assert_eq!(find_stop("nothing", &s, 0), None);
        assert_eq!(find_stop("é END", &stops(&["ééé END"]), 1), None);
    }

    #[test]
    fn holds_back_possible_stop_prefixes() {
        let s = stops(&["</end>"]);
        assert_eq!(safe_len("abc</e", &s), 3);
        assert_eq!(safe_len("abc<", &s), 3);
        assert_eq!(safe_len("abc", &s), 3);
        assert_eq!(safe_len("abc", &[]), 3);
    }
}
