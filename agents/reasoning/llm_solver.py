"""A language model that solves arithmetic chains step by step, sampled at a temperature.

The generator whose mistakes are a real model's (Lightman et al. 2023 sample GPT-4; here
SmolLM2-135M by default, or any served model): each solution is the model's reply to the
problem after one worked example with as many steps, one step a line, ``Step k: a op b = c``.
Every step line is parsed; a step the reply lacks or that does not parse counts as wrong (it is
written ``?`` and carries the value on unchanged) and is counted in
``llm/unparsed_step_rate``, which reaches the summary.

Replies are cached on disk (:func:`~aligngym.cache.cached_json`) by the model's name, the
temperature, the token limit, the sampling seed and the prompts, so the jobs of a sweep that
draw the same samples (the selectors of one seed: the same labelled solutions and pools) run
the model once. Which device wrote them is not part of the key: pools sampled on a GPU serve
the selectors' jobs on a laptop.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from aligngym.agents.llm.language_model import Chat, LanguageModel, load_language_model
from aligngym.agents.reasoning.base import SolutionGenerator
from aligngym.cache import cached_json
from aligngym.envs.core.settings import check_bool, check_float, check_int
from aligngym.envs.process_supervision.arithmetic_chains import (
    Problem,
    Solution,
    Step,
)

SYSTEM = (
    "You solve arithmetic problems step by step. Write one step per line as "
    "'Step k: a op b = c' (op is +, - or *), and nothing else."
)
#: a step line: its number, left value, operator (``x`` read as ``*``), operand and result
STEP_LINE = re.compile(r"Step\s*(\d+)\s*:\s*(-?\d+)\s*([-+*x×])\s*(-?\d+)\s*=\s*(-?\d+)")
#: the worked example's start, and the operators and operands it cycles through
EXAMPLE_START, EXAMPLE_OPERATORS, EXAMPLE_OPERANDS = 7, ("+", "*", "-"), (5, 3, 4, 2, 6)
#: tokens allowed a step (``Step 4: -123 * 9 = -1107`` and a newline are about 14)
TOKENS_PER_STEP = 18
UNPARSED = "?"


def worked_example(steps: int) -> tuple[str, str]:
    """A problem of ``steps`` steps and its right solution, as the model is shown them."""
    operators = tuple(EXAMPLE_OPERATORS[k % 3] for k in range(steps))
    operands = tuple(EXAMPLE_OPERANDS[k % 5] for k in range(steps))
    problem = Problem(EXAMPLE_START, operators, operands, trap=0, trap_operator=operators[0])
    lefts = (problem.start, *problem.values[:-1])
    solution = Solution(problem, tuple(
        Step(left, o, a, value)
        for left, o, a, value in zip(lefts, operators, operands, problem.values)
    ))  # fmt: skip
    return problem.text(), solution.text()


def solution_chat(problem: Problem) -> Chat:
    """The chat a model replies to: the system message, a worked example, the problem."""
    example, solution = worked_example(len(problem.operators))
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": example},
        {"role": "assistant", "content": solution},
        {"role": "user", "content": problem.text()},
    ]


def parse_solution(problem: Problem, reply: str) -> tuple[Solution, int]:
    """The solution a reply writes, and how many of its steps were missing or malformed: its
    ``Step k`` lines in order (the first of a repeated number); a missing step is written
    ``?`` (so it is wrong) and carries the previous value on."""
    found = {}
    for match in STEP_LINE.finditer(reply):
        found.setdefault(int(match.group(1)), match)
    steps, carried, unparsed = [], problem.start, 0
    for k in range(1, len(problem.operators) + 1):
        match = found.get(k)
        if match is None:
            steps.append(Step(carried, UNPARSED, 0, carried))
            unparsed += 1
        else:
            left, operator, operand, result = match.group(2, 3, 4, 5)
            operator = "*" if operator in ("x", "×") else operator
            steps.append(Step(int(left), operator, int(operand), int(result)))
            carried = int(result)
    return Solution(problem, tuple(steps)), unparsed


class LLMSolver(SolutionGenerator):
    """Samples solutions of arithmetic-chain problems from a language model (see the module).

    Args:
        env_id: the task (only the arithmetic chains).
        seed: seeds the model's sampling (with the study's generator).
        language_model: an already loaded model to use instead (tests, notebooks).
        temperature: the sampling temperature (> 0: the samples must differ).
        max_new_tokens: the longest reply; by default :data:`TOKENS_PER_STEP` a step.
        cache: read and write the replies in the cache (see the module docstring).
        **model_settings: the language model otherwise: the keyword arguments of
            :func:`~aligngym.agents.llm.language_model.load_language_model` (``backend``,
            ``model``, ``device``, ...), as an ``agent.model`` config gives them.
    """

    def __init__(
        self,
        env_id: str,
        seed: int = 0,
        language_model: LanguageModel | None = None,
        temperature: float = 0.7,
        max_new_tokens: int | None = None,
        cache: bool = True,
        **model_settings: Any,
    ):
        super().__init__(env_id, seed)
        self.temperature = check_float("temperature", temperature, 0.0)
        if self.temperature == 0:
            raise ValueError("temperature must be > 0: best-of-N needs different samples")
        self.max_new_tokens = check_int("max_new_tokens", max_new_tokens, 1, optional=True)
        self.cache = check_bool("cache", cache)
        self.lm = language_model or load_language_model(**model_settings)
        self.steps_written = 0
        self.steps_unparsed = 0
        self.replies_from_cache = 0

    def sample(
        self, problems: Sequence[Problem], samples: int, rng: np.random.Generator
    ) -> list[list[Solution]]:
        """``samples`` solutions of each problem; the model's sampling is seeded from ``rng``."""
        import torch

        seed = int(rng.integers(2**31)) + self.seed
        chats = [solution_chat(problem) for problem in problems for _ in range(samples)]
        longest = max(len(problem.operators) for problem in problems)
        max_new_tokens = self.max_new_tokens or TOKENS_PER_STEP * longest

        def generate() -> list[str]:
            torch.manual_seed(seed)
            return self.lm.generate(chats, max_new_tokens, self.temperature, stop=["\n\n"])

        if self.cache:
            prompts = hashlib.sha256(json.dumps(chats).encode()).hexdigest()
            key = {"model": self.lm.name, "temperature": self.temperature, "seed": seed,
                   "max_new_tokens": max_new_tokens, "prompts": prompts}  # fmt: skip
            replies, cached = cached_json("llm_solutions", key, generate)
            self.replies_from_cache += len(replies) if cached else 0
        else:
            replies = generate()
        solutions = [self.parse(problems[i // samples], reply) for i, reply in enumerate(replies)]
        return [solutions[k * samples : (k + 1) * samples] for k in range(len(problems))]

    def parse(self, problem: Problem, reply: str) -> Solution:
        """The solution ``reply`` writes (:func:`parse_solution`), its unparsed steps counted."""
        solution, unparsed = parse_solution(problem, reply)
        self.steps_written += len(solution.steps)
        self.steps_unparsed += unparsed
        return solution

    def metrics(self) -> dict[str, float]:
        """``llm/unparsed_step_rate``: the steps that were missing or did not parse; the steps
        written, and the replies read from the cache rather than sampled."""
        rate = self.steps_unparsed / self.steps_written if self.steps_written else 0.0
        return {
            "llm/unparsed_step_rate": rate,
            "llm/steps": float(self.steps_written),
            "llm/replies_from_cache": float(self.replies_from_cache),
        }

    def settings(self) -> dict[str, Any]:
        return {
            "class": type(self).__qualname__,
            "env_id": self.env_id,
            "seed": self.seed,
            "model": self.lm.name,
            "temperature": self.temperature,
            "max_new_tokens": self.max_new_tokens,
            "cache": self.cache,
        }
