#!/usr/bin/env bash
# slurm-cluster.sh start [DIR] | stop [DIR] | status [DIR]: a one-node Slurm cluster on this
# machine (munged, slurmctld and slurmd on 127.0.0.1), to try the slurm backend of
# `make regress` and for `make test`. Everything lives under DIR (default: a new
# ${TMPDIR:-/tmp}/mpq-slurm.XXXXXX): the munge key and socket, slurm.conf, state, spool, logs,
# pid files. Its two ports are free ports picked at start, so two clusters on one machine do not
# collide. Debian's slurm-wlm and munge (scripts/install-deps.sh farm); runs as root.
#
#   eval "$(scripts/farm/slurm-cluster.sh start)"   # prints: export SLURM_CONF=DIR/slurm.conf
#   make regress PLAN=smoke BACKEND=slurm
#   scripts/farm/slurm-cluster.sh stop               # DIR from $SLURM_CONF; cancels jobs, removes DIR
#
# `start` waits until the node is idle (SLURM_START_TIMEOUT seconds, default 60) and prints the
# export line on stdout, everything else on stderr. `stop` only stops the daemons of that DIR
# (by their pid files, and the job step daemons started by its slurmd, found by the marker
# MPQ_SLURM_DIR=DIR in their environment) and refuses a folder that it did not create.
set -u
cmd=${1:-}; dir=${2:-}
say() { echo "slurm-cluster: $*" >&2; }
die() { say "$*"; exit "${rc:-1}"; }

dir_from_env() {
    [ -n "$dir" ] && return 0
    [ -n "${SLURM_CONF:-}" ] || { rc=2 die "$cmd: no DIR given and SLURM_CONF is not set"; }
    dir=$(dirname "$SLURM_CONF")
}
ours() { [ -f "$dir/mpq-slurm-cluster" ]; }

# The processes of this cluster: the daemons' pid files, then anything started by its slurmd
# (slurmstepd inherits slurmd's environment, which carries the marker).
cluster_pids() {
    local f p
    for f in "$dir"/run/*.pid; do
        [ -f "$f" ] && p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && [ -d "/proc/$p" ] && echo "$p"
    done
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = $$ ] && continue
        { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qxF "MPQ_SLURM_DIR=$dir" && echo "$p"
    done | sort -u
}

stop_cluster() {
    dir_from_env
    [ -d "$dir" ] || { say "stop: $dir does not exist (already stopped)"; return 0; }
    ours || { rc=2 die "stop: $dir was not made by this script (no mpq-slurm-cluster marker); not touching it"; }
    export SLURM_CONF=$dir/slurm.conf
    # Jobs first, so that their steps end cleanly; then the daemons.
    if [ -f "$dir/run/slurmctld.pid" ]; then
        timeout 10 scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 20); do
            [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    local pids p
    pids=$(cluster_pids)
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
    for _ in $(seq 50); do
        local alive=""
        for p in $pids; do [ -d "/proc/$p" ] && alive+=" $p"; done
        [ -z "$alive" ] && break
        sleep 0.2
    done
    for p in $pids; do [ -d "/proc/$p" ] && kill -KILL "$p" 2>/dev/null; done
    rm -rf "$dir"
    say "stopped, $dir removed"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_cluster() {
    for c in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
        command -v "$c" >/dev/null || die "start: $c not found (scripts/install-deps.sh farm installs slurm-wlm and munge)"
    done
    [ "$(id -u)" = 0 ] || die "start: this one-node cluster runs its daemons as root (SlurmUser=root); run as root"
    if [ -z "$dir" ]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/mpq-slurm.XXXXXX") || die "start: cannot create a temporary folder"
    else
        [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] && { rc=2 die "start: $dir exists and is not empty"; }
        mkdir -p "$dir" || die "start: cannot create $dir"
        dir=$(cd "$dir" && pwd)
    fi
    chmod 700 "$dir"
    : >"$dir/mpq-slurm-cluster"
    mkdir -p "$dir/run" "$dir/log" "$dir/state" "$dir/spool" "$dir/munge"
    chmod 700 "$dir/munge"
    # A fresh random key for this cluster only.
    head -c 1024 /dev/urandom >"$dir/munge/munge.key" && chmod 400 "$dir/munge/munge.key"
    local host ctld_port slurmd_port cpus mem
    host=$(hostname -s)
    ctld_port=$(free_port); slurmd_port=$(free_port)
    while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
    cpus=$(nproc)
    mem=$(awk '/^MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
    cat >"$dir/slurm.conf" <<EOF
# One-node Slurm cluster made by scripts/farm/slurm-cluster.sh for mpq (not for production).
ClusterName=mpq
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups on this kind of machine: processes tracked by their parent, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# One CPU per task, so that the node runs as many tasks at once as it has CPUs.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
# Schedule a submitted job at once (the default waits up to 3 s to batch submissions).
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
# Finished jobs stay visible to scontrol for an hour (the backend reads their final state).
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
MessageTimeout=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=mpq Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF=$dir/slurm.conf MPQ_SLURM_DIR=$dir
    munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" 2>>"$dir/log/start.log" \
        || { cat "$dir/log/start.log" >&2; stop_cluster; die "start: munged did not start"; }
    slurmctld -f "$SLURM_CONF" -c 2>>"$dir/log/start.log" \
        || { cat "$dir/log/start.log" "$dir/log/slurmctld.log" >&2 2>/dev/null; stop_cluster; die "start: slurmctld did not start"; }
    slurmd -f "$SLURM_CONF" -N "$host" 2>>"$dir/log/start.log" \
        || { cat "$dir/log/start.log" "$dir/log/slurmd.log" >&2 2>/dev/null; stop_cluster; die "start: slurmd did not start"; }
    local limit=${SLURM_START_TIMEOUT:-60} t0=$SECONDS state=""
    while [ $((SECONDS - t0)) -lt "$limit" ]; do
        state=$(timeout 5 sinfo -h -n "$host" -o %T 2>/dev/null | head -n 1)
        [ "$state" = idle ] && break
        sleep 0.3
    done
    if [ "$state" != idle ]; then
        say "start: the node is '${state:-unknown}' after ${limit} s, not idle; the logs:"
        tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null
        stop_cluster
        exit 1
    fi
    say "one-node cluster up in $dir (node $host, $cpus CPUs, slurmctld port $ctld_port, slurmd port $slurmd_port)"
    say "stop it with: scripts/farm/slurm-cluster.sh stop $dir"
    echo "export SLURM_CONF=$dir/slurm.conf"
}

status_cluster() {
    dir_from_env
    ours || { rc=2 die "status: $dir is not a cluster made by this script"; }
    export SLURM_CONF=$dir/slurm.conf
    echo "cluster: $dir"
    timeout 10 sinfo || { echo "slurmctld does not answer"; exit 1; }
    timeout 10 squeue
}

case $cmd in
    start) start_cluster ;;
    stop) stop_cluster ;;
    status) status_cluster ;;
    *) echo "usage: scripts/farm/slurm-cluster.sh start [DIR] | stop [DIR] | status [DIR]" >&2; exit 2 ;;
esac
