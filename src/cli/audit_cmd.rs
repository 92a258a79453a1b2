//! `mcsh audit`: what mcsh wrote, from the audit log.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use super::report::Usage;
use super::Ctx;
use crate::directory::audit;
use crate::output::Shape;

/// The start of `--since`: `30m`, `2h`, `7d`, a date `2026-11-28` or an RFC 3339 time.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let bad = || format!("--since {t:?}: use 30m, 2h, 7d, 2026-11-28 or 2026-11-28T10:00:00Z");
    if let Some(unit) = t.chars().last().filter(|c| "smhdw".contains(*c)) {
        if let Ok(n) = t[..t.len() - 1].parse::<i64>() {
            let d = match unit {
                's' => Duration::try_seconds(n),
                'm' => Duration::try_minutes(n),
                'h' => Duration::try_hours(n),
                'd' => Duration::try_days(n),
                _ => Duration::try_weeks(n),
            };
            // A span beyond what a date can hold means "everything".
            return Ok(d
                .and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(DateTime::<Utc>::MIN_UTC));
        }
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(bad)
}

/// `mcsh audit [--since WHEN] [--last N]`.
pub fn run(ctx: &Ctx, since: Option<&str>, limit: Option<usize>) -> anyhow::Result<()> {
    let from = since
        .map(|s| parse_since(s, Utc::now()))
        .transpose()
        .map_err(Usage)?;
    let path = audit::default_path(&|k| std::env::var(k).ok());
    let log = audit::read(&path)
        .map_err(|e| anyhow::anyhow!("cannot read the audit log {}: {e}", path.display()))?;
    if let Some(w) = log.warning(&path) {
        ctx.warn(&w);
    }
    let mut chosen: Vec<_> = log
        .lines
        .into_iter()
        .filter(|l| {
            let at = l["time"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            match (from, at) {
                (Some(f), Some(at)) => at.with_timezone(&Utc) >= f,
                _ => true,
            }
        })
        .collect();
    if let Some(n) = limit {
        let skip = chosen.len().saturating_sub(n);
        chosen.drain(..skip);
    }
    let words = matches!(
        ctx.format(),
        crate::output::Format::Table | crate::output::Format::Csv
    );
    // On a terminal and in CSV, who did what where in words; ids stay in JSON.
    let fleets = chosen.iter().any(|l| l.get("fleet").is_some());
    let columns: &[&str] = if words && fleets {
        // The fleet run's id is what `mcsh undo` takes back on every tenant at once.
        &[
            "time", "fleet", "run", "profile", "change", "outcome", "message",
        ]
    } else if words {
        &["time", "run", "profile", "change", "outcome", "message"]
    } else {
        &[
            "time",
            "run",
            "profile",
            "change",
            "endpoint",
            "item",
            "group",
            "outcome",
            "message",
            "code",
            "requestId",
            "dryRun",
        ]
    };
    let mut printer = ctx.printer(Shape::List, columns);
    let empty = chosen.is_empty();
    for mut l in chosen {
        l["change"] = json!(audit::describe(&l));
        if words {
            if l["dryRun"] == json!(true) {
                // What the dry run foresaw: a write it planned, or one it found already done
                // ("unchanged") or refused ("failed").
                let foreseen = match l["outcome"].as_str() {
                    Some("planned") | None => "planned".to_string(),
                    Some(other) => other.to_string(),
                };
                l["outcome"] = json!(format!("{foreseen} (dry run)"));
            }
            if let Some(t) = l["time"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            {
                l["time"] = json!(t
                    .with_timezone(&Utc)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string());
            }
        }
        printer.row(&l)?;
    }
    printer.finish()?;
    if empty {
        ctx.note(&format!("no audit entries in {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("2h", now).unwrap().to_rfc3339(),
            "2026-11-28T10:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-27", now).unwrap().to_rfc3339(),
            "2026-11-27T00:00:00+00:00"
        );
        assert!(parse_since("yesterday", now).is_err());
        assert_eq!(
            parse_since("99999999d", now).unwrap(),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(
            parse_since("9223372036854775807w", now).unwrap(),
            DateTime::<Utc>::MIN_UTC
        );
    }
}
