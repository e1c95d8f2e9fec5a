"""python -m doveadm"""

from __future__ import annotations

import sys

from doveadm.cli import main

sys.exit(main())
