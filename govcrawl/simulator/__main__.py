"""`python -m govcrawl.simulator`: serve the portals; the first stdout line is the base URL."""

import sys

from govcrawl.cli.simulator import main

sys.exit(main())
