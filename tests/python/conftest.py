import sys
from pathlib import Path

# The shared helpers (support.py, pod_security.py) sit next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
