#!/usr/bin/env bash
# The Slurm profile end to end: starts a one-node Slurm on this machine, runs the quick mode
# through workflow/profiles/slurm, stops what it started. Needs root and apt (Debian/Ubuntu);
# elsewhere it prints why and the test is reported as skipped.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
say() { echo "[slurm-e2e $(date -u +%H:%M:%S)] $*"; }

skip=""
if [ "$(id -u)" -ne 0 ]; then
  skip="needs root: it starts munged, slurmctld and slurmd and writes /etc/slurm"
elif ! command -v apt-get >/dev/null 2>&1; then
  skip="needs apt-get (Debian/Ubuntu) to install slurmctld, slurmd, slurm-client and munge"
fi

if [ -z "$skip" ]; then
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
     || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurmctld slurmd slurm-client munge (apt)"
    timeout -s KILL 300 apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive timeout -s KILL 600 \
         apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null \
      || { say "apt-get failed"; exit 1; }
  fi
  if ! "$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    say "installing the Slurm executor plugin into .venv"
    timeout -s KILL 300 "$PY" -m pip install -q 'snakemake-executor-plugin-slurm>=2.8,<3' \
      || { say "pip install failed"; exit 1; }
  fi
  say "$(slurmctld -V), $("$PY" -m pip show snakemake-executor-plugin-slurm | grep '^Version') (executor plugin)"
else
  echo "SKIP: $skip"
  if [ "${CI:-}" = true ]; then
    echo "CI=true: the Slurm end-to-end test cannot run on this machine: $skip"
  fi
  export DIP_SLURM_SKIP="$skip"
fi

# State of the test cluster (configs, pid files, logs); gone after a normal teardown.
export DIP_SLURM_STATE="$(mktemp -d /tmp/dip-slurm-XXXXXX)"
export DIP_SLURM_E2E=1
# Every subprocess inside has its own SIGKILL timeout; this one bounds the whole test.
timeout -s KILL 1800 "$PY" -m pytest -q -s -p no:cacheprovider tests/slurm
rc=$?
if [ -e "$DIP_SLURM_STATE/etc-backup" ]; then
  say "the test was killed before its teardown: stopping its daemons, restoring /etc/slurm"
  "$PY" tests/slurm/local_slurm.py clean-up "$DIP_SLURM_STATE"
fi
rm -rf "$DIP_SLURM_STATE"
exit $rc
