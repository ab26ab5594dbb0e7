"""`python -m jaxsteg.cli ...`: the `jaxsteg` command."""

import sys

from jaxsteg.cli import main

sys.exit(main())
