"""The README's shell examples run: every ```sh block, in page order, in one bash session
with ``set -euo pipefail`` against a fresh `kmop serve`, as a reader copying them after
`make run` would. Variables flow from block to block; a failing command fails the test,
naming the block and showing its output.

A block that must not run here (`make run` itself, the test suite, a stream that never ends)
is marked right above its fence with ``<!-- readme-test: skip (the reason) -->``; a skip
without a reason, or a marker that is not right above a shell block, fails. Every `curl`
must fail on an HTTP error (``-f``) or print the status (``-w '%{http_code}'``) for the
README to check, so an error never passes unnoticed."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.serving import Server, free_port, spawn_serve, wait_ready

README = Path(__file__).resolve().parents[2] / "README.md"
SHELLS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^```(?P<lang>[^\n`]*)\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"<!--\s*readme-test:(?P<what>.*?)-->", re.DOTALL)
SKIP = re.compile(r"\s*skip\s*\((?P<reason>[^)]*\S[^)]*)\)\s*")
CURL_CHECKED = re.compile(r"(?<!\S)(-[A-Za-z]*f[A-Za-z]*|--fail(-with-body)?)(?!\S)|%\{http_code\}")
STORY_SECONDS = 150


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    code: str
    skip: str | None  # why it is not run; None: it runs


def shell_blocks(text: str) -> list[Block]:
    """The shell blocks in page order, each with its skip reason, if marked."""
    blocks, used = [], set()
    for fence in FENCE.finditer(text):
        if fence["lang"].strip() not in SHELLS:
            continue
        before = text[: fence.start()].rstrip()
        marker = MARKER.search(before, max(0, before.rfind("\n") + 1))
        skip = None
        if marker is not None and marker.end() == len(before):
            used.add(marker.start())
            what = SKIP.fullmatch(marker["what"])
            line = before.count("\n") + 1
            assert what, f"README.md:{line}: say why: <!-- readme-test: skip (reason) -->"
            skip = what["reason"].strip()
        blocks.append(Block(text.count("\n", 0, fence.start()) + 1, fence["code"], skip))
    for marker in MARKER.finditer(text):
        line = text.count("\n", 0, marker.start()) + 1
        assert marker.start() in used, f"README.md:{line}: a marker not right above a sh block"
    return blocks


def unchecked_curls(code: str) -> list[str]:
    """The curl commands that would let an HTTP error pass silently."""
    joined = code.replace("\\\n", " ")
    return [
        command
        for command in re.findall(r"\bcurl\b[^\n|;)]*", joined)
        if not CURL_CHECKED.search(command)
    ]


def script(blocks: list[Block]) -> str:
    """One bash script: each block between markers, so a failure names its block."""
    parts = [
        "set -euo pipefail",
        "trap 'echo \"!!! exit $? from: $BASH_COMMAND\" >&2' ERR",
    ]
    for number, block in enumerate(blocks, 1):
        if block.skip is None:
            parts += [f"echo '>>> block {number}'", block.code, f"echo '<<< block {number}'"]
    return "\n".join(parts) + "\n"


def failure(blocks: list[Block], output: str, returncode: int | None) -> str:
    started = re.findall(r"^>>> block (\d+)$", output, re.MULTILINE)
    if not started:
        return f"the story did not start (exit {returncode}):\n{output}"
    number = int(started[-1])
    block = blocks[number - 1]
    since = output[output.rindex(f">>> block {number}") :]
    return (
        f"README.md:{block.line}: block {number} failed (exit {returncode}):\n"
        f"{block.code}\n--- its output ---\n{since}"
    )


def test_every_shell_block_runs_or_says_why_not() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "no ```sh block found"
    skipped = [block for block in blocks if block.skip is not None]
    assert len(skipped) <= len(blocks) // 4, f"too many skipped blocks: {skipped}"
    for block in blocks:
        if block.skip is None:
            assert not unchecked_curls(block.code), (
                f"README.md:{block.line}: use curl -fsS, or check -w '%{{http_code}}': "
                f"{unchecked_curls(block.code)}"
            )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<!-- readme-test: skip -->\n```sh\nmake run\n```\n", "say why"),
        ("<!-- readme-test: skip () -->\n```sh\nmake run\n```\n", "say why"),
        ("<!-- readme-test: skip (x) -->\n\nSome words.\n```sh\nls\n```\n", "not right above"),
        ("<!-- readme-test: skip (x) -->\n```json\n{}\n```\n", "not right above"),
    ],
)
def test_a_skip_without_a_reason_or_out_of_place_fails(text: str, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        shell_blocks(text)


def test_the_markers_are_read() -> None:
    text = (
        "Intro\n```sh\nA=1\n```\n<!-- readme-test: skip (starts the server) -->\n"
        "```sh\nmake run\n```\n```json\n{}\n```\n```sh\necho $A\n```\n"
    )
    assert shell_blocks(text) == [
        Block(2, "A=1\n", None),
        Block(6, "make run\n", "starts the server"),
        Block(12, "echo $A\n", None),
    ]
    assert unchecked_curls('curl -s "$API/x" \\\n  -H "A: -f"\ncurl -fsS "$API/y"') == [
        'curl -s "$API/x"    -H "A: -f"'
    ]
    assert not unchecked_curls("code=$(curl -sS -o p.json -w '%{http_code}' \"$API/x\")")


async def test_the_readme_story_runs_against_a_fresh_server(
    database_url: str, tmp_path: Path
) -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    port = free_port()
    process = await spawn_serve(port, KMOP_DATABASE_URL=database_url)
    server = Server(process)
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        # The reader's terminal: in the checkout (here a scratch folder with its .venv), with
        # the server's port and database, and no other KMOP_ setting of the machine's.
        (tmp_path / ".venv").symlink_to(sys.prefix)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
        env |= {
            "PATH": f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "KMOP_PORT": str(port),
            "KMOP_DATABASE_URL": database_url,
        }
        (tmp_path / "readme.sh").write_text(script(blocks), encoding="utf-8")
        bash = Server(  # its output collected line by line, kept if it has to be stopped
            await asyncio.create_subprocess_exec(
                "bash",
                "readme.sh",
                cwd=tmp_path,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        )
        try:
            returncode: int | None = await asyncio.wait_for(bash.process.wait(), STORY_SECONDS)
        except TimeoutError:
            returncode = None
            bash.process.kill()
            await bash.process.wait()
        await bash.reader
        assert returncode == 0, failure(blocks, bash.output, returncode)
        last = max(number for number, block in enumerate(blocks, 1) if block.skip is None)
        assert bash.output.rstrip().endswith(f"<<< block {last}"), bash.output
    finally:
        process.terminate()
        await process.wait()
        await server.reader
