# dynoplane dyno init: builds the dyno's filesystem, drops every privilege, then runs the dyno's
# command as a child and forwards SIGTERM/SIGINT to all of the dyno's processes.
#
# Started by DynoProcess as
#   nsenter --net=/run/netns/NETNS -- unshare --pid --fork --mount --uts --ipc --cgroup \
#       --propagation private --kill-child=SIGKILL -- /bin/sh init.sh RUNTIME RELEASE UID GID HOSTNAME TMPFS_BYTES COMMAND
# so this shell is pid 1 of the dyno's PID namespace, root in a private mount namespace, with a
# clean environment. stdin carries the dyno's environment (export NAME='value' lines, written and
# quoted by DynoProcess); it is read only by the unprivileged init below, never by a root process.
#
# Phase 1 (root): the new root is a tmpfs on RUNTIME/root holding
#   /usr /etc (+ /bin /sbin /lib* as on the host: merged-usr symlinks or read-only binds)  read-only
#   /app        fresh copy of RELEASE, owned by UID:GID
#   /tmp        private tmpfs          /proc  of the dyno's PID namespace
#   /dev        tmpfs: null zero full random urandom (bound from the host), shm tmpfs, fd links
# then pivot_root and detach the host's tree: nothing else of the host is in the namespace.
set -eu
# Everything below assumes a PID namespace of the dyno's own (kill -1 in phase 2 must reach only the dyno).
[ "$$" = 1 ] || { echo "dyno-init: must run as pid 1 of a new PID namespace (unshare --pid --fork), not as pid $$" >&2; exit 70; }
runtime=$1 release=$2 uid=$3 gid=$4 host=$5 size=$6 command=$7
root=$runtime/root
trap 'rc=$?; [ "$rc" -eq 0 ] || echo "dyno-init: sandbox setup failed (exit $rc)" >&2' EXIT

ro_bind() { # host path, path in the new root
    mount --bind "$1" "$2"
    mount -o remount,bind,ro,nosuid,nodev "$2"
}

mount -t tmpfs -o "size=$size,mode=0755,nosuid,nodev" dyno-root "$root"

for d in usr etc; do
    mkdir "$root/$d"
    ro_bind "/$d" "$root/$d"
done
for d in bin sbin lib lib32 lib64 libx32; do
    if [ -L "/$d" ]; then
        ln -s "$(readlink "/$d")" "$root/$d"
    elif [ -d "/$d" ]; then
        mkdir "$root/$d"
        ro_bind "/$d" "$root/$d"
    fi
done

mkdir -m 0755 "$root/app"
cp -a "$release/." "$root/app/"

mkdir "$root/tmp"
mount -t tmpfs -o "size=$size,mode=1777,nosuid,nodev" dyno-tmp "$root/tmp"

mkdir "$root/proc"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
printf '%s' "$host" > "$root/proc/sys/kernel/hostname"

mkdir "$root/dev"
mount -t tmpfs -o size=1m,mode=0755,nosuid,noexec dyno-dev "$root/dev"
for n in null zero full random urandom; do
    : > "$root/dev/$n"
    mount --bind "/dev/$n" "$root/dev/$n"
done
mkdir "$root/dev/shm"
mount -t tmpfs -o "size=$size,mode=1777,nosuid,nodev" dyno-shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"

# The dyno's own name must resolve locally (Python's http.server calls getfqdn() on bind, and the
# dyno's DNS may be unreachable): a private /etc/hosts over the read-only stack's.
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$host" > "$root/.hosts"
mount --bind "$root/.hosts" "$root/etc/hosts"
mount -o remount,bind,ro,nosuid,nodev "$root/etc/hosts"
rm "$root/.hosts"

# pivot_root rather than chroot: the host's mounts leave the namespace entirely (umount -l), so
# nothing, not even a process that regained privileges, can walk back to them.
cd "$root"
pivot_root . .
umount -l .
cd /
chown -R -P -h "$uid:$gid" /app
cd /app

# Phase 2, pid 1 from here on, unprivileged: no uid 0, no capabilities (bounding set empty too),
# no_new_privs. The kernel delivers a signal from outside the PID namespace to its pid 1 only if
# pid 1 handles it, and kills every process of the namespace when pid 1 exits: so this init traps
# TERM and INT, sends them to every other process of the dyno (kill -1), waits for the command
# and exits with its status. kill -1 reaches only the dyno because the sender is pid 1 of the dyno's
# PID namespace and unprivileged: never run this part anywhere else (as root on the host, kill -1
# signals every process of the machine).
init=$(cat <<'INIT'
[ "$$" = 1 ] && [ "$(id -u)" != 0 ] || { echo "dyno-init: refusing to run outside the dyno's PID namespace or as root" >&2; exit 70; }
command=$1 child= stopping= sent= signals=0
forward() {
    stopping=$1 signals=$((signals + 1))
    if [ -n "$child" ] && [ -z "$sent" ]; then sent=1; kill -"$1" -1 2>/dev/null || :; fi
}
trap 'forward TERM' TERM
# The command runs as a background job, so it ignores SIGINT (POSIX): pass an INT on as TERM.
trap 'forward TERM' INT
# stdin: "<length> attached|detached", the environment (length bytes), then, attached, the command's stdin.
read -r length mode || exit 70
environment=$(head -c "$length") || exit 70
if [ "$mode" = attached ]; then exec 3<&0; else exec 3</dev/null; fi
exec </dev/null
# An explicit redirection: a background job's stdin would otherwise be /dev/null.
( exec 3<&-; eval "$environment" && exec /bin/sh -c "$command" ) <&3 &
exec 3<&-
child=$!
if [ -n "$stopping" ] && [ -z "$sent" ]; then sent=1; kill -"$stopping" -1 2>/dev/null || :; fi
while :; do
    before=$signals
    wait "$child" && status=0 || status=$?
    [ "$signals" != "$before" ] || break # else a trap interrupted the wait: wait again
done
exit "$status"
INIT
)
trap - EXIT
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
    -- env -i /bin/sh -c "$init" dyno-init "$command"
