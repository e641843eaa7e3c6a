"""The two install paths (pip pins and conda) stay in sync; the CLI starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    return {ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")}


def test_environment_yml_mirrors_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    req |= _pins((ROOT / "requirements-test.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert req <= set(pip_section), f"missing in environment.yml: {sorted(req - set(pip_section))}"
    assert "torch==2.13.0" in pip_section


def test_torch_is_pinned_exactly():
    text = (ROOT / "Makefile").read_text() + (ROOT / "pyproject.toml").read_text()
    assert "torch==2.13.0" in text
    assert "torchaudio" not in (ROOT / "requirements.txt").read_text()


def test_cli_help_is_fast_and_lists_commands():
    out = subprocess.run([sys.executable, "-m", "codecbench_utils.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for cmd in ("data", "codecs", "resynth"):
        assert cmd in out
    # no heavy optional import at CLI start
    code = "import sys, codecbench_utils.cli; print(any(m in sys.modules for m in ('transformers', 'ray', 'visqol')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_ruff_check_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        import pytest

        pytest.skip("ruff is installed by requirements-test.txt")
    res = subprocess.run([str(ruff), "check", "--output-format", "concise", "codecbench_utils", "tests"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout
