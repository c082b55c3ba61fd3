"""A bench's own function run with the code of an earlier commit, to compare against it in one
run: `git archive` of that commit's host, firmware and simulator (bzsim) packages, first on the
path of a process of its own (ahead of this tree's editable install).

    earlier.call("4ed5d58", "ingest", "measure", "sqlite", "/tmp/x.db", 1000)  # its printed value
"""

import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def call(rev: str, module: str, function: str, *args) -> str:
    """What bench/<module>.py's function(*args) returns under commit `rev`, as printed (its
    last line)."""
    with tempfile.TemporaryDirectory(prefix="bzbench-earlier-") as folder:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "host", "firmware", "sim"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        packages = Path(folder, "packages")
        packages.mkdir()
        (packages / "bzsim").symlink_to(Path(folder, "sim"))  # the package's name in the wheel
        code = (f"import sys; sys.path.insert(0, {str(BENCH)!r}); import bzgate, bzsim, {module}; "
                f"assert bzgate.__file__.startswith({folder!r}), bzgate.__file__; "
                f"assert bzsim.__file__.startswith({str(packages)!r}), bzsim.__file__; "
                f"print({module}.{function}(*{args!r}))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={"PYTHONPATH": f"{folder}/host:{folder}/firmware:{packages}"})
    if done.returncode:
        raise SystemExit(f"{module}.{function} under {rev} failed:\n{done.stderr[-2000:]}")
    return done.stdout.splitlines()[-1]
