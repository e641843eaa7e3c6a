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


def test_wheel_installs_into_a_fresh_virtualenv_and_runs_outside_the_checkout(tmp_path):
    """The wheel carries params/ and notebooks/; dependencies come from this environment (no network)."""
    import json
    import shutil
    import site
    import sysconfig

    src = tmp_path / "src"  # a copy: the build writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "runs", "figures", "build", "*.egg-info", "__pycache__", ".*_cache", "site"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(wheels), str(src)], check=True, cwd=tmp_path, capture_output=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # the pinned requirements, by reference: this environment's site-packages after the fresh venv's own
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    Path(purelib, "deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    whl = next(wheels.glob("codecbench-*.whl"))
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(whl)], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("CODECBENCH_ROOT", "PYTHONPATH")}
    out = subprocess.run([str(venv / "bin" / "codecbench"), "codecs", "list", "--json"], cwd=elsewhere, env=env,
                         check=True, capture_output=True, text=True).stdout
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["identity"]["available"] and "opus_6k" in rows
    where = subprocess.run([str(py), "-c", "import codecbench_utils.paths as p; print(p.project_root()); "
                            "print(p.is_checkout()); print(p.project_path('runs'))"], cwd=elsewhere, env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    assert where[0].startswith(purelib) and (Path(where[0]) / "notebooks" / "01_resynthesis.ipynb").is_file()
    assert where[1] == "False" and where[2] == str(elsewhere / "runs")  # runs land where the user is
