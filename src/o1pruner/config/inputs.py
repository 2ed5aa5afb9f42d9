"""The run's inputs, checked before any job: the model path (a folder holding a model, or a hub
id in the local cache or on a reachable hub), the data files the config names, the tokenizer
files a thinking marker is looked up in, and a toy reference built for another toy world.
Imported by `rules/common.smk` (huggingface_hub only for a hub id)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .load import ConfigError

TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")


def model_folder_problem(folder: Path) -> str | None:
    """What keeps a local folder from loading as a model, worded to follow its path; None if fine."""
    if not (folder / "config.json").exists():
        return "is a folder without config.json"
    if not any((folder / f).exists() for f in TOKENIZER_FILES):
        return "has no tokenizer files (tokenizer.json / tokenizer_config.json)"
    return None


def _looks_like_hub_id(path: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", path)) and not path.startswith(".")


def check_model_path(path: str, *, dry_run: bool = False) -> str | None:
    """Check `model.path` the way the first job will load it. Returns a warning or None.

    A local folder needs config.json and tokenizer files. An `org/name` that is not a local
    folder is a hub id: it must be in the local hub cache, or exist on the hub when the hub is
    reachable. Where the hub cannot be reached, a real run stops here; a dry run only warns.
    """
    p = Path(path)
    if p.is_dir():
        problem = model_folder_problem(p)
        if problem:
            raise ConfigError(f"model.path {path!r} {problem}")
        return None
    if p.exists():
        raise ConfigError(f"model.path {path!r} is a file, not a model folder")
    if not _looks_like_hub_id(path):
        raise ConfigError(f"model.path {path!r} does not exist (not a folder, and not a hub id of the form org/name)")
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(path, "config.json"), str):
        return None
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    reason = "HF_HUB_OFFLINE is set"
    if not offline:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

        try:
            HfApi().model_info(path, timeout=10)
            return None
        except GatedRepoError:
            return None  # it exists; the job's token decides access
        except RepositoryNotFoundError:
            raise ConfigError(f"model.path {path!r} is neither a local folder nor a model on the hub (typo?)") from None
        except HfHubHTTPError as e:
            reason = f"the hub answered {e.response.status_code if e.response is not None else 'an error'}"
        except Exception as e:  # connection errors of whichever HTTP client the hub library uses
            reason = f"the hub cannot be reached ({type(e).__name__})"
    message = (
        f"model.path {path!r} is not a local folder and not in the local hub cache, and {reason}: "
        f"download it first (`hf download {path}`) or set model.path to a local folder"
    )
    if dry_run:
        return message + " (dry run: planning goes on)"
    raise ConfigError(message)


LOCAL_SOURCE_SUFFIXES = (".jsonl", ".json", ".parquet")


def is_local_source(source: str) -> bool:
    """Whether a dataset source names a file on this machine (else it is a hub id)."""
    return Path(source).exists() or Path(source).suffix in LOCAL_SOURCE_SUFFIXES or source.startswith((".", "/"))


def used_splits(config: dict) -> list[tuple[str, str]]:
    """(data set, split) of every split a run prepares: train, each test set, validation if picked."""
    d = config["datasets"]
    used = [(d["train"], "train"), *((name, "test") for name in d["test"])]
    if config["selection"]["methods"]:
        used.append((d["train"], "validation"))
    return used


def check_data_sources(config: dict) -> None:
    """Every split the run prepares from a local file has that file (hub ids are read by the job)."""
    d = config["datasets"]
    for name, split in sorted(set(used_splits(config))):
        source = ((d["sources"].get(name) or {}).get(split) or {}).get("source")
        if source and is_local_source(source) and not Path(source).is_file():
            raise ConfigError(
                f"config key datasets.sources.{name}.{split}.source: {source} does not exist (a relative path is "
                f"read from the working directory, {Path.cwd()})"
            )


def tokenizer_file(path: str) -> Path | None:
    """The model's tokenizer.json where it is on this machine (a folder, or the hub cache)."""
    p = Path(path)
    if p.is_dir():
        return p / "tokenizer.json" if (p / "tokenizer.json").exists() else None
    if not _looks_like_hub_id(path):
        return None
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(path, "tokenizer.json")
    return Path(cached) if isinstance(cached, str) else None


TOY_SETTINGS_FILE = "o1pruner_toy_settings.json"


def check_toy_reference(config: dict) -> None:
    """Refuse to retrain, in place, a toy reference that another toy config built.

    Results are kept per `model.name`; two configs with different toy worlds under one name
    would silently overwrite each other's reference and everything after it.
    """
    from ..job_settings import toy_reference_settings

    saved = Path(config["model"]["path"]) / TOY_SETTINGS_FILE
    if not saved.exists():
        return
    before = json.loads(saved.read_text())
    now = json.loads(json.dumps(toy_reference_settings(config)))
    if before == now:
        return
    changed = sorted(
        f"{section}.{key}"
        for section in now
        for key in set(now[section]) | set(before.get(section, {}))
        if now[section].get(key) != before.get(section, {}).get(key)
    )
    raise ConfigError(
        f"{config['model']['path']} was trained from another toy config (different {', '.join(changed)}); "
        f"results are kept per model.name, so give this config its own model.name and model.path, "
        f"or delete {config['model']['path']} to retrain it"
    )


def imported_evaluations(config: dict, registered_runs: list[str]) -> dict[str, dict[str, dict]]:
    """`evaluation.import`: {run: {test set: {path, format}}}, checked: every run answers every
    test set (the tables compare runs set by set), its files exist, and its name is not a run
    the workflow makes itself."""
    imported = config["evaluation"].get("import") or {}
    tests = config["datasets"]["test"]
    for run, files in imported.items():
        key = f"evaluation.import.{run}"
        if run in registered_runs:
            raise ConfigError(f"config key {key}: {run!r} is a run the workflow makes itself; name the import apart")
        missing = [d for d in tests if d not in files]
        if missing:
            raise ConfigError(f"config key {key}: no file for test set(s) {', '.join(missing)} (datasets.test)")
        extra = [d for d in files if d not in tests]
        if extra:
            raise ConfigError(f"config key {key}: {', '.join(extra)} is not in datasets.test")
        for dataset, spec in files.items():
            if not Path(spec["path"]).is_file():
                raise ConfigError(f"config key {key}.{dataset}.path: {spec['path']} does not exist")
    return imported


def check_imported_samples(config: dict) -> dict | None:
    """`sampling.import` ({path, format}) with its file checked, or None."""
    spec = config["sampling"].get("import")
    if spec and not Path(spec["path"]).is_file():
        raise ConfigError(f"config key sampling.import.path: {spec['path']} does not exist")
    return spec
