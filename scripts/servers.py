#!/usr/bin/env python3
"""Start and stop the real servers the tests and benchmarks need, on loopback.

    scripts/servers.py start DIR   start Redis, a 3-master Redis Cluster, PostgreSQL and
                                   MariaDB and a Sentinel group (primary, replica, 3
                                   sentinels) on free ports; write DIR/env (shell exports)
    scripts/servers.py stop DIR    stop them all and remove DIR

Redis comes from Debian's redis-server (scripts/test.sh installs it when missing);
PostgreSQL is a throwaway cluster made by the machine's PostgreSQL binaries in DIR;
MariaDB a throwaway server made by Debian's mariadb-server binaries in DIR.
Everything started is recorded in DIR so that ``stop`` also works after a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((LOOPBACK, port + 10000))
            except OSError:
                continue
        return port
    raise SystemExit("servers: no free port pair for a Redis Cluster node")


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"servers: nothing listens on port {port} after {timeout}s")


def tool(name: str, *candidates: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for pattern in candidates:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    raise SystemExit(f"servers: {name} not found; install it (scripts/test.sh does)")


def start_redis(base: Path, port: int, *, cluster: bool) -> None:
    folder = base / f"redis-{port}"
    folder.mkdir(parents=True)
    args = [
        tool("redis-server"),
        "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
        "--dir", str(folder), "--daemonize", "yes",
        "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf")]
    subprocess.run(args, check=True)
    wait_for_port(port)


class Postgres:
    """A throwaway PostgreSQL cluster in ``folder`` on a loopback port, made by the
    machine's PostgreSQL binaries (as the postgres user when run as root).

    Tuned for speed, not durability, unless ``durable``: then every commit is on disk
    (as far as a process crash goes) before the client hears of it.
    """

    def __init__(self, folder: Path, port: int, *, durable: bool = False) -> None:
        self.folder = folder
        self.port = port
        self.durable = durable
        folder.mkdir(parents=True, exist_ok=True)
        self.bin_dir = Path(tool("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")).resolve().parent
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres user
            shutil.chown(folder, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.data = folder / "data"
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    @property
    def url(self) -> str:
        """The URL of the ``postgres`` database as the ``postgres`` superuser."""
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/postgres"

    @property
    def pg_ctl(self) -> list[str]:
        """The pg_ctl command line for this cluster."""
        return [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data)]

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses={LOOPBACK}"
        options += " -c fsync=off -c full_page_writes=off"
        options += f" -c synchronous_commit={'on' if self.durable else 'off'}"
        options += " -c max_connections=200 -c shared_preload_libraries=pg_stat_statements"
        subprocess.run(
            [*self.pg_ctl, "-l", str(self.folder / "log"), "-o", options, "-w", "start"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` ends every process at once, like a crash."""
        subprocess.run(
            [*self.pg_ctl, "-m", mode, "-w", "stop"],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


class Mariadb:
    """A throwaway MariaDB server in ``folder`` on a loopback port, made by Debian's
    ``mariadb-install-db`` and run by ``mariadbd`` (as root when run as root).

    Tuned for speed: no binary log, the InnoDB log flushed once a second (a killed
    server process still keeps every commit: the OS has it). ``performance_schema`` is
    on so tests can count the statements a request sends.
    """

    DATABASE = "websession"

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        folder.mkdir(parents=True, exist_ok=True)
        self.data = folder / "data"
        self.socket = folder / "mysqld.sock"
        self.pidfile = folder / "mysqld.pid"
        self.user = ["--user=root"] if os.geteuid() == 0 else []
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run(
            [tool("mariadb-install-db", "/usr/bin/mysql_install_db"), "--no-defaults",
             f"--datadir={self.data}", *self.user, "--auth-root-authentication-method=normal",
             "--skip-test-db"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    @property
    def url(self) -> str:
        """The URL of the test database as the passwordless ``websession`` user."""
        return f"mysql://websession@{LOOPBACK}:{self.port}/{self.DATABASE}"

    def start(self) -> None:
        """Start the server (in the background) and wait until it accepts connections."""
        log = open(self.folder / "error.log", "ab")  # noqa: SIM115 - the server keeps it
        self.process = subprocess.Popen(
            [tool("mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mysqld"), "--no-defaults",
             f"--datadir={self.data}", *self.user, f"--port={self.port}",
             f"--bind-address={LOOPBACK}", f"--socket={self.socket}",
             f"--pid-file={self.pidfile}", "--skip-log-bin", "--skip-name-resolve",
             "--innodb-flush-log-at-trx-commit=2", "--innodb-buffer-pool-size=64M",
             "--innodb-log-file-size=48M", "--max-connections=400",
             "--performance-schema=ON", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_bin"],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_for_port(self.port, timeout=60)
        self.sql(
            f"CREATE DATABASE IF NOT EXISTS {self.DATABASE}; "
            "CREATE USER IF NOT EXISTS 'websession'@'%'; "
            "GRANT ALL ON *.* TO 'websession'@'%'"
        )

    def sql(self, statements: str) -> None:
        """Run ``statements`` as the server's root user, through its socket."""
        subprocess.run(
            [tool("mariadb", "/usr/bin/mysql"), "--no-defaults", f"--socket={self.socket}",
             "-uroot", "-e", statements],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def pid(self) -> int | None:
        """The server's process id, while it runs."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.pidfile.read_text().strip())
        return None

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: a clean shutdown, or with ``kill`` a SIGKILL, like a crash."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                if self.process is not None and self.process.poll() is not None:
                    break
                time.sleep(0.05)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            self.process = None
        with contextlib.suppress(OSError):
            self.pidfile.unlink()


def start_mariadb(base: Path, port: int) -> str:
    """Start the tests' MariaDB in ``base/mariadb``; its URL."""
    server = Mariadb(base / "mariadb", port)
    server.start()
    return server.url


def stop_mariadb(base: Path) -> None:
    """Kill the MariaDB started in ``base`` (throwaway: no clean shutdown needed)."""
    pidfile = base / "mariadb" / "mysqld.pid"
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)


def start_postgres(base: Path, port: int) -> str:
    server = Postgres(base / "postgres", port)
    server.start()
    (base / "pg_ctl").write_text(" ".join(server.pg_ctl))
    return server.url


def start(base: Path) -> None:
    if base.exists():
        stop(base)
    base.mkdir(parents=True)
    exports: dict[str, str] = {}
    try:
        redis_port = free_port()
        start_redis(base, redis_port, cluster=False)
        exports["WEBSESSION_TEST_REDIS_URL"] = f"redis://{LOOPBACK}:{redis_port}/0"

        cluster_ports: list[int] = []
        while len(cluster_ports) < 3:
            port = free_cluster_port()
            if port not in cluster_ports:
                cluster_ports.append(port)
        for port in cluster_ports:
            start_redis(base, port, cluster=True)
        subprocess.run(
            [tool("redis-cli"), "--cluster", "create",
             *(f"{LOOPBACK}:{p}" for p in cluster_ports), "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_cluster_ok(cluster_ports[0])
        exports["WEBSESSION_TEST_REDIS_CLUSTER_URL"] = (
            f"redis+cluster://{LOOPBACK}:{cluster_ports[0]}/0"
        )

        exports["WEBSESSION_TEST_POSTGRES_URL"] = start_postgres(base, free_port())
        exports["WEBSESSION_TEST_MYSQL_URL"] = start_mariadb(base, free_port())
        exports["WEBSESSION_TEST_REDIS_SENTINEL_URL"] = start_sentinel_group(base)
    except BaseException:
        stop(base)
        raise
    lines = [f"export {name}={value}" for name, value in exports.items()]
    (base / "env").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


SENTINEL_SERVICE = "websession"


def _conf(folder: Path, port: int, *lines: str) -> Path:
    """A Redis config file in ``folder`` (created) for a daemon on ``port``."""
    folder.mkdir(parents=True)
    conf = folder / "redis.conf"
    common = [
        f"port {port}", f"bind {LOOPBACK}", "daemonize yes", f"dir {folder}",
        f"pidfile {folder / 'redis.pid'}", f"logfile {folder / 'redis.log'}",
    ]  # fmt: skip
    conf.write_text("\n".join([*common, *lines]) + "\n")
    return conf


def start_sentinel_group(base: Path) -> str:
    """A primary, one replica and three sentinels (quorum 2) that fail over after one
    second of silence; return the redis+sentinel:// URL. Each server runs from its own
    config file (INFO server shows it), so a test that kills one can start it again."""
    primary, replica = free_port(), free_port()
    data = ['save ""', "appendonly no", "repl-diskless-sync-delay 0"]
    for port, extra in ((primary, []), (replica, [f"replicaof {LOOPBACK} {primary}"])):
        conf = _conf(base / f"redis-sentinel-node-{port}", port, *data, *extra)
        subprocess.run([tool("redis-server"), str(conf)], check=True)
        wait_for_port(port)
    sentinels: list[int] = []
    while len(sentinels) < 3:
        port = free_port()
        if port not in sentinels and port not in (primary, replica):
            sentinels.append(port)
    service = SENTINEL_SERVICE
    for port in sentinels:
        conf = _conf(
            base / f"redis-sentinel-{port}", port,
            f"sentinel monitor {service} {LOOPBACK} {primary} 2",
            f"sentinel down-after-milliseconds {service} 1000",
            f"sentinel failover-timeout {service} 3000",
            f"sentinel parallel-syncs {service} 1",
        )  # fmt: skip
        sentinel = shutil.which("redis-sentinel")
        command = (
            [sentinel, str(conf)] if sentinel else [tool("redis-server"), str(conf), "--sentinel"]
        )
        subprocess.run(command, check=True)
        wait_for_port(port)
    wait_sentinels_ready(sentinels)
    hosts = ",".join(f"{LOOPBACK}:{port}" for port in sentinels)
    return f"redis+sentinel://{hosts}/{service}/0"


def wait_sentinels_ready(ports: list[int], timeout: float = 30.0) -> None:
    """Wait until every sentinel sees the replica and the two other sentinels."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = 0
        for port in ports:
            reply = subprocess.run(
                [tool("redis-cli"), "-h", LOOPBACK, "-p", str(port),
                 "sentinel", "master", SENTINEL_SERVICE],
                capture_output=True, text=True, check=False,
            ).stdout.split()  # fmt: skip
            fields = dict(zip(reply[::2], reply[1::2], strict=False))
            if fields.get("num-slaves") == "1" and fields.get("num-other-sentinels") == "2":
                ready += 1
        if ready == len(ports):
            return
        time.sleep(0.1)
    raise SystemExit("servers: the sentinels did not all see the replica and each other")


def wait_cluster_ok(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = subprocess.run(
            [tool("redis-cli"), "-h", LOOPBACK, "-p", str(port), "cluster", "info"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if "cluster_state:ok" in info.stdout:
            return
        time.sleep(0.1)
    raise SystemExit("servers: the Redis Cluster did not reach cluster_state:ok")


def stop(base: Path) -> None:
    if not base.exists():
        return
    pg_ctl = base / "pg_ctl"
    if pg_ctl.exists():
        subprocess.run(
            [*pg_ctl.read_text().split(), "-m", "immediate", "stop"],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    stop_mariadb(base)
    for pidfile in base.glob("redis-*/redis.pid"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
    shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    base = Path(argv[2]).resolve()
    if argv[1] == "start":
        start(base)
    else:
        stop(base)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
