"""The one prompt definition used by sampling, training and evaluation.

The released O1-Pruner code used different system prompts for sampling and for training, so
the policy was trained on contexts it never sampled from. Everything here goes through
`build_messages`, so the three stages cannot drift apart.
"""

from __future__ import annotations

DEFAULT_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."

# The paper's "fast-solving prompt" baseline: the same prompt plus this instruction.
FAST_SOLVING_INSTRUCTION = "Solve the problem as quickly as possible, without pauses, checks or reflection."


def build_messages(problem: str, system_prompt: str | None = DEFAULT_SYSTEM_PROMPT, fast: bool = False) -> list[dict]:
    user = f"{problem}\n{FAST_SOLVING_INSTRUCTION}" if fast else problem
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": user})
    return messages


def render_prompt(
    tokenizer, problem: str, system_prompt: str | None = DEFAULT_SYSTEM_PROMPT, fast: bool = False
) -> str:
    """The model-ready prompt text (chat template with the assistant turn opened)."""
    return tokenizer.apply_chat_template(
        build_messages(problem, system_prompt, fast), tokenize=False, add_generation_prompt=True
    )
