"""`python -m ultimate_agent.cli`."""

from . import main

main(prog_name="ultimate-agent")
