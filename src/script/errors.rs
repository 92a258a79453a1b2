//! Script errors: every failed call raises a map scripts can branch on.
//!
//! The map is `#{code, message, retryable, status, function, kind}`: `code` is Mimecast's
//! (`err_folder_not_found`) or one of ours (`invalid_argument`, `not_found`, `transport`...),
//! `kind` groups them (`api`, `auth`, `config`, `usage`, `not_found`, `interrupted`) and decides
//! the exit code when nothing catches the error.

use rhai::{Dynamic, EvalAltResult, Map, Position};

use crate::api::ApiError;
use crate::directory::email::BadEmail;
use crate::directory::DirError;

/// Builds the error a script sees.
pub fn raise(
    function: &str,
    code: &str,
    message: &str,
    retryable: bool,
    status: u16,
    kind: &str,
) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("code".into(), code.into());
    map.insert("message".into(), message.into());
    map.insert("retryable".into(), retryable.into());
    map.insert("status".into(), (status as i64).into());
    map.insert("function".into(), function.into());
    map.insert("kind".into(), kind.into());
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from_map(map),
        Position::NONE,
    ))
}

/// A bad argument to a function (exit 2 when uncaught).
pub fn usage(function: &str, message: impl AsRef<str>) -> Box<EvalAltResult> {
    raise(
        function,
        "invalid_argument",
        message.as_ref(),
        false,
        0,
        "usage",
    )
}

/// A refused address.
pub fn bad_email(function: &str, e: &BadEmail) -> Box<EvalAltResult> {
    raise(function, "invalid_email", &e.to_string(), false, 0, "usage")
}

/// A directory failure.
pub fn from_dir(function: &str, e: &DirError) -> Box<EvalAltResult> {
    match e {
        DirError::Api(api) => from_api(function, api),
        DirError::GroupNotFound { .. } | DirError::UserNotFound { .. } => {
            raise(function, "not_found", &e.to_string(), false, 0, "not_found")
        }
        DirError::GroupAmbiguous { .. } => {
            raise(function, "ambiguous", &e.to_string(), false, 0, "usage")
        }
        DirError::Synced { .. } => raise(
            function,
            crate::directory::SYNCED_CODE,
            &e.to_string(),
            false,
            0,
            "api",
        ),
        DirError::AuditUnavailable { .. } => raise(
            function,
            "audit_unavailable",
            &e.to_string(),
            false,
            0,
            "config",
        ),
        DirError::Refused { .. } => raise(function, "refused", &e.to_string(), false, 0, "usage"),
        DirError::BadPath { .. } | DirError::BadPlan { .. } | DirError::BadName { .. } => raise(
            function,
            "invalid_argument",
            &e.to_string(),
            false,
            0,
            "usage",
        ),
    }
}

/// An API failure.
pub fn from_api(function: &str, e: &ApiError) -> Box<EvalAltResult> {
    let kind = if e.is_auth() { "auth" } else { "api" };
    raise(
        function,
        &e.code(),
        &e.to_string(),
        e.retryable(),
        e.status(),
        kind,
    )
}

/// The session could not connect (credentials, configuration, sandbox).
pub fn from_setup(function: &str, e: &anyhow::Error) -> Box<EvalAltResult> {
    let message = format!("{e:#}");
    if let Some(api) = e.downcast_ref::<ApiError>() {
        return raise(function, &api.code(), &message, false, api.status(), "auth");
    }
    raise(function, "config", &message, false, 0, "config")
}

/// Any other failure (files, JSON, CSV), with its message.
pub fn other(function: &str, code: &str, message: impl AsRef<str>) -> Box<EvalAltResult> {
    raise(function, code, message.as_ref(), false, 0, "io")
}

/// Reads `field` of an error map.
pub fn field(value: &Dynamic, field: &str) -> Option<String> {
    let map = value.read_lock::<Map>()?;
    map.get(field).map(|v| v.to_string())
}
