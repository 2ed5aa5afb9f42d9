"""The `o1pruner` commands besides the workflow's stages, mostly run by hand: AES of a table
(`aes`), expected training memory (`memory`), the composed config and which file set each key
(`config`), splicing a results summary into a page (`readme`), and a training set written for
another trainer (`export`, also the optional `export_trainset` rule). Kept apart from `cli.py`,
whose commands are the workflow's stages.
"""

from __future__ import annotations

import json
from pathlib import Path

from .io import InputError
from .runs import REFERENCE


def cmd_aes(a) -> None:
    import pandas as pd

    from .aes import score_table
    from .io import atomic_path

    try:
        scored = score_table(pd.read_csv(a.table), a.reference_method)
    except ValueError as e:
        raise InputError(f"{a.table}: {e}") from None
    if a.out:
        with atomic_path(a.out) as tmp:
            scored.to_csv(tmp, index=False)
    print(scored.to_string(index=False))


def cmd_memory(a) -> None:
    from .train.memory import MARCO_O1_7B, QWQ_32B, Architecture, training_memory

    if a.model_config:
        arch = Architecture.from_config(json.loads(Path(a.model_config).read_text()))
    else:
        arch = {"marco-o1-7b": MARCO_O1_7B, "qwq-32b": QWQ_32B}[a.model]
    gb = training_memory(
        arch,
        seq_len=a.seq_len,
        micro_batch=a.micro_batch,
        gpus=a.gpus,
        sharding=a.sharding,
        gradient_checkpointing=not a.no_checkpointing,
        trainable_layers=a.trainable_layers,
        precision=a.precision,
    )
    print(f"{arch.params() / 1e9:.2f}B parameters; expected GB per GPU:")
    print("  ".join(f"{k} {v:.1f}" for k, v in gb.items()))


def cmd_config(a) -> None:
    from .config.layers import compose, set_keys, sources_table
    from .config.load import SCHEMA_PATH, ConfigError, load_config, load_schema

    overrides: dict = {}
    for item in a.config:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--config {item!r}: expected KEY=VALUE, as Snakemake's --config takes it")
        import yaml

        overrides[key] = yaml.safe_load(value)
    try:
        config = load_config(*a.configfile, overrides=overrides)
    except ConfigError as e:
        raise InputError(str(e)) from None
    layers = compose(a.configfile, overrides)
    print(f"config: {' + '.join(layers.files)}{' + --config' if overrides else ''}")
    print(sources_table(set_keys(layers, config, load_schema(SCHEMA_PATH))), end="")


def cmd_readme(a) -> None:
    from .report.readme import splice_results

    splice_results(a.summary, a.readme, a.block)


def cmd_export(a) -> None:
    from .export import export_trainset

    written = export_trainset(a.trainset, a.problems, a.format, a.out, a.name, a.system_prompt or None)
    print(f"{written['rows']} rows ({written['kind']}) -> {a.out}: {', '.join(written['files'])}")


def add_tool_commands(add) -> None:
    """Register the commands above through `cli.main`'s `add(name, func, help)`."""
    p = add(
        "aes", cmd_aes, "score rows (model, method, dataset, accuracy, length) with AES against their reference row"
    )
    p.add_argument("table", help="CSV with columns model, method, dataset, accuracy, length")
    p.add_argument(
        "--reference-method", default=REFERENCE, help="the method whose rows are the reference of each dataset"
    )
    p.add_argument("--out", default=None, help="also write the CSV with `aes` and `aes_formula` added")

    p = add("memory", cmd_memory, "expected per-GPU memory of a training job (weights, optimiser, activations)")
    p.add_argument("--model", choices=["marco-o1-7b", "qwq-32b"], default="marco-o1-7b")
    p.add_argument("--model-config", default=None, help="a model's config.json instead of --model")
    p.add_argument("--seq-len", type=int, default=3072, help="prompt + response tokens (training.cutoff_len)")
    p.add_argument("--micro-batch", type=int, default=1, help="training.per_device_batch_size")
    p.add_argument("--gpus", type=int, default=8)
    p.add_argument("--sharding", choices=["ddp", "zero2", "zero3", "fsdp"], default="zero3")
    p.add_argument("--no-checkpointing", action="store_true", help="without gradient checkpointing")
    p.add_argument("--trainable-layers", type=int, default=None, help="only the last N decoder layers train")
    p.add_argument(
        "--precision", choices=["autocast", "bf16", "pure_bf16"], default=None,
        help="how weights are held: autocast over fp32 (DDP's default), bf16 with fp32 master (ZeRO's), pure_bf16",
    )  # fmt: skip

    p = add(
        "config",
        cmd_config,
        "the config a workflow run with these files sees, and which file set each key that differs from the "
        "schema's default",
    )
    p.add_argument("configfile", nargs="*", help="the files given to --configfile, in order (none: config/config.yaml)")
    p.add_argument("--config", nargs="*", default=[], help="KEY=VALUE overrides, as given to Snakemake's --config")

    p = add("readme", cmd_readme, "splice a generated results summary into a Markdown page (docs/results/*.md)")
    p.add_argument("--summary", required=True, help="results/tables/<model>/summary.md")
    p.add_argument("--readme", default="docs/results/toy.md", help="the page holding the results markers")
    p.add_argument("--block", default=None, help="results block <!-- results:BLOCK:begin -->; default: the main one")

    p = add("export", cmd_export, "write a training set for another trainer (TRL, LLaMA-Factory, O1-Pruner's parquet)")
    p.add_argument("--trainset", required=True, help="a training set of the workflow (results/trainset/...parquet)")
    p.add_argument("--problems", required=True, help="the training problems (JSONL), for the prompts")
    p.add_argument("--format", required=True, choices=["trl", "llamafactory", "parquet"])
    p.add_argument("--name", required=True, help="the dataset's name (file names, dataset_info.json key)")
    p.add_argument("--system-prompt", default="", help="the run's prompt.system (empty: none)")
    p.add_argument("--out", required=True, help="the folder to write")
