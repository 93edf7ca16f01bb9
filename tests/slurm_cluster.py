"""A single-node Slurm cluster for tests, from Debian's packages (slurm-wlm, munge; mariadb-server + slurmdbd for accounting).

Everything lives in one temporary folder with its own ports and sockets: munged, slurmctld, slurmd and, for accounting,
mariadbd + slurmdbd, started as plain daemons (no systemd) as root. `SLURM_CONF` points the clients (sbatch, squeue,
sacct, scontrol) at it. `set_accounting(False)` restarts slurmctld with `accounting_storage/none`, as small clusters run.
"""
import os, shutil, socket, subprocess, time
from pathlib import Path

DAEMONS = ('munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue')


def missing()->str:
    "Why a cluster cannot be started here ('' when it can)."
    gone = [d for d in DAEMONS if not (shutil.which(d) or Path('/usr/sbin', d).exists())]
    if gone: return f"Slurm is not installed ({', '.join(gone)} missing; apt-get install slurm-wlm slurmctld slurmd slurm-client munge)"
    if os.geteuid() != 0: return 'starting a Slurm cluster needs root'
    if not Path('/etc/munge/munge.key').exists(): return 'no /etc/munge/munge.key'
    return ''


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks: s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks: s.close()
    return ports


def _sbin(name): return shutil.which(name) or f'/usr/sbin/{name}'


class SlurmCluster:
    "A throw-away single-node Slurm (partition `debug`, MaxTime 60 min, no GPUs) under `root`."
    def __init__(self, root:Path, accounting:bool=True):
        self.root, self.host = Path(root), socket.gethostname()
        self.want_accounting = accounting and bool(shutil.which('slurmdbd') or Path('/usr/sbin/slurmdbd').exists()) \
            and bool(shutil.which('mariadbd') or Path('/usr/sbin/mariadbd').exists())
        self.accounting = False
        self.procs = {}
        self.ctl_port, self.d_port, self.dbd_port, self.db_port = _free_ports(4)
        self.conf = self.root / 'slurm.conf'
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    # ---------------------------------------------------------------- configuration
    def _write_conf(self, accounting:bool):
        r = self.root
        acct = (f'AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost={self.host}\nAccountingStoragePort={self.dbd_port}\nAccountingStoragePass={r}/munge.sock\n'
                if accounting else 'AccountingStorageType=accounting_storage/none\n')
        cpus = os.cpu_count() or 1
        self.conf.write_text(f"""ClusterName=lr0fmtest
SlurmctldHost={self.host}
SlurmctldPort={self.ctl_port}
SlurmdPort={self.d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={r}/munge.sock
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool/%n
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
MinJobAge=300
KillWait=5
SchedulerParameters=sched_interval=2
SlurmctldParameters=enable_configless
{acct}JobCompType=jobcomp/none
NodeName={self.host} CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes={self.host} Default=YES MaxTime=60 State=UP OverSubscribe=FORCE:4
""")
        self.accounting = accounting

    # ---------------------------------------------------------------- daemons
    def _start(self, name, argv, ready, timeout=60):
        log = open(self.root / f'{name}.out', 'ab')
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f'{name} exited ({self.procs[name].returncode}): {self._tail(name)}')
            if ready(): return
            time.sleep(0.3)
        raise RuntimeError(f'{name} not ready in {timeout} s: {self._tail(name)}')

    def _tail(self, name):
        out = ''
        for p in (self.root / f'{name}.out', self.root / f'{name}.log'):
            if p.exists(): out += p.read_text(errors='replace')[-1500:]
        return out

    def _stop(self, name):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None: return
        p.terminate()
        try: p.wait(20)
        except subprocess.TimeoutExpired: p.kill(); p.wait(10)

    def run(self, *argv, check=True, timeout=60)->subprocess.CompletedProcess:
        "A Slurm client command against this cluster."
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and p.returncode: raise RuntimeError(f'{" ".join(argv)}: rc {p.returncode}: {p.stderr.strip()}')
        return p

    def _port_open(self, port):
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(('127.0.0.1', port)) == 0

    def _node_idle(self):
        p = self.run('sinfo', '-h', '-N', '-o', '%T', check=False)
        return p.returncode == 0 and p.stdout.strip().rstrip('*') in ('idle', 'mixed', 'allocated')

    def start(self)->'SlurmCluster':
        try: return self._start_all()
        except BaseException: self.stop(); raise

    def _start_all(self)->'SlurmCluster':
        r = self.root
        for d in ('state', 'spool', 'munge', 'db'): (r / d).mkdir(parents=True, exist_ok=True)
        self._write_conf(self.want_accounting)
        self._start('munged', [_sbin('munged'), '--foreground', '--force', f'--socket={r}/munge.sock', '--key-file=/etc/munge/munge.key',
                               f'--pid-file={r}/munge/munged.pid', f'--seed-file={r}/munge/munged.seed', f'--log-file={r}/munge/munged.log'],
                    lambda: (r / 'munge.sock').exists())
        if self.accounting:
            self._start_accounting()
        self._start('slurmctld', [_sbin('slurmctld'), '-D', '-i'], lambda: self.run('scontrol', 'ping', check=False).stdout.count('UP') > 0)
        self._start('slurmd', [_sbin('slurmd'), '-D', '-N', self.host], self._node_idle)
        return self

    def _start_accounting(self):
        r, db = self.root, self.root / 'db'
        if not (db / 'mysql').exists():
            subprocess.run(['mariadb-install-db', f'--datadir={db}', '--user=root', '--auth-root-authentication-method=normal',
                            '--skip-test-db'], check=True, capture_output=True, timeout=120)
        self._start('mariadbd', [_sbin('mariadbd'), f'--datadir={db}', '--user=root', f'--socket={r}/mysql.sock', f'--port={self.db_port}',
                                 '--bind-address=127.0.0.1', f'--pid-file={r}/mysql.pid', '--skip-grant-tables', '--innodb-buffer-pool-size=32M',
                                 '--performance-schema=OFF', f'--log-error={r}/mariadbd.log'],
                    lambda: self._port_open(self.db_port), timeout=90)
        dbd = r / 'slurmdbd.conf'
        dbd.write_text(f"""AuthType=auth/munge
AuthInfo=socket={r}/munge.sock
DbdHost={self.host}
DbdPort={self.dbd_port}
SlurmUser=root
PidFile={r}/slurmdbd.pid
LogFile={r}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={self.db_port}
StorageUser=root
StorageLoc=slurm_acct_db
""")
        dbd.chmod(0o600)
        self._start('slurmdbd', [_sbin('slurmdbd'), '-D'], lambda: self._port_open(self.dbd_port), timeout=90)  # it reads slurmdbd.conf beside SLURM_CONF

    def set_accounting(self, on:bool):
        "Restart slurmctld with accounting on (slurmdbd) or off (accounting_storage/none); jobs and their state survive."
        on = on and self.want_accounting
        if on == self.accounting: return
        self._stop('slurmctld')
        self._write_conf(on)
        self._start('slurmctld', [_sbin('slurmctld'), '-D', '-i'], lambda: self.run('scontrol', 'ping', check=False).stdout.count('UP') > 0)
        self.run('scontrol', 'reconfigure', check=False)
        t0 = time.time()
        while not self._node_idle() and time.time() - t0 < 30: time.sleep(0.5)
        if on:  # sacct answers once slurmctld has registered with slurmdbd
            t0 = time.time()
            while self.run('sacct', '-n', '-X', '-S', 'now-1minutes', check=False).returncode and time.time() - t0 < 30: time.sleep(0.5)

    def _stepds(self)->list[int]:
        "Process ids of this cluster's job steps (slurmstepd outlives slurmd)."
        pids = []
        for d in Path('/proc').iterdir():
            if not d.name.isdigit(): continue
            try:
                if (d / 'comm').read_text().strip() == 'slurmstepd' and f'SLURM_CONF={self.conf}'.encode() in (d / 'environ').read_bytes().split(b'\0'):
                    pids.append(int(d.name))
            except OSError: pass
        return pids

    def stop(self):
        if 'slurmctld' in self.procs:
            self.run('scancel', '-u', 'root', check=False)
            t0 = time.time()
            while self.run('squeue', '-h', check=False).stdout.strip() and time.time() - t0 < 20: time.sleep(0.5)
        for name in ('slurmd', 'slurmctld', 'slurmdbd', 'mariadbd', 'munged'): self._stop(name)
        for pid in self._stepds():
            try: os.kill(pid, 9)
            except OSError: pass
