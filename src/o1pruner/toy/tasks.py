"""Synthetic multi-step word problems with concise and "long-thought" solutions.

A problem is a start value followed by `steps` add/subtract events; every intermediate value
stays within [0, max_value]. Difficulty levels differ in the number of steps and the size of
the numbers, so harder problems need more tokens and are answered less reliably.

Long-thought solutions insert overthinking segments that all begin with the same marker
("Wait,"). A shared marker is what makes a model's *greedy* output long-thought (probability
spread over many openings would lose to the one concise continuation); the segments restate
values already present in the context instead of redoing arithmetic, since pushing down
re-computed result tokens during pruning damages the arithmetic itself.

Two solution styles exist. In `restate` (the default toy) the concise solution already works
step by step and overthinking only restates known values, so thinking never helps. In
`estimate_check` every solution opens with a one-shot estimate of the whole sum; the concise
solution answers with it, the long-thought one goes on with "Wait, let me check step by step"
and answers with the checked result. A one-shot sum of five terms is beyond a tiny model, so
there the check is what makes hard problems right, while the restatements around it are still
pure overhead: a method has to learn which "Wait," to keep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

OVERTHINKING_MARKER = "Wait,"
SOLUTION_STYLES = ("restate", "estimate_check")
CHECK_OPENING = "Wait, let me check."

NAMES = ["Ann", "Ben", "Cara", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivy", "Jon"]
OBJECTS = ["apples", "pens", "books", "coins", "cards", "shells", "stamps", "marbles"]
GAIN_VERBS = ["gets", "finds", "buys", "wins"]
LOSS_VERBS = ["gives away", "loses", "sells", "drops"]

# Each overthinking segment restates what is already known; {slot}s are filled from context.
START_CHECKS = [
    "Wait, the problem says {value} {obj}.",
    "Wait, let me reread: {value} {obj} at first.",
]
STEP_CHECKS = [
    "Wait, so far {value} {obj}.",
    "Wait, that leaves {value}.",
    "Wait, is it {value}? Yes.",
]
FINAL_CHECKS = [
    "Wait, the question asks how many {obj}.",
    "Wait, let me confirm: {value}.",
]


@dataclass(frozen=True)
class Level:
    steps: int
    max_value: int


def make_problem(rng: random.Random, level: int, spec: Level) -> dict:
    """One problem: text, gold answer and the event list needed to write its solutions."""
    name, obj = rng.choice(NAMES), rng.choice(OBJECTS)
    value = rng.randint(0, spec.max_value)
    start = value
    events = []
    for _ in range(spec.steps):
        gain_room, loss_room = spec.max_value - value, value
        gain = gain_room > 0 and (loss_room == 0 or rng.random() < 0.5)
        amount = rng.randint(1, gain_room if gain else loss_room)
        verb = rng.choice(GAIN_VERBS if gain else LOSS_VERBS)
        new_value = value + amount if gain else value - amount
        events.append({"verb": verb, "gain": gain, "amount": amount, "before": value, "after": new_value})
        value = new_value
    sentences = [f"{name} has {start} {obj}."]
    sentences += [f"{name} {e['verb']} {e['amount']}{' more' if e['gain'] else ''}." for e in events]
    sentences.append(f"How many {obj} now?")
    return {
        "problem": " ".join(sentences),
        "answer": str(value),
        "level": level,
        "obj": obj,
        "start": start,
        "events": events,
    }


def write_solution(rng: random.Random, problem: dict, long_thought: bool, check_prob: float) -> str:
    """A step-by-step solution; long-thought ones carry marker-led restatement segments."""
    obj = problem["obj"]
    parts = [f"Start: {problem['start']}."]

    def maybe_check(templates: list[str], value, always: bool = False) -> None:
        if long_thought and (always or rng.random() < check_prob):
            parts.append(rng.choice(templates).format(obj=obj, value=value))

    # Every long-thought solution opens with a check, so "Wait," is the most likely first move.
    maybe_check(START_CHECKS, problem["start"], always=True)
    for e in problem["events"]:
        sign = "+" if e["gain"] else "-"
        parts.append(f"{e['before']} {sign} {e['amount']} = {e['after']}.")
        maybe_check(STEP_CHECKS, e["after"])
    maybe_check(FINAL_CHECKS, problem["answer"])
    parts.append(f"The answer is \\boxed{{{problem['answer']}}}.")
    return " ".join(parts)


ANSWER_OPENING = "The answer is"
# The thinking block of DeepSeek-R1's distills, which the toy's thinking variant (toy.thinking) copies.
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def with_thinking_block(solution: str, close: str) -> str:
    """The solution as a thinking model writes it: the working inside the block (the chat template
    opens it), `close`, then the answer line ("Start: 4. 4 + 3 = 7.\n</think>\nThe answer is ...")."""
    working, answer = solution.rsplit(ANSWER_OPENING, 1)
    return f"{working.rstrip()}\n{close}\n{ANSWER_OPENING}{answer}"


def _near_miss(rng: random.Random, value: int) -> int:
    """A wrong estimate close to `value` (never negative)."""
    candidates = [v for v in range(value - 3, value + 4) if v >= 0 and v != value]
    return rng.choice(candidates)


def write_estimate_check_solution(
    rng: random.Random, problem: dict, long_thought: bool, check_prob: float, estimate_error: float
) -> str:
    """Estimate the whole sum at once; long-thought solutions then work it out step by step.

    With probability `estimate_error` the written estimate is a near miss. The check computes
    from the problem's own numbers and the answer is its result, so a model cannot learn to
    copy the estimate into the answer; the concise solution answers with the estimate as it is.
    """
    obj, gold = problem["obj"], int(problem["answer"])
    # Compact arithmetic (no spaces, which Qwen2's pre-tokenizer makes tokens of their own): the
    # check's price in tokens is then close to the estimate's own.
    terms = [str(problem["start"])] + [f"{'+' if e['gain'] else '-'}{e['amount']}" for e in problem["events"]]
    estimate = _near_miss(rng, gold) if rng.random() < estimate_error else gold
    parts = [f"Estimate: {''.join(terms)}={estimate}."]
    if not long_thought:
        parts.append(f"The answer is \\boxed{{{estimate}}}.")
        return " ".join(parts)

    def maybe_check(templates: list[str], value) -> None:
        if rng.random() < check_prob:
            parts.append(rng.choice(templates).format(obj=obj, value=value))

    parts.append(CHECK_OPENING)
    maybe_check(START_CHECKS, problem["start"])
    # Each step restates the value it starts from ("4+8=12. 12+1=13."): carrying the previous
    # result on implicitly ("+1=13.") made the tiny model's checks markedly less reliable.
    for e in problem["events"]:
        sign = "+" if e["gain"] else "-"
        parts.append(f"{e['before']}{sign}{e['amount']}={e['after']}.")
        maybe_check(STEP_CHECKS, e["after"])
    maybe_check(FINAL_CHECKS, gold)
    parts.append(f"The answer is \\boxed{{{gold}}}.")
    return " ".join(parts)


MAX_DRAWS = 10_000  # tries for one new problem text before the level counts as exhausted


def _draw_split(rng: random.Random, n: int, split: str, levels: list[Level], exclude: set[str], unique: bool):
    """n problems, level by level round-robin, none of whose texts is in `exclude` (with
    `unique`, each drawn text is added to it, so none repeats within the split)."""
    rows = []
    for i in range(n):
        level = i % len(levels) + 1
        for _ in range(MAX_DRAWS):
            p = make_problem(rng, level, levels[level - 1])
            if p["problem"] not in exclude:
                break
        else:
            raise ValueError(
                f"toy level {level} has too few distinct problems for {n} {split} problems apart from the others: "
                "lower the number or widen toy.levels"
            )
        if unique:
            exclude.add(p["problem"])
        rows.append(
            {
                "id": f"toy-{split}-{i:06d}",
                "problem": p["problem"],
                "answer": p["answer"],
                "level": level,
                "dataset": "toy",
                "worked": p,
            }
        )
    return rows


def generate_toy_splits(seed: int, n_train: int, n_test: int, levels: list[Level]) -> tuple[list[dict], list[dict]]:
    """Train and test splits, stratified by level (round-robin), deterministic in `seed`.

    No test problem text occurs in the training split or twice in the test split.
    """
    rng = random.Random(seed)
    train = _draw_split(rng, n_train, "train", levels, set(), unique=False)
    test = _draw_split(rng, n_test, "test", levels, {r["problem"] for r in train}, unique=True)
    return train, test


def generate_toy_validation(seed: int, n: int, levels: list[Level], exclude: set[str]) -> list[dict]:
    """A validation split (for picking hyperparameters), from its own random stream: no text of
    `exclude` (the train and test problems) and none twice."""
    return _draw_split(random.Random(f"validation-{seed}"), n, "validation", levels, set(exclude), unique=True)
