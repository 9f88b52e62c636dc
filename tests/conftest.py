"""Test-suite set-up: where the book's data lives, and CUDA through Numba's simulator."""
import os
import re
import shutil
from pathlib import Path

import pytest

# The book's data sets sit beside the checkout (../shared/data) unless the caller says otherwise.
_shared = Path(__file__).resolve().parents[2] / "shared" / "data"
if "TINYGRAD_EDU_DATA" not in os.environ and _shared.is_dir():
    os.environ["TINYGRAD_EDU_DATA"] = str(_shared)

# Without an NVIDIA GPU, CUDA kernels run in Numba's simulator; this must be decided before
# numba.cuda is first imported. On a machine with a GPU the real device is used.
if "NUMBA_ENABLE_CUDASIM" not in os.environ and shutil.which("nvidia-smi") is None:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"


# In CI (.ci/run sets TINYGRAD_EDU_STRICT=1) nothing may be skipped for want of what CI provides:
# the book's data, Graphviz's dot, a browser or the CUDA simulator. Such a skip fails instead.
_WANTS_WHAT_CI_HAS = re.compile(r"TINYGRAD_EDU_DATA|data missing|Graphviz|\bdot\b|simulator|"
                                r"browser|chromium", re.IGNORECASE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("TINYGRAD_EDU_STRICT") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if _WANTS_WHAT_CI_HAS.search(reason):
            report.outcome = "failed"
            report.longrepr = f"TINYGRAD_EDU_STRICT=1: skipped for want of what CI provides: {reason}"
