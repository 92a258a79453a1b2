//! `mcsh config init|show|path`: the config file and the credentials in use, secrets masked.

use clap::Subcommand;
use serde_json::json;

use super::report::Usage;
use super::Ctx;
use crate::config::{self, Profile, Source, KEYS, SECRET_KEYS};
use crate::output::Shape;

/// `mcsh config` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ConfigCmd {
    /// Write a profile (from the MIMECAST_* variables set now, or a template to edit)
    #[command(after_help = super::examples::CONFIG_INIT)]
    Init {
        /// Replace the profile if it exists
        #[arg(long)]
        force: bool,
    },
    /// Show the settings in use and where each comes from (secrets masked)
    #[command(after_help = super::examples::CONFIG_SHOW)]
    Show,
    /// Print the config file's path
    #[command(after_help = super::examples::CONFIG_PATH)]
    Path,
}

const TEMPLATE: &str = r#"# mcsh configuration: one table per profile; pick one with --profile NAME or MCSH_PROFILE.
# Environment variables (MIMECAST_*) override what is written here. Keep this file private.

[{table}]
# API 2.0 (OAuth2 client credentials): what Mimecast issues today; use it. Create an API 2.0
# application in the Administration Console.
# base_url = "https://api.services.mimecast.com"   # or uk-api. / us-api. for data residency
# client_id = ""
# client_secret = ""
# secret_command = "pass show mimecast/client_secret"   # instead of client_secret

# API 1.0 (HMAC keys): only for keys you already have. Mimecast issues no new API 1.0 apps
# since June 2025 and retires API 1.0 on a date not yet published; then these keys stop
# working: an API 2.0 client id and secret replace them, and base_url becomes the API 2.0
# host above (or goes). Use these
# four instead of the above, with your region's base_url, or with admin_email (an
# administrator's address) for mcsh to discover the region and cache it here.
# admin_email = "admin@example.com"
# base_url = "https://eu-api.mimecast.com"
# access_key = ""
# secret_key = ""
# app_id = ""
# app_key = ""

# timeout = 30   # seconds per request
"#;

/// `name` as a TOML table name: bare when TOML allows it, quoted otherwise (`"ops team"`).
fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_string()
    } else {
        serde_json::to_string(name).expect("a string serializes")
    }
}

/// Runs a `config` subcommand.
pub fn run(ctx: &Ctx, cmd: ConfigCmd) -> anyhow::Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let path = config::config_path(&env);
    let profile = ctx
        .global
        .profile
        .clone()
        .unwrap_or_else(|| "default".into());
    match cmd {
        ConfigCmd::Path => {
            crate::println_safe!("{}", path.display());
            Ok(())
        }
        ConfigCmd::Init { force } => {
            if profile.trim().is_empty() || profile.chars().any(char::is_control) {
                return Err(Usage(format!(
                    "--profile {} is not a usable profile name: it is empty or holds a control \
                     character (a line break, a tab)",
                    crate::output::printable(&format!("{profile:?}"))
                ))
                .into());
            }
            let from_env = profile_from_env(&env);
            if from_env != Profile::default() {
                // A key that cannot sign anything is refused before it is stored.
                if let Some(key) = &from_env.secret_key {
                    if crate::api::signer::decode_secret_key(key).is_err() {
                        return Err(Usage(
                            "MIMECAST_SECRET_KEY is not base64 (the Secret Key Mimecast shows is); \
                             nothing was written: copy it again"
                                .into(),
                        )
                        .into());
                    }
                }
                config::write_profile(&path, &profile, &from_env, force)?;
                ctx.note(&format!(
                    "wrote profile {profile:?} to {} (mode 0600)",
                    path.display()
                ));
                if from_env.access_key.is_some()
                    && from_env.base_url.is_none()
                    && from_env.admin_email.is_none()
                {
                    ctx.warn(
                        "API 1.0 keys need the account's region: set MIMECAST_BASE_URL (e.g. \
                         https://eu-api.mimecast.com) or MIMECAST_ADMIN_EMAIL (an administrator's \
                         address, to discover it) and run `mcsh config init --force` again",
                    );
                }
                if from_env.access_key.is_some() {
                    ctx.note(
                        "these are API 1.0 keys: they work until Mimecast retires API 1.0 (no \
                         date published yet); then an API 2.0 application's client id and \
                         secret replace the four keys, and base_url becomes \
                         https://api.services.mimecast.com (or is removed)",
                    );
                }
                return Ok(());
            }
            if path.exists() {
                return Err(Usage(format!(
                    "no MIMECAST_* variables are set to store; set those of one scheme and run again, or edit {}",
                    path.display()
                ))
                .into());
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_template(&path, &TEMPLATE.replace("{table}", &toml_key(&profile)))?;
            ctx.note(&format!(
                "wrote a template to {}: fill in one scheme's keys",
                path.display()
            ));
            Ok(())
        }
        ConfigCmd::Show => {
            let resolved = config::resolve(ctx.global.profile.as_deref(), &env)?;
            for w in &resolved.warnings {
                ctx.warn(w);
            }
            let mut printer = ctx.printer(Shape::List, &["key", "value", "source"]);
            let file = resolved.path.display().to_string();
            if !resolved.path.exists() {
                ctx.warn(&format!(
                    "there is no config file at {file}: only the environment and defaults \
                     apply (`mcsh config init` writes one)"
                ));
            }
            let file_source = if env("MCSH_CONFIG").is_some_and(|v| !v.is_empty()) {
                "environment (MCSH_CONFIG)"
            } else {
                "default"
            };
            printer.row(&json!({ "key": "config_file", "value": file, "source": file_source }))?;
            // `--profile` and MCSH_PROFILE reach the same option; the environment tells them
            // apart.
            let profile_source = match ctx.global.profile.as_deref() {
                None => "default",
                Some(p) if env("MCSH_PROFILE").as_deref() == Some(p) => {
                    "environment (MCSH_PROFILE)"
                }
                Some(_) => "--profile",
            };
            printer.row(&json!({
                "key": "profile",
                "value": resolved.profile,
                "source": profile_source
            }))?;
            for (key, _) in KEYS {
                let Some(v) = resolved.values.get(key) else {
                    continue;
                };
                let shown = if SECRET_KEYS.contains(key) {
                    config::MASK.to_string()
                } else {
                    v.value.clone()
                };
                printer
                    .row(&json!({ "key": key, "value": shown, "source": source_name(v.source) }))?;
            }
            let scheme = match resolved.settings() {
                Ok(s) => s.credentials.scheme_name().to_string(),
                Err(e) => format!("unusable: {e}"),
            };
            printer.row(&json!({ "key": "scheme", "value": scheme, "source": "derived" }))?;
            printer.finish()?;
            Ok(())
        }
    }
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Env => "environment",
        Source::File => "config file",
        Source::Command => "secret_command",
        Source::Default => "default",
    }
}

fn profile_from_env(env: &dyn Fn(&str) -> Option<String>) -> Profile {
    let get = |k: &str| env(config::env_name(k)).filter(|v| !v.trim().is_empty());
    Profile {
        base_url: get("base_url"),
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        access_key: get("access_key"),
        secret_key: get("secret_key"),
        app_id: get("app_id"),
        app_key: get("app_key"),
        secret_command: None,
        timeout: get("timeout").and_then(|t| t.parse().ok()),
        admin_email: get("admin_email"),
    }
}

fn write_template(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}
