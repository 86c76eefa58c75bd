"""Entry point of the frozen app: the same `pixdesk` command (GUI by default, sub-commands headless)."""

import multiprocessing
import sys

from pixdesk.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
