import sys

from pixdesk.cli import main

sys.exit(main(sys.argv[1:]))
