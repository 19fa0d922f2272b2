"""``python -m aligngym``: the same as the ``aligngym`` command."""

import sys

from aligngym.cli import main

if __name__ == "__main__":
    sys.exit(main())
