"""Run every benchmark in this folder and print their figures. `make bench` calls this."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in sorted(HERE.glob("*.py")):
    if script.name.startswith("_") or script.name == "run.py":
        continue
    print(f"\n## {script.name}", flush=True)
    subprocess.run([sys.executable, str(script)], check=True)
