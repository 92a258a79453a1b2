//! The seed's four "Common Workflows", run literally (`mcsh` for
//! `python3 scripts/mimecast_api.py`) in both schemes, checked against the sandbox's state.

use mcsh::sandbox::Options;
use serde_json::Value;

use crate::support::{Env, Scheme, SCHEMES};

fn mcsh(env: &Env, scheme: Scheme, args: &[&str]) {
    let out = env.mcsh(scheme).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mcsh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `mcsh ARGS > file`, as a shell would run it.
fn mcsh_to_file(env: &Env, scheme: Scheme, args: &[&str], file: &str) -> Value {
    let path = env.dir.path().join(file);
    let out = env.mcsh(scheme).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mcsh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&path, &out.stdout).unwrap();
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .expect("the file holds one JSON document")
}

fn group_ids(env: &Env, scheme: Scheme) -> Vec<(String, String)> {
    let listed = mcsh_to_file(
        env,
        scheme,
        &["groups", "list", "--output", "json"],
        "groups.json",
    );
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["description"].as_str().unwrap().to_string(),
                g["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn id_of(ids: &[(String, String)], name: &str) -> String {
    ids.iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| id.clone())
        .unwrap()
}

#[test]
fn onboard_new_employee() {
    for scheme in SCHEMES {
        let env = Env::new();
        let ids = group_ids(&env, scheme);
        let (dept, all_staff) = (id_of(&ids, "Engineering"), id_of(&ids, "All Staff"));
        mcsh(
            &env,
            scheme,
            &[
                "users",
                "create",
                "--email",
                "newuser@company.com",
                "--name",
                "New Employee",
            ],
        );
        mcsh(
            &env,
            scheme,
            &[
                "groups",
                "add-member",
                "--group",
                &dept,
                "--email",
                "newuser@company.com",
            ],
        );
        mcsh(
            &env,
            scheme,
            &[
                "groups",
                "add-member",
                "--group",
                &all_staff,
                "--email",
                "newuser@company.com",
            ],
        );

        let user = env.json(&["users", "get", "--email", "newuser@company.com"]);
        assert_eq!(user["name"], "New Employee");
        assert!(env
            .members(&dept)
            .contains(&"newuser@company.com".to_string()));
        assert!(env
            .members(&all_staff)
            .contains(&"newuser@company.com".to_string()));
    }
}

#[test]
fn offboard_employee() {
    for scheme in SCHEMES {
        let env = Env::new();
        env.json(&[
            "users",
            "create",
            "--email",
            "user@company.com",
            "--name",
            "Leaving User",
        ]);
        env.json(&[
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            "user@company.com",
        ]);
        let group = id_of(&group_ids(&env, scheme), "Sales");

        mcsh(
            &env,
            scheme,
            &[
                "groups",
                "remove-member",
                "--group",
                &group,
                "--email",
                "user@company.com",
            ],
        );
        mcsh(
            &env,
            scheme,
            &["users", "delete", "--email", "user@company.com"],
        );

        assert!(!env
            .members(&group)
            .contains(&"user@company.com".to_string()));
        assert!(!env.user_emails().contains(&"user@company.com".to_string()));
        assert_eq!(env.user_emails().len(), 62, "only that user went");
    }
}

#[test]
fn bulk_user_export() {
    for scheme in SCHEMES {
        let env = Env::new();
        let all = mcsh_to_file(
            &env,
            scheme,
            &["users", "list", "--output", "json"],
            "users_export.json",
        );
        let all = all.as_array().unwrap();
        assert_eq!(all.len(), 62, "every user of every internal domain");
        for u in all {
            for field in ["emailAddress", "name", "domain"] {
                assert!(u.get(field).is_some(), "{field} in {u}");
            }
        }
        let domain = mcsh_to_file(
            &env,
            scheme,
            &[
                "users",
                "list",
                "--domain",
                "example.com",
                "--output",
                "json",
            ],
            "domain_users.json",
        );
        let domain = domain.as_array().unwrap();
        assert_eq!(domain.len(), 14);
        assert!(domain.iter().all(|u| u["emailAddress"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")));
    }
}

#[test]
fn create_department_structure() {
    for scheme in SCHEMES {
        let env = Env::with(Options {
            empty: true,
            ..Options::default()
        });
        for name in ["Engineering", "Sales", "Marketing", "Finance"] {
            mcsh(&env, scheme, &["groups", "create", "--description", name]);
        }
        let ids = group_ids(&env, scheme);
        let names: Vec<&str> = ids.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Engineering", "Sales", "Marketing", "Finance"]);
        assert!(ids.iter().all(|(_, id)| id.len() > 200));
    }
}
