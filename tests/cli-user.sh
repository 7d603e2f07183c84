#!/usr/bin/env bash
# The CLI as a user runs it: the built ./dynoplane against a real `./dynoplane up` daemon. --help, usage errors
# (exit 2), no daemon (exit 3), daemon refusals (exit 1), then one app's life: create, deploy, scale, ps --json,
# the router reaching both web dynos, config:set rolling the dynos to v2, run (attached: stdin, output, exit
# code) and run:detached, logs (filters, --tail), ps:stop, apps:destroy, down leaving nothing behind.
source "$(dirname "$0")/lib/e2e.bash"
app="$app_prefix"

# --help on every command: exit 0 and a usage line, with or without a daemon.
for cmd in up down apps apps:create apps:destroy deploy releases ps ps:scale ps:restart ps:stop config config:set \
           config:unset run run:detached logs drains drains:add drains:remove spaces spaces:create spaces:trusted-ips:add; do
  out=$($D "$cmd" --help 2>&1); rc=$?
  check "$cmd --help exits 0 with its usage" bash -c '[ "$1" -eq 0 ] && grep -qi "usage" <<<"$2"' _ "$rc" "$out"
done

out=$($D ps 2>&1); rc=$?
check "ps with no daemon exits 3 and says so" bash -c '[ "$1" -eq 3 ] && grep -q "no daemon" <<<"$2"' _ "$rc" "$out"

# Usage errors: exit 2, naming what was wrong.
usage_error() { # description bad-input command...
  local what=$1 bad=$2 out rc; shift 2
  out=$("$@" 2>&1); rc=$?
  check "usage error exits 2 naming '$bad': $what" bash -c '[ "$1" -eq 2 ] && grep -qF -- "$2" <<<"$3"' _ "$rc" "$bad" "$out"
}
usage_error "unknown option" --bogus $D ps --bogus
usage_error "scale count not a number" web=x $D ps:scale web=x -a "$app"
usage_error "config:set without =" NOEQUALS $D config:set NOEQUALS -a "$app"
usage_error "scale with nothing to scale" TYPE=N $D ps:scale -a "$app"

out=$(timeout 60 $D up --port 0 --admin-port 0 --state "$state" --pool "$pool" --router-cpus 3-1 2>&1); rc=$?
check "up --router-cpus 3-1 exits 1 naming it, starting nothing" bash -c '[ "$1" -eq 1 ] && grep -qF -- "3-1" <<<"$2"' _ "$rc" "$out"

# The router's event loop pinned to the last CPU: one loop, and the kernel says where it may run.
last_cpu=$(( $(nproc) - 1 ))
check "the daemon starts with --router-cpus $last_cpu and says Ready." start_daemon "$work/up.log" --router-cpus "$last_cpu"
[ -n "$router_port" ] || { cat "$work/up.log"; finish cli-user; exit 1; }
router_cpus() { # the Cpus_allowed_list of each of the daemon's router event loop threads, one per line
  local task
  for task in /proc/"$daemon_pid"/task/*; do
    grep -q '^router-' "$task/comm" 2>/dev/null && awk '/^Cpus_allowed_list:/ {print $2}' "$task/status"
  done
}
loops=$(router_cpus)
check "its one router event loop may run on CPU $last_cpu only (got: ${loops//$'\n'/ })" [ "$loops" = "$last_cpu" ]

out=$($D apps:create Bad_Name 2>&1); rc=$?
check "apps:create with a bad name exits 1 naming it" bash -c '[ "$1" -eq 1 ] && grep -qF "Bad_Name" <<<"$2"' _ "$rc" "$out"
check "apps:create $app" $D apps:create "$app"
out=$($D apps:create "$app" 2>&1); rc=$?
check "apps:create of an existing name exits 1 naming it" bash -c '[ "$1" -eq 1 ] && grep -qF "$2" <<<"$3"' _ "$rc" "$app" "$out"
check "apps lists it" bash -c '$0 apps | grep -qw "$1"' "$D" "$app"

cp -r examples/hello "$work/src"
out=$($D deploy "$work/src" -a "$app" 2>&1); echo "$out"
check "deploy makes v1" grep -q 'v1' <<<"$out"
check "ps:scale web=2 worker=1" $D ps:scale web=2 worker=1 -a "$app"

# Every dyno of the app up, on release $1, with the given names (bounded poll: states change without a signal).
all_up() { # release names...
  local release=$1; shift
  $D ps -a "$app" --json 2>/dev/null | python3 -c '
import json, sys
want, names = int(sys.argv[1]), sorted(sys.argv[2:])
dynos = [d for d in json.load(sys.stdin) if not d["name"].startswith("run.")]
sys.exit(0 if sorted(d["name"] for d in dynos) == names and all(d["state"] == "up" and d["release"] == want for d in dynos) else 1)
' "$release" "$@"
}
check "web.1, web.2 and worker.1 come up" poll 60 all_up 1 web.1 web.2 worker.1

ps_json=$($D ps -a "$app" --json); echo "$ps_json"
check "ps --json fields: name, app, type, state, address, netns, pid, release, space, restarts, started_at" python3 - "$app" "$ps_json" <<'PY'
import json, sys, ipaddress, os, datetime
app, dynos = sys.argv[1], json.loads(sys.argv[2])
assert sorted(d["name"] for d in dynos) == ["web.1", "web.2", "worker.1"], dynos
for d in dynos:
    for field in ("name", "app", "type", "state", "address", "netns", "pid", "release", "space", "restarts", "started_at"):
        assert field in d, (field, d)
    assert d["app"] == app and d["type"] == d["name"].split(".")[0] and d["state"] == "up", d
    assert ipaddress.ip_address(d["address"]) in ipaddress.ip_network("172.16.0.0/12"), d
    assert os.path.exists("/run/netns/" + d["netns"]) and os.path.exists("/proc/%d" % d["pid"]), d
    assert d["release"] == 1 and d["space"] is None and d["restarts"] == 0, d
    datetime.datetime.fromisoformat(d["started_at"].replace("Z", "+00:00"))
PY

# Through the router: both web dynos answer (random choice: stop once both are seen, at most 40 requests).
curl_app() { curl -s --max-time 5 -H "Host: $app.localhost" "http://127.0.0.1:$router_port${1:-/}"; }
seen=
for i in $(seq 40); do seen+=$(curl_app)$'\n'; grep -q 'web.1' <<<"$seen" && grep -q 'web.2' <<<"$seen" && break; done
check "the router reaches web.1" grep -q 'Hello from web.1' <<<"$seen"
check "the router reaches web.2" grep -q 'Hello from web.2' <<<"$seen"

check "config:set GREETING=hi" $D config:set GREETING=hi -a "$app"
check "config --json has GREETING" bash -c '$0 config -a "$1" --json | python3 -c "import json,sys; assert json.load(sys.stdin) == {\"GREETING\": \"hi\"}"' "$D" "$app"
check "config:set made release v2 with the config" bash -c '$0 releases -a "$1" --json | python3 -c "import json,sys; r = max(json.load(sys.stdin), key=lambda r: r[\"version\"]); assert r[\"version\"] == 2 and r[\"config\"] == {\"GREETING\": \"hi\"}, r"' "$D" "$app"
check "releases lists v2 above v1 (newest first)" bash -c '$0 releases -a "$1" | grep -o "\bv[12]\b" | tr "\n" " " | grep -q "^v2 v1 "' "$D" "$app"
check "every dyno rolls to release 2 and is up" poll 60 all_up 2 web.1 web.2 worker.1

out=$(echo hello | $D run -a "$app" -- 'read x; echo "$x $GREETING"; exit 7' 2>"$work/run.err"); rc=$?
check "run (attached) passes stdin through and prints the output with the config var" test "$out" = "hello hi"
check "run (attached) exits with the command's status (7)" test "$rc" -eq 7

marker="detached-$run"
check "run:detached" $D run:detached -a "$app" -- "echo $marker"
in_logs() { $D logs -a "$app" -n 1500 2>/dev/null | grep -q "app\[run\.[0-9]*\]: $marker"; }
check "run:detached output appears in logs as app[run.N]" poll 30 in_logs

out=$($D logs -a "$app" -n 5 --source heroku); echo "$out"
check "logs -n 5 --source heroku: 5 lines, all from heroku" bash -c '[ "$(wc -l <<<"$1")" -eq 5 ] && ! grep -v " heroku\[" <<<"$1"' _ "$out"
out=$($D logs -a "$app" -n 1500 --source app --dyno web.1)
check "logs --source app --dyno web.1: only app[web.1] lines" bash -c '[ -n "$1" ] && ! grep -v " app\[web\.1\]: " <<<"$1"' _ "$out"

# --tail streams a router line made after it started: unique path, curled until the tail shows it.
timeout 60 $D logs -a "$app" --tail -n 0 >"$work/tail.out" 2>&1 &
tail_pid=$!; bg_pids+=("$tail_pid")
tailed() { curl_app "/tail-$run" >/dev/null; grep -q "heroku\[router\]: .*path=\"/tail-$run\".*status=200" "$work/tail.out"; }
check "logs --tail streams a new router line after a curl" poll 30 tailed
kill -TERM "$tail_pid" 2>/dev/null; wait "$tail_pid" 2>/dev/null

pid_of() { $D ps -a "$app" --json | python3 -c 'import json,sys; print(next(d["pid"] for d in json.load(sys.stdin) if d["name"] == sys.argv[1]))' "$1"; }
old_pid=$(pid_of web.1)
check "ps:stop web.1" $D ps:stop web.1 -a "$app"
restarted() { local p; p=$(pid_of web.1) && [ "$p" != "$old_pid" ] && [ "$p" != 0 ] && all_up 2 web.1 web.2 worker.1; }
check "the formation starts web.1 again (new process, up)" poll 60 restarted

out=$($D apps:destroy "$app" 2>&1); rc=$?
check "apps:destroy without --confirm is refused" bash -c '[ "$1" -ne 0 ] && grep -q -- "--confirm" <<<"$2"' _ "$rc" "$out"
check "... and the app and its dynos are still there" all_up 2 web.1 web.2 worker.1
check "apps:destroy --confirm" $D apps:destroy "$app" --confirm "$app"
no_netns() { [ -z "$(my_netns)" ]; }
check "the app's namespaces are gone" poll 30 no_netns
check "apps no longer lists it" bash -c '! $0 apps | grep -qw "$1"' "$D" "$app"

check "down" $D down
check "the daemon exits" wait_gone "$daemon_pid" 60
wait "$daemon_pid" 2>/dev/null
check "nothing left: no namespace" no_netns
check "nothing left: no pins ($pins)" test ! -e "$pins"
check "nothing left: no control socket" test ! -e "$DYNOPLANE_CONTROL_SOCKET"
out=$($D ps 2>&1); rc=$?
check "ps after down exits 3" test "$rc" -eq 3

[ "$failed" -eq 0 ] || { echo "--- daemon log ---"; tail -80 "$work/up.log"; }
finish cli-user
