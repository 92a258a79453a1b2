#!/usr/bin/env bash
# mcsh benchmarks: the sandbox at --latency-ms 50 stands in for a real network.
# Prints one table (Markdown). Needs cargo, python3 and GNU time (/usr/bin/time).
#
#   bench/run.sh            # everything (about four minutes after the release build)
#   BENCH_QUICK=1 bench/run.sh   # smaller tenants, for a smoke run
#   bench/run.sh sweep      # the tuning table behind the defaults (batch size, concurrency)
#   bench/run.sh loops      # only admins' own loops beside their batched twins (section 8)
#   bench/run.sh fleet      # only the fleet row: 20 tenants at once (section 9)
#   MCSH_BENCH_BIN=/path/to/mcsh bench/run.sh fleet   # another build (an A/B against main)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${MCSH_BENCH_BIN:-}" ]; then
  M="$MCSH_BENCH_BIN"
else
  cargo build --release --quiet
  M="$PWD/target/release/mcsh"
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT && echo "work dir: $WORK"
export NO_COLOR=1 XDG_DATA_HOME="$WORK/data" XDG_STATE_HOME="$WORK/state" XDG_CONFIG_HOME="$WORK/config"
QUICK=${BENCH_QUICK:-}
USERS=111111; NGROUPS=1000; [ -n "$QUICK" ] && USERS=11111 && NGROUPS=200

# start NAME ARGS...: a sandbox in the background; its credentials exported.
start() {
  local name=$1; shift
  "$M" sandbox serve --addr 127.0.0.1:0 --state "$WORK/$name.db" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 1 600); do grep -q 'export MIMECAST_CLIENT_SECRET' "$WORK/$name.out" 2>/dev/null && break; sleep 0.1; done
  eval "$(grep -E '^  export MIMECAST_(BASE_URL|CLIENT_ID|CLIENT_SECRET)=' "$WORK/$name.out")"
}
stop() { kill "${PIDS[-1]}" 2>/dev/null || true; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[1]):.2f}')" "$1"; }
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

# people FILE N PREFIX GROUPS: a people CSV of N new users of company.com.
people() {
  python3 - "$@" <<'PY'
import sys
path, n, prefix, groups = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(path, "w") as f:
    f.write("email,name,groups\n" if groups != "-" else "email\n")
    for i in range(n):
        f.write(f"{prefix}{i:04}@company.com,Person {i},{groups}\n" if groups != "-" else f"{prefix}{i:04}@company.com\n")
PY
}
# summary LOG WORD: the count before WORD in a workflow's summary line (0 when absent).
summary() { grep -o "[0-9]* $2" "$1" | head -1 | grep -o '[0-9]*' || echo 0; }

# 8. admins' own loops: each plain loop of single-item calls beside its batched twin, both
#    measured here at 50 ms on fresh sandboxes of the same generated tenant (2 000 users; the
#    groups_of pair on 1 000 groups). Targets: plain ≤ 1.5 × twin; the plain loop's
#    --plan-out ≤ 1.2 × its real run. Then `for u in users()` at 1 000 000 users (no latency:
#    this row measures memory): peak ≤ 50 MB.
loops() {
  # emails FILE N: the first N generated company.com addresses (nine in ten are company.com).
  python3 - "$WORK/l_emails.csv" 1000 <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("email,name\n")
    i = k = 0
    while k < n:
        if i % 10 != 9:
            f.write(f"gen.user.{i:06}@company.com,Renamed Person {i}\n"); k += 1
        i += 1
PY
  # 500 names no earlier row has set (the rename pair just before sets "Renamed Person N").
  head -501 "$WORK/l_emails.csv" | sed 's/,Renamed Person /,Ensured Person /' > "$WORK/l_renames500.csv"
  people "$WORK/l_new_plain.csv" 500 loop.plain "Sales;All Staff"
  people "$WORK/l_new_twin.csv" 500 loop.twin "Sales;All Staff"
  w() { printf '%s\n' "$2" > "$WORK/$1.rhai"; }
  w plain_add 'for r in read_csv(args[0]) { add_member("Sales", r.email); }'
  w twin_add 'add_members("Sales", read_csv(args[0]).map(|r| r.email));'
  w plain_move 'for r in read_csv(args[0]) { add_member("Marketing", r.email); remove_member("Sales", r.email); }'
  w twin_move 'let e = read_csv(args[0]).map(|r| r.email); add_members("Marketing", e); remove_members("Sales", e);'
  w plain_remove 'for r in read_csv(args[0]) { remove_member("Marketing", r.email); }'
  w twin_remove 'remove_members("Marketing", read_csv(args[0]).map(|r| r.email));'
  w plain_create 'for r in read_csv(args[0]) { create_user(r.email, r.name); add_member("Sales", r.email); add_member("All Staff", r.email); }'
  w plain_groups_of 'let n = 0; for r in read_csv(args[0]) { n += groups_of(r.email).len(); } print(n);'
  w twin_groups_of 'let m = groups_of(read_csv(args[0]).map(|r| r.email)); print(m.len());'
  w plain_rename 'for r in read_csv(args[0]) { update_user(r.email, #{ name: r.name }); }'
  w twin_rename 'update_users(read_csv(args[0]).map(|r| #{ emailAddress: r.email, name: r.name }));'
  w plain_ensure 'for r in read_csv(args[0]) { ensure_user(r.email, r.name); }'
  w plain_lookup 'let n = 0; for r in read_csv(args[0]) { let u = user(r.email); if u != () && u.name != r.name { n += 1 } } print(n);'
  w twin_lookup 'let f = find_users(read_csv(args[0]).map(|r| r.email)); print(f.len());'
  timed() { /usr/bin/time -f "%e" -o "$WORK/lt" "$M" "$@" > /dev/null 2> "$WORK/l.log" || { cat "$WORK/l.log" >&2; echo 999; return; }; tail -1 "$WORK/lt"; }
  # pair LABEL PLAIN_ARGS -- TWIN_ARGS: the plan of the plain loop, the plain loop and its twin,
  # on two sandboxes started alike ($PAIR_GEN); the sandboxes stay for the next pair.
  pair() {
    local label=$1; shift
    local plain=() twin=()
    while [ "$1" != "--" ]; do plain+=("$1"); shift; done; shift
    twin=("$@")
    export MIMECAST_BASE_URL=$PA_URL MIMECAST_CLIENT_ID=$PA_ID MIMECAST_CLIENT_SECRET=$PA_SECRET
    rm -f "$WORK/l_plan.json"
    local p; p=$(timed --plan-out "$WORK/l_plan.json" "${plain[@]}")
    local a; a=$(timed "${plain[@]}")
    export MIMECAST_BASE_URL=$PB_URL MIMECAST_CLIENT_ID=$PB_ID MIMECAST_CLIENT_SECRET=$PB_SECRET
    local b; b=$(timed "${twin[@]}")
    local r; r=$(python3 -c "print(f'{$a / $b:.2f}')")
    local q; q=$(python3 -c "print(f'{$p / $a:.2f}')")
    local n; n=$(python3 -c "import json, sys; print(len(json.load(open(sys.argv[1])).get('writes', [])))" "$WORK/l_plan.json" 2>/dev/null || echo "no plan")
    row "$label" "plain ≤ 1.5 × twin; its --plan-out ≤ 1.2 × its run" \
        "plain $(secs "$a") s, twin $(secs "$b") s ($r×); plan $(secs "$p") s (${q}×, $n writes planned)" \
        "$(python3 -c "print('yes' if $r <= 1.5 and $q <= 1.2 else 'no')")"
  }
  two() {
    start "$1a" --latency-ms 50 "${@:2}"; PA_URL=$MIMECAST_BASE_URL PA_ID=$MIMECAST_CLIENT_ID PA_SECRET=$MIMECAST_CLIENT_SECRET
    start "$1b" --latency-ms 50 "${@:2}"; PB_URL=$MIMECAST_BASE_URL PB_ID=$MIMECAST_CLIENT_ID PB_SECRET=$MIMECAST_CLIENT_SECRET
  }
  E="$WORK/l_emails.csv"
  two lm --generate-users 2000
  pair "add 1 000 users to a group: \`add_member\` per user / \`add_members\`" run "$WORK/plain_add.rhai" "$E" -- run "$WORK/twin_add.rhai" "$E"
  pair "move 1 000 members between groups: \`add_member\` + \`remove_member\` per member / \`add_members\` + \`remove_members\`" run "$WORK/plain_move.rhai" "$E" -- run "$WORK/twin_move.rhai" "$E"
  pair "remove 1 000 members: \`remove_member\` per member / \`remove_members\`" run "$WORK/plain_remove.rhai" "$E" -- run "$WORK/twin_remove.rhai" "$E"
  pair "look 1 000 users up from a CSV: \`user(email)\` per row, fields compared / \`find_users\`" run "$WORK/plain_lookup.rhai" "$E" -- run "$WORK/twin_lookup.rhai" "$E"
  pair "rename 1 000 users from a CSV: \`update_user\` per row / \`update_users\`" run "$WORK/plain_rename.rhai" "$E" -- run "$WORK/twin_rename.rhai" "$E"
  pair "rename 500 users: \`ensure_user(email, name)\` per row / \`scripts/bulk_rename.rhai\` (\`find_users\` + \`update_users\`)" run "$WORK/plain_ensure.rhai" "$WORK/l_renames500.csv" -- run scripts/bulk_rename.rhai "$WORK/l_renames500.csv"
  pair "create 500 people from a CSV: \`create_user\` + 2 × \`add_member\` each / \`onboard --csv\`" run "$WORK/plain_create.rhai" "$WORK/l_new_plain.csv" -- onboard --csv "$WORK/l_new_twin.csv"
  stop; stop
  two lg --generate-users 2000 --generate-groups 1000
  pair "each of 1 000 people's groups in a 1 000-group tenant: \`groups_of(email)\` per person / \`groups_of(list)\`" run "$WORK/plain_groups_of.rhai" "$E" -- run "$WORK/twin_groups_of.rhai" "$E"
  stop; stop
  # A table a script keeps, users by address: a key costs the same however big the map
  # (before 2026-12-07 every new key read all the map's values: 100 000 keys took 15-30 s).
  cat > "$WORK/index_map.rhai" <<'R'
let c = timestamp();
let by = #{};
for i in 0..100000 { by[`user.${i}@company.com`] = i; }
let one = c.elapsed;
c = timestamp();
for j in 0..10 {
    let part = #{};
    for i in 0..10000 { part[`user.${j * 10000 + i}@company.com`] = i; }
}
print(`${one} ${c.elapsed}`);
R
  local tm ta
  read -r tm ta < <("$M" run "$WORK/index_map.rhai" 2> "$WORK/l.log")
  local rm; rm=$(python3 -c "print(f'{$tm / $ta:.2f}')")
  row "index 100 000 addresses in one map (\`by[address] = ...\`) / in ten maps of 10 000" "one ≤ 1.5 × ten" \
      "one $(secs "$tm") s, ten $(secs "$ta") s (${rm}×)" "$(python3 -c "print('yes' if $rm <= 1.5 else 'no')")"
  local n=${LOOP_USERS:-1000000}
  start lmem --generate-users "$n"
  /usr/bin/time -f "%e %M" -o "$WORK/lm" "$M" -e 'let n = 0; for u in users() { n += 1 } n' > "$WORK/lm.out" 2> "$WORK/l.log"
  read -r secs_mem kb < "$WORK/lm"
  /usr/bin/time -f "%e %M" -o "$WORK/la" "$M" -e 'users().len()' > /dev/null 2> "$WORK/l.log"
  read -r _ kb_all < "$WORK/la"
  row "\`for u in users()\` over $(cat "$WORK/lm.out") users" "peak memory ≤ 50 MB" \
      "$(( kb / 1024 )) MB peak in $(secs "$secs_mem") s (\`users().len()\`, which holds them all: $(( kb_all / 1024 )) MB)" \
      "$(python3 -c "print('yes' if $kb / 1024 <= 50 else 'no')")"
  stop
}

# 9. a fleet: onboarding 100 people into 2 groups on each of 20 sandbox tenants (50 ms), one
#    `--fleet` run beside each tenant's own run one after another. Target: the fleet run
#    ≤ 1.5 × the slowest single tenant's run (the tenants run at once, each within its own
#    connection, token and rate budget).
fleet() {
  local n=20
  # The tenants' profiles, not the credentials an earlier section's sandbox exported.
  unset MIMECAST_BASE_URL MIMECAST_CLIENT_ID MIMECAST_CLIENT_SECRET
  "$M" sandbox serve --tenants "$n" --addr 127.0.0.1:0 --state "$WORK/fleet.db" --latency-ms 50 -o json > "$WORK/fleet.out" 2> "$WORK/fleet.err" &
  PIDS+=($!)
  for _ in $(seq 1 600); do [ "$(wc -l < "$WORK/fleet.out")" -ge "$n" ] && break; sleep 0.1; done
  mkdir -p "$WORK/fleetcfg"
  python3 - "$WORK/fleet.out" "$WORK/fleetcfg/config.toml" <<'PY'
import json, sys
tenants = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as f:
    for t in tenants:
        f.write(f"[{t['profile']}]\nbase_url = {json.dumps(t['base_url'])}\nclient_id = {json.dumps(t['client_id'])}\nclient_secret = {json.dumps(t['client_secret'])}\n\n")
    f.write("[fleets]\nbench = [" + ", ".join(json.dumps(t['profile']) for t in tenants) + "]\n")
PY
  chmod 600 "$WORK/fleetcfg/config.toml"
  export MCSH_CONFIG="$WORK/fleetcfg/config.toml"
  people "$WORK/f_single.csv" 100 fleet.single "Sales;Marketing"
  for k in 1 2 3; do people "$WORK/f_fleet$k.csv" 100 "fleet.all$k." "Sales;Marketing"; done
  local slowest=0 k t
  for k in $(seq 1 "$n"); do
    /usr/bin/time -f "%e" -o "$WORK/tf" "$M" --profile "tenant-$k" onboard --csv "$WORK/f_single.csv" -o jsonl > /dev/null 2> "$WORK/f_single.log"
    t=$(tail -1 "$WORK/tf")
    slowest=$(python3 -c "print(max($slowest, $t))")
  done
  # Three fleet runs, each onboarding new people on all twenty: the median is compared (a
  # 0.5 s run on 2 cores shared with the sandbox moves by ±0.1 s from one run to the next).
  local times=() rows=0 created=0
  for k in 1 2 3; do
    /usr/bin/time -f "%e" -o "$WORK/tf" "$M" --fleet bench onboard --csv "$WORK/f_fleet$k.csv" -o jsonl > "$WORK/f_fleet.jsonl" 2> "$WORK/f_fleet.log"
    times+=("$(tail -1 "$WORK/tf")")
    rows=$((rows + $(wc -l < "$WORK/f_fleet.jsonl")))
    created=$((created + $(grep -c '"status":"created"' "$WORK/f_fleet.jsonl" || true)))
  done
  t=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  row "onboard 100 people × 2 groups on each of $n tenants: one \`--fleet\` run / the slowest tenant's own run" "≤ 1.5 ×; $((n * 300)) steps created in each of 3 runs" \
      "$(secs "$t") s / $(secs "$slowest") s = $(python3 -c "print(f'{$t / $slowest:.2f}')") × (median of ${times[*]} s); $created of $rows steps created" \
      "$(python3 -c "print('yes' if $t <= 1.5 * $slowest and $created == $n * 900 else 'no')")"
  unset MCSH_CONFIG
  stop
}

if [ "${1:-}" = "fleet" ]; then
  fleet
  echo "| case | target | measured | met |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  exit 0
fi

if [ "${1:-}" = "loops" ]; then
  loops
  echo "| case | target | measured | met |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  exit 0
fi

if [ "${1:-}" = "sweep" ]; then
  # The tuning of the defaults: onboarding 1 000 people into 2 groups by batch size, and the
  # 1 000-group membership scan (a dry-run offboarding) by concurrency.
  people "$WORK/sweep.csv" 1000 sweep "Sales;All Staff"
  echo "| batch size | onboard 1 000 × 2 groups | requests |"
  echo "|---|---|---|"
  for b in 25 100 500; do
    start "sweep$b" --latency-ms 50
    /usr/bin/time -f "%e" -o "$WORK/ts" "$M" --batch-size "$b" onboard --csv "$WORK/sweep.csv" -o jsonl > /dev/null 2> "$WORK/sweep.log"
    echo "| $b | $(secs "$(tail -1 "$WORK/ts")") s | $(summary "$WORK/sweep.log" requests) |"
    stop
  done
  echo
  echo "| concurrency | scan of $NGROUPS groups | requests |"
  echo "|---|---|---|"
  start sweepscan --latency-ms 50 --generate-users 2000 --generate-groups "$NGROUPS"
  for c in 8 16 32 64; do
    /usr/bin/time -f "%e" -o "$WORK/ts" "$M" --concurrency "$c" --dry-run offboard --email gen.user.000001@company.com -o jsonl > /dev/null 2> "$WORK/sweep.log"
    echo "| $c | $(secs "$(tail -1 "$WORK/ts")") s | $(summary "$WORK/sweep.log" requests) |"
  done
  stop
  exit 0
fi

# 1. onboard 1000 new users from CSV, each into 2 groups: 3000 item operations.
#    The floor is the round trips on the critical path, each waiting for the one before:
#    the token, the group listing, the internal domains, the users of company.com (one page),
#    one round of creations (10 batches of 100, all in flight at once under concurrency 32),
#    one round of memberships (20 batches across both groups) = 6 round trips × 50 ms.
#    The baseline, one request per item, is measured on 50 people (--batch-size 1
#    --concurrency 1) on a sandbox of its own, and scaled to 1 000. The measured figure is
#    the median of 3 runs, each on a fresh sandbox.
people "$WORK/onboard.csv" 1000 bench.new "Sales;All Staff"
people "$WORK/base.csv" 50 bench.base "Sales;All Staff"
start baseline --latency-ms 50
/usr/bin/time -f "%e" -o "$WORK/t0" "$M" --batch-size 1 --concurrency 1 onboard --csv "$WORK/base.csv" -o jsonl > /dev/null 2> "$WORK/base.log"
base=$(python3 -c "import sys; print(f'{float(sys.argv[1]) * 20:.0f}')" "$(tail -1 "$WORK/t0")")
stop
times=()
for i in 1 2 3; do
  start "onboard$i" --latency-ms 50
  /usr/bin/time -f "%e" -o "$WORK/t1" "$M" onboard --csv "$WORK/onboard.csv" -o jsonl > /dev/null 2> "$WORK/onboard.log"
  times+=("$(tail -1 "$WORK/t1")")
  created=$(summary "$WORK/onboard.log" created)
  [ "$i" = 3 ] || stop
done
t=$(python3 -c "import sys, statistics; print(statistics.median(map(float, sys.argv[1:])))" "${times[@]}")
floor=0.30
row "onboard 1 000 new users from CSV, each into 2 groups (3 000 item operations)" "≤ 1.5 × the round-trip floor (6 × 50 ms = $floor s); 3 000 created" \
    "$(secs "$t") s, median of ${times[*]} ($(python3 -c "print(f'{$t / $floor:.2f}')")× the floor; $(python3 -c "print(f'{$base / $t:.0f}')")× faster than the measured $base s of one request per item); $created created" \
    "$(python3 -c "print('yes' if round($t / $floor, 2) <= 1.5 and $created == 3000 else 'no')")"

# 1b. offboard 200 leavers, each in 2 groups, from CSV
people "$WORK/leavers200.csv" 200 bench.leave "Sales;Marketing"
"$M" onboard --csv "$WORK/leavers200.csv" -o jsonl > /dev/null 2>&1
people "$WORK/off200.csv" 200 bench.leave "-"
/usr/bin/time -f "%e" -o "$WORK/t1b" "$M" --yes offboard --csv "$WORK/off200.csv" -o jsonl > /dev/null 2> "$WORK/off200.log"
t=$(tail -1 "$WORK/t1b")
removed=$(summary "$WORK/off200.log" removed); failed=$(summary "$WORK/off200.log" failed)
row "offboard 200 leavers (each in 2 groups) from CSV" "≤ 1 s; 400 memberships and 200 accounts removed" \
    "$(secs "$t") s ($(summary "$WORK/off200.log" requests) requests), $removed removed, $failed failed" \
    "$(python3 -c "print('yes' if $t <= 1 and $removed == 600 and $failed == 0 else 'no')")"
stop

# 2. users list -o jsonl of a 100 000-user domain
start big --latency-ms 50 --generate-users "$USERS"
domain_users=$(( USERS - USERS / 10 + 48 ))
pages=$(( (domain_users + 499) / 500 ))
/usr/bin/time -f "%e %M" -o "$WORK/t2" "$M" users list --domain company.com -o jsonl > "$WORK/list.jsonl"
read -r t kb < <(tail -1 "$WORK/t2")
lines=$(wc -l < "$WORK/list.jsonl")
limit=$(python3 -c "print(f'{1.2*$pages*0.05:.2f}')")
row "\`users list -o jsonl\` of a $domain_users-user domain ($pages pages)" "≤ $limit s (1.2 × pages × 50 ms); peak memory ≤ 60 MB" \
    "$(secs "$t") s, $(( kb / 1024 )) MB peak, $lines users" \
    "$(python3 -c "print('yes' if float('$t') <= $limit and $kb <= 60*1024 and $lines == $domain_users else 'no')")"
stop

# 3. offboard one user, then 1 000 leavers (each in 3 groups), in a tenant of 1 000 groups
start groups --latency-ms 50 --generate-users 2000 --generate-groups "$NGROUPS"
/usr/bin/time -f "%e" -o "$WORK/t3" "$M" --yes offboard --email gen.user.000001@company.com -o jsonl > /dev/null 2> "$WORK/off.log"
t=$(tail -1 "$WORK/t3")
row "offboard one user in a tenant of $NGROUPS groups" "≤ 4 s" "$(secs "$t") s ($(summary "$WORK/off.log" requests) requests)" \
    "$(python3 -c "print('yes' if float('$t') <= 4 else 'no')")"
people "$WORK/leavers1000.csv" 1000 bench.exit "Generated 0001;Generated 0002;Generated 0003"
"$M" onboard --csv "$WORK/leavers1000.csv" -o jsonl > /dev/null 2>&1
people "$WORK/off1000.csv" 1000 bench.exit "-"
/usr/bin/time -f "%e" -o "$WORK/t3b" "$M" --yes offboard --csv "$WORK/off1000.csv" -o jsonl > /dev/null 2> "$WORK/off1000.log"
t=$(tail -1 "$WORK/t3b")
removed=$(summary "$WORK/off1000.log" removed); failed=$(summary "$WORK/off1000.log" failed)
row "offboard 1 000 leavers (each in 3 groups) in a tenant of $NGROUPS groups" "≤ 5 s; 3 000 memberships and 1 000 accounts removed" \
    "$(secs "$t") s ($(summary "$WORK/off1000.log" requests) requests), $removed removed, $failed failed" \
    "$(python3 -c "print('yes' if $t <= 5 and $removed == 4000 and $failed == 0 else 'no')")"
stop

# 4. the same scan against a drained bucket that refills gradually (docs/mimecast-api.md §3):
#    a bucket of 20 requests, one added back every 20 ms. The floor is the refill itself:
#    (requests - bucket) × 20 ms; the budget must pace to it, not burst into 429s.
start quota --latency-ms 50 --bucket 20 --refill-ms 20 --generate-users 2000 --generate-groups "$NGROUPS"
/usr/bin/time -f "%e" -o "$WORK/t4" "$M" --dry-run offboard --email gen.user.000002@company.com -o jsonl > "$WORK/quota.jsonl" 2> "$WORK/quota.log"
t=$(tail -1 "$WORK/t4")
summary=$(grep '^offboard:' "$WORK/quota.log")
requests=$(echo "$summary" | grep -o '[0-9]* requests' | head -1 | grep -o '[0-9]*')
# A run the budget paced without a single 429 says nothing of them.
throttled=$(echo "$summary" | { grep -o '[0-9]* answered 429' || true; } | head -1 | awk '{print $1}')
throttled=${throttled:-0}
failed=$(grep -c '"status":"failed"' "$WORK/quota.jsonl" || true)
floor=$(python3 -c 'import sys; r, q = map(float, sys.argv[1:]); print(f"{(r - q - 20) * 0.02:.2f}")' "$requests" "$throttled")
row "a scan of $NGROUPS groups against a drained bucket (20 requests, one back every 20 ms)" "≤ 1.2 × the refill floor ((requests − 20) × 20 ms); 429s ≤ 1 % of requests; zero failed" \
    "$(secs "$t") s for a floor of $floor s ($((requests - throttled)) accepted), $throttled 429s, $failed failed" \
    "$(python3 -c "print('yes' if $t <= 1.2 * $floor and $throttled * 100 <= $requests and $failed == 0 else 'no')")"
stop

# 5. rehearsal: a snapshot of a 100 000-user, 1 000-group tenant; loading it into a rehearsal
#    copy; the diff of two such snapshots. The floor of a snapshot is its longest chain of
#    round trips: the token and the domains, then the biggest domain's user pages one after
#    another (page tokens chain them), while the group pages and the members of every group
#    (32 groups at a time) are read beside them: max(2 + user pages, 2 + group pages +
#    groups / 32) × 50 ms.
start snap --latency-ms 50 --generate-users "$USERS" --generate-groups "$NGROUPS"
/usr/bin/time -f "%e %M" -o "$WORK/t5" "$M" snapshot --out "$WORK/a.json" 2> "$WORK/snap.log"
read -r t kb < <(tail -1 "$WORK/t5")
big=$(( USERS - USERS / 10 + 48 ))
floor=$(python3 -c "import math; print(f'{max(2 + math.ceil($big / 500), 2 + math.ceil($NGROUPS / 500) + math.ceil($NGROUPS / 32)) * 0.05:.2f}')")
users=$(python3 -c "import json; print(len(json.load(open('$WORK/a.json'))['users']))")
row "\`mcsh snapshot\` of a $USERS-user, $NGROUPS-group tenant" "≤ 1.5 × the round-trip floor ($floor s)" \
    "$(secs "$t") s ($(python3 -c "print(f'{$t / $floor:.2f}')")× the floor), $users user rows, $(( kb / 1024 )) MB peak, $(( $(stat -c %s "$WORK/a.json") / 1048576 )) MB file" \
    "$(python3 -c "print('yes' if $t <= 1.5 * $floor and $users >= $USERS else 'no')")"
people "$WORK/snapjoin.csv" 100 bench.snap "Generated 0001"
"$M" onboard --csv "$WORK/snapjoin.csv" -o jsonl > /dev/null 2>&1
"$M" snapshot --out "$WORK/b.json" 2> /dev/null
stop
/usr/bin/time -f "%e %M" -o "$WORK/t5b" "$M" --rehearse "$WORK/a.json" groups list --query "no such group" -o jsonl > /dev/null 2>&1
read -r t kb < <(tail -1 "$WORK/t5b")
row "a rehearsal copy loaded from that snapshot (and one request)" "≤ 3 s" "$(secs "$t") s, $(( kb / 1024 )) MB peak" \
    "$(python3 -c "print('yes' if $t <= 3 else 'no')")"
set +e
/usr/bin/time -f "%e %M" -o "$WORK/t5c" "$M" diff "$WORK/a.json" "$WORK/b.json" -o json > "$WORK/diff.json" 2> /dev/null
set -e
read -r t kb < <(tail -1 "$WORK/t5c")
changes=$(python3 -c "import json; print(len(json.load(open('$WORK/diff.json'))['changes']))")
row "\`mcsh diff\` of two such snapshots (100 users added, each joined 1 group)" "≤ 2 s and ≤ 300 MB; 200 changes" \
    "$(secs "$t") s, $(( kb / 1024 )) MB peak, $changes changes" \
    "$(python3 -c "print('yes' if $t <= 2 and $kb <= 300*1024 and $changes == 200 else 'no')")"

# 6. sync: a feed of 10 000 people against a tenant of 10 000 users where 5 % differ (250 new
#    people who join Sales, 250 names to fix), planned and applied. Its floor is the reads'
#    chain (token, domains, groups, the biggest domain's user pages one after another, one
#    round of member scans) plus one round each of creations, renames and memberships.
start sync --latency-ms 50 --generate-users 9938
"$M" export -o csv > "$WORK/tenant.csv" 2> /dev/null
python3 - "$WORK/tenant.csv" "$WORK/feed.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["alias"] != "true"]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["email", "name", "groups"])
    for i, r in enumerate(rows):
        name = f"{r['name']} Renamed" if i % 40 == 0 else r["name"]
        w.writerow([r["emailAddress"], name, ""])
    for i in range(250):
        w.writerow([f"bench.sync{i:04}@company.com", f"Sync {i}", "Sales"])
PY
people=$(( $(wc -l < "$WORK/feed.csv") - 1 ))
/usr/bin/time -f "%e" -o "$WORK/t6" "$M" --yes sync --csv "$WORK/feed.csv" -o jsonl > "$WORK/sync.jsonl" 2> "$WORK/sync.log"
t=$(tail -1 "$WORK/t6")
steps=$(wc -l < "$WORK/sync.jsonl"); failed=$(grep -c '"status":"failed"' "$WORK/sync.jsonl" || true)
pages=$(( (9000 + 499) / 500 ))
floor=$(python3 -c "print(f'{(3 + $pages + 1 + 3) * 0.05:.2f}')")
"$M" --yes sync --csv "$WORK/feed.csv" -o jsonl > "$WORK/sync2.jsonl" 2> /dev/null
again=$(wc -l < "$WORK/sync2.jsonl")
row "\`mcsh sync\` of a $people-person feed against a tenant of 10 000 users, 5 % differing" "≤ 3 s; 750 steps (250 created, 250 joined, 250 renamed), none failed; a second run: none" \
    "$(secs "$t") s (floor $floor s: $pages user pages + 7 round trips; $(grep -o '[0-9]* requests' "$WORK/sync.log" | tail -1)), $steps steps, $failed failed; second run $again steps" \
    "$(python3 -c "print('yes' if $t <= 3 and $steps == 750 and $failed == 0 and $again == 0 else 'no')")"
stop

loops
fleet

# 7. start-up
avg_ms() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
cmd = sys.argv[1:]
for _ in range(5):
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
n = 50
t = time.perf_counter()
for _ in range(n):
    subprocess.run(cmd, stdout=subprocess.DEVNULL)
print(f"{(time.perf_counter() - t) / n * 1000:.1f}")
PY
}
v=$(avg_ms "$M" --version)
e=$(avg_ms "$M" -e '1+1')
row "\`mcsh --version\`; \`mcsh -e '1+1'\`" "≤ 5 ms; ≤ 15 ms" "$v ms; $e ms (mean of 50 runs)" \
    "$(python3 -c "print('yes' if $v <= 5 and $e <= 15 else 'no')")"

echo
echo "| case | target | measured | met |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "defaults: batch size 100, concurrency 32; $(nproc) cores; $(date -u +%Y-%m-%d)"
