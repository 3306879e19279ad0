"""`python -m marketplace.cli COMMAND ...`: the `marketplace` script, without installing it."""

from marketplace.cli import main

main(prog_name="marketplace")
