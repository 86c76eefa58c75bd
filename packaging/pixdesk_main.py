"""Entry point of the frozen app: the same `pixdesk` command (GUI by default, sub-commands headless)."""

import multiprocessing

from pixdesk.launch import console_main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    console_main()  # the same ending as the `pixdesk` command, including the prompt exit after the window
