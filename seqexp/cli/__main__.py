"""`python -m seqexp.cli ...` is `seqexp ...`."""

import sys

from seqexp.cli import main

sys.exit(main())
