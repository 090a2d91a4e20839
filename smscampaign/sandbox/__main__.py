"""``python -m smscampaign.sandbox``: serve a standalone sandbox (URL on the first line)."""

import sys

from smscampaign.sandbox import main

sys.exit(main())
