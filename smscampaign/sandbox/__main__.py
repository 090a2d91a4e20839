"""``python -m smscampaign.sandbox``: serve a standalone sandbox (URL on the first line)."""

import sys

from smscampaign.sandbox.cli import main

sys.exit(main())
