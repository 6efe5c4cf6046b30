"""The `slaproof` command. It parses, calls, and prints; the work lives elsewhere.

Each module registers its commands on the one group in ``common``:
``agent_cmds`` (run, init, probe), ``status_cmds`` (status), ``data_cmds`` (export, import,
verify, db), ``proof_cmds`` (key, verify --bundle), ``reports`` (report, sla, letter), ``serve_cmds`` (serve),
``fleet_cmds`` (forward; status --fleet).
"""

from agent.cli import agent_cmds, data_cmds, fleet_cmds, proof_cmds, reports, serve_cmds, status_cmds  # noqa: F401  (they register their commands)
from agent.cli.common import main

__all__ = ["main"]
