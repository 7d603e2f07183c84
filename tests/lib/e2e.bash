# Shared by the end-to-end scripts in tests/ (sourced, not run: ./dynoplane test runs tests/*.sh only).
# Gives each run its own id, app-name prefix, work folder, state folder (its basename names the guard's pins),
# address pool and control socket, a check() that counts, a daemon starter that waits for 'Ready.', and an
# EXIT trap that removes everything the run made even when it fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
run=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d "/tmp/dp-e2e-$run.XXXX")
state="$work/t$run-state"
# The guard's pins: the state folder's name and 8 hex digits of the SHA-256 of its path (ProvisionerConfig.pinName).
pins="/sys/fs/bpf/dynoplane/t$run-state-$(printf %s "$state" | sha256sum | cut -c1-8)"
pool="172.2$((RANDOM % 10)).$((RANDOM % 256)).0/24"
export DYNOPLANE_CONTROL_SOCKET="$work/control.sock"
D=./dynoplane
app_prefix="t$run"                              # every app of this run: $app_prefix or $app_prefix-*
daemon_pid= daemon_log= router_port=
bg_pids=()                                      # other processes this run started (listeners, clients)
passed=0 failed=0

check() { # description command...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $what"; else failed=$((failed + 1)); echo "not ok - $what"; fi
}

# Starts `./dynoplane up` on this run's state, pool and socket (and any further options), logging to $1; waits
# for 'Ready.' (or its death). The wrapper execs java, so $daemon_pid is the daemon's JVM.
start_daemon() { # log [up options...]
  daemon_log=$1; shift
  $D up --port 0 --admin-port 0 --state "$state" --pool "$pool" "$@" >"$daemon_log" 2>&1 &
  daemon_pid=$!
  timeout 300 grep -q -m1 '^Ready\.' <(tail -n +1 -F "$daemon_log" --pid "$daemon_pid" 2>/dev/null)
  router_port=$(grep -o -m1 'Router listening on http://127\.0\.0\.1:[0-9]*' "$daemon_log" | grep -o '[0-9]*$')
  grep -q '^Ready\.' "$daemon_log" && [ -n "$router_port" ]
}

# Waits (bounded) for a pid that is not our child to exit.
wait_gone() { # pid seconds
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.1; done
}

# Polls (bounded) until a command succeeds: for states with no event to wait on.
poll() { # seconds command...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.5; done
}

# The netns of this run's apps (every app name of a run starts with $app_prefix).
my_netns() { ip netns list | awk '{print $1}' | grep "^dp-$app_prefix" || true; }

e2e_cleanup() {
  local pid ns
  for pid in "${bg_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"; wait_gone "$daemon_pid" 60 || kill -KILL "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  for ns in $(my_netns); do
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$ns"
  done
  [ -e "$pins" ] && rm -rf "$pins"              # left only if the daemon died: unpins its maps and links
  rm -rf "$work"
}
trap e2e_cleanup EXIT

finish() { # script-name
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
