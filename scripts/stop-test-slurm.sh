#!/usr/bin/env bash
# Stop the single-node Slurm of scripts/start-test-slurm.sh: slurmd, slurmctld and (if that script
# started it) munged, each by the PID in its pid file. Safe to call when nothing runs.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# the state folder must be reachable by the slurm user: by default under /var/lib/slurm (as root)
if [ "$(id -u)" = 0 ]; then default_state=/var/lib/slurm/coalitions-test; else default_state="$root/.slurm-test"; fi
state="${1:-${SLURM_TEST_DIR:-$default_state}}"
[ -d "$state" ] || exit 0

stop_pid() {  # name pidfile
  local pid
  [ -s "$2" ] || return 0
  pid="$(cat "$2")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    echo "test slurm: stopped $1 ($pid)" >&2
  fi
  rm -f "$2"
}

stop_pid slurmd "$state/slurmd.pid"
stop_pid slurmctld "$state/slurmctld.pid"
if [ -e "$state/started-munged" ]; then
  stop_pid munged /run/munge/munged.pid
  rm -f "$state/started-munged"
fi
# the copy of its slurm.conf in Slurm's default place, if it is still the one start-test-slurm.sh wrote
if [ -f /etc/slurm/slurm.conf ] && head -1 /etc/slurm/slurm.conf | grep -q "^# Written by scripts/start-test-slurm.sh" \
   && cmp -s /etc/slurm/slurm.conf "$state/slurm.conf"; then
  rm -f /etc/slurm/slurm.conf
fi
exit 0
