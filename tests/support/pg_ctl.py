"""A PostgreSQL server a test can stop and start again (same data, same port): the central
database of a fleet going away and coming back."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.pg import _free_port, pg_bindir


class PgServer:
    def __init__(self) -> None:
        bindir = pg_bindir()
        assert bindir
        self.bindir = bindir
        self.base = tempfile.mkdtemp(prefix="slaproof-pgctl-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.data = os.path.join(self.base, "data")
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        self.env = {**os.environ, "LC_ALL": "C"}
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(self.prefix + [f"{self.bindir}/pg_ctl", "-D", self.data, *args], check=check, capture_output=True,
                       env=self.env, timeout=90)

    def init(self) -> None:
        subprocess.run(self.prefix + [f"{self.bindir}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, env=self.env, timeout=120)

    def start(self) -> None:
        self._ctl("-w", "-t", "60", "-l", os.path.join(self.base, "log"), "-o",
                  f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        """Stop at once (connections cut, open transactions rolled back), as a crash or a restart would."""
        self._ctl("-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        self._ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def stoppable_postgres() -> Iterator[PgServer]:
    server = PgServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()
