#!/usr/bin/env bash
# The daemon killed with SIGKILL while 5 dynos run, then started again on the same state: formation, config,
# releases and drains come back as they were, the dynos are replaced (or adopted) and all up, a syslog drain
# keeps receiving RFC 5424 octet-counted frames, and a client hitting the router every ~20 ms sees failures
# for no longer than the restart window (SIGKILL -> new daemon Ready. -> every web dyno up again).
source "$(dirname "$0")/lib/e2e.bash"
app="$app_prefix"
margin=1.0   # seconds of slack on the restart window (client timeout, log timestamp vs. poll granularity)

# A fixed router port, so the client keeps one address across the restart.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_daemon_on_port() { # log
  daemon_log=$1
  $D up --port "$port" --admin-port 0 --state "$state" --pool "$pool" >"$daemon_log" 2>&1 &
  daemon_pid=$!
  timeout 300 grep -q -m1 '^Ready\.' <(tail -n +1 -F "$daemon_log" --pid "$daemon_pid" 2>/dev/null)
  grep -q '^Ready\.' "$daemon_log"
}

# A syslog TCP listener on 127.0.0.1: each octet-counted frame (RFC 6587 "LEN SP MSG") becomes one line of
# $work/drain.txt; a frame that is not "<PRI>1 ..." (RFC 5424) or bad framing writes a BAD line.
cat >"$work/syslog.py" <<'PY'
import re, socket, sys, threading
out = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
def emit(line):
    with lock: out.write(line + "\n")
def serve(conn):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data: return
        buf += data
        while True:
            sp = buf.find(b" ")
            if sp < 0: break
            if not buf[:sp].isdigit(): emit("BAD framing %r" % buf[:40]); return
            n = int(buf[:sp])
            if len(buf) < sp + 1 + n: break
            msg, buf = buf[sp + 1:sp + 1 + n].decode("utf-8", "replace"), buf[sp + 1 + n:]
            emit(msg.replace("\n", "\\n") if re.match(r"<\d{1,3}>1 ", msg) else "BAD rfc5424 " + msg[:80])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$work/syslog.py" "$work/drain.txt" "$work/drain.port" & bg_pids+=($!)
touch "$work/drain.txt"
poll 10 test -s "$work/drain.port"
drain_port=$(cat "$work/drain.port")

# The client: one GET every ~20 ms through the router (0.5 s timeout, a new connection each), one line per
# request: "start-epoch-seconds 1|0", until $work/client.stop exists.
cat >"$work/client.py" <<'PY'
import os, sys, time, urllib.request
port, host, out, stop = sys.argv[1], sys.argv[2], open(sys.argv[3], "w", buffering=1), sys.argv[4]
while not os.path.exists(stop):
    t = time.time()
    try:
        with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/" % port, headers={"Host": host}), timeout=0.5) as r:
            ok, why = r.status == 200 and r.read().startswith(b"Hello from web."), "status-%d" % r.status
    except Exception as e:
        ok, why = False, "%s:%s" % (type(e).__name__, getattr(e, "code", "") or str(e)[:40].replace(" ", "_"))
    out.write("%.6f %d %s\n" % (t, ok, why))
    time.sleep(max(0.0, 0.02 - (time.time() - t)))
PY

check "the daemon starts on router port $port" start_daemon_on_port "$work/up1.log"
[ "$failed" -eq 0 ] || { cat "$work/up1.log"; finish restart; exit 1; }
check "apps:create, deploy, ps:scale web=3 worker=2, config:set FOO=bar" bash -c '
  set -e; cp -r examples/hello "$2/src"
  $0 apps:create "$1" && $0 deploy "$2/src" -a "$1" && $0 ps:scale web=3 worker=2 -a "$1" && $0 config:set FOO=bar -a "$1"' \
  "$D" "$app" "$work" >/dev/null
check "drains:add syslog://127.0.0.1:$drain_port" $D drains:add "syslog://127.0.0.1:$drain_port" -a "$app"

all_up() { # every one of the 5 dynos up on release 2
  $D ps -a "$app" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if sorted(x["name"] for x in d) == ["web.1", "web.2", "web.3", "worker.1", "worker.2"] and all(x["state"] == "up" and x["release"] == 2 for x in d) else 1)'
}
check "5 dynos up on v2" poll 60 all_up

curl_path() { curl -s -o /dev/null --max-time 2 -H "Host: $app.localhost" "http://127.0.0.1:$port$1"; }
drained() { curl_path "$1"; grep -q "path=\"$1\"" "$work/drain.txt"; }
check "the drain receives the router's lines before the restart" poll 30 drained "/before-$run"

snapshot() { # file: formation (name, type, release, state), config, releases, drains
  { $D ps -a "$app" --json | python3 -c 'import json,sys; print(json.dumps(sorted([d["name"], d["type"], d["release"], d["state"], d["space"]] for d in json.load(sys.stdin))))'
    $D config -a "$app" --json; echo; $D releases -a "$app" --json; echo; $D drains -a "$app" --json; echo; } >"$1"
}
snapshot "$work/before.txt"; cat "$work/before.txt"
old_pids=$($D ps -a "$app" --json | python3 -c 'import json,sys; print(" ".join(str(d["pid"]) for d in json.load(sys.stdin)))')

python3 "$work/client.py" "$port" "$app.localhost" "$work/client.txt" "$work/client.stop" & client_pid=$!; bg_pids+=($client_pid)
client_ok() { grep -q '^[0-9.]* 1 ' "$work/client.txt" 2>/dev/null; }
check "the client's requests succeed before the kill" poll 10 client_ok

java_pid=$(pgrep -f -- "io.dynoplane.plane.Main up .*--state $state")
check "the daemon's java process found by its state folder ($java_pid)" test "$java_pid" = "$daemon_pid"
t_kill=$(date +%s.%N)
kill -KILL "$java_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=
alive=0; for p in $old_pids; do [ -e "/proc/$p" ] && alive=$((alive + 1)); done
check "after SIGKILL the old dynos keep running ($alive of 5)" test "$alive" -eq 5
check "after SIGKILL the guard stays pinned" test -e "$pins"

check "a new daemon starts on the same state and port" start_daemon_on_port "$work/up2.log"
t_ready=$(date +%s.%N)
check "all 5 dynos up again on v2" poll 90 all_up
t_polled_up=$(date +%s.%N)
# When the last web dyno came up, from the new daemon's own log (exact, unlike the poll).
read -r t_first_web_up t_web_up < <(python3 - "$work/up2.log" "$t_polled_up" <<'PY'
import re, sys, datetime
ups = [datetime.datetime.fromisoformat(m.group(1)).timestamp() for m in
       (re.match(r"(\S+) heroku\[web\.\d+\]: State changed from starting to up", line) for line in open(sys.argv[1])) if m]
print("%.6f %.6f" % (min(ups), max(ups)) if ups else "%s %s" % (sys.argv[2], sys.argv[2]))
PY
)

# A few more seconds of requests once everything is up, then the verdict.
settled() { python3 -c 'import sys,time; sys.exit(0 if time.time() > float(sys.argv[1]) + 3 else 1)' "$t_polled_up"; }
poll 10 settled
touch "$work/client.stop"; wait "$client_pid" 2>/dev/null
verdict=$(python3 - "$work/client.txt" "$t_kill" "$t_ready" "$t_web_up" "$margin" "$t_first_web_up" <<'PY'
import sys
import collections
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
rows = [(float(l[0]), l[1] == "1") for l in lines]
print("failures by cause:", dict(collections.Counter(l[2] for l in lines if l[1] != "1")))
t_kill, t_ready, t_web_up, margin, t_first_web_up = map(float, sys.argv[2:])
first_ok = min((t for t, ok in rows if ok and t > t_kill), default=float("inf"))
window = max(t_ready, t_web_up) - t_kill
longest, start, last_ok, worst = 0.0, None, None, None
for t, ok in rows:
    if ok:
        if start is not None:  # a failure run: from the last success before it to this success
            outage = t - (last_ok if last_ok is not None else start)
            if outage > longest: longest, worst = outage, (start, t)
            start = None
        last_ok = t
    elif start is None:
        start = t
if start is not None: longest, worst = float("inf"), (start, None)
late = [t for t, ok in rows if not ok and t > max(t_ready, t_web_up) + margin]
print("requests=%d failed=%d; after the SIGKILL: ready=%.2fs first_web_up=%.2fs all_web_up=%.2fs first_success=%.2fs;"
      " restart_window=%.2fs longest_failure=%.2fs late_failures=%d"
      % (len(rows), sum(not ok for _, ok in rows), t_ready - t_kill, t_first_web_up - t_kill, t_web_up - t_kill,
         first_ok - t_kill, window, longest, len(late)))
print("PASS" if longest <= window + margin and not late else "FAIL")
PY
)
echo "$verdict"
check "no request fails longer than the restart window (+${margin}s) nor after the dynos are up" grep -q "^PASS$" <<<"$verdict"
if ! grep -q "^PASS$" <<<"$verdict"; then # for whoever looks into it: the guard's verdicts and the router's counters
  metrics_url=$(grep -o -m1 'Metrics on http://[0-9.:]*/metrics' "$work/up2.log" | cut -d' ' -f3)
  curl -s --max-time 5 "$metrics_url" >"$work/metrics.txt"
  grep -iE 'drop|verdict|connect' "$work/metrics.txt" | grep -v '^#' | grep -v ' 0$' | head -20
fi

snapshot "$work/after.txt"
check "formation, config, releases and drains unchanged across the restart" diff "$work/before.txt" "$work/after.txt"
new_pids=$($D ps -a "$app" --json | python3 -c 'import json,sys; print(" ".join(str(d["pid"]) for d in json.load(sys.stdin)))')
stale=0; for p in $old_pids; do [ -e "/proc/$p" ] && ! grep -qw "$p" <<<"$new_pids" && stale=$((stale + 1)); done
check "the old dynos are replaced or adopted (no stray old process: $stale)" test "$stale" -eq 0
check "exactly 5 namespaces for the app" test "$(my_netns | wc -l)" -eq 5
check "the drain receives the router's lines after the restart" poll 30 drained "/after-$run"
check "every drained frame is octet-counted RFC 5424" bash -c '[ -s "$1" ] && ! grep -q "^BAD" "$1"' _ "$work/drain.txt"
echo "drain: $(wc -l <"$work/drain.txt") frames, e.g.: $(grep -m1 "path=\"/after-$run\"" "$work/drain.txt")"

check "down" $D down
daemon_pid=$(pgrep -f -- "io.dynoplane.plane.Main up .*--state $state" || true)
[ -z "$daemon_pid" ] || check "the daemon exits" wait_gone "$daemon_pid" 60
no_netns() { [ -z "$(my_netns)" ]; }
check "nothing left: namespaces" poll 10 no_netns
check "nothing left: pins" test ! -e "$pins"
check "nothing left: control socket" test ! -e "$DYNOPLANE_CONTROL_SOCKET"

if [ "$failed" -ne 0 ]; then
  echo "--- first daemon log ---"; tail -30 "$work/up1.log"; echo "--- second daemon log ---"; tail -60 "$work/up2.log"
  kept="/tmp/dp-e2e-restart-failed-$run"; mkdir -p "$kept"
  cp "$work"/*.log "$work"/*.txt "$kept"/ 2>/dev/null; echo "kept the logs, client and drain records in $kept"
fi
finish restart
