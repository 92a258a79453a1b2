//! The Mimecast envelope: `{"meta", "data"}` in, `{"meta", "data", "fail"}` out.
//!
//! Policy: decoding is lenient about shape (missing `meta`, `data: null`, `fail` items with
//! the code on the item itself as API 2.0's gateway sends it, or inside `errors[]`) and strict
//! about meaning: a non-empty `fail` or a `meta.status` other than 200 is never success.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::Failure;

/// Largest page the client asks for; the service's maximum is not documented, public clients
/// use 500 and the sandbox caps there.
pub const MAX_PAGE_SIZE: u32 = 500;

/// A request body.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Request {
    /// Pagination, present on paged calls only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<RequestMeta>,
    /// The items; several items mean the same as several calls.
    pub data: Vec<Value>,
}

/// The `meta` of a request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestMeta {
    /// Page size and the token of the page wanted.
    pub pagination: PageRequest,
}

/// `meta.pagination` of a request.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    /// How many records a page should hold.
    pub page_size: u32,
    /// The `next` token of the page before; absent for the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// A decoded response body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    /// `meta.status`, or 200 when the body had none.
    pub status: u16,
    /// The `next` page token, when there is another page.
    pub next: Option<String>,
    /// `meta.pagination.totalCount`, when given.
    pub total_count: Option<u64>,
    /// The items that succeeded.
    pub data: Vec<Value>,
    /// The items that failed.
    pub fail: Vec<Failure>,
    /// The `x-mc-req-id` the request was sent with.
    pub request_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawResponse {
    #[serde(default)]
    meta: Option<RawMeta>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    fail: Option<Vec<RawFail>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    pagination: Option<RawPagination>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPagination {
    #[serde(default)]
    next: Option<Value>,
    #[serde(default)]
    total_count: Option<Value>,
}

#[derive(Deserialize, Default)]
struct RawFail {
    #[serde(default)]
    key: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<RawError>>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retryable: Option<bool>,
}

#[derive(Deserialize, Default)]
struct RawError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retryable: Option<bool>,
    #[serde(default)]
    field: Option<String>,
}

/// Why a body is not an envelope.
#[derive(Debug, PartialEq, Eq)]
pub struct NotAnEnvelope(pub String);

/// Decodes a response body. Errors describe the body with a short, safe excerpt.
pub fn decode(body: &[u8]) -> Result<Response, NotAnEnvelope> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NotAnEnvelope("the body is empty".into()));
    }
    let raw: RawResponse = serde_json::from_slice(body).map_err(|e| {
        NotAnEnvelope(format!(
            "{} (body starts {:?})",
            plain_json_error(&e),
            excerpt(body)
        ))
    })?;
    let meta = raw.meta.unwrap_or_default();
    let status = match meta.status {
        None | Some(Value::Null) => 200,
        Some(v) => as_u64(&v)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| NotAnEnvelope(format!("meta.status is {v}, not a number")))?,
    };
    let pagination = meta.pagination.unwrap_or_default();
    let next = match pagination.next {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let data = match raw.data {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(NotAnEnvelope(format!(
                "`data` is {}, not a list",
                type_name(&other)
            )))
        }
    };
    let fail = raw
        .fail
        .unwrap_or_default()
        .into_iter()
        .flat_map(failures_of)
        .collect();
    Ok(Response {
        status,
        next,
        total_count: pagination.total_count.as_ref().and_then(as_u64),
        data,
        fail,
        request_id: None,
    })
}

/// Text the server sent, on one line: line breaks and other control characters escaped, so
/// no answer can print a line of its own (a fake `hint:`) wherever mcsh shows it.
pub fn one_line(text: &str) -> String {
    crate::text::printable(text)
}

/// The failures of one `fail[]` item: one per entry of `errors[]`, or the item's own code.
fn failures_of(item: RawFail) -> Vec<Failure> {
    let errors = item.errors.unwrap_or_default();
    if errors.is_empty() {
        return vec![Failure {
            key: item.key,
            code: one_line(&item.code.unwrap_or_else(|| "unknown_error".into())),
            message: one_line(&item.message.unwrap_or_default()),
            retryable: item.retryable.unwrap_or(false),
            field: None,
        }];
    }
    errors
        .into_iter()
        .map(|e| Failure {
            key: item.key.clone(),
            code: one_line(
                &e.code
                    .or_else(|| item.code.clone())
                    .unwrap_or_else(|| "unknown_error".into()),
            ),
            message: one_line(&e.message.unwrap_or_default()),
            retryable: e.retryable.unwrap_or(false),
            field: e.field,
        })
        .collect()
}

/// The code and message of an error body that is not a full envelope: `{"fail":[...]}`,
/// OAuth's `{"error", "error_description"}`, or the gateway's `{"detail"}`.
pub fn error_summary(body: &[u8]) -> (Option<String>, Option<String>) {
    if let Ok(resp) = decode(body) {
        if let Some(f) = resp.fail.into_iter().next() {
            // Already on one line (failures_of).
            let msg = (!f.message.is_empty()).then_some(f.message);
            return (Some(f.code), msg);
        }
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        let text = excerpt(body);
        return (None, (!text.is_empty()).then_some(text));
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(one_line);
    let code = text("error").or_else(|| text("code"));
    let message = text("error_description")
        .or_else(|| text("detail"))
        .or_else(|| text("message"));
    (code, message)
}

/// At most 120 characters of a body, on one line, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    const SHOWN: usize = 120;
    // Past what is shown: the longest secret that could begin among it.
    const MARGIN: usize = 4096;
    // On one line, as far as the shown characters and the margin reach however much space
    // comes first; masked whole, as the server wrote it, before it is cut (a secret cut
    // first is no longer found, and its first part shows) or quoted (which doubles a `\/`).
    let text = String::from_utf8_lossy(body);
    let mut one_line = String::new();
    for word in text.split_whitespace() {
        if one_line.len() >= SHOWN + MARGIN {
            break;
        }
        if !one_line.is_empty() {
            one_line.push(' ');
        }
        one_line.push_str(word);
    }
    crate::redact::redact(&one_line)
        .chars()
        .take(SHOWN)
        .collect()
}

fn plain_json_error(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => "the JSON is truncated".into(),
        serde_json::error::Category::Syntax => "it is not JSON".into(),
        _ => format!("unexpected JSON shape: {e}"),
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bodys_excerpt_masks_a_secret_as_the_server_escaped_it() {
        crate::redact::register("Zx81/Pq+Lm/Ty09==");
        // PHP's json_encode writes `/` as `\/`; the excerpt is quoted with `{:?}` after.
        let err = decode(br#"{"message": "secret Zx81\/Pq+Lm\/Ty09==" "#).unwrap_err();
        assert!(!err.0.contains("Pq+Lm"), "{}", err.0);
        assert!(err.0.contains("secret ****"), "{}", err.0);
    }

    #[test]
    fn a_secret_where_the_excerpt_is_cut_shows_no_part_of_itself() {
        let secret = "EchoSecret-0123456789abcdefghijklmnopqrstuvwxy";
        crate::redact::register(secret);
        // An indented error page: the secret reaches past the bytes an excerpt once read,
        // and past the characters it shows.
        for pad in [1, 430, 460, 100_000] {
            let body = format!("<html>{}{secret} after", " ".repeat(pad));
            let shown = excerpt(body.as_bytes());
            assert!(!shown.contains("EchoSecret"), "{pad}: {shown}");
            assert!(shown.starts_with("<html> ****"), "{pad}: {shown}");
        }
        let long = format!("{}{secret}", "x".repeat(100));
        let shown = excerpt(long.as_bytes());
        assert_eq!(shown, format!("{}****", "x".repeat(100)));
    }

    #[test]
    fn a_status_or_total_given_as_a_string_is_read_as_the_number() {
        let resp = decode(
            br#"{"meta":{"status":"200","pagination":{"totalCount":"5","next":"n"}},"data":[],"fail":[]}"#,
        )
        .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.total_count, Some(5));
    }

    #[test]
    fn the_gateways_fail_without_errors_keeps_its_code_and_message() {
        assert_eq!(
            error_summary(
                br#"{"fail":[{"code":"internal-error","message":"An unexpected error"}]}"#
            ),
            (
                Some("internal-error".to_string()),
                Some("An unexpected error".to_string())
            )
        );
        assert_eq!(
            error_summary(br#"{"fail":[{"code":"unauthorized"}]}"#),
            (Some("unauthorized".to_string()), None)
        );
    }

    #[test]
    fn server_text_never_breaks_a_line() {
        let body = br#"{"meta":{"status":200},"data":[],"fail":[{"key":{},"errors":[{"code":"err\nx","message":"bad\nhint: run `rm -rf ~`\r"}]}]}"#;
        let f = &decode(body).unwrap().fail[0];
        assert!(
            !f.message.contains('\n') && !f.message.contains('\r'),
            "{}",
            f.message
        );
        assert!(!f.code.contains('\n'));
        let (_, message) = error_summary(br#"{"detail":"over\nhint: fake"}"#);
        assert!(!message.unwrap().contains('\n'));
    }
    use serde_json::json;

    #[test]
    fn success_with_pagination() {
        let body =
            br#"{"meta":{"status":200,"pagination":{"pageSize":2,"next":"abc","totalCount":5}},
            "data":[{"a":1},{"a":2}],"fail":[]}"#;
        let r = decode(body).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.next.as_deref(), Some("abc"));
        assert_eq!(r.total_count, Some(5));
        assert_eq!(r.data.len(), 2);
        assert!(r.fail.is_empty());
    }

    #[test]
    fn fail_items_keep_key_code_field() {
        let body = br#"{"meta":{"status":200},"data":[],"fail":[{"key":{"emailAddress":"x"},
            "errors":[{"code":"err_validation_invalid_email_address","message":"Email address is not valid",
            "retryable":false,"field":"emailAddress"}]}]}"#;
        let r = decode(body).unwrap();
        assert_eq!(r.fail.len(), 1);
        let f = &r.fail[0];
        assert_eq!(f.key, Some(json!({"emailAddress": "x"})));
        assert_eq!(f.code, "err_validation_invalid_email_address");
        assert_eq!(f.field.as_deref(), Some("emailAddress"));
    }

    #[test]
    fn code_directly_on_fail_item() {
        let r = decode(br#"{"fail":[{"code":"token_expired"}]}"#).unwrap();
        assert_eq!(r.fail[0].code, "token_expired");
        assert_eq!(r.status, 200);
    }

    #[test]
    fn non_envelopes_are_refused() {
        assert!(decode(b"").is_err());
        assert!(decode(b"<html>502 Bad Gateway</html>").is_err());
        assert!(decode(br#"{"data": {"users": []"#)
            .unwrap_err()
            .0
            .contains("truncated"));
        assert!(decode(br#"{"data": 5}"#)
            .unwrap_err()
            .0
            .contains("not a list"));
        assert!(decode(br#"{"meta": {"status": "x"}}"#).is_err());
    }

    #[test]
    fn error_summaries() {
        assert_eq!(
            error_summary(br#"{"detail":"Over throttling limit (10000/hour)"}"#),
            (None, Some("Over throttling limit (10000/hour)".into()))
        );
        assert_eq!(
            error_summary(br#"{"error":"invalid_client","error_description":"bad"}"#),
            (Some("invalid_client".into()), Some("bad".into()))
        );
    }
}
