//! Offboarding as two script functions: `offboard_plan` reads and decides every step,
//! `offboard_run` carries the plan out. The stdlib's `offboard` module asks in between.

use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::convert;
use super::host::Host;
use super::register::network;
use crate::directory::offboard::OffboardPlan;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Registers `offboard_plan` and `offboard_run`.
pub fn register(engine: &mut Engine, host: &Rc<Host>) {
    engine.register_type_with_name::<OffboardPlan>("OffboardPlan");

    let h = host.clone();
    network(
        "offboard_plan",
        &["emails: Array", "keep_account: bool", "Map"],
        r#"
Reads what offboarding `emails` takes and decides every step before anything is sent: each
person's memberships (one scan of every group), which addresses are users, which are already
queued for deletion. Returns `#{people, memberships, accounts, keep_account, plan}`; give it to
`offboard_run`. With `keep_account`, accounts are locked but not queued for deletion.
```rhai
let p = offboard_plan(["leaver@company.com"], false);
print(`${p.memberships} memberships to leave`);
```"#,
    )
    .register_into_engine(engine, move |emails: Array, keep: bool| -> Res<Map> {
        let emails = convert::emails_arg("offboard_plan", &emails)?;
        let mut unique: Vec<String> = Vec::with_capacity(emails.len());
        for e in emails {
            if !unique.iter().any(|u| u.eq_ignore_ascii_case(&e)) {
                unique.push(e);
            }
        }
        let dir = h.directory("offboard_plan")?;
        let plan = h.block_on("offboard_plan", dir.plan_offboard(&unique, keep))?;
        h.saw_emails(unique.iter().map(String::as_str));
        let mut map = Map::new();
        map.insert("people".into(), (plan.emails.len() as i64).into());
        map.insert("memberships".into(), (plan.memberships() as i64).into());
        map.insert("accounts".into(), (plan.accounts() as i64).into());
        map.insert("keep_account".into(), keep.into());
        map.insert("plan".into(), Dynamic::from(plan));
        Ok(map)
    });

    let h = host.clone();
    network(
        "offboard_run",
        &["plan: Map", "Array"],
        r#"
Carries out a plan from `offboard_plan`: leaves every membership (batched across groups), locks
the accounts (batched) and queues them for deletion (1 000 to a call). Under `--dry-run` it
only plans. Returns rows `#{emailAddress, step, status, message}`.
```rhai
let rows = offboard_run(offboard_plan(["leaver@company.com"], false));
```"#,
    )
    .register_into_engine(engine, move |plan: Map| -> Res<Array> {
        let plan = plan
            .get("plan")
            .and_then(|p| p.clone().try_cast::<OffboardPlan>())
            .ok_or_else(|| {
                super::errors::usage("offboard_run", "give it the map `offboard_plan` returned")
            })?;
        let dir = h.directory("offboard_run")?;
        let rows = h.block_on("offboard_run", dir.run_offboard(&plan))?;
        rows.iter()
            .map(|r| convert::to_dyn("offboard_run", r))
            .collect()
    });
}
