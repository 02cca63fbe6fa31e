#!/usr/bin/env bash
# A single-node Slurm for the tests marked `slurm` (and for trying profiles/slurm on one machine).
#
#   bash scripts/start-test-slurm.sh [STATE_DIR]     start; prints `export SLURM_CONF=...`
#   bash scripts/stop-test-slurm.sh  [STATE_DIR]     stop what this script started (by PID)
#
# Installs Debian's munge, slurmctld, slurmd and slurm-client with apt-get when they are missing (needs
# root), writes a minimal slurm.conf into STATE_DIR (default: /var/lib/slurm/coalitions-test as root) and to
# /etc/slurm/slurm.conf (unless a slurm.conf this script did not write is there), starts munged (unless one is running), slurmctld and slurmd on 127.0.0.1
# without systemd, and waits until the node is idle. No accounting database: the profile asks squeue.
#
# Exit status: 0 = running; 3 = the packages cannot be installed here (STATE_DIR/unavailable says why,
# and the slurm tests are skipped with that reason); anything else = Slurm was installed but did not
# start (STATE_DIR/*.log say why; the tests then fail rather than skip).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# the state folder must be reachable by the slurm user: by default under /var/lib/slurm (as root)
if [ "$(id -u)" = 0 ]; then default_state=/var/lib/slurm/coalitions-test; else default_state="$root/.slurm-test"; fi
state="${1:-${SLURM_TEST_DIR:-$default_state}}"
mkdir -p "$state"
chmod 755 "$state"
state="$(cd "$state" && pwd)"
rm -f "$state/unavailable"

unavailable() {
  echo "$*" > "$state/unavailable"
  echo "test slurm: $*" >&2
  exit 3
}

need=()
for pair in munged:munge slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client; do
  prog="${pair%%:*}"; pkg="${pair#*:}"
  [ -x "/usr/sbin/$prog" ] || command -v "$prog" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || unavailable "no apt-get: install ${need[*]} (Slurm and munge) yourself"
  [ "$(id -u)" = 0 ] || unavailable "not root: cannot install ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >"$state/apt.log" 2>&1; then
    apt-get update -qq >>"$state/apt.log" 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$state/apt.log" 2>&1 \
      || unavailable "apt-get could not install ${need[*]} (see $state/apt.log)"
  fi
fi
[ "$(id -u)" = 0 ] || unavailable "not root: slurmd must run as root to start jobs"
id slurm >/dev/null 2>&1 || unavailable "the slurm user does not exist (the slurm packages create it)"

conf="$state/slurm.conf"
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
cpus=$(nproc)
mkdir -p "$state/ctld" "$state/d" "$state/log"
chown slurm: "$state/ctld" "$state/log"
cat > "$conf" <<EOF
# Written by scripts/start-test-slurm.sh: one node, no accounting, no cgroups.
ClusterName=coalitions-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=${SLURM_TEST_CTLD_PORT:-6817}
SlurmdPort=${SLURM_TEST_D_PORT:-6818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
DefMemPerCPU=1000
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
# Slurm's default place for it too: the executor's job step drops SLURM_* variables (SLURM_CONF among
# them) before it calls srun inside a job, so srun there reads /etc/slurm/slurm.conf. A slurm.conf that
# this script did not write is never replaced.
sys_conf=/etc/slurm/slurm.conf
if [ -e "$sys_conf" ] && ! head -1 "$sys_conf" | grep -q "^# Written by scripts/start-test-slurm.sh"; then
  echo "test slurm: $sys_conf exists and was not written by this script; not replacing it" >&2
  exit 1
fi
mkdir -p /etc/slurm
cp "$conf" "$sys_conf"
export SLURM_CONF="$conf"

# munge: the package created the key; start the daemon unless one is already answering
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  touch "$state/started-munged"
  for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

for daemon in slurmctld slurmd; do
  pidfile="$state/$daemon.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then continue; fi
  if [ "$daemon" = slurmctld ]; then /usr/sbin/slurmctld -f "$conf"; else /usr/sbin/slurmd -f "$conf" -N localhost; fi
done

for _ in $(seq 300); do
  st="$(sinfo -h -o %T 2>/dev/null | head -1 || true)"
  case "$st" in idle|mixed|allocated) break ;; esac
  sleep 0.1
done
case "$st" in
  idle|mixed|allocated) ;;
  *) echo "test slurm: the node did not become idle (state '${st:-none}'); see $state/log" >&2; exit 1 ;;
esac
echo "test slurm: node localhost $st ($cpus CPUs, $mem_mb MB); SLURM_CONF=$conf" >&2
echo "export SLURM_CONF=$conf"
