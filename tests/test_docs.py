"""The documentation's snippets run as written (README.md and docs/*.md).

Python blocks of one file run in order in one namespace, in a temporary working directory, as a
reader pasting them would. Markers in the Markdown, right before a block:

- ``<!-- doctest: setup ... -->``: hidden code run first (inputs a reader would bring);
- ``<!-- doctest: skip REASON -->``: not run (needs CUDA, the Hub, a download...); REASON is
  required, so every block not run says why.

Every ``vid2vid ...`` line of a bash block must parse with the command line's parser (flags and
values exist), without running it.
"""

from __future__ import annotations

import os
import re
import shlex
import textwrap
from pathlib import Path

import pytest
import torch

from vid2vid.cli.main import build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(
    r"(?:<!-- doctest: (?P<marker>[^\n]*?)(?:\n(?P<setup>.*?))?-->\s*\n)?[ \t]*```(?P<lang>\w+)\n(?P<code>.*?)```",
    re.S,
)


def _blocks(path: Path) -> list[dict[str, str]]:
    """The fenced blocks of a Markdown file (code and setup dedented: blocks inside list items)."""
    blocks = []
    for m in _BLOCK.finditer(path.read_text(encoding="utf-8")):
        block = m.groupdict()
        block["code"] = textwrap.dedent(block["code"])
        block["setup"] = textwrap.dedent(block["setup"] or "")
        blocks.append(block)
    return blocks


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_python_snippets_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    namespace: dict[str, object] = {"__name__": "__doc_snippet__"}
    ran = 0
    # snippets may change process-wide torch settings: restore them for the tests that follow
    grad, threads = torch.is_grad_enabled(), torch.get_num_threads()
    try:
        ran = _run_blocks(path, namespace)
    finally:
        torch.set_grad_enabled(grad)
        torch.set_num_threads(threads)
    if ran == 0 and not any(b["lang"] == "python" for b in _blocks(path)):
        pytest.skip(f"{path.name} has no Python snippets")


def _run_blocks(path: Path, namespace: dict[str, object]) -> int:
    ran = 0
    for block in _blocks(path):
        if block["lang"] != "python":
            continue
        marker = (block["marker"] or "").strip()
        if marker.startswith("skip"):
            assert marker[4:].strip(), f"{path.name}: a skipped snippet must say why"
            continue
        code = (block["setup"] or "") + "\n" + block["code"] if marker.startswith("setup") else block["code"]
        try:
            exec(compile(code, f"{path.name} snippet", "exec"), namespace)
        except Exception as err:  # noqa: BLE001 - re-raised with the snippet
            raise AssertionError(f"{path.name}: snippet failed: {err!r}\n{block['code']}") from err
        ran += 1
    return ran


def _cli_lines(path: Path) -> list[list[str]]:
    lines = []
    for block in _blocks(path):
        if block["lang"] not in ("bash", "sh", "console"):
            continue
        text = block["code"].replace("\\\n", " ")
        variables: dict[str, list[str]] = {}  # NAME="..." lines of the block, expanded in later lines
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip().removeprefix("$ ")
            for part in re.split(r"\s*(?:&&|;)\s*", line):
                words = shlex.split(part) if part else []
                if len(words) == 1 and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                    name, _, value = words[0].partition("=")
                    variables[name] = shlex.split(value)
                    continue
                words = [
                    w
                    for word in words
                    for w in (variables.get(word[1:], [word]) if word[:1] == "$" else [word])
                ]
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words = words[1:]  # VAR=value prefixes
                if words[:1] == ["nice"]:
                    words = words[1:]
                if words[:1] == ["vid2vid"]:
                    lines.append(words[1:])
    return lines


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_cli_lines_parse(path: Path) -> None:
    parser = build_parser()
    for words in _cli_lines(path):
        if not words or words[0] in ("--help", "--version") or "--help" in words:
            continue
        try:
            parser.parse_args(words)
        except SystemExit as err:
            raise AssertionError(f"{path.name}: `vid2vid {' '.join(words)}` does not parse") from err


def test_readme_outputs_are_git_ignored() -> None:
    ignored = (REPO / ".gitignore").read_text().split()
    for output in (
        "/demo.mp4",
        "/demo_strip.png",
        "/python_demo.mp4",
        "/tiny.mp4",
        "/data/",
        "/checkpoints/",
    ):
        assert output in ignored, output
    assert os.path.isfile(REPO / ".gitignore")


def test_one_preset_list() -> None:
    """The presets of TrainConfig, `vid2vid train --help` and docs/training.md's table agree."""
    from vid2vid.cli.train import PRESET_NAMES
    from vid2vid.training.config import PRESETS

    assert tuple(PRESETS) == PRESET_NAMES
    table = re.findall(r"^\| `(\w+)` \|", (REPO / "docs" / "training.md").read_text(), re.M)
    assert [t for t in table if t in PRESETS or t.startswith(("street", "face", "pose", "tiny"))] == list(
        PRESETS
    )
