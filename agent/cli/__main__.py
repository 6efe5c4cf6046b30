"""`python -m agent.cli`: the same command as the `slaproof` script."""

from agent.cli import main

main()
