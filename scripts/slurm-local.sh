#!/bin/bash
# A one-node SLURM cluster on this machine for the SLURM tests (Debian's packages, no systemd), as root:
#   scripts/slurm-local.sh install   apt-get install slurmctld slurmd slurm-client munge
#   scripts/slurm-local.sh start     munged, slurmctld and slurmd (what is already running is left alone)
#   scripts/slurm-local.sh stop      stops only what `start` started
# The cluster: one node `localhost` with this machine's CPUs, partition `debug`, no accounting.
set -euo pipefail
PIDS=/run/tuiapp-slurm.pids
case "${1:-}" in
install)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null
    ;;
start)
    command -v slurmctld >/dev/null || { echo "slurmctld is not installed: $0 install" >&2; exit 1; }
    if [ -f /etc/slurm/slurm.conf ] && ! grep -q '^ClusterName=tuiapp$' /etc/slurm/slurm.conf; then
        echo "an existing SLURM configuration (/etc/slurm/slurm.conf) is left alone" >&2
        sinfo; exit 0
    fi
    mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /etc/munge
    [ -f /etc/munge/munge.key ] || mungekey --create 2>/dev/null || \
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
    chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
    : > "$PIDS.new"
    if ! pgrep -x munged >/dev/null; then runuser -u munge -- munged; pgrep -x munged >> "$PIDS.new"; fi
    cat > /etc/slurm/slurm.conf <<CONF
ClusterName=tuiapp
SlurmctldHost=localhost
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
KillWait=5
MinJobAge=30
SchedulerParameters=sched_interval=2
CONF
    if ! pgrep -x slurmctld >/dev/null; then
        slurmctld -D > /var/log/slurm/slurmctld.log 2>&1 & echo $! >> "$PIDS.new"
    fi
    if ! pgrep -x slurmd >/dev/null; then
        slurmd -D > /var/log/slurm/slurmd.log 2>&1 & echo $! >> "$PIDS.new"
    fi
    cat "$PIDS.new" >> "$PIDS"; rm -f "$PIDS.new"
    for _ in $(seq 1 120); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc' && break; sleep 0.5; done
    sinfo
    ;;
stop)
    [ -f "$PIDS" ] && xargs -r kill < "$PIDS" 2>/dev/null || true
    rm -f "$PIDS"
    ;;
*)
    echo "usage: $0 install|start|stop" >&2; exit 2
    ;;
esac
