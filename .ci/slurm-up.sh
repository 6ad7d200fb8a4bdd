#!/usr/bin/env bash
# A single-node Slurm on this machine, for `netcalc sweep run --slurm` and tests/slurm.rs: the
# controller, the compute daemon and munge, started by hand (no systemd needed), with Debian's
# packages (`slurm-wlm`, `munge`; installed through apt when missing). Run as root:
#
#   .ci/slurm-up.sh          install if needed, configure, start, wait until the node is idle
#   .ci/slurm-up.sh down     cancel every job, then stop the daemons this script started
#   .ci/slurm-up.sh status   show whether the daemons run and what `sinfo` says
#
# Running `up` twice is fine: daemons that already run are left alone. The node is this machine
# (`hostname -s`) with its CPUs and memory as `slurmd -C` measures them, one partition `debug`
# holding it. There is no accounting database (so `sacct` is empty); finished jobs are written to
# the job-completion log /var/log/slurm/jobcomp.log, one line per job with its state.
# /etc/slurm/slurm.conf is written only when it is missing or was written by this script, so a
# real cluster's configuration is never overwritten. On a real cluster none of this is needed.
set -euo pipefail

config=/etc/slurm/slurm.conf
marker="# Written by netcalc's .ci/slurm-up.sh: a single-node cluster on this machine."
run_dir=/run/slurm
state_dir=/var/lib/slurm/slurmctld
spool_dir=/var/lib/slurm/slurmd
log_dir=/var/log/slurm
job_log=$log_dir/jobcomp.log
munge_key=/etc/munge/munge.key
munge_pid=/run/munge/munged.pid
# munged runs for every Slurm on the machine; `down` stops it only when `up` started it.
started_munge=$run_dir/munged-started-by-netcalc
# Seconds to wait for the node to turn idle, and for jobs and daemons to end.
ready_timeout=${NETCALC_SLURM_TIMEOUT:-90}
stop_timeout=30

say() { echo "slurm-up: $*"; }
fail() {
  echo "slurm-up: error: $*" >&2
  exit 1
}

require_root() {
  [ "$(id -u)" = 0 ] || fail "run as root (sudo $0 ${1:-})"
}

# The pid in FILE when that process is alive and is PROGRAM (not a reused pid), else nothing.
live_pid() {
  local file=$1 program=$2 pid
  [ -s "$file" ] || return 0
  pid=$(tr -dc 0-9 < "$file")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
  [ "$(cat "/proc/$pid/comm" 2> /dev/null)" = "$program" ] && echo "$pid"
  return 0
}

install_packages() {
  local missing=()
  command -v slurmctld > /dev/null || missing+=(slurmctld)
  command -v slurmd > /dev/null || missing+=(slurmd)
  command -v sbatch > /dev/null || missing+=(slurm-client)
  command -v munged > /dev/null || missing+=(munge)
  [ ${#missing[@]} = 0 ] && return 0
  command -v apt-get > /dev/null ||
    fail "Slurm or munge is missing and there is no apt-get: install slurm-wlm and munge yourself"
  # slurm-wlm is the metapackage of exactly these three; without recommends it skips about twenty
  # plugin and -dev packages that a single node does not use.
  say "installing slurm-wlm munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends slurm-wlm munge ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends slurm-wlm munge; } ||
    fail "apt-get could not install slurm-wlm and munge"
}

write_config() {
  local node hardware
  node=$(hostname -s)
  # `slurmd -C` prints this machine's line, e.g. `NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1
  # CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105`; the node is declared exactly so, else
  # slurmctld drains it for having less than declared.
  hardware=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
  [ -n "$hardware" ] || fail "slurmd -C printed nothing"
  if [ -f "$config" ] && ! grep -qxF "$marker" "$config"; then
    fail "$config exists and was not written by this script; not touching it (a real cluster needs none of this)"
  fi
  mkdir -p "$(dirname "$config")"
  local text
  text="$marker
ClusterName=netcalc
SlurmctldHost=$node
AuthType=auth/munge
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation=$state_dir
SlurmdSpoolDir=$spool_dir
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
# Without cgroups: processes are tracked by parent pid, and a task is pinned to its CPUs.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
# Whole cores are handed out, so --cpus-per-task C gives a task C cores of its own.
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# No accounting database: job states are read with scontrol or from this log.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$job_log
MailProg=/bin/true
# A node that was stopped with the daemons comes back by itself when slurmd starts again.
ReturnToService=2
# sbatch refuses a job that can never run here (more CPUs than the node has, a longer time than
# the partition allows) instead of leaving it pending for ever.
EnforcePartLimits=ALL
NodeName=$node $hardware State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP"
  if [ -f "$config" ] && [ "$(cat "$config")" = "$text" ]; then
    return 0
  fi
  printf '%s\n' "$text" > "$config.tmp"
  chmod 0644 "$config.tmp"
  mv "$config.tmp" "$config"
  say "wrote $config (node $node: $hardware)"
  # Daemons already running read the new file on `scontrol reconfigure`.
  if [ -n "$(live_pid "$run_dir/slurmctld.pid" slurmctld)" ]; then
    scontrol reconfigure || true
  fi
}

prepare_directories() {
  install -d -o slurm -g slurm -m 0755 "$run_dir" "$state_dir" "$log_dir"
  install -d -o root -g root -m 0755 "$spool_dir"
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  if [ ! -s "$munge_key" ]; then
    say "creating $munge_key"
    ( umask 0377 && head -c 1024 /dev/urandom > "$munge_key" )
  fi
  chown munge:munge "$munge_key"
  chmod 0400 "$munge_key"
}

start_munge() {
  # A munged that already answers (the system's own, or ours from an earlier run) is used as is.
  if munge -n < /dev/null 2> /dev/null | unmunge > /dev/null 2>&1; then
    return 0
  fi
  say "starting munged"
  runuser -u munge -- munged --pid-file="$munge_pid" ||
    fail "munged did not start (see /var/log/munge/munged.log)"
  touch "$started_munge"
  local waited=0
  until munge -n < /dev/null 2> /dev/null | unmunge > /dev/null 2>&1; do
    [ "$waited" -lt 10 ] || fail "munged started but munge -n | unmunge fails"
    sleep 1
    waited=$((waited + 1))
  done
}

start_slurm() {
  if [ -z "$(live_pid "$run_dir/slurmctld.pid" slurmctld)" ]; then
    say "starting slurmctld"
    # Started as root, slurmctld drops to SlurmUser (slurm) itself.
    slurmctld || fail "slurmctld did not start (see $log_dir/slurmctld.log)"
  fi
  if [ -z "$(live_pid "$run_dir/slurmd.pid" slurmd)" ]; then
    say "starting slurmd"
    slurmd || fail "slurmd did not start (see $log_dir/slurmd.log)"
  fi
}

print_logs() {
  local file
  for file in "$log_dir/slurmctld.log" "$log_dir/slurmd.log" /var/log/munge/munged.log; do
    echo "---- last lines of $file" >&2
    tail -n 30 "$file" >&2 2> /dev/null || echo "(no such file)" >&2
  done
}

wait_until_idle() {
  local node state problem waited=0
  node=$(hostname -s)
  while true; do
    # The controller keeps a node idle for a while after its slurmd has died, so both daemons
    # must be alive too. A `*` after the state means the node does not respond.
    state=$(sinfo -h -n "$node" -o %t 2> /dev/null | head -n 1 || true)
    if [ -z "$(live_pid "$run_dir/slurmctld.pid" slurmctld)" ]; then
      problem="slurmctld is not running"
    elif [ -z "$(live_pid "$run_dir/slurmd.pid" slurmd)" ]; then
      problem="slurmd is not running"
    else
      case "$state" in
        idle | mix | alloc) break ;;
      esac
      problem="sinfo says ${state:-nothing} for node $node"
    fi
    if [ "$waited" -ge "$ready_timeout" ]; then
      echo "slurm-up: error: Slurm is not ready after ${ready_timeout} s: $problem" >&2
      print_logs
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "node $node is $state: $(sinfo -h -o '%P %D node(s) %c CPUs %m MB')"
}

up() {
  require_root
  install_packages
  prepare_directories
  write_config
  start_munge
  start_slurm
  wait_until_idle
}

# Sends TERM to the daemon in FILE, waits for it to end, then KILL.
stop_daemon() {
  local file=$1 program=$2 pid waited=0
  pid=$(live_pid "$file" "$program")
  if [ -z "$pid" ]; then
    return 0
  fi
  say "stopping $program ($pid)"
  kill -TERM "$pid" 2> /dev/null || true
  while [ -d "/proc/$pid" ]; do
    if [ "$waited" -ge "$stop_timeout" ]; then
      say "$program ($pid) still runs after ${stop_timeout} s; killing it"
      kill -KILL "$pid" 2> /dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$file"
}

down() {
  require_root down
  if [ -f "$config" ] && ! grep -qxF "$marker" "$config"; then
    fail "$config was not written by this script; not stopping that cluster"
  fi
  # Jobs first: a job still running when slurmd stops would be left behind as orphaned processes.
  if [ -n "$(live_pid "$run_dir/slurmctld.pid" slurmctld)" ]; then
    local jobs waited=0
    jobs=$(squeue -h -o %A 2> /dev/null | tr '\n' ' ' || true)
    if [ -n "$jobs" ]; then
      say "cancelling jobs: $jobs"
      # shellcheck disable=SC2086 # one argument per job id
      scancel $jobs || true
      while [ -n "$(squeue -h -o %A 2> /dev/null || true)" ] && [ "$waited" -lt "$stop_timeout" ]; do
        sleep 1
        waited=$((waited + 1))
      done
    fi
  fi
  stop_daemon "$run_dir/slurmd.pid" slurmd
  stop_daemon "$run_dir/slurmctld.pid" slurmctld
  if [ -f "$started_munge" ]; then
    stop_daemon "$munge_pid" munged
    rm -f "$started_munge"
  fi
  say "down"
}

status() {
  local name file
  for name in munged slurmctld slurmd; do
    file=$run_dir/$name.pid
    [ "$name" = munged ] && file=$munge_pid
    if [ -n "$(live_pid "$file" "$name")" ]; then
      echo "$name: running ($(live_pid "$file" "$name"))"
    else
      echo "$name: not running"
    fi
  done
  if command -v sinfo > /dev/null; then sinfo || true; fi
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 [up|down|status]" >&2
    exit 2
    ;;
esac
