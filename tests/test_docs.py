"""The documentation names only what exists: `fengqiao` commands and options, `FENGQIAO_*` settings and
relative links (README.md, docs/, bench/README.md, examples/)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from contracts.settings import Settings
from pipelines.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    {
        ROOT / "README.md",
        ROOT / "bench" / "README.md",
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "examples").rglob("*.md"),
    }
)
# Variables the tests read, not settings of the product.
TEST_VARIABLES = {
    "FENGQIAO_TEST_POSTGRES_URL",
    "FENGQIAO_TEST_MLFLOW_POSTGRES_URL",
    "FENGQIAO_SCREENSHOT_HOME",
}
# A command line starting a code span or a shell line (after variable assignments, `&&` or `$(`), or
# `.venv/bin/fengqiao` anywhere: the global options before the command, the command, then the rest.
INVOCATION = re.compile(
    r"(?:(?:^|&&|\$\()\s*(?:[A-Z_]+=\S+\s+)*|\.venv/bin/)fengqiao"
    r"(?P<globals>(?:\s+--[a-z-]+(?:[ =][^\s\-`][^\s`]*)?)*)\s+(?P<command>[a-z][a-z-]*)(?P<rest>[^`\n]*)"
)
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
TERMINATOR = re.compile(r"\s(?:#|\||&&|;|/\s)|\)")


def code_lines(text: str) -> list[str]:
    """The inline code spans and the lines of fenced code blocks of a Markdown page."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return [line for block in fenced for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", prose)


def option_names(command: Any) -> set[str]:
    """Every spelling of every option of a command of the app (typer's own click)."""
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


def invocation_problems(line: str, root: Any) -> list[str]:
    """What a code line's `fengqiao` invocations name that the command line does not have."""
    problems = []
    for found in INVOCATION.finditer(line):
        unknown_globals = set(OPTION.findall(found["globals"])) - option_names(root)
        problems += [f"global option {name}" for name in sorted(unknown_globals)]
        command = root.commands.get(found["command"])
        if command is None:
            problems.append(f"command {found['command']!r}")
            continue
        rest = TERMINATOR.split(found["rest"], maxsplit=1)[0]
        if hasattr(command, "commands"):  # a group: `users`
            words = rest.split()
            sub = command.commands.get(words[0]) if words else None
            if sub is None:
                problems.append(f"{found['command']} without a known subcommand")
                continue
            command, rest = sub, rest.split(words[0], 1)[1]
        problems += [
            f"{command.name} {name}" for name in OPTION.findall(rest) if name not in option_names(command)
        ]
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_and_options_exist(page: Path) -> None:
    root = typer.main.get_command(app)
    problems = [
        f"{line.strip()}: {problem}"
        for line in code_lines(page.read_text(encoding="utf-8"))
        for problem in invocation_problems(line, root)
    ]
    assert problems == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_settings_exist(page: Path) -> None:
    known = {f"FENGQIAO_{name.upper()}" for name in Settings.model_fields} | TEST_VARIABLES
    named = set(re.findall(r"FENGQIAO_[A-Z0-9_]*[A-Z0-9]", page.read_text(encoding="utf-8")))
    assert sorted(named - known) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert [t for t in local if not (page.parent / t).exists()] == []


def test_the_checks_catch_what_is_not_there() -> None:
    """The invocation check reads the forms the pages use, and reports unknown commands and options."""
    root = typer.main.get_command(app)
    assert invocation_problems("fengqiao --home /srv/f run-daily --as-of 2025-10-30 --override", root) == []
    assert (
        invocation_problems("FENGQIAO_HOME=$PWD/.fengqiao .venv/bin/fengqiao quarantine --limit 5", root)
        == []
    )
    assert invocation_problems("fengqiao simulate --out DIR [--seed N --plain-grievances]", root) == []
    assert (
        invocation_problems("fengqiao users add li --role analyst --district 南城区   # --nope", root) == []
    )
    assert invocation_problems("prefect work-pool create fengqiao --type process", root) == []
    assert invocation_problems("fengqiao run-daily --as-off 2025-10-30", root) == ["run-daily --as-off"]
    assert invocation_problems("fengqiao --homes x models", root) == ["global option --homes"]
    assert invocation_problems("fengqiao publish --as-of 2025-10-30", root) == ["command 'publish'"]
    assert invocation_problems("fengqiao users add li --roles analyst", root) == ["add --roles"]
    assert invocation_problems("fengqiao users purge li", root) == ["users without a known subcommand"]
    assert code_lines("a `fengqiao models` b\n```bash\nfengqiao train --as-of D\n```\n") == [
        "fengqiao train --as-of D",
        "fengqiao models",
    ]
