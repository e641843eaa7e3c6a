from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from codecbench_utils.cli import main


def test_data_prepare_passes_recipe_options(tmp_path, rng, capsys):
    for label in ("cat", "dog"):
        (tmp_path / "audio" / label).mkdir(parents=True)
        sf.write(tmp_path / "audio" / label / "a.wav", (0.1 * rng.standard_normal(1600)).astype(np.float32), 16000)
    out = tmp_path / "m.jsonl"
    assert main(["-q", "data", "prepare", "folder", "--root", str(tmp_path / "audio"), "--out", str(out),
                 "-o", "category=sound", "-o", "label-from-parent=true"]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert {r["category"] for r in rows} == {"sound"} and {r["label"] for r in rows} == {"cat", "dog"}


def test_codecs_list_json_and_table(capsys):
    assert main(["codecs", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in rows}
    assert {"identity", "opus_24k", "codec2_700c", "dac_24k_nq8", "mimi_nq8"} <= ids
    assert all(r["available"] or r["reason"] for r in rows)
    assert main(["codecs", "list"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) < 220


def test_codecs_list_fits_the_terminal_and_wide_gives_full_reasons_one_line_each(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["codecs", "list", "--json"]) == 0
    blocked = [r for r in json.loads(capsys.readouterr().out) if r["reason"]]
    assert blocked, "every codec runs here: nothing to check"
    assert main(["codecs", "list"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 100
    assert main(["codecs", "list", "--wide"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for r in blocked:
        row = [line for line in lines if line.startswith(r["id"] + " ")]
        assert len(row) == 1 and row[0].rstrip().endswith(r["reason"])


def test_unknown_codec_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "m.jsonl").write_text("")
    assert main(["resynth", "--codec", "nope", "--manifest", str(tmp_path / "m.jsonl"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "unknown codec 'nope'" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_unless_verbose_and_ctrl_c_is_clean(monkeypatch, capsys):
    from codecbench_utils import cli

    def boom(args):
        raise RuntimeError("something broke\nsecond line")

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_codecs_list", boom)
    assert cli.main(["codecs", "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["codecbench: error: RuntimeError: something broke (rerun with -v for the traceback)"]
    import pytest

    with pytest.raises(RuntimeError):
        cli.main(["-v", "codecs", "list"])
    monkeypatch.setattr(cli, "_cmd_codecs_list", interrupted)
    assert cli.main(["codecs", "list"]) == 130
    assert capsys.readouterr().err.strip().startswith("codecbench: interrupted; finished work is kept")


def test_every_option_shows_its_default(capsys):
    import pytest

    from codecbench_utils import cli

    with pytest.raises(SystemExit):
        cli.main(["resynth", "--help"])
    assert "(default: cpu)" in capsys.readouterr().out


def test_every_option_of_every_command_has_help():
    import argparse

    from codecbench_utils import cli

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, [*path, name])
            elif not isinstance(action, argparse._HelpAction):
                yield path, action

    missing = [(" ".join(p), a.dest) for p, a in walk(cli.build_parser(), ["codecbench"]) if not a.help]
    assert missing == []
