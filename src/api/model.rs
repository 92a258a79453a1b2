//! Typed records of the directory, decoded leniently from what the service answers.
//!
//! Policy: unknown fields are ignored, missing optional fields become `None` or empty, numbers
//! sent as strings are accepted, and the official sample's misspellings (`emaiLAddress`,
//! `usercount`) are read too. Records serialize back with the API's own field names, which are
//! also the names users see in JSON, CSV and scripts.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A row of the user listing: a mailbox, or an alias address of one (`alias: true`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    /// The address of the row.
    #[serde(alias = "emaiLAddress")]
    pub email_address: String,
    /// Display name.
    #[serde(deserialize_with = "lenient_string")]
    pub name: String,
    /// The address's domain (derived from the address when the service omits it).
    #[serde(deserialize_with = "lenient_string")]
    pub domain: String,
    /// Whether the row is an alias address rather than a mailbox (recorded as a boolean; an
    /// older, undocumented shape listed aliases here, which is read into `aliases`).
    #[serde(deserialize_with = "alias_flag")]
    pub alias: AliasField,
    /// How the address came to be, e.g. `created_manually`, `created_by_email`.
    #[serde(deserialize_with = "lenient_string")]
    pub address_type: String,
    /// `cloud`, or `ldap` for a user that directory sync manages.
    #[serde(deserialize_with = "lenient_string")]
    pub source: String,
    /// The user's alias addresses, when known (`users get` reads them with `get-aliases`).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "string_list"
    )]
    pub aliases: Vec<String>,
    /// Whether the account is locked, when the service says.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool"
    )]
    pub account_locked: Option<bool>,
    /// Whether the account is disabled, when the service says.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool"
    )]
    pub account_disabled: Option<bool>,
}

/// The `alias` field of a user row: serialized as the boolean the service sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AliasField {
    /// The row is an alias address.
    pub is_alias: bool,
    /// Aliases listed in the older list shape.
    pub listed: Vec<String>,
}

impl Serialize for AliasField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.is_alias)
    }
}

impl User {
    /// Fills `domain` from the address when the service left it out, and moves aliases the
    /// older list shape gave into `aliases`.
    pub fn with_domain(mut self) -> User {
        if self.domain.is_empty() {
            if let Some((_, d)) = self.email_address.rsplit_once('@') {
                self.domain = d.to_ascii_lowercase();
            }
        }
        if !self.alias.listed.is_empty() {
            let listed = std::mem::take(&mut self.alias.listed);
            self.aliases.extend(listed);
        }
        self
    }

    /// Whether the row is an alias address, not a mailbox.
    pub fn is_alias(&self) -> bool {
        self.alias.is_alias
    }

    /// Whether directory sync manages the user (`source: ldap`): Mimecast refuses changes.
    pub fn is_synced(&self) -> bool {
        self.source.eq_ignore_ascii_case("ldap")
    }
}

/// A directory group (Mimecast calls it a folder).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Group {
    /// Opaque id, often ~250 characters.
    #[serde(deserialize_with = "lenient_string")]
    pub id: String,
    /// The group's name.
    #[serde(deserialize_with = "lenient_string")]
    pub description: String,
    /// `cloud` or `ldap`.
    #[serde(deserialize_with = "lenient_string")]
    pub source: String,
    /// The parent folder's id. Every group has one: top-level groups carry the id of a root
    /// folder that `find-groups` never lists, so "top-level" means "the parent is not a listed
    /// group" (see [`crate::api::model::is_top_level`]), never "no parentId".
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_string"
    )]
    pub parent_id: Option<String>,
    /// How many child groups it has.
    #[serde(deserialize_with = "lenient_u64")]
    pub folder_count: u64,
    /// How many members it has.
    #[serde(alias = "usercount", deserialize_with = "lenient_u64")]
    pub user_count: u64,
    /// Where it sits, `Engineering/Platform`: not an API field; mcsh fills it from the list.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
}

impl Group {
    /// Whether directory sync manages the group (`source: ldap`): Mimecast refuses changes.
    pub fn is_synced(&self) -> bool {
        self.source.eq_ignore_ascii_case("ldap")
    }
}

/// What the ids of `groups` refer to ([`super::ids::identity`]), for telling which are
/// top-level ([`is_top_level`]).
pub fn listed_ids(groups: &[Group]) -> std::collections::HashSet<String> {
    groups
        .iter()
        .map(|g| super::ids::identity(&g.id).into_owned())
        .collect()
}

/// Whether `group` is top-level among `listed` groups: its parent is none of their ids.
pub fn is_top_level(group: &Group, listed: &std::collections::HashSet<String>) -> bool {
    group
        .parent_id
        .as_deref()
        .is_none_or(|p| !listed.contains(super::ids::identity(p).as_ref()))
}

/// A member of a group: a user address, or a whole domain (then `emailAddress` is empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Member {
    /// The member's address; empty for a domain member.
    #[serde(alias = "emaiLAddress", deserialize_with = "lenient_string")]
    pub email_address: String,
    /// The member's domain.
    #[serde(deserialize_with = "lenient_string")]
    pub domain: String,
    /// Whether the address is internal to the account.
    #[serde(deserialize_with = "lenient_bool_default")]
    pub internal: bool,
    /// `created_manually`, `ldap`, ...
    #[serde(rename = "type", deserialize_with = "lenient_string")]
    pub kind: String,
    /// The member's display name.
    #[serde(deserialize_with = "lenient_string")]
    pub name: String,
}

impl Member {
    /// Who the member is, lower-case: its address, or `domain D` for a whole domain.
    pub fn key(&self) -> String {
        if self.email_address.is_empty() {
            format!("domain {}", self.domain.to_ascii_lowercase())
        } else {
            self.email_address.to_ascii_lowercase()
        }
    }
}

/// An internal domain of the account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Domain {
    /// Opaque id.
    #[serde(deserialize_with = "lenient_string")]
    pub id: String,
    /// The domain name.
    #[serde(deserialize_with = "lenient_string")]
    pub domain: String,
    /// How inbound mail is routed.
    #[serde(deserialize_with = "lenient_string")]
    pub inbound_type: String,
    /// Whether the domain is local.
    #[serde(deserialize_with = "lenient_bool_default")]
    pub local: bool,
    /// Whether the domain only sends mail.
    #[serde(deserialize_with = "lenient_bool_default")]
    pub send_only: bool,
}

/// Decodes one record, naming the endpoint in the error.
pub fn decode<T: for<'de> Deserialize<'de>>(
    path: &str,
    value: Value,
) -> Result<T, super::ApiError> {
    serde_json::from_value(value).map_err(|e| super::ApiError::Decode {
        path: path.to_string(),
        status: 200,
        detail: format!("a record has an unexpected shape: {e}"),
    })
}

/// A string, or a number or boolean written as one; a list or object is not a string.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(_) => Err(serde::de::Error::custom("expected a string, found a list")),
        Value::Object(_) => Err(serde::de::Error::custom(
            "expected a string, found an object",
        )),
    }
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = lenient_string(d)?;
    Ok((!s.is_empty()).then_some(s))
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().map(|f| f as u64))
            .unwrap_or(0),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => Some(n.as_u64() != Some(0)),
        _ => None,
    })
}

fn lenient_bool_default<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(lenient_bool(d)?.unwrap_or(false))
}

/// `alias` as recorded (a boolean), or the older list shape (a string or a list of aliases,
/// meaning the row is a mailbox).
fn alias_flag<'de, D: Deserializer<'de>>(d: D) -> Result<AliasField, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(match v {
        Value::Bool(b) => AliasField {
            is_alias: b,
            listed: vec![],
        },
        Value::String(ref s) if matches!(s.to_ascii_lowercase().as_str(), "true" | "false") => {
            AliasField {
                is_alias: s.eq_ignore_ascii_case("true"),
                listed: vec![],
            }
        }
        other => AliasField {
            is_alias: false,
            listed: string_or_list(other),
        },
    })
}

/// Addresses from a string, or a list of strings or of records with `alias`/`emailAddress`.
pub fn address_list(v: Value) -> Vec<String> {
    string_or_list(v)
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(string_or_list(Value::deserialize(d)?))
}

fn string_or_list(v: Value) -> Vec<String> {
    match v {
        Value::String(s) if s.is_empty() => vec![],
        Value::String(s) => vec![s],
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                Value::Object(m) => m
                    .get("alias")
                    .or_else(|| m.get("emailAddress"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_decode_leniently() {
        let u: User = serde_json::from_value(json!({
            "emaiLAddress": "a@example.com", "name": null, "alias": "b@example.com",
            "addressType": "internal", "accountLocked": "false", "surprise": 1
        }))
        .unwrap();
        let u = u.with_domain();
        assert_eq!(u.email_address, "a@example.com");
        assert_eq!(u.name, "");
        assert_eq!(u.domain, "example.com");
        assert!(!u.is_alias(), "the older list shape describes a mailbox");
        assert_eq!(u.aliases, vec!["b@example.com"]);
        assert_eq!(u.account_locked, Some(false));
    }

    #[test]
    fn alias_is_a_boolean_saying_the_row_is_an_alias() {
        let row = |alias: Value| -> User {
            serde_json::from_value::<User>(json!({"emailAddress": "x@a.com", "alias": alias}))
                .unwrap()
                .with_domain()
        };
        assert!(row(json!(true)).is_alias());
        assert!(!row(json!(false)).is_alias());
        assert!(!row(json!(["y@a.com"])).is_alias());
        assert_eq!(
            serde_json::to_value(row(json!(true))).unwrap()["alias"],
            true
        );
        assert_eq!(
            serde_json::to_value(row(json!(false))).unwrap()["alias"],
            false
        );
    }

    #[test]
    fn top_level_means_the_parent_is_not_listed() {
        let g = |id: &str, parent: &str| Group {
            id: id.into(),
            parent_id: Some(parent.into()),
            ..Group::default()
        };
        let (a, b) = (g("a", "root"), g("b", "a"));
        let listed: std::collections::HashSet<String> = ["a".into(), "b".into()].into();
        assert!(is_top_level(&a, &listed));
        assert!(!is_top_level(&b, &listed));
    }

    #[test]
    fn groups_accept_string_numbers_and_usercount() {
        let g: Group = serde_json::from_value(json!({
            "id": "x", "description": "Sales", "folderCount": "2", "usercount": 7
        }))
        .unwrap();
        assert_eq!((g.folder_count, g.user_count), (2, 7));
        assert_eq!(g.parent_id, None);
        let back = serde_json::to_value(&g).unwrap();
        assert_eq!(back["userCount"], 7);
        assert!(back.get("parentId").is_none());
    }

    #[test]
    fn member_type_field() {
        let m: Member = serde_json::from_value(json!({"emailAddress": "", "domain": "x.com",
            "type": "domain"}))
        .unwrap();
        assert_eq!(m.kind, "domain");
        assert_eq!(serde_json::to_value(&m).unwrap()["type"], "domain");
    }
}
