//! DS113: string schedules must be a preset Airflow knows or a cron expression croniter
//! accepts. Only clear violations are reported; anything croniter might accept passes.

const PRESETS: &[&str] = &[
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
];

const MONTHS: &[&str] =
    &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// `Err(message)` when Airflow would refuse this schedule string at import.
pub(super) fn check_schedule(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with('@') {
        return if PRESETS.contains(&s) {
            Ok(())
        } else {
            Err(format!(
                "unknown schedule preset {schedule:?}: use one of {} or a cron expression",
                PRESETS.join(", ")
            ))
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if !(5..=7).contains(&fields.len()) {
        return Err(format!(
            "invalid cron expression {schedule:?}: expected 5 fields (minute hour day-of-month month day-of-week), got {}",
            fields.len()
        ));
    }
    // (name, min, max, words allowed)
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day-of-month", 1, 31, &[]),
        ("month", 1, 12, MONTHS),
        ("day-of-week", 0, 7, DAYS),
    ];
    for (field, (name, min, max, words)) in fields.iter().zip(specs) {
        check_field(field, name, min, max, words)
            .map_err(|why| format!("invalid cron expression {schedule:?}: {why}"))?;
    }
    Ok(())
}

fn check_field(field: &str, name: &str, min: u32, max: u32, words: &[&str]) -> Result<(), String> {
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, step)) => (r, Some(step)),
            None => (part, None),
        };
        if let Some(step) = step
            && (step.is_empty() || !step.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(format!("bad step {step:?} in the {name} field"));
        }
        for bound in range.split('-') {
            let b = bound.trim_end_matches(['L', 'W', 'l', 'w']);
            let b = b.split('#').next().unwrap_or(b);
            if b.is_empty() || b == "*" || b == "?" || b.eq_ignore_ascii_case("h") {
                continue;
            }
            if let Ok(n) = b.parse::<u32>() {
                if n < min || n > max {
                    return Err(format!("{n} is out of range for the {name} field ({min}-{max})"));
                }
                continue;
            }
            if words.iter().any(|w| w.eq_ignore_ascii_case(b)) {
                continue;
            }
            return Err(format!("{bound:?} is not valid in the {name} field"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_presets_and_cron() {
        for ok in [
            "@daily",
            "@once",
            "0 0 * * *",
            "*/15 * * * *",
            "0 9 * * MON-FRI",
            "0 0 1,15 * *",
            "30 2 L * *",
            "0 0 * * 1#2",
            "0 12 ? JAN *",
            "0 0 * * 7",
        ] {
            assert!(check_schedule(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "daily",
            "@every_day",
            "0 0 * *",
            "60 * * * *",
            "* 24 * * *",
            "0 0 * * FUNDAY",
            "*/x * * * *",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
    }
}
