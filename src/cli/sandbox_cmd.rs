//! `mcsh sandbox serve|reset`: run the local Mimecast, or start its tenant afresh.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::context::SANDBOX_STATE_ENV;
use super::report::Usage;
use super::Ctx;
use crate::output::Format;
use crate::sandbox;

/// `mcsh sandbox` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum SandboxCmd {
    /// Serve the sandbox; prints the base URL and the credentials of both schemes
    #[command(after_help = super::examples::SANDBOX_SERVE)]
    Serve {
        /// Address to listen on (loopback by default)
        #[arg(long, default_value = "127.0.0.1:8484", value_name = "ADDR")]
        addr: SocketAddr,
        /// Tenant state: a SQLite file, or :memory: [default: the user's data dir, or MCSH_SANDBOX_STATE]
        #[arg(long, value_name = "FILE")]
        state: Option<String>,
        /// A new tenant starts without demo people and groups
        #[arg(long)]
        empty: bool,
        /// Delay added to every answer, in milliseconds
        #[arg(long, default_value_t = 0, value_name = "N")]
        latency_ms: u64,
        /// Share of requests that fail at random (500, 503, 429, dropped connections)
        #[arg(long, default_value_t = 0.0, value_name = "P")]
        fail_rate: f64,
        /// Rate limit: a bucket of N requests refilled at N a second; past it, honest 429s
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        quota: Option<u32>,
        /// Rate limit: requests the bucket holds when full (X-RateLimit-Limit) [default: --quota's N]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        bucket: Option<u64>,
        /// Rate limit: milliseconds for one request to be added back [default: 1000 / --quota's N]
        #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
        refill_ms: Option<u64>,
        /// Seed of the fault generator, for repeatable runs
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Add N synthetic users (gen.user.NNNNNN@..., nine in ten in company.com)
        #[arg(long, default_value_t = 0, value_name = "N")]
        generate_users: usize,
        /// Add G synthetic groups ("Generated NNNN"), each with 20 of the synthetic users
        #[arg(long, default_value_t = 0, value_name = "G")]
        generate_groups: usize,
        /// Serve a copy of the tenant in a snapshot (`mcsh snapshot`) instead of the demo: a
        /// rehearsal; --state must be new (or :memory:), or hold a copy of the same snapshot
        #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["empty", "generate_users", "generate_groups"])]
        from: Option<String>,
        /// Give every group a new id string before serving, as Mimecast re-encrypts ids over
        /// time: ids copied from an earlier listing must still work (mcsh compares ids by the
        /// folder they decode to, not by string)
        #[arg(long)]
        rekey: bool,
        /// Serve N tenants at once (tenant-1 … tenant-N), each with its own port (ADDR's port
        /// and the next ones), state file, credentials, account and people; prints them as
        /// config profiles and a fleet, for trying `--fleet` without accounts
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100), conflicts_with = "from")]
        tenants: Option<u16>,
    },
    /// Delete the sandbox's tenant so the next start seeds a new demo
    #[command(after_help = super::examples::SANDBOX_RESET)]
    Reset {
        /// Tenant state file [default: the user's data dir, or MCSH_SANDBOX_STATE]
        #[arg(long, value_name = "FILE")]
        state: Option<String>,
    },
}

fn state_path(state: Option<String>) -> String {
    state
        .or_else(|| {
            std::env::var(SANDBOX_STATE_ENV)
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| sandbox::default_state_path().display().to_string())
}

/// Runs a `sandbox` subcommand.
pub async fn run(ctx: &Ctx, cmd: SandboxCmd) -> anyhow::Result<()> {
    if ctx.global.rehearse.is_some() {
        return Err(Usage(
            "mcsh sandbox takes no --rehearse: serve a copy with `mcsh sandbox serve --from SNAPSHOT`, reset one with --state".into(),
        )
        .into());
    }
    match cmd {
        SandboxCmd::Reset { state } => {
            let mut state = state_path(state);
            // `--profile NAME`: the sandbox tenant NAME (as `--sandbox --profile NAME` uses).
            if let Some(name) = &ctx.global.profile {
                state = sandbox::tenant_state(&state, name).map_err(Usage)?;
            }
            let removed = match sandbox::reset(&state) {
                Err(e @ sandbox::SandboxError::NotSandbox { .. }) => {
                    return Err(Usage(e.to_string()).into())
                }
                other => other?,
            };
            if removed {
                ctx.note(&format!(
                    "removed the sandbox tenant at {state}; the next start makes it anew (the demo, or the copy of its snapshot)"
                ));
            } else {
                ctx.note(&format!("no sandbox tenant at {state}; nothing to remove"));
            }
            Ok(())
        }
        SandboxCmd::Serve {
            addr,
            state,
            empty,
            latency_ms,
            fail_rate,
            quota,
            bucket,
            refill_ms,
            seed,
            generate_users,
            generate_groups,
            from,
            rekey,
            tenants,
        } => {
            if !(0.0..=1.0).contains(&fail_rate) {
                return Err(
                    Usage(format!("--fail-rate {fail_rate} must be between 0 and 1")).into(),
                );
            }

            let state = state_path(state);
            if let Some(n) = tenants {
                let options = sandbox::Options {
                    record_writes: false,
                    addr,
                    state: state.clone(),
                    empty,
                    latency: Duration::from_millis(latency_ms),
                    fail_rate,
                    quota: sandbox::quota_of(quota, bucket, refill_ms),
                    seed,
                    generate_users,
                    generate_groups,
                    rekey,
                    ..sandbox::Options::default()
                };
                return serve_tenants(ctx, options, n).await;
            }
            let options = sandbox::Options {
                record_writes: false,
                addr,
                state: state.clone(),
                empty,
                latency: Duration::from_millis(latency_ms),
                fail_rate,
                quota: sandbox::quota_of(quota, bucket, refill_ms),
                seed,
                generate_users,
                generate_groups,
                from,
                rekey,
                ..sandbox::Options::default()
            };
            let running = sandbox::start(options).await.map_err(|e| match e {
                sandbox::SandboxError::Snapshot(bad) => anyhow::Error::new(Usage(bad.to_string())),
                other => anyhow::Error::new(other).context("cannot start the sandbox"),
            })?;
            if !addr.ip().is_loopback() {
                // The bound address, with the port the system chose for :0.
                ctx.warn(&format!(
                    "listening on {}, which is not a loopback address: other machines can reach it",
                    running.addr
                ));
            }
            announce(ctx, &running, &state)?;
            wait_for_stop().await;
            let st = &running.stats;
            ctx.note(&format!(
                "sandbox stopped after {} requests ({} tokens issued, {} throttled by the quota, {} faults injected)",
                sandbox::Stats::get(&st.requests),
                sandbox::Stats::get(&st.tokens_issued),
                sandbox::Stats::get(&st.throttled),
                sandbox::Stats::get(&st.faults)
            ));
            running.stop().await;
            Ok(())
        }
    }
}

/// Serves `n` tenants (`tenant-1` …), each from `template` with its own port and state.
async fn serve_tenants(ctx: &Ctx, template: sandbox::Options, n: u16) -> anyhow::Result<()> {
    let mut running = Vec::new();
    for k in 1..=n {
        let name = format!("tenant-{k}");
        let state = sandbox::tenant_state(&template.state, &name).map_err(Usage)?;
        let mut addr = template.addr;
        if addr.port() != 0 {
            let port = addr.port().checked_add(k - 1).ok_or_else(|| {
                Usage(format!(
                    "--addr {}: no room for {n} ports after it",
                    template.addr
                ))
            })?;
            addr.set_port(port);
        }
        let options = sandbox::Options {
            record_writes: false,
            addr,
            state: state.clone(),
            tenant: Some(name.clone()),
            ..template.clone()
        };
        let r = sandbox::start(options).await.map_err(|e| {
            anyhow::Error::new(e).context(format!("cannot start sandbox tenant {name}"))
        })?;
        running.push((name, state, r));
    }
    if !template.addr.ip().is_loopback() {
        ctx.warn(&format!(
            "listening on {}, which is not a loopback address: other machines can reach it",
            template.addr.ip()
        ));
    }
    let mut out = crate::streams::stdout();
    if ctx.global.output == Some(Format::Json) {
        for (name, _, r) in &running {
            let line = json!({
                "profile": name,
                "base_url": r.base_url,
                "client_id": r.keys.client_id,
                "client_secret": r.keys.client_secret,
            });
            writeln!(out, "{line}")?;
        }
    } else {
        writeln!(
            out,
            "# mcsh sandbox: {n} tenants. Add these profiles to the config file (`mcsh config path`),\n\
             # or save them as one and point MCSH_CONFIG at it; then e.g. `mcsh --fleet sandbox users list`.\n"
        )?;
        for (name, state, r) in &running {
            writeln!(out, "# state {state}")?;
            writeln!(out, "[{name}]")?;
            writeln!(out, "base_url = {:?}", r.base_url)?;
            writeln!(out, "client_id = {:?}", r.keys.client_id)?;
            writeln!(out, "client_secret = {:?}\n", r.keys.client_secret)?;
        }
        let names: Vec<String> = running.iter().map(|(n, _, _)| format!("{n:?}")).collect();
        writeln!(out, "[fleets]\nsandbox = [{}]\n", names.join(", "))?;
        writeln!(out, "# Press Ctrl-C to stop.")?;
    }
    out.flush()?;
    drop(out);
    wait_for_stop().await;
    let requests: u64 = running
        .iter()
        .map(|(_, _, r)| sandbox::Stats::get(&r.stats.requests))
        .sum();
    ctx.note(&format!(
        "sandbox stopped after {requests} requests to {n} tenants"
    ));
    for (_, _, r) in running {
        r.stop().await;
    }
    Ok(())
}

fn announce(ctx: &Ctx, running: &sandbox::Running, state: &str) -> anyhow::Result<()> {
    let k = &running.keys;
    let mut out = crate::streams::stdout();
    if ctx.global.output == Some(Format::Json) {
        let line = json!({
            "base_url": running.base_url,
            "client_id": k.client_id,
            "client_secret": k.client_secret,
            "access_key": k.access_key,
            "secret_key": k.secret_key,
            "app_id": k.app_id,
            "app_key": k.app_key,
        });
        writeln!(out, "{line}")?;
        out.flush()?;
        ctx.note(&format!(
            "sandbox listening on {} (state {state}); Ctrl-C stops it",
            running.base_url
        ));
        return Ok(());
    }
    writeln!(
        out,
        "mcsh sandbox listening on {} (state {state})\n",
        running.base_url
    )?;
    writeln!(out, "API 2.0 (OAuth2):")?;
    writeln!(out, "  export MIMECAST_BASE_URL={}", running.base_url)?;
    writeln!(out, "  export MIMECAST_CLIENT_ID={}", k.client_id)?;
    writeln!(out, "  export MIMECAST_CLIENT_SECRET={}\n", k.client_secret)?;
    writeln!(out, "API 1.0 (HMAC), instead of the two above:")?;
    writeln!(out, "  export MIMECAST_ACCESS_KEY={}", k.access_key)?;
    writeln!(out, "  export MIMECAST_SECRET_KEY={}", k.secret_key)?;
    writeln!(out, "  export MIMECAST_APP_ID={}", k.app_id)?;
    writeln!(out, "  export MIMECAST_APP_KEY={}\n", k.app_key)?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    Ok(())
}

/// Waits for SIGTERM (or Ctrl-C, which the caller also handles).
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        let ended = crate::interrupt::shared();
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
            // SIGHUP too (a closed terminal), through the run's interrupt.
            _ = ended.wait() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
