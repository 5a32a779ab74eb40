"""`python -m opsgraph` runs the command line, as the `opsgraph` script does."""

from opsgraph.cli.main import main

main()
