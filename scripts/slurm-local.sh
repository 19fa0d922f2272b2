#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for `hydra/launcher=slurm` sweeps and their tests.
#
#   sudo bash scripts/slurm-local.sh start    # install slurm-wlm + munge if missing, start, wait
#   sudo bash scripts/slurm-local.sh status   # daemons and `sinfo`; exit 0 when the node is ready
#   sudo bash scripts/slurm-local.sh stop     # end the daemons this script started
#
# Debian's Slurm (22.05 on bookworm) runs as root without cgroups: ProctrackType=proctrack/linuxproc,
# TaskPlugin=task/none, SlurmUser=root, no accounting (submitit warns that sacct is disabled:
# harmless). One partition, `local` (the default), over this node with the CPUs and memory that
# `slurmd -C` finds. `start` is idempotent: on a running cluster it only checks the node is up.
# The config goes to /etc/slurm/slurm.conf, which every SLURM command reads; a slurm.conf that
# this script did not write (a real cluster's) is never overwritten.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
# the first line of every slurm.conf this script writes: how it recognises its own
MARKER="# written by aligngym scripts/slurm-local.sh"
PARTITION=local
STATE_DIR=/var/lib/slurm
LOG_DIR=/var/log/slurm
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
# seconds to wait for the node to become idle after starting the daemons
READY_TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}

# Prints an error and exits 1.
die() {
    echo "slurm-local: error: $*" >&2
    exit 1
}

# Prints a progress line.
say() {
    echo "slurm-local: $*"
}

# Succeeds when the process of the pid file is alive.
running() {
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Root is needed to install packages and to run slurmd, which starts jobs as their users.
require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (slurmd and apt-get need it); try: sudo $0 $*"
}

# Installs Debian's slurm-wlm (slurmctld, slurmd, client commands) and munge when missing.
install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sinfo >/dev/null && command -v munged >/dev/null; then
        return
    fi
    command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get to install them"
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # without systemd the packages start no daemon: start_munge and start_daemons do
    apt-get update -qq || die "apt-get update failed (is the package mirror reachable?)"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
        || die "apt-get install slurm-wlm munge failed"
}

# Creates the munge key if the package did not, and starts munged as the munge user.
start_munge() {
    if [ ! -s /etc/munge/munge.key ]; then
        say "creating /etc/munge/munge.key"
        mungekey --create --keyfile=/etc/munge/munge.key
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    if running "$MUNGE_PID"; then
        return
    fi
    say "starting munged"
    runuser -u munge -- munged --pid-file="$MUNGE_PID" || die "munged did not start (see /var/log/munge/munged.log)"
    munge -n | unmunge >/dev/null || die "munge does not work: munge -n | unmunge failed"
}

# Refuses to go on where a slurm.conf that this script did not write is in place.
require_own_config() {
    if [ -e "$CONF" ] && [ "$(head -n 1 "$CONF")" != "$MARKER" ]; then
        die "$CONF exists and was not written by this script (a real cluster's?); not touching it"
    fi
}

# Writes slurm.conf for this node.
write_config() {
    local node hardware cpus memory
    node=$(hostname -s)
    # `slurmd -C` prints this node's hardware as a slurm.conf line: CPUs=2 ... RealMemory=24105
    hardware=$(slurmd -C | head -n 1)
    cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hardware")
    memory=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
    if [ -z "$cpus" ] || [ -z "$memory" ]; then
        die "slurmd -C did not report this node's CPUs and memory: $hardware"
    fi
    mkdir -p /etc/slurm "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd" "$LOG_DIR"
    cat >"$CONF.new" <<EOF
$MARKER
# A single-node cluster on $node: $cpus CPUs, $memory MB.
ClusterName=aligngym-local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# no cgroups: processes are tracked through /proc, tasks are not bound to CPUs
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
# CPUs and memory are what jobs ask for and get; a job that asks for no memory gets its
# CPUs' share of the node (DefMemPerCPU), so that several jobs run side by side
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((memory / cpus))
# a node that went down comes back as soon as slurmd registers again
ReturnToService=2
# how long a job has after SIGTERM at its time limit before SIGKILL
KillWait=30
# finished jobs stay visible to squeue/scontrol for a minute
MinJobAge=60
# no mail on job events
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    if cmp -s "$CONF.new" "$CONF"; then
        rm "$CONF.new"
        return
    fi
    mv "$CONF.new" "$CONF"
    say "wrote $CONF ($cpus CPUs, $memory MB)"
    # running daemons read the new config when reconfigured
    if running "$CTLD_PID"; then
        scontrol reconfigure || die "scontrol reconfigure failed (see $LOG_DIR/slurmctld.log)"
    fi
}

# Starts slurmctld and slurmd unless they run.
start_daemons() {
    if ! running "$CTLD_PID"; then
        say "starting slurmctld"
        slurmctld || die "slurmctld did not start (see $LOG_DIR/slurmctld.log)"
    fi
    if ! running "$SLURMD_PID"; then
        say "starting slurmd"
        slurmd || die "slurmd did not start (see $LOG_DIR/slurmd.log)"
    fi
}

# The node's state as sinfo reports it (idle, mix, alloc, down*, drain, ...), or nothing.
node_state() {
    sinfo --noheader --nodes="$(hostname -s)" --format=%T 2>/dev/null | head -n 1
}

# Waits until the node accepts jobs; resumes it once if it was left down or drained.
wait_until_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT)) state resumed=no
    while :; do
        state=$(node_state)
        case "$state" in
            idle | mixed | allocated | completing) break ;;
            down | drained | draining | "down*" | "drained*")
                if [ "$resumed" = no ]; then
                    scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true
                    resumed=yes
                fi
                ;;
        esac
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 5 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
            die "the node is not ready after ${READY_TIMEOUT}s (sinfo state: ${state:-none})"
        fi
        sleep 1
    done
    say "ready: partition $PARTITION, node $(hostname -s) $state"
}

start() {
    require_root start
    require_own_config
    install_packages
    start_munge
    write_config
    start_daemons
    wait_until_ready
}

# Ends a daemon by its pid file and waits (up to 20 s) for it to exit.
stop_daemon() {
    local name=$1 pid_file=$2 pid
    running "$pid_file" || return 0
    pid=$(cat "$pid_file")
    say "stopping $name ($pid)"
    kill "$pid"
    for _ in $(seq 40); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    die "$name ($pid) did not stop"
}

stop() {
    require_root stop
    stop_daemon slurmd "$SLURMD_PID"
    stop_daemon slurmctld "$CTLD_PID"
    stop_daemon munged "$MUNGE_PID"
}

status() {
    local name pid_file state
    for name in munged:$MUNGE_PID slurmctld:$CTLD_PID slurmd:$SLURMD_PID; do
        pid_file=${name#*:}
        if running "$pid_file"; then
            echo "${name%%:*}: running ($(cat "$pid_file"))"
        else
            echo "${name%%:*}: stopped"
        fi
    done
    command -v sinfo >/dev/null || { echo "sinfo: not installed"; return 1; }
    sinfo 2>/dev/null || { echo "sinfo: no answer from slurmctld"; return 1; }
    state=$(node_state)
    case "$state" in
        idle | mixed | allocated | completing) return 0 ;;
        *) return 1 ;;
    esac
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
