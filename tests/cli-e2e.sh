#!/usr/bin/env bash
# End-to-end through ./dynoplane as a user runs it: demo up, 20 curls through the router reach
# both web dynos, `ps --json` lists them and the worker, SIGTERM tears everything down.
# Uses an app name, control socket and router port unique to this run; cleans up on failure too.
set -uo pipefail
cd "$(dirname "$0")/.."
run=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
app="e2e-$run"
work=$(mktemp -d)
cp -r examples/hello "$work/$app"
export DYNOPLANE_CONTROL_SOCKET="$work/control.sock"
log="$work/demo.log"
passed=0 failed=0
check() { # description command...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $what"; else failed=$((failed + 1)); echo "not ok - $what"; fi
}
cleanup() {
  if [ -n "${demo_pid:-}" ] && kill -0 "$demo_pid" 2>/dev/null; then kill -TERM "$demo_pid"; wait "$demo_pid" 2>/dev/null; fi
  for ns in $(ip netns list | awk '{print $1}' | grep "^dp-$app-" || true); do
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$ns"
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Its own state folder and pool, so its start-up reconcile cannot touch another plane's dynos.
./dynoplane demo --port 0 --admin-port 0 --app "$work/$app" --state "$work/$app-state" --pool "172.29.$((RANDOM % 256)).0/24" >"$log" 2>&1 &
demo_pid=$!
# Wait for the demo to say it is ready (or to die): an event, not a sleep.
timeout 300 grep -q -m1 -e 'Press Ctrl-C' <(tail -n +1 -F "$log" --pid "$demo_pid" 2>/dev/null)
port=$(grep -o -m1 '127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d: -f2)
check "demo prints the router's address first and is ready" grep -q 'Press Ctrl-C' "$log"

seen=$(for i in $(seq 20); do curl -s --max-time 5 -H "Host: $app.localhost" "http://127.0.0.1:$port/"; done | sort | uniq -c)
echo "$seen"
check "20 requests reach web.1" grep -q 'Hello from web.1' <<<"$seen"
check "20 requests reach web.2" grep -q 'Hello from web.2' <<<"$seen"

ps_json=$(./dynoplane ps --json)
echo "$ps_json"
check "ps --json lists web.1, web.2 and worker.1 with name, app, type, state, address, netns, pid" python3 - "$app" "$ps_json" <<'PY'
import json, sys, ipaddress, os
app, dynos = sys.argv[1], json.loads(sys.argv[2])
mine = sorted((d for d in dynos if d["app"] == app), key=lambda d: d["name"])
assert [d["name"] for d in mine] == ["web.1", "web.2", "worker.1"], mine
for d in mine:
    kind = d["name"].split(".")[0]
    assert d["type"] == kind and d["state"] == "up", d
    assert (d["port"] is None) == (kind == "worker"), d  # a worker gets no $PORT
    assert ipaddress.ip_address(d["address"]) in ipaddress.ip_network("172.16.0.0/12"), d
    assert os.path.exists("/run/netns/" + d["netns"]), d
    assert os.path.exists("/proc/%d" % d["pid"]), d
PY
mine=$(python3 -c 'import json,sys; [print(d["hostVeth"], d["pid"]) for d in json.loads(sys.argv[2]) if d["app"] == sys.argv[1]]' "$app" "$ps_json")
netns_before=$(ip netns list | grep -c "^dp-$app-" || true)
check "each dyno has its own netns" test "$netns_before" -eq 3
pins="/sys/fs/bpf/dynoplane/$app-state-$(printf %s "$work/$app-state" | sha256sum | cut -c1-8)" # ProvisionerConfig.pinName
check "the guard is pinned in bpffs while dynos run" test -e "$pins/dynos"

kill -TERM "$demo_pid"; wait "$demo_pid"; demo_pid=
check "demo exits after tearing down" grep -q 'nothing left behind' "$log"
check "no namespace left" test -z "$(ip netns list | grep "^dp-$app-")"
gone() { local veth pid; while read -r veth pid; do [ ! -e "/sys/class/net/$veth" ] && [ ! -e "/proc/$pid" ] || return 1; done <<<"$mine"; }
check "no dyno veth or process left" gone
check "control socket removed" test ! -e "$DYNOPLANE_CONTROL_SOCKET"
check "guard pins removed" test ! -e "$pins"

[ "$failed" -eq 0 ] || { echo "--- demo log ---"; cat "$log"; }
echo "cli-e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
