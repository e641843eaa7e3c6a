"""`codecbench codecs fetch`: pinned downloads from a local HTTP server on 127.0.0.1, never the internet."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from functools import partial
from pathlib import Path

import pytest

from codecbench_utils import cli
from codecbench_utils.codecs import lyra
from codecbench_utils.codecs.fetch import FetchError, FetchPlan, PinnedFile, download_file, run_plan
from codecbench_utils.codecs.registry import get_spec

SHARED_LYRA = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "lyra_v2"


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path/www`` on 127.0.0.1; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = partial(_QuietHandler, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pinned(www: Path, base: str, name: str, data: bytes, sha: str | None = None) -> PinnedFile:
    (www / name).write_bytes(data)
    return PinnedFile(name, f"{base}/{name}", sha or hashlib.sha256(data).hexdigest(), len(data))


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_checks_the_checksum_and_writes_atomically(server, tmp_path):
    www, base = server
    f = _pinned(www, base, "model.bin", b"weights" * 1000)
    dest = tmp_path / "cache"
    path = download_file(f, dest)
    assert path.read_bytes() == b"weights" * 1000
    assert _listing(dest) == ["model.bin"]


def test_a_checksum_mismatch_leaves_nothing(server, tmp_path):
    www, base = server
    f = _pinned(www, base, "model.bin", b"tampered", sha="0" * 64)
    dest = tmp_path / "cache"
    with pytest.raises(FetchError, match="does not match the pinned"):
        download_file(f, dest)
    assert _listing(dest) == []  # no file, no temp file


def test_http_errors_and_offline_are_fetch_errors(server, tmp_path):
    _, base = server
    with pytest.raises(FetchError, match="HTTP 404"):
        download_file(PinnedFile("absent.bin", f"{base}/absent.bin", "0" * 64), tmp_path / "c")
    url = f"http://127.0.0.1:{_closed_port()}/x.bin"
    with pytest.raises(FetchError, match="offline\\?"):
        download_file(PinnedFile("x.bin", url, "0" * 64), tmp_path / "c")
    assert _listing(tmp_path / "c") == []


def test_run_plan_skips_verified_files_and_replaces_bad_ones(server, tmp_path):
    www, base = server
    good = _pinned(www, base, "a.bin", b"a" * 10)
    other = _pinned(www, base, "b.bin", b"b" * 10)
    dest = tmp_path / "cache"
    dest.mkdir()
    (dest / "a.bin").write_bytes(b"a" * 10)
    (dest / "b.bin").write_bytes(b"x" * 10)  # right size, wrong content
    lines: list[str] = []
    run_plan(FetchPlan("c", target=dest, files=(good, other)), log=lines.append)
    assert "already present" in lines[0] and "sha256 verified" in lines[1]
    assert (dest / "b.bin").read_bytes() == b"b" * 10


@pytest.fixture
def lyra_from(monkeypatch):
    """Point Lyra's pinned URLs at a local server, keeping the real names and checksums."""
    def point(base: str) -> None:
        files = tuple(PinnedFile(f.name, f"{base}/{f.name}", f.sha256, f.size) for f in lyra.LYRA_FILES)
        monkeypatch.setattr(lyra, "LYRA_FILES", files)
    return point


def test_cli_dry_run_prints_the_pinned_urls_and_checksums(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CODECBENCH_LYRA_DIR", raising=False)
    assert cli.main(["-q", "codecs", "fetch", "lyra_v2_6k", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for f in lyra.LYRA_FILES:
        assert f"https://raw.githubusercontent.com/google/lyra/{lyra.LYRA_COMMIT}/lyra/model_coeffs/{f.name}" in out
        assert f.sha256 in out
    assert str(tmp_path / "codecbench" / "lyra_v2") in out
    assert not (tmp_path / "codecbench").exists()  # a dry run writes nothing


def test_cli_dry_run_names_the_hub_repo_and_revision(capsys):
    assert cli.main(["-q", "codecs", "fetch", "mimi_nq8", "opus_6k", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "kyutai/mimi@main" in out and "opus_6k: nothing to download" in out


def test_cli_offline_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, lyra_from):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CODECBENCH_LYRA_DIR", raising=False)
    lyra_from(f"http://127.0.0.1:{_closed_port()}")
    assert cli.main(["-q", "codecs", "fetch", "lyra_v2_6k"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("codecbench: error: cannot download")
    assert _listing(tmp_path / "codecbench" / "lyra_v2" / lyra.LYRA_COMMIT) == []


def test_cli_hub_fetch_offline_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert cli.main(["-q", "codecs", "fetch", "mimi_nq8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot fetch Hugging Face kyutai/mimi@main" in err[0]


@pytest.mark.skipif(not SHARED_LYRA.is_dir(), reason="Lyra v2 model files not in ../shared/models/lyra_v2")
def test_fetch_makes_lyra_available(server, tmp_path, monkeypatch, lyra_from):
    www, base = server
    for f in lyra.LYRA_FILES:
        (www / f.name).write_bytes((SHARED_LYRA / f.name).read_bytes())
    lyra_from(base)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CODECBENCH_LYRA_DIR", raising=False)
    spec = get_spec("lyra_v2_6k")
    assert lyra.LyraCodec.available(spec) is not None
    assert cli.main(["-q", "codecs", "fetch", "lyra_v2_6k"]) == 0
    assert lyra.LyraCodec.available(spec) is None
    assert _listing(tmp_path / "xdg" / "codecbench" / "lyra_v2" / lyra.LYRA_COMMIT) == sorted(
        f.name for f in lyra.LYRA_FILES)


def test_demo_tries_the_fetch_once_and_goes_on_offline(tmp_path, monkeypatch, caplog, lyra_from):
    from codecbench_utils import demo

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CODECBENCH_LYRA_DIR", raising=False)
    lyra_from(f"http://127.0.0.1:{_closed_port()}")
    with caplog.at_level("WARNING"):
        missing = demo.fetch_missing_weights(["identity", "lyra_v2_6k", "lyra_v2_3k2"])
    assert missing == ["lyra_v2_6k", "lyra_v2_3k2"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "goes on without them" in warnings[0].getMessage()


def test_demo_adds_one_configuration_per_further_neural_family(monkeypatch):
    from codecbench_utils import demo
    from codecbench_utils.codecs import registry

    rows = [{"id": i, "family": f, "available": True, "reason": None} for i, f in
            (("identity", "anchor"), ("opus_6k", "classical"), ("lyra_v2_6k", "lyra"), ("lyra_v2_9k2", "lyra"),
             ("mimi_nq8", "mimi"), ("mimi_nq32", "mimi"))]
    monkeypatch.setattr(registry, "list_codecs", lambda: rows)
    assert demo.available_codecs(["identity", "lyra_v2_6k"], neural=True) == ["identity", "lyra_v2_6k", "mimi_nq8"]
