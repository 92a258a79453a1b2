//! Fleets: one command, workflow, script, plan and undo over three sandbox tenants, each its
//! own sandbox with its own credentials, named as profiles in a config file.

use std::collections::BTreeSet;

use assert_cmd::Command;
use mcsh::sandbox::{Options, Sandbox};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::{isolated, mcsh_process, on_a_terminal_with};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

/// Three sandbox tenants and a config file naming them (and the fleet `trio`).
struct Fleet {
    /// Kept for as long as the fleet is: dropping one stops it.
    _sandboxes: Vec<Sandbox>,
    dir: TempDir,
}

impl Fleet {
    fn new() -> Fleet {
        Fleet::with_secret_of(None)
    }

    /// The fleet, with the config file holding a wrong secret for tenant `wrong`.
    fn with_secret_of(wrong: Option<&str>) -> Fleet {
        Fleet::with(wrong, Options::default())
    }

    /// The fleet, each tenant served with `options`.
    fn with(wrong: Option<&str>, options: Options) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let sandboxes: Vec<Sandbox> = TENANTS
            .iter()
            .map(|t| {
                Sandbox::spawn(Options {
                    tenant: Some(t.to_string()),
                    ..options.clone()
                })
                .expect("a sandbox tenant")
            })
            .collect();
        let mut config = String::new();
        for (t, s) in TENANTS.iter().zip(&sandboxes) {
            let secret = if Some(*t) == wrong {
                "not-the-secret".to_string()
            } else {
                s.keys.client_secret.clone()
            };
            config.push_str(&format!(
                "[{t}]\nbase_url = {:?}\nclient_id = {:?}\nclient_secret = {secret:?}\n\n",
                s.base_url, s.keys.client_id
            ));
        }
        config.push_str(
            "[fleets]\ntrio = [\"acme\", \"globex\", \"initech\"]\npair = [\"acme\", \"globex\"]\n",
        );
        let path = dir.path().join("config").join("mcsh");
        std::fs::create_dir_all(&path).unwrap();
        let file = path.join("config.toml");
        std::fs::write(&file, config).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Fleet {
            _sandboxes: sandboxes,
            dir,
        }
    }

    fn mcsh(&self) -> Command {
        isolated(self.dir.path().to_path_buf())
    }

    /// `mcsh ARGS`: (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.mcsh().args(args).output().unwrap();
        (
            out.status.code().expect("an exit code"),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// `mcsh --profile TENANT ARGS -o json`, which must succeed.
    fn json_of(&self, tenant: &str, args: &[&str]) -> Value {
        let (code, out, err) = self.run(&[&["--profile", tenant, "-o", "json"], args].concat());
        assert_eq!(code, 0, "{tenant} {args:?}: {err}");
        serde_json::from_str(&out).expect("JSON")
    }

    /// The members of group `group` on `tenant`.
    fn members(&self, tenant: &str, group: &str) -> BTreeSet<String> {
        self.json_of(tenant, &["groups", "members", "--group", group])
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["emailAddress"].as_str().unwrap().to_string())
            .collect()
    }

    /// The state of user `email` on `tenant` (`None`: no such user).
    fn user_state(&self, tenant: &str, email: &str) -> Option<String> {
        let (code, out, _) = self.run(&[
            "--profile",
            tenant,
            "-o",
            "json",
            "users",
            "get",
            "--email",
            email,
        ]);
        (code == 0).then(|| {
            let v: Value = serde_json::from_str(&out).unwrap();
            v["state"].as_str().unwrap_or("").to_string()
        })
    }
}

/// Rows of a JSON-lines report, by profile.
fn rows_by_profile(stdout: &str) -> std::collections::BTreeMap<String, Vec<Value>> {
    let mut by = std::collections::BTreeMap::<String, Vec<Value>>::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("a JSON line");
        by.entry(v["profile"].as_str().expect("a profile").to_string())
            .or_default()
            .push(v);
    }
    by
}

#[test]
fn a_command_runs_on_every_tenant_and_reports_once_with_the_profile_first() {
    let f = Fleet::new();
    let (code, out, err) = f.run(&["--fleet", "trio", "users", "list", "-o", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    assert_eq!(by.keys().map(String::as_str).collect::<Vec<_>>(), TENANTS);
    // In JSON lines too, each row leads with its profile.
    for line in out.lines() {
        assert!(line.starts_with("{\"profile\":\""), "{line}");
    }
    // What the tenants tell the fleet itself (started, wrote) is not passed on.
    assert!(!err.contains("mcsh-fleet-member"), "{err}");
    for t in TENANTS {
        // Each tenant's rows are its own listing, exactly.
        let own: BTreeSet<String> = f
            .json_of(t, &["users", "list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["emailAddress"].as_str().unwrap().to_string())
            .collect();
        let reported: BTreeSet<String> = by[t]
            .iter()
            .map(|u| u["emailAddress"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(reported, own, "{t}");
        assert_eq!(by[t].len(), own.len(), "{t}");
        // The tenant's line counts its rows.
        let line = tenant_line(&err, t);
        assert!(
            line.contains(&format!("done         {} row(s)", own.len())),
            "{line}"
        );
    }
    // The tenants are different people.
    assert_ne!(
        by["acme"][0]["emailAddress"],
        by["globex"][0]["emailAddress"]
    );
    for t in TENANTS {
        assert!(
            err.contains(&format!("  {t}")) && err.contains("done"),
            "{err}"
        );
    }
    assert!(err.contains("3/3 tenants ended"), "{err}");

    // A table and CSV lead with the profile column, then the command's own columns.
    let (code, out, _) = f.run(&["--profiles", "acme,globex", "groups", "list", "-o", "csv"]);
    assert_eq!(code, 0);
    let header = out.lines().next().unwrap();
    assert!(header.starts_with("profile,description,path"), "{header}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("acme,")).count(),
        9,
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("globex,")).count(),
        9,
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("initech,")).count(),
        0,
        "{out}"
    );

    // A fleet's --out names a folder of the admin's own, never a link to one.
    #[cfg(unix)]
    {
        let elsewhere = f.dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let link = f.dir.path().join("exports");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let link = link.display().to_string();
        let (code, _, err) = f.run(&["--profiles", "acme,globex", "export", "--out", &link]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }

    // `export --format csv` to standard output makes the report CSV, as on one tenant (it
    // printed JSON); `--out -` is standard output too.
    for extra in [&[][..], &["--out", "-"][..]] {
        let mut args = vec!["--profiles", "acme,globex", "export", "--format", "csv"];
        args.extend_from_slice(extra);
        let (code, out, err) = f.run(&args);
        assert_eq!(code, 0, "{err}");
        let header = out.lines().next().unwrap();
        assert!(header.starts_with("profile,emailAddress,"), "{out}");
        let acme = f
            .json_of("acme", &["users", "list"])
            .as_array()
            .unwrap()
            .len();
        assert_eq!(
            out.lines().filter(|l| l.starts_with("acme,")).count(),
            acme,
            "{out}"
        );
    }
}

#[test]
fn a_workflow_runs_on_every_tenant() {
    let f = Fleet::new();
    let email = "fleet.person@company.com";
    let (code, out, err) = f.run(&[
        "--all-profiles",
        "onboard",
        "--email",
        email,
        "--name",
        "Fleet Person",
        "--group",
        "Sales",
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    for t in TENANTS {
        assert!(f.members(t, "Sales").contains(email), "{t}");
        assert!(
            by[t]
                .iter()
                .any(|r| r["step"] == "user" && r["status"] == "created"),
            "{t}: {out}"
        );
    }
    assert!(
        err.contains("mcsh undo "),
        "the fleet run says how to undo it: {err}"
    );
}

#[test]
fn a_script_runs_once_per_tenant_and_knows_which() {
    let f = Fleet::new();
    let (code, out, err) = f.run(&[
        "--fleet",
        "trio",
        "-e",
        "let a = account(); #{who: profile(), code: a.code, name: a.name, users: users().len()}",
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    let mut codes = BTreeSet::new();
    for t in TENANTS {
        assert_eq!(by[t].len(), 1, "{out}");
        let row = &by[t][0];
        assert_eq!(row["who"], t);
        assert_eq!(row["name"], format!("{t} (sandbox)"));
        codes.insert(row["code"].as_str().unwrap().to_string());
        let own = f.json_of(t, &["users", "list"]).as_array().unwrap().len();
        assert_eq!(row["users"], own);
    }
    assert_eq!(codes.len(), 3, "each tenant is its own account: {codes:?}");
}

#[test]
fn what_a_script_prints_over_a_fleet_comes_back_exactly_and_is_never_a_row() {
    let f = Fleet::new();
    let (code, out, err) = f.run(&[
        "--fleet",
        "trio",
        "-e",
        r#"print(""); print("  indented"); print(`{"emailAddress":"ceo@x","status":"created"}`); print(`{"mcshColumns":["secret"]}`); let m = env("MCSH_FLEET_MEMBER") ?? "none"; [#{who: profile(), member: m}, #{mcshPrinted: "data"}]"#,
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    for t in TENANTS {
        let printed: Vec<&str> = by[t].iter().filter_map(|r| r["output"].as_str()).collect();
        assert_eq!(
            printed,
            [
                "",
                "  indented",
                r#"{"emailAddress":"ceo@x","status":"created"}"#,
                r#"{"mcshColumns":["secret"]}"#
            ],
            "{t}: {out}"
        );
        assert!(
            by[t].iter().all(|r| r.get("emailAddress").is_none()),
            "{out}"
        );
        assert!(by[t].iter().any(|r| r["who"] == t), "{out}");
        // A row of data shaped like a printed line is a row (the fleet's own lines carry the
        // run's random mark), not a fifth printed line.
        assert!(by[t].iter().any(|r| r["mcshPrinted"] == "data"), "{out}");
        // Nor can a script read the fleet's mark to forge one: no process is started with it
        // in its environment.
        assert!(by[t].iter().any(|r| r["member"] == "none"), "{out}");
    }
}

#[test]
fn credentials_in_the_environment_do_not_make_every_tenant_one() {
    let f = Fleet::new();
    // The sandbox tour's exports, still set: each profile would resolve to acme.
    let acme = &f._sandboxes[0];
    let email = "twice.person@company.com";
    let out = f
        .mcsh()
        .env("MIMECAST_BASE_URL", &acme.base_url)
        .env("MIMECAST_CLIENT_ID", &acme.keys.client_id)
        .env("MIMECAST_CLIENT_SECRET", &acme.keys.client_secret)
        .args([
            "--fleet",
            "trio",
            "--yes",
            "groups",
            "add-member",
            "--group",
            "Sales",
            "--email",
            email,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("MIMECAST_BASE_URL, MIMECAST_CLIENT_ID, MIMECAST_CLIENT_SECRET are set in the environment"),
        "{err}"
    );
    assert!(
        err.contains("unset MIMECAST_BASE_URL MIMECAST_CLIENT_ID MIMECAST_CLIENT_SECRET"),
        "{err}"
    );
    assert!(!err.contains(&acme.keys.client_secret), "{err}");
    for t in TENANTS {
        assert!(!f.members(t, "Sales").contains(email), "{t} was written to");
    }
    // A variable that names no credential (a timeout) is no reason to refuse.
    let out = f
        .mcsh()
        .env("MCSH_TIMEOUT", "20")
        .args(["--fleet", "pair", "-o", "csv", "-e", "account().name"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_tenant_refusing_its_credentials_is_partial_and_the_others_complete() {
    let f = Fleet::with_secret_of(Some("globex"));
    let email = "partial.person@company.com";
    let (code, _, err) = f.run(&[
        "--fleet", "trio", "onboard", "--email", email, "--name", "P", "--group", "Sales",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("globex") && err.contains("failed"), "{err}");
    assert!(err.contains("not done on 1 of 3 tenants: globex"), "{err}");
    assert!(f.members("acme", "Sales").contains(email));
    assert!(f.members("initech", "Sales").contains(email));
    // Every tenant refusing: not partial, the worst code (4: credentials).
    let f = Fleet::with_secret_of(Some("acme"));
    let (code, _, err) = f.run(&["--profiles", "acme", "users", "list"]);
    assert_eq!(code, 4, "{err}");
}

#[cfg(unix)]
#[test]
fn on_a_terminal_a_failing_tenants_reason_is_its_error_uncoloured() {
    let f = Fleet::with_secret_of(Some("globex"));
    let mut coloured = f.mcsh();
    coloured.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    let shown = on_a_terminal_with(&coloured, &["--fleet", "pair", "groups", "list"], &[]);
    // The tenant's `error:` (red on a terminal) is passed on plain and read as its reason.
    let line = tenant_line(&shown, "globex");
    assert!(line.contains("failed"), "{shown}");
    assert!(
        line.contains("refused") || line.contains("credentials"),
        "the reason is the tenant's error: {shown}"
    );
    assert!(shown.contains("globex: error: "), "{shown}");
}

#[test]
fn a_fleet_plan_applies_each_part_on_its_own_tenant_only() {
    let f = Fleet::new();
    let plan = f.dir.path().join("fleet-plan.json");
    let plan_s = plan.display().to_string();
    let email = "planned.person@company.com";
    let (code, _, err) = f.run(&[
        "--fleet",
        "pair",
        "--plan-out",
        &plan_s,
        "onboard",
        "--email",
        email,
        "--name",
        "Planned",
        "--group",
        "Finance",
    ]);
    assert_eq!(code, 0, "{err}");
    for t in ["acme", "globex"] {
        assert!(
            !f.members(t, "Finance").contains(email),
            "a plan writes nothing"
        );
    }
    let bundle: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let parts = bundle["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);

    // Each part labelled with the other tenant: each is refused by the tenant it reaches.
    let mut swapped = bundle.clone();
    swapped["parts"][0]["profile"] = "globex".into();
    swapped["parts"][1]["profile"] = "acme".into();
    let swapped_path = f.dir.path().join("swapped.json");
    std::fs::write(&swapped_path, serde_json::to_vec(&swapped).unwrap()).unwrap();
    let (code, _, err) = f.run(&["apply", swapped_path.to_str().unwrap(), "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds the plan made for"), "{err}");
    for t in ["acme", "globex"] {
        assert!(
            !f.members(t, "Finance").contains(email),
            "{t}: nothing applied"
        );
    }

    // Without a terminal and without --yes, nothing is applied.
    let (code, _, err) = f.run(&["apply", &plan_s]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("acme 2 write(s), globex 2 write(s)"), "{err}");

    let (code, out, err) = f.run(&["apply", &plan_s, "--yes", "-o", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    assert_eq!(by["acme"].len(), 2, "{out}");
    assert_eq!(by["globex"].len(), 2, "{out}");
    for t in ["acme", "globex"] {
        assert!(f.members(t, "Finance").contains(email), "{t}");
    }
    assert!(!f.members("initech", "Finance").contains(email));
}

#[test]
fn undo_of_a_fleet_run_takes_back_each_tenants_own_changes_only() {
    let f = Fleet::new();
    let email = "undone.person@company.com";
    // The same person onboarded on initech by a run of its own.
    let (code, _, err) = f.run(&[
        "--profile",
        "initech",
        "onboard",
        "--email",
        email,
        "--name",
        "U",
        "--group",
        "Support",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = f.run(&[
        "--fleet", "pair", "onboard", "--email", email, "--name", "U", "--group", "Support",
    ]);
    assert_eq!(code, 0, "{err}");
    let fleet_run = fleet_run_of(&err);
    // The audit listing shows which fleet run each line belongs to.
    let (code, audit, _) = f.run(&["audit", "-o", "csv"]);
    assert_eq!(code, 0);
    assert!(audit.starts_with("time,fleet,run,profile"), "{audit}");
    assert_eq!(audit.matches(&fleet_run).count(), 4, "{audit}");
    let (code, out, err) = f.run(&["undo", &fleet_run, "--yes", "-o", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    assert_eq!(
        by.keys().map(String::as_str).collect::<Vec<_>>(),
        ["acme", "globex"]
    );
    for t in ["acme", "globex"] {
        // Both the membership and the account are taken back: another tenant's run making
        // the same change is no change here.
        assert!(by[t].iter().all(|r| r["status"] == "removed"), "{t}: {out}");
        assert!(!f.members(t, "Support").contains(email), "{t}");
        assert_eq!(
            f.user_state(t, email).as_deref(),
            Some("queued for deletion"),
            "{t}"
        );
    }
    assert!(
        f.members("initech", "Support").contains(email),
        "initech's own run stays"
    );
    assert_ne!(
        f.user_state("initech", email).as_deref(),
        Some("queued for deletion")
    );
}

#[test]
fn fleets_and_profiles_are_checked_before_anything_runs() {
    let f = Fleet::new();
    let (code, _, err) = f.run(&["--fleet", "nope", "users", "list"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("fleets there: pair, trio"), "{err}");
    let (code, _, err) = f.run(&["--profiles", "acme,umbrella", "users", "list"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("umbrella"), "{err}");
    let (code, _, err) = f.run(&["--profiles", "acme,globex", "snapshot"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--out DIR"), "{err}");
    let (code, _, err) = f.run(&["--fleet", "trio", "config", "show"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_fleet_snapshot_folder_rehearses_and_diffs_per_tenant() {
    let f = Fleet::new();
    let folder = f.dir.path().join("snaps");
    let folder_s = folder.display().to_string();
    let (code, _, err) = f.run(&["--fleet", "pair", "snapshot", "--out", &folder_s]);
    assert_eq!(code, 0, "{err}");
    for t in ["acme", "globex"] {
        let snap: Value =
            serde_json::from_slice(&std::fs::read(folder.join(format!("{t}.json"))).unwrap())
                .unwrap();
        assert_eq!(snap["tenant"]["profile"], t);
    }
    // A change on the rehearsal copies, then each copy differs from its snapshot.
    let (code, _, err) = f.run(&[
        "--fleet",
        "pair",
        "--rehearse",
        &folder_s,
        "groups",
        "create",
        "--description",
        "Rehearsed",
    ]);
    assert_eq!(code, 0, "{err}");
    let fleet_run = fleet_run_of(&err);
    let (code, out, err) = f.run(&[
        "--fleet",
        "pair",
        "--rehearse",
        &folder_s,
        "diff",
        &folder_s,
        "--live",
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 1, "each copy differs from its snapshot: {err}");
    assert!(
        err.contains("2 differs")
            && err.contains("0 failed")
            && err.contains("(acme: differs)")
            && err.contains("differs      1 change(s)")
            && !err.contains("error:"),
        "{err}"
    );
    let by = rows_by_profile(&out);
    for t in ["acme", "globex"] {
        assert!(
            by[t].iter().any(|r| r.to_string().contains("Rehearsed")),
            "{t}: {out}"
        );
    }
    // The tenants themselves are untouched.
    let (code, _, err) = f.run(&["--fleet", "pair", "diff", &folder_s, "--live"]);
    assert_eq!(code, 0, "{err}");
    // The run on the copies is undone on the copies, and only with them named.
    let (code, _, err) = f.run(&["undo", &fleet_run, "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--rehearse DIR undo"), "{err}");
    let (code, _, err) = f.run(&["--rehearse", &folder_s, "undo", &fleet_run, "--yes"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = f.run(&[
        "--fleet",
        "pair",
        "--rehearse",
        &folder_s,
        "diff",
        &folder_s,
        "--live",
    ]);
    assert_eq!(code, 0, "the copies are back to their snapshots: {err}");
}

#[test]
fn sandbox_serve_tenants_gives_profiles_a_fleet_can_use() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcsh"))
        .args([
            "sandbox",
            "serve",
            "--tenants",
            "2",
            "--addr",
            "127.0.0.1:0",
            "--state",
            ":memory:",
            "-o",
            "json",
        ])
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(serve.stdout.take().unwrap()));
    let mut config = String::new();
    let mut names = Vec::new();
    for _ in 0..2 {
        let v: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        let name = v["profile"].as_str().unwrap().to_string();
        config.push_str(&format!(
            "[{name}]\nbase_url = {}\nclient_id = {}\nclient_secret = {}\n\n",
            v["base_url"], v["client_id"], v["client_secret"]
        ));
        names.push(name);
    }
    assert_eq!(names, ["tenant-1", "tenant-2"]);
    let path = dir.path().join("config").join("mcsh");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("config.toml"), config).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            path.join("config.toml"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let out = isolated(dir.path().to_path_buf())
        .args(["--all-profiles", "-e", "account().code", "-o", "jsonl"])
        .output()
        .unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by = rows_by_profile(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(by.len(), 2);
    assert_ne!(by["tenant-1"][0]["value"], by["tenant-2"][0]["value"]);
}

#[test]
fn writes_on_a_terminal_are_planned_everywhere_and_confirmed_once_per_fleet() {
    let f = Fleet::new();
    let email = "asked.person@company.com";
    let args = [
        "--fleet", "pair", "onboard", "--email", email, "--name", "Asked", "--group", "Finance",
    ];
    // Declined: nothing is written anywhere.
    let shown = on_a_terminal_with(&f.mcsh(), &args, &["n"]);
    assert!(
        shown.contains("to 2 tenant(s): acme 2 write(s), globex 2 write(s) [y/N]"),
        "{shown}"
    );
    assert!(shown.contains("cancelled; nothing was changed"), "{shown}");
    // The plans live in a private folder that is gone afterwards: no path to it is shown.
    assert!(!shown.contains("mcsh-fleet-"), "{shown}");
    for t in ["acme", "globex"] {
        assert!(!f.members(t, "Finance").contains(email), "{t}");
    }
    // Confirmed: exactly the planned writes, on each tenant.
    let shown = on_a_terminal_with(&f.mcsh(), &args, &["y"]);
    assert!(
        shown.contains("fleet apply on 2 tenants: 2 done"),
        "{shown}"
    );
    for t in ["acme", "globex"] {
        assert!(f.members(t, "Finance").contains(email), "{t}");
    }
    assert!(!f.members("initech", "Finance").contains(email));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_every_tenant_and_says_so() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        stops_every_tenant_on(signal, false);
    }
    // `timeout` and service managers signal the whole process group: the tenants get it too,
    // and each still stops as Ctrl-C stops it, saying so, rather than dying unreported.
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        stops_every_tenant_on(signal, true);
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_tenants_wait_their_turn_to_start_writes_nothing_anywhere() {
    // Each tenant works on its own before it first connects, so later ones wait at the
    // start gate (one a core at a time); Ctrl-C at any moment of that starts no one after it.
    let f = Fleet::new();
    let script = "let t = 0; for i in 0..1000000 { t += i; } create_user(\"race-\" + profile() + \"@company.com\"); t";
    for after_ms in [30, 90, 160] {
        let child = mcsh_process(&f.mcsh())
            .args(["--fleet", "trio", "-e", script, "-o", "jsonl"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(after_ms));
        // SAFETY: a signal to the process this test started.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{after_ms} ms: {err}");
        assert!(err.contains("3 interrupted"), "{after_ms} ms: {err}");
        for t in TENANTS {
            let users = f.json_of(t, &["users", "list"]).to_string();
            assert!(!users.contains("race-"), "{after_ms} ms: {t} wrote: {err}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_fleet_killed_outright_stops_its_tenants() {
    let f = Fleet::with(
        None,
        Options {
            latency: std::time::Duration::from_millis(300),
            ..Options::default()
        },
    );
    let csv = f.dir.path().join("slow.csv");
    let mut text = String::from("email,name,groups\n");
    for i in 0..20 {
        text.push_str(&format!("killed.{i}@company.com,Killed {i},Sales\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let mut cmd = mcsh_process(&f.mcsh());
    // One request at a time: each tenant would go on sending for about 12 s.
    let mut child = cmd
        .args(["--fleet", "trio", "--batch-size", "1", "--concurrency", "1"])
        .args(["onboard", "--csv"])
        .arg(&csv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let requests = || -> u64 {
        f._sandboxes
            .iter()
            .map(|s| s.stats.hits(mcsh::api::paths::CREATE_USER))
            .sum()
    };
    let started = std::time::Instant::now();
    while requests() < 3 && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Each tenant was told to stop: after the requests under way, none sends another.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let settled = requests();
    std::thread::sleep(std::time::Duration::from_millis(2000));
    assert_eq!(
        requests(),
        settled,
        "tenants went on after their fleet was killed"
    );
    assert!(settled < 60, "{settled}");
}

#[cfg(unix)]
fn stops_every_tenant_on(signal: libc::c_int, whole_group: bool) {
    let f = Fleet::with(
        None,
        Options {
            latency: std::time::Duration::from_millis(400),
            ..Options::default()
        },
    );
    let mut cmd = mcsh_process(&f.mcsh());
    if whole_group {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd
        .args([
            "--fleet",
            "trio",
            "--fleet-jobs",
            "2",
            "export",
            "--with-groups",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    // The fleet alone, or (as `timeout` does) its whole process group.
    let target = if whole_group {
        -(child.id() as libc::pid_t)
    } else {
        child.id() as libc::pid_t
    };
    // SAFETY: a signal to the process (group) this test started.
    unsafe {
        libc::kill(target, signal);
    }
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{err}"
    );
    // Two ran and were stopped; the third never started.
    assert!(err.contains("3 interrupted"), "{err}");
    assert!(err.contains("not started: interrupted"), "{err}");
    // Each that ran stopped itself and said so (`error: interrupted`), not killed unheard.
    for t in ["acme", "globex"] {
        assert!(
            err.contains(&format!("{t}: error: interrupted")),
            "{signal} {whole_group}: {err}"
        );
    }
}

#[test]
fn tenants_making_their_first_plans_at_once_seal_them_with_one_key() {
    // Six sandbox tenants plan at once in a data dir with no plan key yet: every part must be
    // sealed with the key that stays, or applying it is refused as changed.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("p.json");
    let tenants = "t1,t2,t3,t4,t5,t6";
    let out = isolated(dir.path().to_path_buf())
        .args(["--sandbox", "--profiles", tenants, "--plan-out"])
        .arg(&plan)
        .args(["groups", "create", "--description", "Planned Together"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = isolated(dir.path().to_path_buf())
        .args(["apply", "--yes", "-o", "jsonl"])
        .arg(&plan)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        rows_by_profile(&String::from_utf8_lossy(&out.stdout)).len(),
        6,
        "{err}"
    );
}

/// The fleet run id a fleet run announced on stderr.
fn fleet_run_of(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("fleet run ")
                .and_then(|r| r.split(':').next())
        })
        .unwrap_or_else(|| panic!("no fleet run announced: {stderr}"))
        .to_string()
}

/// The summary line a fleet run printed for `tenant`.
fn tenant_line<'a>(stderr: &'a str, tenant: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{tenant} ")))
        .unwrap_or_else(|| panic!("no line for {tenant}: {stderr}"))
}

#[test]
fn a_dry_run_or_a_plan_of_a_fleet_undo_changes_nothing() {
    let f = Fleet::new();
    let email = "kept.person@company.com";
    let (code, _, err) = f.run(&[
        "--fleet", "pair", "onboard", "--email", email, "--name", "K", "--group", "Support",
    ]);
    assert_eq!(code, 0, "{err}");
    let fleet_run = fleet_run_of(&err);
    let (code, _, err) = f.run(&["--dry-run", "undo", &fleet_run]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("dry run: 2 write(s) planned"), "{err}");
    let plan = f.dir.path().join("undo-plan.json");
    let (code, _, err) = f.run(&["--plan-out", plan.to_str().unwrap(), "undo", &fleet_run]);
    assert_eq!(code, 0, "{err}");
    let bundle: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert_eq!(bundle["parts"].as_array().unwrap().len(), 2);
    for t in ["acme", "globex"] {
        assert!(
            f.members(t, "Support").contains(email),
            "{t}: nothing undone"
        );
        assert_ne!(
            f.user_state(t, email).as_deref(),
            Some("queued for deletion")
        );
    }
}

#[test]
fn a_fleet_plan_applied_with_rehearse_changes_the_copies_only() {
    let f = Fleet::new();
    let folder = f.dir.path().join("copies");
    let folder_s = folder.display().to_string();
    let (code, _, err) = f.run(&["--fleet", "pair", "snapshot", "--out", &folder_s]);
    assert_eq!(code, 0, "{err}");
    let plan = f.dir.path().join("p.json");
    let plan_s = plan.display().to_string();
    let email = "copy.person@company.com";
    let (code, _, err) = f.run(&[
        "--fleet",
        "pair",
        "--plan-out",
        &plan_s,
        "onboard",
        "--email",
        email,
        "--name",
        "C",
        "--group",
        "Finance",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = f.run(&["--rehearse", &folder_s, "apply", &plan_s, "--yes"]);
    assert_eq!(code, 0, "{err}");
    for t in ["acme", "globex"] {
        assert!(
            !f.members(t, "Finance").contains(email),
            "{t}: the tenant is untouched"
        );
    }
    let (code, out, err) = f.run(&[
        "--fleet",
        "pair",
        "--rehearse",
        &folder_s,
        "groups",
        "members",
        "--group",
        "Finance",
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    for t in ["acme", "globex"] {
        assert!(
            by[t].iter().any(|m| m["emailAddress"] == email),
            "{t}: {out}"
        );
    }
}

#[test]
fn a_fleet_plan_with_one_part_changed_by_hand_is_not_applied_anywhere() {
    let f = Fleet::new();
    let plan = f.dir.path().join("p.json");
    let plan_s = plan.display().to_string();
    let (code, _, err) = f.run(&[
        "--fleet",
        "pair",
        "--plan-out",
        &plan_s,
        "groups",
        "create",
        "--description",
        "Sealed",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    bundle["parts"][1]["plan"]["writes"][0]["item"]["description"] = "Tampered".into();
    std::fs::write(&plan, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let (code, _, err) = f.run(&["apply", &plan_s, "--yes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the part for globex was changed"), "{err}");
    for t in ["acme", "globex"] {
        let groups = f.json_of(t, &["groups", "list"]).to_string();
        assert!(
            !groups.contains("Sealed") && !groups.contains("Tampered"),
            "{t}"
        );
    }
}

#[test]
fn scripts_over_a_fleet_report_what_they_return_from_a_file_or_standard_input() {
    let f = Fleet::new();
    let script = f.dir.path().join("small.rhai");
    std::fs::write(
        &script,
        "groups().filter(|g| g.userCount < 4).map(|g| #{group: g.path, who: profile()})",
    )
    .unwrap();
    let (code, out, err) = f.run(&[
        "--fleet",
        "pair",
        "run",
        script.to_str().unwrap(),
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    for t in ["acme", "globex"] {
        assert_eq!(by[t].len(), 2, "{t}: {out}");
        assert!(by[t].iter().all(|r| r["who"] == t), "{out}");
    }
    let out = f
        .mcsh()
        .args(["--fleet", "pair", "-o", "jsonl"])
        .write_stdin("#{who: profile()}")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by = rows_by_profile(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(by["acme"][0]["who"], "acme");
    assert_eq!(by["globex"][0]["who"], "globex");
}

#[test]
fn a_profile_whose_name_cannot_be_a_file_name_is_no_fleet_member() {
    let f = Fleet::new();
    let config = f.dir.path().join("config").join("mcsh").join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace(
        "[fleets]",
        "[\"../../escape\"]\nclient_id = \"x\"\nclient_secret = \"y\"\n\n[fleets]\nbad = [\"acme\", \"../../escape\"]",
    );
    std::fs::write(&config, text).unwrap();
    let snaps = f.dir.path().join("snaps");
    let (code, _, err) = f.run(&[
        "--fleet",
        "bad",
        "snapshot",
        "--out",
        snaps.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be part of a fleet"), "{err}");
    assert!(!f.dir.path().join("escape.json").exists());
    assert!(!snaps.exists(), "nothing was made");
    // Other fleets and commands still work with that profile in the file.
    let (code, _, err) = f.run(&["--fleet", "pair", "groups", "list"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = f.run(&["--fleet-jobs", "4", "groups", "list"]);
    assert_eq!(code, 2, "--fleet-jobs without a fleet: {err}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_fleet_runs_its_tenants_as_threads_of_its_own_process_and_starts_no_other() {
    let f = Fleet::with(
        None,
        Options {
            latency: std::time::Duration::from_millis(500),
            ..Options::default()
        },
    );
    let fleet = mcsh_process(&f.mcsh())
        .args(["--profiles", "acme,globex", "users", "list"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let tasks = format!("/proc/{}/task", fleet.id());
    let started = std::time::Instant::now();
    let mut children = Vec::new();
    let mut parts = std::collections::BTreeSet::new();
    // While the tenants wait on the (slow) service: each one's thread is there, and no
    // process was started.
    while started.elapsed() < std::time::Duration::from_secs(20) && parts.len() < 2 {
        for task in std::fs::read_dir(&tasks).into_iter().flatten().flatten() {
            if let Ok(c) = std::fs::read_to_string(task.path().join("children")) {
                children.extend(c.split_whitespace().map(str::to_string));
            }
            if let Ok(name) = std::fs::read_to_string(task.path().join("comm")) {
                if let Some(t) = name.trim().strip_prefix("part ") {
                    parts.insert(t.to_string());
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = fleet.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(parts.into_iter().collect::<Vec<_>>(), ["acme", "globex"]);
    assert!(children.is_empty(), "processes started: {children:?}");
}

#[test]
fn each_tenant_of_a_fleet_has_the_memory_limit_to_itself() {
    let f = Fleet::with(
        None,
        Options {
            latency: std::time::Duration::from_millis(500),
            ..Options::default()
        },
    );
    // Each tenant holds 40 MiB while it waits on the (slow) service, all three at once: 120
    // MiB together, within a 64 MiB limit each.
    let (code, out, err) = f.run(&[
        "--fleet",
        "trio",
        "--limit",
        "memory=64",
        "-e",
        "let held = blob(40000000); users().len() + held.len() - 40000000",
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    for t in TENANTS {
        assert_eq!(by[t].len(), 1, "{t}: {out}");
    }
    // And one tenant going over its own limit is stopped by it.
    let (code, _, err) = f.run(&[
        "--fleet",
        "trio",
        "--limit",
        "memory=64",
        "-e",
        "if profile() == \"globex\" { let held = blob(70000000); users().len() + held.len() } else { 1 }",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        tenant_line(&err, "globex").contains("more than 64 MiB"),
        "{err}"
    );
    assert!(tenant_line(&err, "acme").contains("done"), "{err}");
    // Asking for more than the machine has at once stops that tenant, not the fleet's process.
    let (code, out, err) = f.run(&[
        "--fleet",
        "pair",
        "-o",
        "jsonl",
        "-e",
        "if profile() == \"globex\" { blob(100000000000).len() } else { 1 }",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(tenant_line(&err, "globex").contains("more than"), "{err}");
    assert_eq!(rows_by_profile(&out)["acme"][0]["value"], 1, "{out}");
    // What a tenant prints is kept for the report, and not held against its memory (a single
    // run would have written it out): 20 MB of output under a 16 MiB limit.
    let (code, out, err) = f.run(&[
        "--fleet",
        "pair",
        "--limit",
        "memory=16",
        "-o",
        "jsonl",
        "-e",
        "let s = \"y\"; s.pad(200, \"y\"); for i in 0..100000 { print(s) } 1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows_by_profile(&out)["globex"].len(), 100001);
}

#[test]
fn options_after_a_scripts_path_cannot_send_a_fleets_parts_elsewhere() {
    let f = Fleet::new();
    let script = f.dir.path().join("w.rhai");
    std::fs::write(&script, "ensure_group(\"MisRouted\"); profile()").unwrap();
    let path = script.to_str().unwrap();
    for after in [
        &["--profile", "globex"][..],
        &["-o", "table"],
        &["--sandbox"],
    ] {
        let mut args = vec!["--fleet", "pair", "--yes", path];
        args.extend_from_slice(after);
        let (code, _, err) = f.run(&args);
        assert_eq!(code, 2, "{after:?}: {err}");
        assert!(err.contains("the script's path"), "{err}");
    }
    // Nor with `run`, nor written together, nor narrowing the fleet: refused once, for all.
    for after in [
        &["run", path, "--profiles", "globex"][..],
        &["run", path, "--fleet", "pair"],
        &["run", path, "--all-profiles"],
        &[path, "-otable"],
    ] {
        let mut args = vec!["--fleet", "pair", "--yes"];
        args.extend_from_slice(after);
        let (code, _, err) = f.run(&args);
        assert_eq!(code, 2, "{after:?}: {err}");
        assert_eq!(err.matches("before it").count(), 1, "{err}");
    }
    // Nor does a fleet's option after it run one tenant instead of the fleet.
    let (code, _, err) = f.run(&["--profile", "acme", path, "--fleet", "pair"]);
    assert_eq!(code, 2, "{err}");
    for t in ["acme", "globex"] {
        let groups = f.json_of(t, &["groups", "list"]).to_string();
        assert!(!groups.contains("MisRouted"), "{t}");
    }
}

#[test]
fn a_script_over_a_fleet_may_recurse_as_deep_as_its_limit_allows() {
    let f = Fleet::new();
    let (code, out, err) = f.run(&[
        "--fleet",
        "pair",
        "--limit",
        "call-depth=10000",
        "-e",
        "fn f(n) { if n == 0 { 0 } else { f(n - 1) + 1 } } f(9000)",
        "-o",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let by = rows_by_profile(&out);
    for t in ["acme", "globex"] {
        assert_eq!(by[t][0]["value"], 9000, "{t}: {out}");
    }
}

#[test]
fn a_tenant_that_fails_with_exit_1_makes_the_run_partial_and_is_named() {
    let f = Fleet::new();
    let (code, _, err) = f.run(&[
        "--fleet",
        "trio",
        "-e",
        "if profile() == \"globex\" { exit(1) } else { 1 }",
    ]);
    assert_eq!(code, 3, "{err}");
    let line = tenant_line(&err, "globex");
    assert!(line.contains("failed") && line.contains("exit 1"), "{line}");
    assert!(err.contains("not done on 1 of 3 tenants: globex"), "{err}");
}

#[test]
fn a_fleet_plan_made_on_rehearsal_copies_names_both_applies() {
    let f = Fleet::new();
    let folder = f.dir.path().join("copies");
    let folder_s = folder.display().to_string();
    let (code, _, err) = f.run(&["--fleet", "pair", "snapshot", "--out", &folder_s]);
    assert_eq!(code, 0, "{err}");
    let plan_s = f.dir.path().join("rp.json").display().to_string();
    let (code, _, err) = f.run(&[
        "--fleet",
        "pair",
        "--rehearse",
        &folder_s,
        "--plan-out",
        &plan_s,
        "onboard",
        "--email",
        "rehearsed.person@company.com",
        "--name",
        "R",
    ]);
    assert_eq!(code, 0, "{err}");
    // The plain apply writes to the tenants themselves: the hint says so, and gives the one
    // that stays on the copies first.
    assert!(
        err.contains(&format!(
            "`mcsh --rehearse {folder_s} apply {plan_s}` carries each out on its rehearsal copy, `mcsh apply {plan_s}` on the tenants themselves"
        )),
        "{err}"
    );
}

#[test]
fn what_a_secret_command_says_in_a_fleet_is_shown_masked() {
    let f = Fleet::new();
    let file = f.dir.path().join("config/mcsh/config.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    // acme's secret from a command that also says it on stderr (`set -x`, a debug line).
    let start = text.find("client_secret = \"").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let secret = text[start + "client_secret = \"".len()..end - 1].to_string();
    let text = format!(
        "{}secret_command = \"echo {secret}; echo debug: got {secret} >&2\"{}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(&file, text).unwrap();
    let (code, _, err) = f.run(&["--fleet", "pair", "users", "list", "-o", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(&secret), "{err}");
    assert!(err.contains("debug: got ****"), "{err}");
}

#[test]
fn account_over_a_fleet_fails_the_tenant_whose_credentials_are_refused() {
    // The fleet's health check: a tenant that refuses its credentials is not "done".
    let f = Fleet::with_secret_of(Some("globex"));
    let (code, out, err) = f.run(&["--fleet", "trio", "-o", "csv", "-e", "account().name"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not done on 1 of 3 tenants: globex"), "{err}");
    assert!(out.contains("acme,") && out.contains("initech,"), "{out}");
}

#[test]
fn tenants_discovering_their_region_at_once_each_keep_what_they_found() {
    // Eight API 1.0 profiles (keys of their own) with an admin's address and no base URL:
    // each tenant of the fleet asks discovery as it connects, and saves the answer in its own
    // profile, though the script calls nothing.
    let env = crate::support::Env::new();
    let k = &env.sandbox.keys;
    let names: Vec<String> = (1..=8).map(|i| format!("v{i}")).collect();
    let mut config = String::new();
    for n in &names {
        config.push_str(&format!(
            "[{n}]\naccess_key = \"{}-{n}\"\nsecret_key = {:?}\napp_id = {:?}\napp_key = {:?}\nadmin_email = \"admin@company.com\"\n\n",
            k.access_key, k.secret_key, k.app_id, k.app_key
        ));
    }
    let file = env.dir.path().join("discover.toml");
    std::fs::write(&file, config).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = env
        .bare()
        .env("MCSH_CONFIG", &file)
        .env("MCSH_DISCOVERY_URL", &env.sandbox.base_url)
        .args(["--profiles", &names.join(","), "-o", "csv", "-e", "1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        saved
            .matches(&format!("base_url = \"{}\"", env.sandbox.base_url))
            .count(),
        8,
        "{saved}"
    );
}

#[test]
fn two_profiles_of_one_tenant_are_not_one_fleet() {
    let f = Fleet::new();
    // A profile copied under a second name: the same tenant, and each write would go twice.
    let file = f.dir.path().join("config").join("mcsh").join("config.toml");
    let acme = &f._sandboxes[0];
    let mut config = std::fs::read_to_string(&file).unwrap();
    config = config.replacen(
        "[fleets]",
        &format!(
            "[acme-copy]\nbase_url = {:?}\nclient_id = {:?}\nclient_secret = {:?}\n\n[fleets]",
            format!("{}/", acme.base_url),
            acme.keys.client_id,
            acme.keys.client_secret
        ),
        1,
    );
    std::fs::write(&file, config).unwrap();
    let email = "twice.more@company.com";
    let (code, _, err) = f.run(&[
        "--profiles",
        "acme,globex,acme-copy",
        "--yes",
        "groups",
        "add-member",
        "--group",
        "Sales",
        "--email",
        email,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("profiles acme and acme-copy name the same tenant"),
        "{err}"
    );
    assert!(!f.members("acme", "Sales").contains(email));
    assert!(!f.members("globex", "Sales").contains(email));
    // Each alone is a tenant of its own.
    let (code, _, err) = f.run(&["--profiles", "acme-copy,globex", "-o", "csv", "-e", "1"]);
    assert_eq!(code, 0, "{err}");
}
