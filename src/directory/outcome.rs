//! The result of one item of a write: what happened to it, in words an admin reads.

use serde::Serialize;

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Newly created or added.
    Created,
    /// Changed.
    Updated,
    /// Removed or queued for deletion.
    Removed,
    /// Already as asked; nothing was sent or the service said it already was.
    Unchanged,
    /// Recorded under dry-run, not sent.
    Planned,
    /// Sent and accepted, but the API cannot show whether it changed anything (a lock sent
    /// to an account that may already have been locked).
    Unverified,
    /// The service refused it.
    Failed,
}

/// The result of one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    /// The item, e.g. the address added.
    pub item: String,
    /// What happened.
    pub status: Status,
    /// Mimecast's code, on failure or when "already" was reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A sentence about it.
    pub message: String,
}

impl ItemResult {
    /// A result without a code.
    pub fn new(item: impl Into<String>, status: Status, message: impl Into<String>) -> Self {
        ItemResult {
            item: item.into(),
            status,
            code: None,
            message: unsecret(message.into()),
        }
    }

    /// A result carrying a Mimecast code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(unsecret(code.into()));
        self
    }
}

/// `text` with any registered secret masked: a message may hold what the service echoed,
/// and a result reaches rows, scripts, plans and the audit log.
fn unsecret(text: String) -> String {
    match crate::redact::redact(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(masked) => masked,
    }
}

/// Counts of results, for exit codes and summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Items that failed.
    pub failed: usize,
    /// Items that did not fail.
    pub ok: usize,
}

impl Tally {
    /// Counts `results`.
    pub fn of(results: &[ItemResult]) -> Tally {
        let failed = results
            .iter()
            .filter(|r| r.status == Status::Failed)
            .count();
        Tally {
            failed,
            ok: results.len() - failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_the_service_echoes_in_a_result_is_masked() {
        let secret = "outcome-s3cret/9f2c+x";
        crate::redact::register(secret);
        let r = ItemResult::new(
            "a@company.com",
            Status::Failed,
            format!("refused: client_secret={secret}"),
        )
        .with_code(format!("err_{secret}"));
        assert_eq!(r.message, "refused: client_secret=****");
        assert_eq!(r.code.as_deref(), Some("err_****"));
        let plain = ItemResult::new("a@company.com", Status::Created, "created");
        assert_eq!(plain.message, "created");
    }
}
