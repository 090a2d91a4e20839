"""``python -m smscampaign``: the command line."""

import sys

from smscampaign.cli import main

sys.exit(main())
