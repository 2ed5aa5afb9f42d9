"""Responses that another tool wrote, read into the workflow's own generation records.

Formats (`sampling.import.format`):
- `jsonl`: one JSON object per line, from a vLLM/SGLang script: the problem as `problem_id` (or
  `id`), else its text as `problem` (or `question`); one response as `response`, or several as
  `responses` (or `generated_responses`, as GAIR-NLP's AIME-Preview evaluation writes); optional
  `token_ids` (vLLM's `output.token_ids`, end-of-turn included; a list per response where there
  are several) and `finish_reason` (`length` = cut off at the token cap; likewise a list).
- `lm_eval`: lm-evaluation-harness's `--log_samples` file (`samples_<task>_<date>.jsonl`): the
  problem from `doc.problem` (or `doc.question`), the responses from `resps` (one list per
  request, `repeats` responses each).
  lm-eval's own task configs name the problem field in either case (`aime24`'s `Problem`).
- `evalscope`: an evalscope review file (`reviews/<model>/<benchmark>_<subset>.jsonl`, one
  `ReviewResult` per line; concatenate a benchmark's subset files): the response is
  `sample_score.score.prediction` (the model output's completion), the problem its `messages`
  (the chat evalscope held, as 1.14 writes it; `input`, a string or messages, in older files; the
  last user message taken), which holds the problem inside the benchmark's prompt template.
- `o1_pruner`: the released O1-Pruner `o1_scripts/inference.py` output: one JSON array of the
  data set's items, each repeated K times, with `problem` and the response as `solution`.

Responses are matched to problems by id, else by text (whitespace collapsed); a prompt that wraps
the problem in a template (`evalscope`) is matched to the longest problem it contains. Without token ids
a response is re-tokenised with the model's tokenizer, so that token counts mean what the
workflow's own mean; a response that re-tokenises to fewer ids than the token cap ended on its
own (the end-of-turn id is appended, as a generated response carries it). Text gives back the
ids a model generated where the model wrote valid UTF-8 in the tokenizer's own splits; bytes that
are not UTF-8 reach a tool's file as U+FFFD, which no tokenizer can undo (the import says how many).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ..io import InputError, iter_jsonl
from .decoding import Generation

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "lm_eval", "evalscope", "o1_pruner")
REPLACEMENT = "\ufffd"  # what a decoder writes for bytes that are not UTF-8


@dataclass(frozen=True)
class ImportedResponse:
    where: str  # "FILE, line N" (or "item N"): named in every error about it
    problem_id: str | None
    problem: str | None
    text: str
    token_ids: list[int] | None = None
    finish_reason: str | None = None
    problem_in_prompt: bool = False  # `problem` is a prompt that contains the problem's text


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_responses(path: str | Path, fmt: str) -> list[ImportedResponse]:
    if fmt not in FORMATS:
        raise InputError(f"{path}: unknown import format {fmt!r} (one of {', '.join(FORMATS)})")
    if not Path(path).is_file():
        raise InputError(f"{path} does not exist")
    reader = {"jsonl": _jsonl, "lm_eval": _lm_eval, "evalscope": _evalscope, "o1_pruner": _o1_pruner}[fmt]
    responses = list(reader(str(path)))
    if not responses:
        raise InputError(f"{path}: no responses")
    return responses


def _records(path: str):
    for n, record in iter_jsonl(path):
        yield f"{path}, line {n}", record


def _first(record: dict, fields: tuple[str, ...]):
    return next((record[f] for f in fields if record.get(f) not in (None, "")), None)


def _problem_key(where: str, record: dict, id_fields: tuple[str, ...], text_fields: tuple[str, ...]):
    problem_id, text = _first(record, id_fields), _first(record, text_fields)
    if problem_id is None and text is None:
        raise InputError(f"{where}: missing field {' or '.join(id_fields + text_fields)} (which problem it answers)")
    return (None if problem_id is None else str(problem_id)), (None if text is None else str(text))


def _as_list(where: str, field: str, value, n: int) -> list:
    if value is None:
        return [None] * n
    if n == 1 and not (isinstance(value, list) and value and isinstance(value[0], list | str)):
        return [value]
    if not isinstance(value, list) or len(value) != n:
        raise InputError(f"{where}: field {field} must hold one entry per response ({n})")
    return value


def _jsonl(path: str):
    for where, record in _records(path):
        problem_id, text = _problem_key(where, record, ("problem_id", "id"), ("problem", "question"))
        if isinstance(record.get("response"), str):
            texts = [record["response"]]
        else:
            texts = _first(record, ("responses", "generated_responses"))
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise InputError(f"{where}: missing field response (a string) or responses (a list of strings)")
        token_ids = _as_list(where, "token_ids", record.get("token_ids"), len(texts))
        reasons = _as_list(where, "finish_reason", record.get("finish_reason"), len(texts))
        for t, ids, reason in zip(texts, token_ids, reasons):
            if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
                raise InputError(f"{where}: field token_ids must be a list of integers")
            yield ImportedResponse(where, problem_id, text, t, ids, reason)


def _lm_eval(path: str):
    for where, record in _records(path):
        doc = record.get("doc")
        if not isinstance(doc, dict):
            raise InputError(f"{where}: missing field doc (lm-eval's --log_samples record)")
        _, text = _problem_key(where, doc, (), ("problem", "question", "Problem", "Question"))
        resps = record.get("resps")
        if not isinstance(resps, list) or not all(isinstance(r, list) for r in resps):
            raise InputError(f"{where}: missing field resps (a list of response lists)")
        for t in (r for request in resps for r in request):
            if not isinstance(t, str):
                raise InputError(f"{where}: field resps holds a non-text response")
            yield ImportedResponse(where, None, text, t)


def _prompt_text(where: str, record: dict) -> str:
    """The prompt of an evalscope review: its `messages` (the chat, the response included), or in
    older files `input` (a string or the prompt's messages); of messages the last user message
    counts (its content a string or a list of parts, the text parts joined)."""
    field = "messages" if record.get("messages") else "input"
    prompt = record.get(field)
    if isinstance(prompt, str) and prompt:
        return prompt
    users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"] if isinstance(prompt, list) else []
    if not users:
        raise InputError(f"{where}: missing field messages (the chat evalscope held, with a user message; or input)")
    content = users[-1].get("content")
    if isinstance(content, list):
        content = "".join(part.get("text") or "" for part in content if isinstance(part, dict))
    if not isinstance(content, str) or not content:
        raise InputError(f"{where}: field {field}'s user message has no text")
    return content


def _evalscope(path: str):
    for where, record in _records(path):
        sample_score = record.get("sample_score")
        score = sample_score.get("score") if isinstance(sample_score, dict) else None
        if not isinstance(score, dict):
            raise InputError(f"{where}: missing field sample_score.score (evalscope's review record)")
        if not isinstance(score.get("prediction"), str):
            raise InputError(f"{where}: missing field sample_score.score.prediction (the response)")
        prompt = _prompt_text(where, record)
        yield ImportedResponse(where, None, prompt, score["prediction"], problem_in_prompt=True)


def _o1_pruner(path: str):
    try:
        items = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e.msg}, line {e.lineno}); o1_pruner files are one array") from None
    if not isinstance(items, list):
        raise InputError(f"{path}: expected a JSON array of items (O1-Pruner's inference.py output)")
    for n, item in enumerate(items, 1):
        where = f"{path}, item {n}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected a JSON object")
        _, text = _problem_key(where, item, (), ("problem",))
        if not isinstance(item.get("solution"), str):
            raise InputError(f"{where}: missing field solution (the response)")
        yield ImportedResponse(where, None, text, item["solution"])


def match_to_problems(
    responses: list[ImportedResponse], problems: list[dict], path: str, per_problem: int | None
) -> list[list[ImportedResponse]]:
    """The first `per_problem` responses of each problem (None: all of them, at least one), in
    the problems' order. A response that answers no problem of the set, or a problem with fewer
    responses, is an error."""
    by_id = {str(p["id"]): i for i, p in enumerate(problems)}
    by_text: dict[str, int] = {}
    for i, p in enumerate(problems):
        by_text.setdefault(normalised(p["problem"]), i)
    # Longest first: a prompt that contains one problem's text inside another's is the longer one's.
    longest_first = sorted(by_text.items(), key=lambda item: -len(item[0]))
    in_prompt: dict[str, int | None] = {}
    grouped: list[list[ImportedResponse]] = [[] for _ in problems]
    for r in responses:
        index = by_id.get(r.problem_id) if r.problem_id is not None else None
        if index is None and r.problem is not None:
            index = by_text.get(normalised(r.problem))
        if index is None and r.problem_in_prompt:
            prompt = normalised(r.problem)
            if prompt not in in_prompt:
                in_prompt[prompt] = next((i for text, i in longest_first if text in prompt), None)
            index = in_prompt[prompt]
        if index is None:
            shown = f"id {r.problem_id!r}" if r.problem_id is not None else f"problem {r.problem[:60]!r}"
            raise InputError(f"{r.where}: {shown} matches no problem of the training set (by id or by text)")
        grouped[index].append(r)
    wanted = per_problem or 1
    for p, group in zip(problems, grouped):
        if len(group) < wanted:
            raise InputError(
                f"{path}: problem {p['id']} has {len(group)} response(s)"
                + (f", sampling.k is {per_problem}" if per_problem else "; every problem of the set needs one")
                + (f" (first: {group[0].where})" if group else "")
            )
    return [group[:per_problem] for group in grouped]


def as_generation(r: ImportedResponse, tokenizer, max_new_tokens: int) -> Generation:
    """A generation record of an imported response: its ids (given, else re-tokenised) and
    whether the token cap cut it off (its finish reason where given, else its length)."""
    eos = tokenizer.eos_token_id
    if r.token_ids is not None:
        ids = list(r.token_ids)
        truncated = r.finish_reason == "length" if r.finish_reason else len(ids) >= max_new_tokens and ids[-1] != eos
        return Generation(ids, r.text, truncated)
    ids = tokenizer.encode(r.text, add_special_tokens=False)
    truncated = r.finish_reason == "length" if r.finish_reason else len(ids) >= max_new_tokens
    return Generation(ids if truncated else [*ids, eos], r.text, truncated)


def graded_import(
    responses_path: str, fmt: str, problems: list[dict], model_path: str, settings, per_problem: int | None
):
    """(graded sample rows, each problem's response count, provenance) of a file of responses:
    read, matched to `problems` (`match_to_problems`), tokenised with `model_path`'s tokenizer and
    graded as generated responses are. `settings` (PresampleSettings or EvaluationSettings) gives
    the token cap, the answer rule and the thinking marker. Shared by `import_samples` and
    `import_evaluation`."""
    from ..models import load_tokenizer
    from .run import grade_generations

    grouped = match_to_problems(read_responses(responses_path, fmt), problems, responses_path, per_problem)
    marker = settings.thinking_end
    if marker and not any(marker in r.text for group in grouped for r in group):
        # Graded as cut off while thinking, every one of them: say why before the tables do.
        log.warning(
            "%s: no response holds the thinking marker %r, so each counts as unfinished thinking and wrong; "
            "if the tool logged the answer without its thinking (a reasoning parser), import the thinking with it",
            responses_path, marker,
        )  # fmt: skip
    undecodable = [r for group in grouped for r in group if r.token_ids is None and REPLACEMENT in r.text]
    if undecodable:
        # The model wrote bytes that are not UTF-8; the tool's text holds U+FFFD in their place,
        # so these responses' ids and counts are the replacement characters', not the model's.
        log.warning(
            "%s: %d response(s) hold U+FFFD, bytes the tool could not decode (first: %s); their token ids "
            "and counts are re-tokenised replacement characters, not what the model generated: keep the tool's "
            "token ids where it writes them",
            responses_path, len(undecodable), undecodable[0].where,
        )  # fmt: skip
    tok = load_tokenizer(model_path, settings.trust_remote_code)
    generations = [[as_generation(r, tok, settings.max_new_tokens) for r in group] for group in grouped]
    df = grade_generations(
        tok, problems, generations, answer_box=settings.answer_box, thinking_end=settings.thinking_end
    )
    provenance = {"path": responses_path, "format": fmt, "sha256": file_sha256(responses_path)}
    return df, [len(g) for g in grouped], provenance
