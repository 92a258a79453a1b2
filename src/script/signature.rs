//! How a registered function's Rust signature reads in script terms: `add_member(group:
//! group, email: string) -> map`. Used by the reference (`docs`) and by the error messages
//! (`explain`), so both name types alike.

/// A type as scripts know it: `string`, `int`, `map`, `array`, `bool`, `float`, `()`, or
/// `any` for a value of any kind.
pub fn script_type(rust: &str) -> &str {
    let t = rust.trim();
    if t.contains("str") || t.contains("String") {
        return "string";
    }
    match t {
        "i64" | "i32" | "INT" | "u64" | "usize" => "int",
        "f64" | "f32" | "FLOAT" => "float",
        "bool" => "bool",
        "Map" | "rhai::Map" => "map",
        "Array" | "rhai::Array" => "array",
        "()" => "()",
        "Dynamic" | "" => "any",
        "char" => "char",
        other => other,
    }
}

/// `name(p: T, ...) -> R` of a registered function, with script types: a `group` or `parent`
/// of any type reads `group` (a group map, an id, a name or a path).
pub fn script_signature(signature: &str) -> String {
    let Some((head, rest)) = signature.split_once('(') else {
        return signature.to_string();
    };
    let Some((params, ret)) = rest.rsplit_once(')') else {
        return signature.to_string();
    };
    let params: Vec<String> = split_params(params)
        .into_iter()
        .map(|p| match p.split_once(':') {
            Some((name, ty)) => {
                let name = name.trim();
                let ty = if matches!(name, "group" | "parent") && ty.trim() == "Dynamic" {
                    "group"
                } else {
                    script_type(ty)
                };
                format!("{name}: {ty}")
            }
            None => p.trim().to_string(),
        })
        .collect();
    let ret = match ret.trim().strip_prefix("->") {
        Some(r) => format!(" -> {}", script_type(r)),
        None => String::new(),
    };
    format!("{head}({}){ret}", params.join(", "))
}

pub(crate) fn split_params(params: &str) -> Vec<&str> {
    params
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_read_in_script_types() {
        assert_eq!(
            script_signature("add_member(group: Dynamic, email: &str) -> Map"),
            "add_member(group: group, email: string) -> map"
        );
        assert_eq!(
            script_signature("user(email: &str) -> Dynamic"),
            "user(email: string) -> any"
        );
        assert_eq!(
            script_signature("write_csv(path: &str, rows: Array)"),
            "write_csv(path: string, rows: array)"
        );
    }
}
