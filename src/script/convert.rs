//! Values crossing into and out of Rhai: records as object maps with the API's field names,
//! option maps read strictly (an unknown key is an error naming it), group arguments as a
//! map, an id or a name.

use rhai::{Array, Dynamic, EvalAltResult, Map};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::errors;
use super::host::Host;
use crate::api::Group;
use crate::directory::email;
use crate::directory::outcome::ItemResult;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A record as a Rhai value.
pub fn to_dyn<T: Serialize>(function: &str, value: &T) -> Res<Dynamic> {
    rhai::serde::to_dynamic(value)
        .map(super::fields::mark)
        .map_err(|e| errors::other(function, "conversion", e.to_string()))
}

/// [`to_dyn`] of a map that has `key` even where `value` leaves it out (an empty list the
/// model does not write), `missing()` then.
pub fn to_dyn_with<T: Serialize>(
    function: &str,
    value: &T,
    key: &str,
    missing: impl FnOnce() -> Dynamic,
) -> Res<Dynamic> {
    let mut d = rhai::serde::to_dynamic(value)
        .map_err(|e| errors::other(function, "conversion", e.to_string()))?;
    if let Some(mut map) = d.write_lock::<rhai::Map>() {
        map.entry(key.into()).or_insert_with(missing);
    }
    Ok(super::fields::mark(d))
}

/// Records as a Rhai array.
pub fn to_array<T: Serialize>(function: &str, values: &[T]) -> Res<Array> {
    values.iter().map(|v| to_dyn(function, v)).collect()
}

/// A Rhai value read as `T`; what does not fit is a usage error that says why.
pub fn from_dyn<T: DeserializeOwned>(function: &str, what: &str, value: &Dynamic) -> Res<T> {
    rhai::serde::from_dynamic(value).map_err(|e| {
        let text = e.to_string();
        let text = text.split(" (line ").next().unwrap_or(&text).to_string();
        errors::usage(function, format!("{what}: {text}"))
    })
}

/// A checked address.
pub fn email_arg(function: &str, value: &str) -> Res<String> {
    email::normalize(value).map_err(|e| errors::bad_email(function, &e))
}

/// A group member a script names: an address, or a whole domain (`example.com`, no `@`),
/// lower-case.
pub fn member_arg(function: &str, value: &str) -> Res<String> {
    let v = value.trim();
    if !v.contains('@') && email::valid_domain(v) {
        return Ok(v.to_ascii_lowercase());
    }
    email_arg(function, value)
}

/// A list of group members a script names: addresses, or whole domains (`example.com`).
pub fn members_arg(function: &str, values: &Array) -> Res<Vec<String>> {
    strings_arg(
        function,
        values,
        "members must be addresses or domains (strings)",
        member_arg,
    )
}

/// Each of `values` as a string checked by `check`; anything else is a usage error: `what`.
fn strings_arg(
    function: &str,
    values: &Array,
    what: &str,
    check: fn(&str, &str) -> Res<String>,
) -> Res<Vec<String>> {
    values
        .iter()
        .map(|v| match v.clone().into_immutable_string() {
            Ok(s) => check(function, &s),
            Err(ty) => Err(errors::usage(function, format!("{what}, not {ty}"))),
        })
        .collect()
}

/// Group members as maps, each with `isDomain` saying whether it is a whole domain.
pub fn member_maps(function: &str, members: &[crate::api::Member]) -> Res<Array> {
    members
        .iter()
        .map(|m| {
            let mut v = to_dyn(function, m)?;
            if let Some(mut map) = v.write_lock::<Map>() {
                let domain = m.email_address.is_empty() && !m.domain.is_empty();
                map.insert("isDomain".into(), domain.into());
            }
            Ok(super::fields::mark(v))
        })
        .collect()
}

/// A list of checked addresses.
pub fn emails_arg(function: &str, values: &Array) -> Res<Vec<String>> {
    strings_arg(function, values, "addresses must be strings", email_arg)
}

/// The group a script means: a group map (with `id`), an id, or a name.
pub fn group_arg(host: &Host, function: &str, value: &Dynamic) -> Res<Group> {
    if value.is_map() {
        let group: Group = from_dyn(function, "group", value)?;
        if group.id.is_empty() {
            return Err(errors::usage(function, "a group map needs its `id`"));
        }
        return Ok(group);
    }
    let spec = value.clone().into_immutable_string().map_err(|ty| {
        errors::usage(
            function,
            format!("a group is a map, an id or a name, not {ty}"),
        )
    })?;
    if spec.trim().is_empty() {
        return Err(errors::usage(function, "the group name is empty"));
    }
    let dir = host.directory(function)?;
    let group = host.block_on(function, dir.resolve_group(&spec))?;
    host.saw_groups([group.description.as_str()]);
    Ok(group)
}

/// `record` (a map mcsh hands out) with `key` set to `value`, marked anew as a record.
pub fn with_field(mut record: Dynamic, key: &str, value: Dynamic) -> Dynamic {
    if let Some(mut map) = record.write_lock::<Map>() {
        map.insert(key.into(), value);
    }
    super::fields::mark(record)
}

/// One item's result as `#{emailAddress, status, message, code?}` (reading `code` of a
/// success gives `()`).
pub fn result_map(r: &ItemResult) -> Dynamic {
    let mut map = Map::new();
    map.insert("emailAddress".into(), r.item.clone().into());
    map.insert("status".into(), status_name(r.status).into());
    map.insert("message".into(), r.message.clone().into());
    if let Some(code) = &r.code {
        map.insert("code".into(), code.clone().into());
    }
    super::fields::mark(Dynamic::from_map(map))
}

/// What a deferred call returns where nothing uses it: `#{emailAddress, status: "queued"}`.
pub fn queued_map(label: &str) -> Dynamic {
    let mut map = Map::new();
    map.insert("emailAddress".into(), label.into());
    map.insert("status".into(), "queued".into());
    map.insert(
        "message".into(),
        "sent with the next batch, before the script reads or ends".into(),
    );
    Dynamic::from_map(map)
}

/// The word scripts see for a status: `created`, `unchanged`, `planned`...
pub fn status_name(status: crate::directory::Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `create_user(#{...})`, `create_users([...])` and `ensure_user(#{...})` items.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewUserOpts {
    /// The address (`email` is accepted too).
    #[serde(alias = "email")]
    pub email_address: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `update_user(email, #{...})` changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateOpts {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Lock (true) or unlock (false).
    #[serde(default)]
    pub account_locked: Option<bool>,
    /// Disable (true) or enable (false).
    #[serde(default)]
    pub account_disabled: Option<bool>,
}

/// `update_users([...])` rows: the address and the changes of `update_user`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateRow {
    /// The address (`email` is accepted too).
    #[serde(alias = "email")]
    pub email_address: String,
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Lock (true) or unlock (false).
    #[serde(default)]
    pub account_locked: Option<bool>,
    /// Disable (true) or enable (false).
    #[serde(default)]
    pub account_disabled: Option<bool>,
}
