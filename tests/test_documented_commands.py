"""Every command line that README.md, docs/*.md and config/README.md show, run as written from
the repository root of a fresh copy of this checkout.

Collected, not listed: a new documented command is covered without editing this file.
- fenced code blocks: every line that starts with a command (`bash`, `printf`, `sed`,
  `.venv/bin/...`, `snakemake`, `o1pruner`), in document order, in one shared copy;
- inline code: spans that start with `.venv/bin/snakemake`, `snakemake`, `o1pruner` or
  `bash scripts/`;
- a synopsis (`o1pruner aes TABLE.csv`, `o1pruner <stage>`) is checked against the command's
  `--help`: the subcommand exists and knows every `--option` the synopsis shows.

How each runs (the only rules; no `--directory`, no PATH change, no harness flag):
- Snakemake on smoke-sized configs (no `--configfile`s beyond config/smoke.yaml and
  config/vllm.yaml), `--report`, `--lint`, `--unlock` and `o1pruner` commands run for real;
  the vLLM smoke line (smoke.yaml then vllm.yaml) and the GRPO-with-vLLM line after it
  (+ grpo_vllm.yaml) run in tests/test_vllm.py, which checks what they write, so they are not
  run twice;
- a CPU rehearsal (config/rehearsal.yaml after a GPU config) runs for real, end to end, with its
  summary and provenance checked;
- any other Snakemake command (the default toy run, the paper and real-model configs, SLURM)
  is run as written with `-n` added: it must plan, and a config error fails it;
- set-up lines (`bash scripts/setup.sh ...`) run in the repository itself, whose environments
  the copy links to (running them in the copy would re-point the editable install);
- `bash scripts/test.sh` is what runs this file, so it is not run again; commands that need
  conda (`--use-conda`) are skipped where conda is not installed;
- `.venv/bin/python benchmarks/X.py` lines run `--help` (the benchmarks take minutes each;
  docs/benchmarks.md holds their measured output).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import run_in_checkout

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")), "config/README.md"]
COMMAND_START = re.compile(r"^(bash |printf |sed |\.venv/bin/|snakemake |o1pruner )")
INLINE_START = re.compile(r"^(\.venv/bin/snakemake|snakemake|\.venv/bin/o1pruner|o1pruner) |^bash scripts/")
PLACEHOLDER = re.compile(r"<[^>]*>|\[|\.\.\.|…|\b[A-Z][A-Z_]{2,}(\.[a-z]+)?\b")
SMOKE_SIZED = {"config/smoke.yaml", "config/vllm.yaml"}
VLLM_SMOKE = {"config/smoke.yaml", "config/vllm.yaml"}  # the vLLM smoke run: tests/test_vllm.py runs it
# GRPO with vLLM rollouts after the vLLM smoke run: tests/test_vllm.py runs it too
GRPO_VLLM = {*VLLM_SMOKE, "config/grpo_vllm.yaml"}
REHEARSAL = "config/rehearsal.yaml"  # a CPU rehearsal of a GPU config: runs here end to end


@dataclass(frozen=True)
class Documented:
    where: str  # file:line
    command: str
    synopsis: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.command}"


def _strip_comment(line: str) -> str:
    return re.split(r"\s+#\s", line, maxsplit=1)[0].strip()


def documented_commands() -> list[Documented]:
    found: list[Documented] = []
    for name in DOCUMENTS:
        in_block = False
        for number, line in enumerate((REPO / name).read_text().splitlines(), 1):
            where = f"{name}:{number}"
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            if in_block:
                command = _strip_comment(line)
                if COMMAND_START.match(command):
                    found.append(Documented(where, command))
                continue
            for span in re.findall(r"`([^`]+)`", line):
                span = span.strip()
                if INLINE_START.match(span) and "error:" not in span:  # not a quoted error message
                    found.append(Documented(where, span, synopsis=bool(PLACEHOLDER.search(span))))
    return found


COMMANDS = documented_commands()


def _configfiles(argv: list[str]) -> list[str]:
    files, taking = [], False
    for arg in argv:
        if arg.startswith("-"):
            taking = arg == "--configfile"
            continue
        if taking:
            files.append(arg)
    return files


def plan(command: str) -> tuple[str, str]:
    """(how, the command line to run): `real`, `dry` (with -n), `setup`, `help`, or `skip: why`."""
    parts = [p.strip() for p in command.split("&&")]
    if len(parts) > 1:  # `bash scripts/setup.sh && .venv/bin/snakemake ...`: each part by its own rule
        return "chain", command
    argv = shlex.split(command)
    program = Path(argv[0]).name
    if command.startswith("bash scripts/test.sh"):
        return "skip: scripts/test.sh is what runs this test (CI runs it as written)", command
    if command.startswith("bash scripts/setup.sh"):
        return "setup", command
    if program == "python" and len(argv) > 1 and argv[1].startswith("benchmarks/"):
        return "help", f"{argv[0]} {argv[1]} --help"
    if program == "snakemake":
        if "--use-conda" in argv and shutil.which("conda") is None:
            return "skip: needs conda (Snakemake asks `conda info` even on a dry run)", command
        files = set(_configfiles(argv))
        if REHEARSAL in files:
            return "rehearsal", command
        if files == VLLM_SMOKE:
            return "skip: tests/test_vllm.py runs this line as written (its smoke_run) and checks its tables", command
        if files == GRPO_VLLM:
            return "skip: tests/test_vllm.py runs this line as written (grpo_vllm_run) and checks its rollouts", command
        if "--report" in argv or files and files <= SMOKE_SIZED:
            return "real", command
        if {"--lint", "--unlock"} & set(argv):
            return "real", command
        if "-n" in argv or "--dry-run" in argv:
            return "dry", command
        return "dry", f"{command} -n"
    return "real", command


@pytest.fixture(scope="module")
def checkout(docs_checkout):
    return docs_checkout  # tests/conftest.py: the SLURM rehearsal compares with the local one run here


def _run(command: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return run_in_checkout(command, cwd, timeout)


def _assert_ok(result: subprocess.CompletedProcess, documented: Documented, ran: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{documented}\nran: {ran}\nexit {result.returncode}\n{output[-4000:]}"
    assert "Traceback" not in output, f"{documented}\nran: {ran}\n{output[-4000:]}"


FIRST_SHOWN: dict[str, str] = {}  # a command documented twice runs once, where it is first shown


def run_documented(documented: Documented, checkout: Path, part_of_chain: bool = False) -> None:
    first = FIRST_SHOWN.setdefault(documented.command, documented.where)
    if first != documented.where:
        if part_of_chain:
            return
        pytest.skip(f"the same command as {first}, run there")
    how, line = plan(documented.command)
    if how.startswith("skip"):
        pytest.skip(how[len("skip: ") :])
    if how == "chain":
        for part in line.split("&&"):
            run_documented(Documented(documented.where, part.strip()), checkout, part_of_chain=True)
        return
    if how == "setup":
        _assert_ok(_run(line, REPO), documented, f"{line} (in the repository: {REPO})")
        return
    result = _run(line, checkout, timeout=1800)
    _assert_ok(result, documented, line)
    if how == "rehearsal":
        _check_rehearsal_report(line, checkout)
    if how == "dry":
        # It planned: Snakemake's job table, and nothing was run.
        assert "Job stats:" in result.stdout + result.stderr or "Nothing to be done" in result.stderr, line


def _check_rehearsal_report(line: str, checkout: Path) -> None:
    """A rehearsal's summary opens with its table of changed keys, and every trainer got data."""
    import json

    real = next(f for f in _configfiles(shlex.split(line)) if f != REHEARSAL)
    name = __import__("yaml").safe_load((checkout / real).read_text())["model"]["name"] + "-rehearsal"
    summary = (checkout / "results/tables" / name / "summary.md").read_text()
    assert "A CPU rehearsal, not the real run" in summary.split("Greedy decoding", 1)[0], summary[:2000]
    provenance = json.loads((checkout / "results/tables" / name / "provenance.json").read_text())
    assert provenance["rehearsal"] and provenance["config_files"] == [real, REHEARSAL]
    # A sharded real run (QwQ's ZeRO-3) trains every method in 2 processes, as DeepSpeed, with
    # the model created partitioned: the launcher the real run uses, not a stand-in.
    training = __import__("yaml").safe_load((checkout / real).read_text()).get("training", {})
    if training.get("distributed") in ("zero2", "zero3"):
        infos = sorted((checkout / "results/checkpoints" / name).glob("*/seed*/o1pruner_training.json"))
        assert {p.parts[-3] for p in infos} >= set(training["methods"]), infos
        for path in infos:
            info = json.loads(path.read_text())
            assert info["processes"] == 2 and info["distributed_type"] == "DistributedType.DEEPSPEED", path
            assert info["created_partitioned"] == (training["distributed"] == "zero3"), path


def check_synopsis(documented: Documented) -> None:
    """`o1pruner SUB ...` with placeholders: SUB exists and its --help knows every --option shown."""
    words = shlex.split(re.sub(r"[\[\]]", " ", documented.command))
    program = words[0]
    if program == "bash":  # a script with placeholder arguments: it exists and parses
        result = _run(f"bash -n {shlex.quote(words[1])}", REPO)
        _assert_ok(result, documented, f"bash -n {words[1]}")
        return
    sub = next((w for w in words[1:] if not w.startswith("-") and not PLACEHOLDER.search(w)), None)
    if Path(program).name == "snakemake" or sub is None:
        result = _run(f"{Path(REPO / '.venv/bin' / Path(program).name)} --help", REPO)
        _assert_ok(result, documented, f"{program} --help")
        return
    result = _run(f"{REPO / '.venv/bin' / Path(program).name} {sub} --help", REPO)
    _assert_ok(result, documented, f"{program} {sub} --help")
    for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", documented.command):
        assert option in result.stdout, f"{documented}: `{program} {sub} --help` has no {option}"


def test_the_docs_show_commands():
    """The collection finds what the README's quick start and the paper section hold."""
    shown = [c.command for c in COMMANDS]
    assert "bash scripts/setup.sh && .venv/bin/snakemake --cores all" in shown
    assert any("config/paper_marco_o1.yaml" in c for c in shown)
    assert all(not c.startswith("snakemake ") or "--use-conda" in c for c in shown), [
        c for c in shown if c.startswith("snakemake ") and "--use-conda" not in c
    ]


@pytest.mark.parametrize("documented", COMMANDS, ids=[f"{c.where} {c.command[:70]}" for c in COMMANDS])
def test_documented_command_runs_as_written(documented, checkout):
    if documented.synopsis:
        check_synopsis(documented)
    else:
        run_documented(documented, checkout)
