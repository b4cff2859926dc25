import sys
from pathlib import Path

# Make "import app" work from any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))
