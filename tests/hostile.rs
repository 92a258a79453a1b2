//! Hostile input, one clear error each: flags, CSV files, config files, scripts and server
//! answers. Every case checks the documented exit code, a message naming the input, and that
//! nothing panicked.

use std::io::Write;

use crate::support::scripted::{Canned, Scripted};
use crate::support::{Env, Scheme};

/// A canned answer a scripted server gives to every API call.
type Answer = Box<dyn Fn() -> Canned + Send + Sync>;

/// One hostile case.
struct Case {
    name: String,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    env: Vec<(String, String)>,
    creds: bool,
    code: i32,
    says: String,
}

fn case(name: &str, args: &[&str], code: i32, says: &str) -> Case {
    Case {
        name: name.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
        env: vec![],
        creds: false,
        code,
        says: says.into(),
    }
}

impl Case {
    fn creds(mut self) -> Case {
        self.creds = true;
        self
    }
    fn stdin(mut self, bytes: Vec<u8>) -> Case {
        self.stdin = Some(bytes);
        self
    }
    fn env(mut self, k: &str, v: &str) -> Case {
        self.env.push((k.into(), v.into()));
        self
    }
}

fn run_all(env: &Env, cases: Vec<Case>) -> usize {
    let n = cases.len();
    let mut failures = Vec::new();
    for c in cases {
        let mut cmd = if c.creds {
            env.mcsh(Scheme::OAuth)
        } else {
            env.bare()
        };
        cmd.args(&c.args);
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        if let Some(input) = &c.stdin {
            cmd.write_stdin(input.clone());
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ok = out.status.code() == Some(c.code)
            && (stderr.contains(&c.says) || stdout.contains(&c.says))
            && !stderr.contains("panicked")
            && (c.code == 0 || stderr.lines().any(|l| l.starts_with("error:")));
        if !ok {
            failures.push(format!(
                "{}: exit {:?} (want {}), wanted {:?} in:\n{}",
                c.name,
                out.status.code(),
                c.code,
                c.says,
                &stderr.chars().take(600).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} hostile cases misbehaved:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
    n
}

#[test]
fn hostile_flags() {
    let env = Env::new();
    let mut cases = Vec::new();
    for bad in [
        "",
        " ",
        "a",
        "@",
        "a@",
        "@b.com",
        "a@b",
        "a b@c.com",
        "a..b@c.com",
        ".a@c.com",
        "a.@c.com",
        "a@-c.com",
        "a@c-.com",
        "a@c..com",
        "a@.com",
        "ünï@c.com",
        "a@c.c om",
        "a\n@c.com",
        "<script>@c.com",
        "a@[1.2.3.4]",
        "a@c.com@d.com",
        "a@c.com;b@c.com",
    ] {
        cases.push(case(
            &format!("email {bad:?}"),
            &["users", "create", "--email", bad],
            2,
            "is not an email address",
        ));
    }
    let long_local = format!("{}@company.com", "x".repeat(100));
    cases.push(case(
        "long local part",
        &["users", "create", "--email", &long_local],
        2,
        "part before the @",
    ));
    let huge = "y".repeat(120_000);
    cases.push(case(
        "a 120 kB argument",
        &["users", "get", "--email", &huge],
        2,
        "longer than 254",
    ));
    cases.push(
        case(
            "a 120 kB group name",
            &["groups", "members", "--group", &huge],
            1,
            "no group has the id or name",
        )
        .creds(),
    );
    for (name, args, says) in [
        (
            "empty description",
            vec!["groups", "create", "--description", ""],
            "--description must not be empty",
        ),
        (
            "blank rename",
            vec![
                "groups",
                "rename",
                "--group",
                "Sales",
                "--description",
                "  ",
            ],
            "--description must not be empty",
        ),
        (
            "nothing to update",
            vec!["users", "update", "--email", "a@company.com"],
            "nothing to update",
        ),
        (
            "bad domain",
            vec!["users", "list", "--domain", "not a domain"],
            "is not a domain name",
        ),
        (
            "empty domain",
            vec!["users", "list", "--domain", ""],
            "is not a domain name",
        ),
        (
            "domain mismatch",
            vec![
                "users",
                "create",
                "--email",
                "a@x.com",
                "--domain",
                "company.com",
            ],
            "is not in --domain",
        ),
        (
            "departments with no name",
            vec!["departments", ""],
            "give at least one department name",
        ),
        (
            "onboard empty email",
            vec!["onboard", "--email", ""],
            "is not an email address",
        ),
        (
            "offboard bad email",
            vec!["offboard", "--email", "nope"],
            "is not an email address",
        ),
        (
            "export bad domain",
            vec!["export", "--domain", "x"],
            "is not a domain name",
        ),
        (
            "bad output",
            vec!["users", "list", "-o", "xml"],
            "invalid value 'xml'",
        ),
        (
            "concurrency 0",
            vec!["--concurrency", "0", "users", "list"],
            "--concurrency",
        ),
        (
            "concurrency 65",
            vec!["--concurrency", "65", "users", "list"],
            "--concurrency",
        ),
        (
            "concurrency text",
            vec!["--concurrency", "many", "users", "list"],
            "--concurrency",
        ),
        (
            "batch size 0",
            vec!["--batch-size", "0", "users", "list"],
            "--batch-size",
        ),
        (
            "batch size 501",
            vec!["--batch-size", "501", "users", "list"],
            "--batch-size",
        ),
        (
            "limit without value",
            vec!["--limit", "operations", "-e", "1"],
            "NAME=VALUE",
        ),
        (
            "limit zero",
            vec!["--limit", "operations=0", "-e", "1"],
            "positive whole number",
        ),
        (
            "limit negative",
            vec!["--limit", "call-depth=-3", "-e", "1"],
            "positive whole number",
        ),
        (
            "limit unknown",
            vec!["--limit", "speed=3", "-e", "1"],
            "not a limit",
        ),
        (
            "since garbage",
            vec!["audit", "--since", "yesterday"],
            "--since",
        ),
        (
            "unknown flag",
            vec!["users", "list", "--frobnicate"],
            "--frobnicate",
        ),
        ("unknown subcommand", vec!["users", "frob"], "frob"),
        ("unknown command", vec!["frobnicate"], "unknown command"),
        ("missing --email", vec!["users", "get"], "--email"),
        (
            "fail rate 2",
            vec![
                "sandbox",
                "serve",
                "--fail-rate",
                "2",
                "--state",
                ":memory:",
            ],
            "between 0 and 1",
        ),
        (
            "fail rate -1",
            vec!["sandbox", "serve", "--fail-rate=-1", "--state", ":memory:"],
            "between 0 and 1",
        ),
        (
            "quota 0",
            vec!["sandbox", "serve", "--quota", "0"],
            "--quota",
        ),
        (
            "bad address",
            vec!["sandbox", "serve", "--addr", "not-an-address"],
            "--addr",
        ),
        ("export xml", vec!["export", "--format", "xml"], "--format"),
        (
            "completions for no shell",
            vec!["completions", "tcsh"],
            "tcsh",
        ),
        (
            "-e with a command",
            vec!["-e", "1", "users", "list"],
            "-e EXPR runs on its own",
        ),
        (
            "onboard email and csv",
            vec!["onboard", "--email", "a@b.com", "--csv", "x.csv"],
            "cannot be used with",
        ),
        ("onboard nothing", vec!["onboard"], "--email"),
        (
            "name without email",
            vec!["onboard", "--csv", "x.csv", "--name", "X"],
            "go with --email",
        ),
        (
            "lock and unlock",
            vec![
                "users", "update", "--email", "a@b.com", "--lock", "--unlock",
            ],
            "cannot be used with",
        ),
        (
            "apply missing plan",
            vec!["apply", "/no/such/plan.json"],
            "cannot read plan",
        ),
        (
            "apply in a dry run",
            vec!["--dry-run", "apply", "p.json"],
            "already a dry run",
        ),
    ] {
        let c = case(name, &args, 2, says);
        cases.push(if name.starts_with("apply missing") {
            c.creds()
        } else {
            c
        });
    }
    assert_eq!(
        run_all(&env, cases),
        63,
        "the flag cases docs/reliability.md counts"
    );
}

fn file(env: &Env, name: &str, bytes: &[u8]) -> String {
    let p = env.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[test]
fn hostile_csv_files() {
    let env = Env::new();
    let mut cases = Vec::new();
    let rows = |csv: &str| csv.as_bytes().to_vec();
    for (name, bytes, code, says) in [
        (
            "only an email column",
            rows("email\na@company.com\n"),
            2,
            "missing column(s) name, groups",
        ),
        ("no header at all", rows(""), 2, "there is no header row"),
        (
            "wrong header",
            rows("mail,nom,groupes\na@company.com,A,Sales\n"),
            2,
            "missing column(s) email, name, groups",
        ),
        (
            "latin-1 bytes",
            b"email,name,groups\nj\xf6rg@company.com,J\xf6rg,Sales\n".to_vec(),
            2,
            "line 2 is not UTF-8",
        ),
        (
            "binary garbage",
            vec![0xff, 0xfe, 0x00, 0x01, 0x02],
            2,
            "not UTF-8",
        ),
        (
            "a short row",
            rows("email,name,groups\na@company.com,A\n"),
            2,
            "line 2 has 2 fields where the header has 3",
        ),
        (
            "a long row",
            rows("email,name,groups\na@company.com,A,Sales,extra\n"),
            2,
            "line 2 has 4 fields",
        ),
        (
            "quoted newline in the address",
            rows("email,name,groups\n\"a\n@company.com\",A,Sales\n"),
            2,
            "line 2: \"a\n@company.com\" is not an email address",
        ),
        (
            "repeated address",
            rows("email,name,groups\na@company.com,A,Sales\nA@company.com,B,Sales\n"),
            2,
            "line 3: A@company.com is also on line 2",
        ),
        (
            "empty email cell",
            rows("email,name,groups\n,A,Sales\n"),
            2,
            "line 2: the email is empty",
        ),
        (
            "unknown group in a row",
            rows("email,name,groups\na@company.com,A,Nope\n"),
            2,
            "unknown group(s): Nope",
        ),
        (
            "header only",
            rows("email,name,groups\n"),
            0,
            "nothing to do",
        ),
    ] {
        let path = file(&env, &format!("{}.csv", name.replace(' ', "_")), &bytes);
        cases.push(case(name, &["onboard", "--csv", &path], code, says).creds());
    }
    let bom = file(
        &env,
        "bom.csv",
        "\u{feff}email,name,groups\nbom.user@company.com,\"Bom, User\",Sales\n".as_bytes(),
    );
    cases.push(
        case(
            "a BOM and quoted commas are fine",
            &["onboard", "--csv", &bom],
            0,
            "created",
        )
        .creds(),
    );
    cases.push(
        case(
            "missing file",
            &["onboard", "--csv", "/no/such.csv"],
            2,
            "/no/such.csv",
        )
        .creds(),
    );
    cases.push(case("a directory", &["onboard", "--csv", "/tmp"], 2, "/tmp").creds());
    let leavers = file(&env, "leavers.csv", b"mail\nx@company.com\n");
    cases.push(
        case(
            "offboard without an email column",
            &["offboard", "--csv", &leavers],
            2,
            "missing column(s) email",
        )
        .creds(),
    );
    let bad_leaver = file(&env, "bad_leaver.csv", b"email\nnot an address\n");
    cases.push(
        case(
            "offboard bad row",
            &["--yes", "offboard", "--csv", &bad_leaver],
            2,
            "line 2",
        )
        .creds(),
    );
    let depts = file(&env, "depts.txt", &[0xc3, 0x28]);
    cases.push(
        case(
            "departments file not UTF-8",
            &["departments", "--file", &depts],
            2,
            "not UTF-8",
        )
        .creds(),
    );
    cases.push(
        case(
            "departments file missing",
            &["departments", "--file", "/no/depts.txt"],
            2,
            "/no/depts.txt",
        )
        .creds(),
    );

    // A million rows, the last one bad: the whole file is read and checked, nothing written.
    let mut big = Vec::with_capacity(40 << 20);
    big.extend_from_slice(b"email,name,groups\n");
    for i in 0..999_999 {
        writeln!(big, "million{i:07}@company.com,M,Sales").unwrap();
    }
    big.extend_from_slice(b"not-an-address,M,Sales\n");
    let path = file(&env, "million.csv", &big);
    cases.push(
        case(
            "1 000 000 rows, the last one bad",
            &["onboard", "--csv", &path],
            2,
            "line 1000001: \"not-an-address\"",
        )
        .creds(),
    );
    assert_eq!(
        run_all(&env, cases),
        20,
        "the CSV cases docs/reliability.md counts"
    );
    assert!(
        !env.user_emails().iter().any(|e| e.starts_with("million")),
        "nothing was written"
    );
}

#[test]
fn hostile_config_files() {
    let env = Env::new();
    let path = env.dir.path().join("config/mcsh/config.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut cases = Vec::new();
    for (name, text, says) in [
        ("not TOML", "[default\nclient_id = 1", "not_TOML.toml"),
        ("a number for a string", "[default]\nclient_id = 5\nclient_secret = \"s\"\n", "invalid type"),
        ("an unknown key", "[default]\nclient_secrett = \"s\"\n", "client_secrett"),
        ("a bad timeout", "[default]\nclient_id = \"i\"\nclient_secret = \"s\"\ntimeout = \"soon\"\n", "invalid type"),
        ("a timeout of zero", "[default]\nclient_id = \"i\"\nclient_secret = \"s\"\ntimeout = 0\n", "timeout"),
        ("both schemes", "[default]\nclient_id = \"i\"\naccess_key = \"a\"\n", "both API 2.0"),
        ("half a scheme", "[default]\naccess_key = \"a\"\nsecret_key = \"s\"\n", "MIMECAST_APP_ID"),
        ("API 1.0 without a base URL", "[default]\naccess_key = \"a\"\nsecret_key = \"AAAA\"\napp_id = \"i\"\napp_key = \"k\"\n", "MIMECAST_BASE_URL"),
        ("a secret key that is not base64", "[default]\nbase_url = \"https://eu-api.mimecast.com\"\naccess_key = \"a\"\nsecret_key = \"!!!\"\napp_id = \"i\"\napp_key = \"k\"\n", "not valid base64"),
        ("a base URL that is not one", "[default]\nbase_url = \"not a url\"\nclient_id = \"i\"\nclient_secret = \"s\"\n", "is not a URL"),
        ("plain http off loopback", "[default]\nbase_url = \"http://api.example.com\"\nclient_id = \"i\"\nclient_secret = \"s\"\n", "clear text"),
        ("a base URL with a query", "[default]\nbase_url = \"https://api.services.mimecast.com?x=1\"\nclient_id = \"i\"\nclient_secret = \"s\"\n", "query or fragment"),
        ("a base URL with a line break", "[default]\nbase_url = \"https://api.services.mimecast.com\\nwarning: forged\"\nclient_id = \"i\"\nclient_secret = \"s\"\n", "control character"),
        ("a failing secret_command", "[default]\nclient_id = \"i\"\nsecret_command = \"exit 7\"\n", "secret_command"),
        ("binary garbage", "\u{0}\u{1}\u{2}garbage", "binary_garbage.toml"),
    ] {
        let file = env.dir.path().join(format!("{}.toml", name.replace(' ', "_")));
        std::fs::write(&file, text).unwrap();
        cases.push(case(name, &["users", "list"], 4, says).env("MCSH_CONFIG", file.to_str().unwrap()));
    }
    cases.push(case(
        "a missing profile",
        &["--profile", "nope", "users", "list"],
        4,
        "profile \"nope\"",
    ));
    assert_eq!(
        run_all(&env, cases),
        16,
        "the cases docs/reliability.md counts"
    );
}

#[test]
fn hostile_scripts() {
    let env = Env::new();
    let mut cases = Vec::new();
    for (name, src, code, says) in [
        (
            "an endless loop",
            "loop { }",
            1,
            "stopped after 100000 operations",
        ),
        (
            "an endless while",
            "let i = 0; while true { i += 1; }",
            1,
            "stopped after 100000 operations",
        ),
        (
            "deep recursion",
            "fn f(n) { f(n + 1) } f(0)",
            1,
            "nested deeper than",
        ),
        (
            "mutual recursion",
            "fn a(n) { b(n) } fn b(n) { a(n) } a(1)",
            1,
            "nested deeper than",
        ),
        ("an unclosed brace", "fn f() {", 2, "syntax error"),
        ("a stray operator", "let x = 1 +;", 2, "syntax error"),
        ("an unterminated string", "print(\"open", 2, "syntax error"),
        ("a bad keyword use", "let fn = 3;", 2, "syntax error"),
        (
            "an unknown function",
            "nosuch(1)",
            2,
            "there is no function nosuch()",
        ),
        (
            "a wrong argument type",
            "users(5)",
            2,
            "users: argument 1 (domain) must be a string, not an int",
        ),
        ("a throw", "throw \"custom\";", 1, "custom"),
        ("division by zero", "1 / 0", 1, "Division by zero"),
        ("an index out of range", "[1, 2][9]", 1, "out of bounds"),
        (
            "a missing module",
            "import \"no/such/module\" as m;",
            1,
            "no/such/module",
        ),
        ("bad JSON text", "parse_json(\"{nope\")", 2, "not JSON"),
        (
            "a missing CSV",
            "read_csv(\"/no/such.csv\")",
            2,
            "/no/such.csv",
        ),
        (
            "an unknown option key",
            "create_user(#{ emial: \"a@b.com\" })",
            2,
            "emial",
        ),
        (
            "a bad address to a function",
            "user(\"nope\")",
            2,
            "is not an email address",
        ),
    ] {
        cases.push(case(
            name,
            &[
                "--limit",
                "operations=100000",
                "--limit",
                "memory=64",
                "-e",
                src,
            ],
            code,
            says,
        ));
    }
    for (name, src) in [
        ("a huge string", "let s = \"x\"; loop { s += s; }"),
        (
            "a huge array",
            "let a = []; loop { a.push([1, 2, 3, 4, 5, 6, 7, 8]); }",
        ),
    ] {
        cases.push(case(
            name,
            &["--limit", "memory=64", "-e", src],
            1,
            "more than 64 MiB",
        ));
    }
    cases.push(case(
        "a script file that is not there",
        &["run", "/no/such.rhai"],
        2,
        "cannot read script /no/such.rhai",
    ));
    let bin = file(&env, "binary.rhai", &[0xff, 0xfe, 0x00]);
    cases.push(case(
        "a script that is not UTF-8",
        &["run", &bin],
        2,
        "is not UTF-8",
    ));
    cases.push(
        case("a 10 MB script on stdin", &["run", "-"], 1, "stopped")
            .stdin(format!("let s = \"{}\"; loop {{}}", "z".repeat(10 << 20)).into_bytes()),
    );
    cases.push(
        case("a 10 MB line to the REPL", &["repl"], 0, "")
            .stdin(format!("\"{}\".len()\n", "q".repeat(10 << 20)).into_bytes()),
    );
    assert_eq!(
        run_all(&env, cases),
        24,
        "the script cases docs/reliability.md counts"
    );
}

#[test]
fn hostile_server_answers() {
    let env = Env::new();
    let mut cases = Vec::new();
    let answers: Vec<(&str, Answer, &str)> = vec![
        (
            "not JSON",
            Box::new(|| Canned::json(200, "this is not json")),
            "it is not JSON",
        ),
        (
            "truncated JSON",
            Box::new(|| Canned::json(200, "{\"data\":[{\"domain\":\"company.com\"")),
            "the JSON is truncated",
        ),
        (
            "an HTML error page",
            Box::new(|| Canned::json(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")),
            "HTTP 502",
        ),
        (
            "200 with an empty body",
            Box::new(|| Canned::json(200, "")),
            "the body is empty",
        ),
        (
            "data of the wrong type",
            Box::new(|| Canned::json(200, "{\"data\":{\"domain\":1}}")),
            "`data` is an object, not a list",
        ),
        (
            "fields of the wrong type",
            Box::new(|| Canned::json(200, "{\"data\":[{\"domain\":{\"x\":1}}]}")),
            "unexpected shape: expected a string",
        ),
        (
            "meta.status 500",
            Box::new(|| Canned::json(200, "{\"meta\":{\"status\":500},\"data\":[]}")),
            "meta.status is 500",
        ),
        (
            "a fail under 200",
            Box::new(|| {
                Canned::json(200, "{\"data\":[],\"fail\":[{\"errors\":[{\"code\":\"err_weird\",\"message\":\"Weird\"}]}]}")
            }),
            "Mimecast err_weird: Weird",
        ),
        (
            "a 403",
            Box::new(|| Canned::json(403, "{\"fail\":[{\"code\":\"forbidden\"}]}")),
            "refused the operation",
        ),
        (
            "a 418 binding expired",
            Box::new(|| Canned::json(418, "{}")),
            "access key has expired",
        ),
        (
            "a 404",
            Box::new(|| Canned::json(404, "not found")),
            "HTTP 404",
        ),
    ];
    let mut servers = Vec::new();
    for (name, answer, says) in answers {
        let server = Scripted::start(move |path, _auth, n| {
            if path == "/oauth/token" {
                Canned::json(
                    200,
                    &format!("{{\"access_token\":\"t{n}\",\"expires_in\":1799}}"),
                )
            } else {
                answer()
            }
        });
        let code = if name.contains("403") || name.contains("418") {
            4
        } else {
            1
        };
        cases.push(
            case(name, &["users", "list"], code, says)
                .env("MIMECAST_BASE_URL", &server.base_url)
                .env("MIMECAST_CLIENT_ID", "id")
                .env("MIMECAST_CLIENT_SECRET", "secret"),
        );
        servers.push(server);
    }
    // A server that never answers, and one that sends a body larger than 1 GB.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    cases.push(
        case(
            "a server that never answers",
            &["users", "list"],
            1,
            "no answer within 1 s",
        )
        .env("MIMECAST_BASE_URL", &silent_url)
        .env("MIMECAST_CLIENT_ID", "id")
        .env("MIMECAST_CLIENT_SECRET", "secret")
        .env("MCSH_TIMEOUT", "1"),
    );
    let huge = Scripted::huge_body();
    cases.push(
        case("a 1 GB body", &["users", "list"], 1, "larger than 64 MiB")
            .env("MIMECAST_BASE_URL", &huge.base_url)
            .env("MIMECAST_CLIENT_ID", "id")
            .env("MIMECAST_CLIENT_SECRET", "secret"),
    );
    cases.push(
        case(
            "nothing listening",
            &["users", "list"],
            1,
            "cannot reach Mimecast",
        )
        .env("MIMECAST_BASE_URL", "http://127.0.0.1:9")
        .env("MIMECAST_CLIENT_ID", "id")
        .env("MIMECAST_CLIENT_SECRET", "secret"),
    );
    assert_eq!(
        run_all(&env, cases),
        14,
        "the cases docs/reliability.md counts"
    );
    drop((silent, huge));
}
