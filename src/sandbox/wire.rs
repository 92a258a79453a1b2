//! The sandbox's own view of the wire: request bodies in, envelopes out.
//!
//! Policy: this module shares no type with the client. It reads requests as
//! `serde_json::Value` and writes envelopes by hand, exactly as `docs/mimecast-api.md` §2 shows,
//! so a field misspelled on one side cannot be misspelled identically on the other.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// Largest page the sandbox serves.
pub const MAX_PAGE_SIZE: usize = 500;
/// Page size when the request names none.
pub const DEFAULT_PAGE_SIZE: usize = 25;

/// A parsed request body.
#[derive(Debug)]
pub struct ApiRequest {
    /// `meta.pagination.pageSize`, capped at [`MAX_PAGE_SIZE`].
    pub page_size: usize,
    /// `meta.pagination.pageToken`.
    pub page_token: Option<String>,
    /// The items.
    pub data: Vec<Value>,
}

/// An answer: HTTP status and JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// Why one item failed.
#[derive(Debug, Clone)]
pub struct ItemError {
    /// Mimecast error code.
    pub code: &'static str,
    /// Message.
    pub message: String,
    /// The request field at fault, for validation errors.
    pub field: Option<&'static str>,
}

impl ItemError {
    /// An error without a field.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ItemError {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A validation error about `field`.
    pub fn field(code: &'static str, message: impl Into<String>, field: &'static str) -> Self {
        ItemError {
            code,
            message: message.into(),
            field: Some(field),
        }
    }
}

/// What a handler produced: successful items, failed items and, for lists, pagination.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `data` of the answer.
    pub data: Vec<Value>,
    /// `fail` of the answer.
    pub fail: Vec<Value>,
    /// `meta.pagination` of the answer.
    pub pagination: Option<Value>,
    /// The request items that succeeded, for the request log of writes.
    pub accepted: Vec<Value>,
}

impl Outcome {
    /// Records one item's result.
    pub fn item(&mut self, key: &Value, result: Result<Value, ItemError>) {
        match result {
            Ok(v) => {
                self.accepted.push(key.clone());
                self.data.push(v)
            }
            Err(e) => self.fail.push(fail_entry(key, &e)),
        }
    }

    /// The HTTP 200 envelope.
    pub fn into_reply(self) -> Reply {
        let mut meta = Map::new();
        meta.insert("status".into(), json!(200));
        if let Some(p) = self.pagination {
            meta.insert("pagination".into(), p);
        }
        // Moved into the envelope, not copied: `json!` would serialize `data` over again (a
        // fleet's twenty tenants spent a tenth of the sandbox's CPU doing so).
        let mut body = Map::new();
        body.insert("meta".into(), Value::Object(meta));
        body.insert("data".into(), Value::Array(self.data));
        body.insert("fail".into(), Value::Array(self.fail));
        Reply {
            status: 200,
            body: Value::Object(body),
        }
    }
}

impl Outcome {
    /// An answer whose only item failed.
    pub fn failed(key: &Value, e: ItemError) -> Outcome {
        Outcome {
            fail: vec![fail_entry(key, &e)],
            ..Outcome::default()
        }
    }
}

/// A storage failure as a whole-request answer (500, retryable).
pub fn storage(e: rusqlite::Error) -> Reply {
    error(
        500,
        "err_internal",
        &format!("sandbox storage error: {e}"),
        true,
    )
}

/// A storage failure as one item's error.
pub fn item_storage(e: rusqlite::Error) -> ItemError {
    ItemError::new("err_internal", format!("sandbox storage error: {e}"))
}

/// Cuts `rows`, fetched with one more than `page_size`, to a page and the token of the next.
pub fn page_of<T>(
    mut rows: Vec<T>,
    page_size: usize,
    scope: &str,
    after: i64,
    seq: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > page_size;
    rows.truncate(page_size);
    let next = more.then(|| page_token(scope, rows.last().map_or(after, &seq)));
    (rows, next)
}

/// Refuses a request with more than one item, for endpoints that take at most one.
pub fn at_most_one(req: &ApiRequest) -> Result<(), Reply> {
    if req.data.len() > 1 {
        return Err(error(
            400,
            "err_validation_too_many_items",
            "This endpoint takes at most 1 item",
            false,
        ));
    }
    Ok(())
}

/// One `fail[]` entry.
pub fn fail_entry(key: &Value, e: &ItemError) -> Value {
    let mut err = json!({ "code": e.code, "message": e.message, "retryable": false });
    if let Some(f) = e.field {
        err["field"] = json!(f);
    }
    json!({ "key": key, "errors": [err] })
}

/// A whole-request failure in the envelope's shape, with HTTP `status`.
pub fn error(status: u16, code: &str, message: &str, retryable: bool) -> Reply {
    Reply {
        status,
        body: json!({
            "meta": { "status": status },
            "data": [],
            "fail": [{ "errors": [{ "code": code, "message": message, "retryable": retryable }] }]
        }),
    }
}

/// API 2.0's token failure: the code sits on the fail item itself.
pub fn token_error(code: &str, message: &str) -> Reply {
    Reply {
        status: 401,
        body: json!({ "meta": { "status": 401 }, "data": [], "fail": [{ "code": code, "message": message }] }),
    }
}

/// Parses a request body; an empty body counts as `{"data": []}`.
pub fn parse_request(body: &[u8]) -> Result<ApiRequest, Reply> {
    let bad = |msg: String| error(400, "err_request_malformed", &msg, false);
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({ "data": [] })
    } else {
        serde_json::from_slice(body)
            .map_err(|e| bad(format!("the request body is not valid JSON: {e}")))?
    };
    let Value::Object(mut obj) = value else {
        return Err(bad("the request body must be a JSON object".into()));
    };
    let data = match obj.remove("data") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items,
        Some(_) => return Err(bad("`data` must be a list".into())),
    };
    let pagination = obj.get("meta").and_then(|m| m.get("pagination"));
    let page_size = match pagination.and_then(|p| p.get("pageSize")) {
        None | Some(Value::Null) => DEFAULT_PAGE_SIZE,
        Some(v) => match v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n) if n >= 1 => (n as usize).min(MAX_PAGE_SIZE),
            _ => {
                return Err(bad(format!(
                    "meta.pagination.pageSize must be a positive number, not {v}"
                )))
            }
        },
    };
    let page_token = match pagination.and_then(|p| p.get("pageToken")) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Ok(ApiRequest {
        page_size,
        page_token,
        data,
    })
}

/// A page token: opaque to clients, `scope` binds it to one list so it cannot be replayed on
/// another.
pub fn page_token(scope: &str, last_seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("mcsb1|{}|{last_seq}", scope_hash(scope)))
}

/// The last sequence number a token stands for; `Err` for a token this list never issued.
pub fn read_page_token(scope: &str, token: Option<&str>) -> Result<i64, Reply> {
    let Some(token) = token else { return Ok(0) };
    let invalid = || {
        error(
            400,
            "err_invalid_page_token",
            "The page token is not valid for this request",
            false,
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = text.split('|');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("mcsb1"), Some(hash), Some(seq), None) if hash == scope_hash(scope) => {
            seq.parse().map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

fn scope_hash(scope: &str) -> String {
    // FNV-1a: stable across runs and processes, which `DefaultHasher` is not promised to be.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in scope.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// `meta.pagination` for a page of `rows` items out of `total`, with `next` when `more`.
pub fn pagination(page_size: usize, total: u64, next: Option<String>) -> Value {
    let mut p = json!({ "pageSize": page_size, "totalCount": total });
    if let Some(n) = next {
        p["next"] = json!(n);
    }
    p
}

/// A string field of an item: `Ok(None)` when absent, an error when not a string.
pub fn opt_str<'a>(item: &'a Value, field: &'static str) -> Result<Option<&'a str>, ItemError> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ItemError::field(
            "err_validation_invalid_type",
            format!("{field} must be a string"),
            field,
        )),
    }
}

/// A required, non-blank string field of an item.
pub fn req_str<'a>(item: &'a Value, field: &'static str) -> Result<&'a str, ItemError> {
    match opt_str(item, field)? {
        None => Err(ItemError::field(
            "err_validation_null",
            format!("{field} is required"),
            field,
        )),
        Some(s) if s.trim().is_empty() => Err(ItemError::field(
            "err_validation_blank",
            format!("{field} must not be blank"),
            field,
        )),
        Some(s) => Ok(s),
    }
}

/// A boolean field of an item: `Ok(None)` when absent.
pub fn opt_bool(item: &Value, field: &'static str) -> Result<Option<bool>, ItemError> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ItemError::field(
            "err_validation_invalid_type",
            format!("{field} must be true or false"),
            field,
        )),
    }
}

/// Checks the form of an address, as Mimecast's `err_validation_invalid_email_address` does.
pub fn valid_email(field: &'static str, email: &str) -> Result<(String, String), ItemError> {
    let invalid = || {
        ItemError::field(
            "err_validation_invalid_email_address",
            "Email address is not valid",
            field,
        )
    };
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.as_bytes().windows(2).any(|w| w == b"..");
    if !ok_local || !valid_domain(domain) {
        return Err(invalid());
    }
    Ok((local.to_string(), domain.to_ascii_lowercase()))
}

/// Checks the form of a domain name.
pub fn valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_are_scoped() {
        let t = page_token("users|a.com", 42);
        assert_eq!(read_page_token("users|a.com", Some(&t)).unwrap(), 42);
        assert!(read_page_token("users|b.com", Some(&t)).is_err());
        assert!(read_page_token("users|a.com", Some("garbage!")).is_err());
    }

    #[test]
    fn requests_parse_and_cap_page_size() {
        let r = parse_request(br#"{"meta":{"pagination":{"pageSize":9000}},"data":[{"a":1}]}"#)
            .unwrap();
        assert_eq!(r.page_size, MAX_PAGE_SIZE);
        assert_eq!(r.data.len(), 1);
        assert_eq!(parse_request(b"").unwrap().data.len(), 0);
        assert_eq!(parse_request(b"{not json").unwrap_err().status, 400);
        assert_eq!(parse_request(br#"{"data":{}}"#).unwrap_err().status, 400);
    }

    #[test]
    fn emails() {
        assert!(valid_email("e", "a.b+c@Example.COM").is_ok());
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a b@c.com",
            "a@-b.com",
            "a..b@c.com",
            ".a@c.com",
            "a.@c.com",
            "jü@c.com",
            "a@exämple.com",
            "a@b_c.com",
        ] {
            assert!(valid_email("e", bad).is_err(), "{bad}");
        }
        let specials = "a!#$%&'*+-/=?^_`{|}~.z";
        assert_eq!(
            valid_email("e", &format!("{specials}@Sub.Example.COM")).unwrap(),
            (specials.to_string(), "sub.example.com".to_string())
        );
    }
}
