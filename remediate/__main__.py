"""`python -m remediate` runs the command line."""

from remediate.cli import main

main()
