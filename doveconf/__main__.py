"""python -m doveconf"""

from __future__ import annotations

import sys

from doveconf.cli import main

sys.exit(main())
