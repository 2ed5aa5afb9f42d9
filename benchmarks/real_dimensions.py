"""Memory and speed at a real model's dimensions: a randomly initialised Qwen2-0.5B-shaped model
(hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4,864) with the real
DeepSeek-R1-Distill-Qwen tokenizer (vocabulary 151,936), made by `o1pruner.real_dims`.

Prints, side by side in one run:
1. `o1pruner memory`'s estimate against the measured peak RSS of O1-Pruner optimiser steps
   (fp32 weights, bf16 autocast, AdamW), gradient checkpointing off and on, per component where
   RSS separates them: weights (after loading), optimiser state (after the first step, with the
   gradients freed) and the step's transient peak (gradients, activations, logits);
2. the same through `o1pruner train --trainer o1_pruner` in one process and under ZeRO-3 in two
   processes (`accelerate launch`, DeepSpeed's CPU accelerator): the peak resident memory of each
   process while loading, training and saving, by kind (anonymous, mapped files, shared), and the
   training phase's anonymous memory less a bare process's against the estimate per device;
3. one SFT and one O1-Pruner step (fp32), and their ratio (goal <= 1.1x);
4. pre-sampling tokens/s of transformers `generate` and of vLLM's CPU build, and their ratio
   (benchmarks/sampling_vllm_vs_transformers.py at this size);
5. GRPO rollout tokens/s with transformers rollouts and with vLLM rollouts (TRL's colocate mode,
   in the vLLM environment): time inside TRL's generation call, and the ratio.

    .venv/bin/python benchmarks/real_dimensions.py [--out results/real_dims] [--skip zero3,grpo]

Takes ~25 min on 2 CPU cores and ~10 GB of RAM. The model is written once to --out.
"""

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKENIZER = REPO.parent / "shared" / "tokenizers" / "deepseek-r1-distill-qwen-1.5b"
SHAPE = "qwen2-0.5b"
GB = 1024**3
SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."


def rss() -> int:
    """Resident bytes now, after handing freed heap back to the OS (glibc keeps freed blocks
    below its mmap threshold, such as one layer's gradients, resident otherwise)."""
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _problems(path: Path, n: int) -> Path:
    rows = [{"id": f"p{i}", "problem": f"What is {17 * i + 3} plus {29 * i + 5}?", "answer": str(46 * i + 8)}
            for i in range(n)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _o1_pruner_trainset(model_dir: Path, problems: Path, out: Path, response_tokens: int) -> Path:
    """An O1-Pruner training set as the workflow's has it: responses of `response_tokens` ids,
    reference log-probs (a constant: only memory and time are measured), random advantages."""
    import random

    import pandas as pd

    from o1pruner.io import read_jsonl
    from o1pruner.models import load_tokenizer

    tok = load_tokenizer(str(model_dir))
    rng = random.Random(0)
    rows = read_jsonl(problems)
    ids = [[rng.randrange(1000, 150000) for _ in range(response_tokens - 1)] + [tok.eos_token_id] for _ in rows]
    pd.DataFrame({"problem_id": [r["id"] for r in rows], "sample_idx": 0, "response_ids": ids,
                  "advantage": [rng.gauss(0, 1) for _ in rows], "ref_logp": -11.0}).to_parquet(out)  # fmt: skip
    return out


def memory_worker(a) -> None:
    """One configuration in a fresh process: RSS after loading, after the first step (gradients
    freed), and the peak over `a.steps` steps (one is enough: its peak holds the weights, the
    gradients and the optimiser state, allocated at its end). Prints one JSON line."""
    import torch

    from o1pruner.models import load_model, load_tokenizer
    from o1pruner.train.data import PaddingCollator, encode_examples
    from o1pruner.train.loss import length_harmonizing_loss, response_mean_logprobs

    torch.set_num_threads(a.threads)
    tok = load_tokenizer(a.model)
    prompt = "What is 3 plus 4?"
    response = list(range(1000, 1000 + a.seq_len - 40)) + [tok.eos_token_id]
    examples = encode_examples(tok, [prompt] * a.micro_batch, [response] * a.micro_batch, SYSTEM, a.seq_len)
    for ex in examples:
        ex["ref_logp"], ex["advantage"] = -11.0, 1.0
    batch = PaddingCollator(tok.pad_token_id)(examples)
    base = rss()
    model = load_model(a.model, "float32", device="cpu")
    if a.checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    model.train()
    loaded = rss()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    after_first, times = None, []
    for _ in range(a.steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            logp = response_mean_logprobs(model, batch["input_ids"], batch["attention_mask"], batch["response_mask"])
        loss, _ = length_harmonizing_loss(logp.float(), batch["ref_logp"], batch["advantage"], 0.2)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
        after_first = after_first or rss()
    peak = peak_rss()
    print(json.dumps({"weights": loaded - base, "optimizer": after_first - loaded, "transient": peak - after_first,
                      "peak": peak - base, "seq_len": int(batch["input_ids"].shape[1]), "step_s": times}))  # fmt: skip


def _estimate(model_dir: Path, seq_len: int, gpus: int, sharding: str, checkpointing: bool) -> dict:
    from o1pruner.train.memory import Architecture, training_memory

    arch = Architecture.from_config(json.loads((model_dir / "config.json").read_text()))
    # the precision the workflow runs with training.bf16: autocast in one process, bf16 under ZeRO
    return training_memory(arch, seq_len=seq_len, micro_batch=1, gpus=gpus, sharding=sharding,
                           gradient_checkpointing=checkpointing)  # fmt: skip


def _rss_parts(pid: int) -> dict[str, int]:
    """Resident bytes of a process by kind (/proc/PID/status): `anon` (its heap: tensors, optimiser
    state, buffers: what a GPU would hold in device memory, plus the interpreter's own), `file`
    (mapped files: shared libraries and memory-mapped checkpoints, which the kernel can drop and
    reread) and `shmem` (shared memory: DeepSpeed's CPU collectives)."""
    parts = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "RssShmem"):
                parts[{"RssAnon": "anon", "RssFile": "file", "RssShmem": "shmem"}[key]] = int(value.split()[0]) * 1024
    return parts


def _run_and_watch(command: list[str], env: dict, log_file: Path, phases: dict[str, str]) -> tuple[int, dict, str]:
    """Run `command`; return its exit code, the largest resident memory any one of its processes
    reached (bytes, polled every 0.2 s: one process per device under a launcher), in all (`rss`)
    and by kind (`anon`, `file`, `shmem`, each its own peak), per phase of the job: `phases` maps
    each phase to the log line that ends it (in `log_file`), the last phase runs to the end; and
    its output."""
    import psutil

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    names = list(phases)
    peaks = {phase: {"rss": 0, "anon": 0, "file": 0, "shmem": 0} for phase in names}

    def watch():
        p = psutil.Process(proc.pid)
        current = 0
        while proc.poll() is None:
            text = log_file.read_text(errors="replace") if log_file.exists() else ""
            while current < len(names) - 1 and phases[names[current]] in text:
                current += 1
            try:
                for c in [p, *p.children(recursive=True)]:
                    parts = _rss_parts(c.pid)
                    parts["rss"] = sum(parts.values())
                    for key, value in parts.items():
                        peaks[names[current]][key] = max(peaks[names[current]][key], value)
            except (psutil.Error, OSError):
                pass
            time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    output = proc.communicate()[0]
    thread.join()
    return proc.returncode, peaks, output


# The phases of an `o1pruner train` job and the log line that ends each (the last runs to the end).
TRAIN_PHASES = {
    "loading": "INFO o1pruner.stages: model ",
    "training": "INFO o1pruner.stages: trained with",
    "saving": "",
}


def _baseline(env: dict) -> dict[str, int]:
    """Resident memory of a process that has imported what a training job imports and holds no
    model: the interpreter and libraries every process pays before its first tensor."""
    imports = "import accelerate, deepspeed, torch, transformers, trl; from o1pruner import stages, train"
    code = f"{imports}; import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    code += "from real_dimensions import _rss_parts; import os; print(json.dumps(_rss_parts(os.getpid())))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def section_memory(a, model_dir: Path) -> None:
    print("\n## 1. O1-Pruner steps, one process: measured RSS against `o1pruner memory` (GB)\n")
    print("| gradient checkpointing | component | measured | estimated | measured / estimated |")
    print("|---|---|---|---|---|")
    for checkpointing in (False, True):
        cmd = [sys.executable, __file__, "--worker", "memory", "--model", str(model_dir), "--seq-len", str(a.seq_len),
               "--threads", str(a.threads)] + (["--checkpointing"] if checkpointing else [])  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, check=True)
        m = json.loads(run.stdout.strip().splitlines()[-1])
        e = _estimate(model_dir, m["seq_len"], 1, "ddp", checkpointing)
        rows = [("weights", m["weights"], e["weights"]), ("optimiser state", m["optimizer"], e["optimizer"]),
                ("gradients + activations + logits", m["transient"], e["gradients"] + e["activations"] + e["logits"]),
                ("total (peak)", m["peak"], e["total"])]  # fmt: skip
        for name, measured, estimated in rows:
            print(f"| {'on' if checkpointing else 'off'} | {name} | {measured / GB:.2f} | {estimated:.2f} | "
                  f"{measured / GB / estimated:.2f} |")  # fmt: skip
        steps = ", ".join(f"{s:.1f}" for s in m["step_s"])
        print(f"\n(checkpointing {'on' if checkpointing else 'off'}: {m['seq_len']} tokens, step times {steps} s)\n")


def section_launchers(a, model_dir: Path, work: Path) -> None:
    from o1pruner.launch import job_environment, train_launcher_command

    print("\n## 2. `o1pruner train --trainer o1_pruner`: peak RSS of each process against the estimate per device\n")
    problems = _problems(work / "problems.jsonl", 2)
    trainset = _o1_pruner_trainset(model_dir, problems, work / "o1_pruner.parquet", a.seq_len - 40)
    sys.path.insert(0, str(REPO / "tests"))
    from helpers import training_settings

    settings = training_settings("o1_pruner", per_device_batch_size=1, global_batch_size=2, cutoff_len=a.seq_len,
                                 warmup_ratio=0.0, epochs=1, bf16=True, system_prompt=SYSTEM)  # fmt: skip
    # glibc keeps freed blocks below its (self-raising, up to 32 MB) mmap threshold resident, so
    # resident memory would count memory the job has freed; a fixed 1 MB threshold hands every
    # larger block back on free, closer to what an allocator-agnostic count (GPU: allocated) sees.
    env = {**job_environment(dict(os.environ)), "MALLOC_MMAP_THRESHOLD_": str(1 << 20)}
    base = _baseline(env)
    print(f"A process that has imported the training libraries and holds no model: {base['anon'] / GB:.2f} GB "
          f"anonymous, {base['file'] / GB:.2f} GB mapped files.\n")  # fmt: skip
    print("| launch | processes | phase | peak RSS per process (GB) | of it anonymous / mapped files / shared "
          "| anonymous less the libraries' (GB) | estimate per device (GB) | measured / estimated |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    walls = []
    for name, processes, distributed in (("one process", 1, "ddp"), ("ZeRO-3", 2, "zero3")):
        training = {**settings, "cpu_processes": processes, "distributed": distributed}
        launcher = train_launcher_command(training, 0, REPO / "config" / "accelerate")
        out, log_file = work / f"ckpt-{distributed}", work / f"train-{distributed}.log"
        log_file.unlink(missing_ok=True)
        cmd = [*shlex.split(launcher), "--log-file", str(log_file), "train", "--trainer",
               "o1_pruner", "--model", str(model_dir), "--trainset", str(trainset), "--problems", str(problems),
               "--settings", json.dumps(settings), "--seed", "0", "--out", str(out),
               "--threads", str(a.threads)]  # fmt: skip
        start = time.perf_counter()
        code, peaks, output = _run_and_watch(cmd, env, log_file, TRAIN_PHASES)
        walls.append(f"{name} {time.perf_counter() - start:.0f} s")
        if code != 0:
            print(f"| {name} | {processes} | failed (exit {code}): see {log_file} | | | | | |")
            continue
        e = _estimate(model_dir, a.seq_len, processes, distributed, False)["total"]
        for phase, peak in peaks.items():
            own = peak["anon"] - base["anon"]
            kinds = f"{peak['anon'] / GB:.2f} / {peak['file'] / GB:.2f} / {peak['shmem'] / GB:.2f}"
            ratio = f"{own / GB / e:.2f}" if phase == "training" else "(host memory on a GPU machine)"
            print(f"| {name} | {processes} | {phase} | {peak['rss'] / GB:.2f} | {kinds} | {own / GB:.2f} | "
                  f"{e:.2f} | {ratio} |")  # fmt: skip
    print(f"\nwall: {', '.join(walls)}")


def section_scripts(a, model_dir: Path, work: Path) -> None:
    print("\n## 3. One SFT and one O1-Pruner step (fp32, benchmarks/train_step_o1pruner_vs_sft.py)\n")
    run = subprocess.run([sys.executable, str(REPO / "benchmarks/train_step_o1pruner_vs_sft.py"), "--model",
                          str(model_dir), "--batch-size", "2", "--repeats", "3", "--threads", str(a.threads)],
                         capture_output=True, text=True)  # fmt: skip
    print("```\n" + (run.stdout or run.stderr[-2000:]).strip() + "\n```")
    print("\n## 4. Pre-sampling: transformers `generate` against vLLM (benchmarks/sampling_vllm_vs_transformers.py)\n")
    problems = _problems(work / "sampling.jsonl", a.sampling_problems)
    run = subprocess.run([sys.executable, str(REPO / "benchmarks/sampling_vllm_vs_transformers.py"), "--model",
                          str(model_dir), "--problems", str(problems), "-n", str(a.sampling_problems), "--k", "4",
                          "--max-new-tokens", str(a.new_tokens), "--batch-size", "64", "--threads", str(a.threads),
                          "--system", SYSTEM], capture_output=True, text=True)  # fmt: skip
    print("```\n" + (run.stdout or run.stderr[-2000:]).strip() + "\n```")


# Runs `o1pruner train` with the time spent inside TRL's generation call written to a file.
TIMED_TRAIN = """
import json, sys, time
from trl import GRPOTrainer
spent = {"seconds": 0.0}
original = GRPOTrainer._generate_single_turn
def timed(self, *args, **kwargs):
    start = time.perf_counter()
    try:
        return original(self, *args, **kwargs)
    finally:
        spent["seconds"] += time.perf_counter() - start
GRPOTrainer._generate_single_turn = timed
from o1pruner.cli import main
code = main(sys.argv[2:])
open(sys.argv[1], "w").write(json.dumps(spent))
sys.exit(code)
"""


def section_grpo(a, model_dir: Path, work: Path) -> None:
    import pandas as pd

    sys.path.insert(0, str(REPO / "tests"))
    from helpers import grpo_prompts, training_settings

    print("\n## 5. GRPO rollouts: transformers inside TRL's trainer against vLLM (TRL colocate mode)\n")
    problems = _problems(work / "grpo.jsonl", 4)
    trainset = work / "prompts.parquet"
    grpo_prompts(problems, trainset, mean_tokens=float(a.new_tokens))
    print("| rollouts | environment | rollout tokens | seconds in generation | tokens/s | job wall (s) |")
    print("|---|---|---|---|---|---|")
    rates = {}
    for backend, python in (("transformers", sys.executable), ("vllm", a.vllm_python)):
        settings = training_settings("grpo", per_device_batch_size=8, global_batch_size=8, cutoff_len=1024,
                                     warmup_ratio=0.0, epochs=1, bf16=False, system_prompt=SYSTEM)  # fmt: skip
        settings["grpo"].update(generations=4, max_completion_length=a.new_tokens)
        if backend == "vllm":
            settings["grpo"]["vllm_rollouts"] = {"gpu_memory_utilization": 0.3, "cpu_kv_cache_gib": 2,
                                                 "max_model_len": None}  # fmt: skip
        out, timing = work / f"grpo-{backend}", work / f"grpo-{backend}.json"
        cmd = [python, "-c", TIMED_TRAIN, str(timing), "--log-file", str(work / f"grpo-{backend}.log"), "train",
               "--trainer", "grpo", "--model", str(model_dir), "--trainset", str(trainset), "--problems",
               str(problems), "--settings", json.dumps(settings), "--seed", "0", "--out", str(out), "--threads",
               str(a.threads)]  # fmt: skip
        start = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode != 0:
            print(f"| {backend} | {Path(python).parent.parent.name} | failed (exit {run.returncode}): see "
                  f"{work}/grpo-{backend}.log | | | |")  # fmt: skip
            continue
        tokens = int(pd.read_parquet(out / "rollouts.parquet")["n_tokens"].sum())
        seconds = json.loads(timing.read_text())["seconds"]
        rates[backend] = tokens / seconds
        print(f"| {backend} | {Path(python).parent.parent.name} | {tokens} | {seconds:.1f} | {rates[backend]:.1f} | "
              f"{wall:.0f} |")  # fmt: skip
    if len(rates) == 2:
        print(f"\nratio vLLM / transformers rollout tokens/s: {rates['vllm'] / rates['transformers']:.2f}x")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(REPO / "results" / "real_dims"), help="where the model and runs are written")
    p.add_argument("--seq-len", type=int, default=128, help="tokens per training sequence (prompt + response)")
    p.add_argument("--new-tokens", type=int, default=128, help="tokens per generated response")
    p.add_argument("--sampling-problems", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip", default="", help="comma-separated sections to skip: memory, zero3, steps, grpo")
    p.add_argument("--vllm-python", default=str(REPO / ".venv-vllm/bin/python"))
    p.add_argument("--worker", choices=["memory"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--checkpointing", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--micro-batch", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker == "memory":
        return memory_worker(a)
    from o1pruner.real_dims import build_real_dim_model

    out = Path(a.out)
    model_dir = out / SHAPE
    if not (model_dir / "config.json").exists():
        start = time.perf_counter()
        build_real_dim_model(TOKENIZER, model_dir, SHAPE)
        print(f"built {model_dir} in {time.perf_counter() - start:.0f} s")
    cfg = json.loads((model_dir / "config.json").read_text())
    from o1pruner.train.memory import Architecture

    params = Architecture.from_config(cfg).params()
    print(f"# {SHAPE}: {params / 1e6:.0f}M parameters, vocabulary {cfg['vocab_size']}, tokenizer {TOKENIZER.name}")
    print(f"{os.cpu_count()} CPU cores, {a.threads} threads; training sequences of {a.seq_len} tokens")
    skip = set(filter(None, a.skip.split(",")))
    work = out / "runs"
    work.mkdir(parents=True, exist_ok=True)
    if "memory" not in skip:
        section_memory(a, model_dir)
    if "zero3" not in skip:
        section_launchers(a, model_dir, work)
    if "steps" not in skip:
        section_scripts(a, model_dir, work)
    if "grpo" not in skip:
        section_grpo(a, model_dir, work)


if __name__ == "__main__":
    main()
