"""Make the shared hand-made result document importable as ``results`` in these tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
