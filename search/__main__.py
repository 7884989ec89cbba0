"""`python -m search` runs the `tune` command line."""

import sys

from search.cli import main

sys.exit(main())
