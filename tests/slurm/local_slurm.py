"""A throw-away single-node Slurm cluster on localhost, for end-to-end tests.

Starts munged (unless one already answers), slurmctld and slurmd with their state in a
temporary directory, and fake GPUs (`gres/gpu`, backed by /dev/tty1-2) so GPU requests are
scheduled and counted although no device sits behind them. The configuration has to live at
/etc/slurm/slurm.conf: the job step inside an allocation drops SLURM_* variables, SLURM_CONF
included, and then finds no configuration. An existing file there is backed up and restored.
Only the daemons started here are stopped, by the PIDs in their pid files.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ETC = Path("/etc/slurm")
MANAGED = ("slurm.conf", "gres.conf")
CREATED_ETC = "created-etc-slurm"  # marker: /etc/slurm did not exist before
PORTS = (6817, 6818)  # slurmctld, slurmd
CLUSTER = "diptestcluster"
FAKE_GPUS = 4
# Light jobs mostly start Python: letting several share a core keeps a run short on a
# two-core machine.
CPU_OVERCOMMIT = 4
NODE_MEMORY_CAP_MB = 8192

SLURM_CONF = """\
ClusterName={cluster}
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={state}/state
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/log/slurmctld.log
SlurmdLogFile={state}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# The node offers more CPUs than the machine has (see CPU_OVERCOMMIT); slurmd trusts this file.
SlurmdParameters=config_overrides
ReturnToService=2
# A cancelled job's processes get SIGKILL 5 s after SIGTERM.
KillWait=5
# squeue (the status command without accounting) must still see finished jobs.
MinJobAge=600
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} Gres=gpu:fake:{gpus} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""

GRES_CONF = "NodeName=localhost Name=gpu Type=fake File=/dev/tty[1-{gpus}]\n"


def run(cmd: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run in its own process group, SIGKILLed as a whole on timeout."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    with subprocess.Popen(cmd, text=True, start_new_session=True, **kwargs) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise subprocess.TimeoutExpired(cmd, timeout, output=out) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, None)


def node_memory_mb() -> int:
    """A fixed small RealMemory: half the machine, at most NODE_MEMORY_CAP_MB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return min(NODE_MEMORY_CAP_MB, int(line.split()[1]) // 1024 // 2)
    raise RuntimeError("no MemTotal in /proc/meminfo")


def why_not_runnable() -> str | None:
    """The reason this machine cannot host the test cluster, or None."""
    if os.geteuid() != 0:
        return "needs root (starts munged/slurmctld/slurmd and writes /etc/slurm)"
    for tool in ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "munge", "munged"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            return f"{tool} is not installed (apt-get install slurmctld slurmd slurm-client munge)"
    for port in PORTS:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return f"port {port} is taken: a Slurm daemon already runs on this machine"
    return None


def running(pid: int, name: str) -> bool:
    """Whether `pid` is a live process called `name` (PIDs get reused; zombies do not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    comm, state = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2]
    return comm == name and state != "Z"


class LocalSlurm:
    """Context manager: a running one-node cluster with partition `debug`."""

    def __init__(self, state: Path | None = None, log=print):
        self.log = log
        self.state = Path(state or tempfile.mkdtemp(prefix="dip-slurm-"))
        self.state.mkdir(parents=True, exist_ok=True)
        self.backup = self.state / "etc-backup"
        self.pidfiles: dict[str, Path] = {}
        self.memory_mb = node_memory_mb()
        self.cpus = CPU_OVERCOMMIT * (os.cpu_count() or 1)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> "LocalSlurm":
        try:
            self._write_config()
            self._start_munge()
            pidfiles = self.known_pidfiles()
            self._start("slurmctld", ["slurmctld"], pidfiles["slurmctld"])
            controller_up = lambda: "UP" in self.cmd(["scontrol", "ping"])  # noqa: E731
            self._wait("controller", controller_up, 30, "slurmctld")
            self._start("slurmd", ["slurmd", "-N", "localhost"], pidfiles["slurmd"])
            self._wait("node idle", self._node_idle, 60, "slurmd")
        except BaseException:
            self.log(self.log_tails())
            self.__exit__(None, None, None)
            raise
        self.log(
            f"slurm up: node localhost, {self.cpus} CPUs, {self.memory_mb} MB, "
            f"{FAKE_GPUS} fake GPUs, partition debug, state {self.state}"
        )
        return self

    def __exit__(self, *exc) -> None:
        if "slurmctld" in self.pidfiles:
            # Every job on this cluster was submitted by the test: cancel what is left and let
            # Slurm end it (KillWait) before the daemons go.
            try:
                self.cmd(["scancel", "--full", "--partition", "debug"], check=False)
                self._wait("the queue to empty", self._queue_empty, 30)
            except (subprocess.TimeoutExpired, TimeoutError) as err:
                self.log(f"cancelling the jobs: {err}; stopping the daemons anyway")
        for name in ("slurmd", "slurmctld", "munged"):
            if name in self.pidfiles:
                self._stop(name)
        self.pidfiles.clear()
        self._kill_strays()
        self._restore_config()
        shutil.rmtree(self.state, ignore_errors=True)

    @classmethod
    def clean_up_after(cls, state: Path, log=print) -> None:
        """Stop the daemons and restore /etc/slurm of a run that was killed before its exit."""
        slurm = cls(state, log)
        for name, pidfile in slurm.known_pidfiles().items():
            if pidfile.exists():
                slurm.pidfiles[name] = pidfile
        slurm.__exit__(None, None, None)

    def daemons(self) -> dict[str, int]:
        """Name -> PID of the daemons started here."""
        return {name: pid for name in self.pidfiles if (pid := self._pid(name)) is not None}

    def known_pidfiles(self) -> dict[str, Path]:
        return {
            "slurmctld": self.state / "slurmctld.pid",
            "slurmd": self.state / "slurmd.pid",
            "munged": self.state / "munge" / "munged.pid",
        }

    # -- helpers ---------------------------------------------------------------------------

    def cmd(self, argv: list[str], timeout: float = 30, check: bool = True) -> str:
        result = run(argv, timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stdout}")
        return result.stdout

    def show_job(self, jobid: str) -> dict[str, str]:
        """`scontrol show job -o` as a dict (available for MinJobAge after the job ends)."""
        fields = {}
        for token in self.cmd(["scontrol", "show", "job", "-o", jobid]).split():
            key, sep, value = token.partition("=")
            if sep:
                fields[key] = value
        return fields

    def log_tails(self, lines: int = 15) -> str:
        parts = []
        for path in sorted(self.state.glob("*/*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(parts)

    # -- internals -------------------------------------------------------------------------

    def _write_config(self) -> None:
        for sub in ("state", "spool", "log"):
            (self.state / sub).mkdir(parents=True)
        self.backup.mkdir()
        if not ETC.exists():
            ETC.mkdir(parents=True)
            (self.backup / CREATED_ETC).touch()
        for name in MANAGED:
            if (ETC / name).exists():
                shutil.copy2(ETC / name, self.backup / name)
        (ETC / "slurm.conf").write_text(
            SLURM_CONF.format(
                cluster=CLUSTER, state=self.state, cpus=self.cpus,
                memory_mb=self.memory_mb, gpus=FAKE_GPUS,
            )
        )
        (ETC / "gres.conf").write_text(GRES_CONF.format(gpus=FAKE_GPUS))

    def _restore_config(self) -> None:
        if not self.backup.exists():
            return
        for name in MANAGED:
            saved = self.backup / name
            if saved.exists():
                shutil.copy2(saved, ETC / name)
            else:
                (ETC / name).unlink(missing_ok=True)
        if (self.backup / CREATED_ETC).exists() and not any(ETC.iterdir()):
            ETC.rmdir()

    def _start_munge(self) -> None:
        if run(["sh", "-c", "munge -n | unmunge"], 10).returncode == 0:
            self.log("munge: reusing the running munged")
            return
        run_dir = Path("/run/munge")
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(run_dir, "munge", "munge")
        # munged runs as user munge: its pid and log files go to a directory it owns.
        own = self.state / "munge"
        own.mkdir(mode=0o755)
        shutil.chown(own, "munge", "munge")
        self.state.chmod(0o755)
        pidfile = self.known_pidfiles()["munged"]
        argv = ["runuser", "-u", "munge", "--", "/usr/sbin/munged",
                f"--pid-file={pidfile}", f"--log-file={own / 'munged.log'}"]
        self._start("munged", argv, pidfile)
        self._wait("munge", lambda: run(["sh", "-c", "munge -n | unmunge"], 10).returncode == 0, 15)

    def _start(self, name: str, argv: list[str], pidfile: Path) -> None:
        result = run(argv, 30)
        if result.returncode != 0:
            raise RuntimeError(f"{name} did not start ({result.returncode}): {result.stdout}")
        self._wait(f"{name} pid file", pidfile.exists, 15)
        self.pidfiles[name] = pidfile
        self.log(f"{name} started, pid {pidfile.read_text().strip()}")

    def _stop(self, name: str) -> None:
        # The PID is read once: daemons delete their pid file while shutting down.
        pid = self._pid(name)
        if pid is None or not running(pid, name):
            self.log(f"{name}: already gone")
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while running(pid, name) and time.monotonic() < deadline:
            time.sleep(0.2)
        if running(pid, name):
            os.kill(pid, signal.SIGKILL)
        self.log(f"{name} stopped (pid {pid})")

    def _pid(self, name: str) -> int | None:
        try:
            return int(self.pidfiles[name].read_text().strip())
        except (KeyError, OSError, ValueError):
            return None

    def _alive(self, name: str) -> bool:
        pid = self._pid(name)
        return pid is not None and running(pid, name)

    def _queue_empty(self) -> bool:
        return not self.cmd(["squeue", "-h", "-o", "%i"], check=False).strip()

    def _kill_strays(self) -> None:
        """SIGKILL job processes that outlived their job step (they carry this cluster's name)."""
        marker = f"SLURM_CLUSTER_NAME={CLUSTER}".encode()
        for environ in Path("/proc").glob("[0-9]*/environ"):
            try:
                if marker in environ.read_bytes().split(b"\0"):
                    pid = int(environ.parent.name)
                    os.kill(pid, signal.SIGKILL)
                    self.log(f"killed pid {pid}, left over from a job of the test cluster")
            except (OSError, ValueError):
                continue

    def _node_idle(self) -> bool:
        states = self.cmd(["sinfo", "-h", "-n", "localhost", "-o", "%T"], check=False).split()
        return "idle" in states

    def _wait(self, what: str, predicate, timeout: float, daemon: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if daemon and not self._alive(daemon):
                raise RuntimeError(f"{daemon} exited while waiting for {what}")
            try:
                if predicate():
                    return
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "clean-up":
        sys.exit("usage: local_slurm.py clean-up STATE_DIR")
    LocalSlurm.clean_up_after(Path(sys.argv[2]))
