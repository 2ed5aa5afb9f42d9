"""How the workflow's jobs are started: the command lines and the environment they run in.

`train_launcher_command`: `o1pruner` in one process, or `torchrun` / `accelerate launch` for
several; `generation_cli`: the `o1pruner` of the vLLM environment where that backend is chosen, and
`rollout_tools` its folder for GRPO with vLLM rollouts;
`job_environment`: the PATH a job gets, so `.venv/bin/snakemake` finds its tools without an
activated venv. Imported by `rules/common.smk` (standard library only, and `config.load`'s
ConfigError).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from .config.load import ConfigError


def train_launcher_command(training: dict, gpus: int, accelerate_dir: Path, tools: str = "") -> str:
    """How a training-side job (fine-tuning, reference log-probs) is started: `o1pruner` in one
    process; several processes (the job's GPUs, or `cpu_processes` without GPUs) through
    `accelerate launch` with `config/accelerate/<distributed>.yaml`, or, for DDP on CPU, through
    `torchrun` (`accelerate launch --cpu` starts one process unless MPI is set up). Mixed
    precision comes from training.bf16, so the accelerate file cannot contradict it. `training`
    is the section as the job's method trains with it (`job_settings.method_training`); `tools`:
    the folder of the environment's commands with a trailing slash (`rollout_tools`), or "" for
    the PATH's."""
    t = training
    processes = gpus if gpus > 0 else t["cpu_processes"]
    if processes <= 1:
        return f"{tools}o1pruner"
    if gpus == 0 and t["distributed"] == "ddp":
        return f"{tools}torchrun --standalone --nproc-per-node {processes} -m o1pruner.cli"
    mixed = "bf16" if t["bf16"] and not t["pure_bf16"] else "no"
    accelerate_file = Path(accelerate_dir) / f"{t['distributed']}.yaml"
    # A free port per launch: two jobs launched at once on one machine would both take
    # accelerate's default 29500, and the second would fail.
    return (
        f"{tools}accelerate launch --config_file {accelerate_file} --num_processes {processes} --main_process_port 0 "
        f"--mixed_precision {mixed} -m o1pruner.cli"
    )


def rollout_tools(config: dict, training: dict, trainer: str, use_conda: bool, basedir: Path, dry_run=False) -> str:
    """The commands' folder (with a trailing slash) of a fine-tuning job: the vLLM environment's
    for a GRPO method whose rollouts are vLLM's (`training.grpo.rollouts`), without --use-conda
    (there the rule's conda env is envs/vllm.yaml); else "" (the PATH's, the workflow's own)."""
    if trainer != "grpo" or training["grpo"]["rollouts"] != "vllm" or use_conda:
        return ""
    return shlex.quote(_as_run(_vllm_tool(config, "training.grpo.rollouts", basedir, dry_run).parent)) + "/"


_WARNED_MISSING: set[Path] = set()


def generation_cli(config: dict, section: str, use_conda: bool, basedir: Path, dry_run: bool = False) -> str:
    """The `o1pruner` that a generating rule (`sampling` or `evaluation`) runs: the workflow's
    own, or, for the vllm backend without --use-conda, the one in the vLLM environment
    (`vllm.venv`, made by `bash scripts/setup.sh --vllm`; vLLM pins its own torch and
    transformers, so it cannot share the workflow's). Under --use-conda, envs/vllm.yaml's."""
    if config[section]["backend"] != "vllm" or use_conda:
        return "o1pruner"
    return shlex.quote(_as_run(_vllm_tool(config, f"{section}.backend", basedir, dry_run)))


def _as_run(path: Path) -> str:
    """`path` relative to the working directory (where jobs run) when it lies inside it: the
    command is a rule parameter, and an absolute path would rerun every job that names it once
    the checkout is moved or copied."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _vllm_tool(config: dict, key: str, basedir: Path, dry_run: bool) -> Path:
    """The vLLM environment's `o1pruner`, which config `key` asks for: an error where it is
    missing, a warning on a dry run (planning goes on)."""
    venv = Path(config["vllm"]["venv"])
    cli = (venv if venv.is_absolute() else basedir / venv) / "bin" / "o1pruner"
    if not cli.exists():
        message = (
            f"config key {key}: vllm needs the vLLM environment, but {cli} does not exist: run "
            "`bash scripts/setup.sh --vllm`, set vllm.venv, or run with --use-conda"
        )
        if not dry_run:
            raise ConfigError(message)
        if cli not in _WARNED_MISSING:  # once, though several keys may name it
            _WARNED_MISSING.add(cli)
            import sys

            print(f"warning: {message} (dry run: planning goes on)", file=sys.stderr)
    return cli


def job_environment(environ: dict) -> dict:
    """The environment the workflow's jobs get: the folder of the Python running Snakemake first
    on PATH, so that `.venv/bin/snakemake` finds `o1pruner` (and `torchrun`, `accelerate`, and the
    `ninja` DeepSpeed builds its CPU ops with) beside itself without an activated venv."""
    import sys

    here = str(Path(sys.executable).parent)
    return {**environ, "PATH": os.pathsep.join([here, environ.get("PATH", "")])}


def put_interpreter_on_path() -> None:
    """`job_environment` for this process, which Snakemake's jobs inherit."""
    os.environ["PATH"] = job_environment(dict(os.environ))["PATH"]


def is_dry_run(argv: list[str]) -> bool:
    """Whether Snakemake was started with -n / --dry-run (it is not known yet while planning)."""
    for a in argv:
        if a in ("--dry-run", "--dryrun", "-n"):
            return True
        if re.fullmatch(r"-[a-zA-Z]*n[a-zA-Z]*", a) and not a.startswith("--"):
            return True
    return False
