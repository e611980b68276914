"""The four LLM stages as functions: problems in, records out, every request accounted for.

Each stage builds its requests, sends them through the client (cache first: a rerun of a
stage, or of a killed job, asks the server nothing it already answered), and turns each
answer into a record or a :class:`Rejected` with its reason. Model output is untrusted text:
code comes out through :mod:`assay.synth.extract`, tests are parsed (never run on the host),
JSON is read defensively. Several samples of one prompt are distinct requests by their seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay.data.records import Problem, Solution
from assay.llm.client import ChatRequest, ChatResponse, LLMClient, LLMError
from assay.llm.templates import Prompt, load_prompt
from assay.synth.extract import Extracted, extract_code, extract_json
from assay.synth.records import DifficultyRating, Judgement, Provenance, Rejected, Stage, bucket
from assay.synth.testgen import Strategy, make_suite, parse_asserts

ANSWER_KEPT = 2000  # characters of a rejected answer kept for inspection
# Ratings models give in words instead of the number asked for.
_DIFFICULTY_WORDS = {"very easy": 1, "trivial": 1, "easy": 2, "medium": 3, "moderate": 3,
                     "hard": 4, "difficult": 4, "very hard": 5, "very difficult": 5}


@dataclass
class StageResult:
    """A stage's records and rejections."""

    records: list[Any] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class _Ask:
    problem: Problem
    item_id: str
    request: ChatRequest
    prompt: Prompt
    extra: Any = None  # what the answer is about (a solution, a strategy)


def _send(client: LLMClient, stage: Stage, asks: list[_Ask]
          ) -> list[tuple[_Ask, ChatResponse | LLMError, Provenance]]:
    answers = client.chat_many([a.request for a in asks])
    out = []
    for ask, answer in zip(asks, answers, strict=True):
        usage = answer if isinstance(answer, ChatResponse) else None
        provenance = Provenance(
            stage=stage, model=client.model, prompt=ask.prompt.name,
            prompt_digest=ask.prompt.digest, temperature=ask.request.temperature,
            seed=ask.request.seed, cached=bool(usage and usage.cached),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0)
        out.append((ask, answer, provenance))
    return out


def _rejected(ask: _Ask, reason: str, answer: ChatResponse | LLMError,
              provenance: Provenance) -> Rejected:
    text = answer.text if isinstance(answer, ChatResponse) else ""
    return Rejected(problem_id=ask.problem.id, item_id=ask.item_id, reason=reason,
                    answer=text[:ANSWER_KEPT], provenance=provenance)


def _user(text: str) -> tuple[dict[str, str], ...]:
    return ({"role": "user", "content": text},)


def gen_solutions_from(clients: Sequence[LLMClient], problems: Sequence[Problem], n: int = 1,
                       temperatures: Sequence[float] = (0.8,), max_tokens: int = 768,
                       seed: int = 0) -> StageResult:
    """``gen_solutions`` with each client (one per model) in turn, results together."""
    result = StageResult()
    for client in clients:
        part = gen_solutions(client, problems, n, temperatures, max_tokens, seed)
        result.records += part.records
        result.rejected += part.rejected
    return result


def gen_solutions(client: LLMClient, problems: Sequence[Problem], n: int = 1,
                  temperatures: Sequence[float] = (0.8,), max_tokens: int = 768,
                  seed: int = 0) -> StageResult:
    """``n`` solutions per problem and temperature; each sample is its own seed."""
    prompt = load_prompt("solution")
    asks = []
    for problem in problems:
        text = prompt.render(language=problem.language, prompt=problem.prompt)
        for temperature in temperatures:
            for sample in range(n):
                request = ChatRequest(_user(text), temperature=temperature,
                                      max_tokens=max_tokens, seed=seed + sample,
                                      stage="gen-solutions")
                asks.append(_Ask(problem, f"t{temperature:g}-s{seed + sample}", request,
                                 prompt))
    result = StageResult()
    for ask, answer, provenance in _send(client, "gen-solutions", asks):
        if isinstance(answer, LLMError):
            result.rejected.append(_rejected(ask, f"request failed: {answer}", answer,
                                             provenance))
            continue
        code = extract_code(answer.text, ask.problem.language, ask.problem.entry_point,
                            truncated=answer.truncated)
        if not code.ok:
            result.rejected.append(_rejected(ask, str(code.reason), answer, provenance))
            continue
        result.records.append(Solution(
            id=f"{ask.problem.id}/{client.model}/{ask.item_id}", problem_id=ask.problem.id,
            code=code.value, language=ask.problem.language,
            origin=provenance.model_dump(mode="json")))
    return result


def gen_tests(client: LLMClient, problems: Sequence[Problem], strategy: Strategy,
              candidates: dict[str, list[Solution]] | None = None, count: int = 8,
              temperature: float = 0.2, max_tokens: int = 768, seed: int = 0
              ) -> StageResult:
    """A generated ``call`` suite per problem (records: the problems with that suite).

    ``minimal`` sees the problem; ``structured`` also its reference solution and existing
    tests; ``contrastive`` several candidate solutions (``candidates``, by problem id).
    """
    prompt = load_prompt(f"tests_{strategy}")
    asks, result = [], StageResult()
    for problem in problems:
        values: dict[str, object] = {"language": problem.language, "prompt": problem.prompt,
                                     "entry_point": problem.entry_point, "count": count}
        missing = _missing_input(problem, strategy, candidates)
        if missing is not None:
            provenance = Provenance(stage="gen-tests", model=client.model, prompt=prompt.name,
                                    prompt_digest=prompt.digest, temperature=temperature,
                                    asked=False)
            result.rejected.append(Rejected(problem_id=problem.id, item_id=strategy,
                                            reason=missing, provenance=provenance))
            continue
        if strategy == "structured":
            values.update(reference=problem.reference, existing=problem.tests.code or "")
        if strategy == "contrastive":
            chosen = (candidates or {})[problem.id][:4]
            values["candidates"] = "\n\n".join(
                f"Candidate {i + 1}:\n```{problem.language}\n{s.code}```"
                for i, s in enumerate(chosen))
        request = ChatRequest(_user(prompt.render(**values)), temperature=temperature,
                              max_tokens=max_tokens, seed=seed, stage="gen-tests")
        asks.append(_Ask(problem, strategy, request, prompt))
    for ask, answer, provenance in _send(client, "gen-tests", asks):
        suite_or_reason = _suite(ask.problem, answer, strategy, client.model)
        if isinstance(suite_or_reason, str):
            result.rejected.append(_rejected(ask, suite_or_reason, answer, provenance))
            continue
        problem = ask.problem.model_copy(update={
            "tests": suite_or_reason,
            "metadata": {**ask.problem.metadata,
                         "generated_tests": provenance.model_dump(mode="json")}})
        result.records.append(problem)
    return result


def _missing_input(problem: Problem, strategy: Strategy,
                   candidates: dict[str, list[Solution]] | None) -> str | None:
    if problem.language != "python" or not problem.entry_point:
        return "unsupported: generated tests are Python call suites (entry point needed)"
    if strategy == "structured" and not problem.reference:
        return "no reference solution for structured tests"
    if strategy == "contrastive" and len((candidates or {}).get(problem.id, [])) < 2:
        return "fewer than 2 candidate solutions for contrastive tests"
    return None


def _suite(problem: Problem, answer: ChatResponse | LLMError, strategy: Strategy,
           model: str) -> Any:
    """A TestSuite, or the reason there is none."""
    if isinstance(answer, LLMError):
        return f"request failed: {answer}"
    code = extract_code(answer.text, problem.language, truncated=answer.truncated)
    if not code.ok:
        return str(code.reason)
    parsed = parse_asserts(code.value, str(problem.entry_point))
    if not parsed.cases:
        return f"no usable test ({parsed.skipped} asserts not of the form f(literals) == literal)"
    return make_suite(parsed.cases, strategy, model, problem.tests.timeout_s)


def judge(client: LLMClient, problems: dict[str, Problem], solutions: Sequence[Solution],
          max_tokens: int = 256) -> StageResult:
    """A 0/1 verdict with an explanation per solution."""
    prompt = load_prompt("judge")
    asks = [_Ask(problems[s.problem_id], s.id, ChatRequest(
        _user(prompt.render(language=problems[s.problem_id].language,
                            prompt=problems[s.problem_id].prompt, solution=s.code)),
        temperature=0.0, max_tokens=max_tokens, seed=0, json_object=True, stage="judge"),
        prompt, s)
            for s in solutions]

    def record(ask: _Ask, value: tuple[int, str], provenance: Provenance) -> Judgement:
        score, explanation = value
        return Judgement(solution_id=ask.item_id, problem_id=ask.problem.id, score=score,
                         explanation=explanation, provenance=provenance)

    return _parsed(_send(client, "judge", asks), judge_verdict, record)


def rate_difficulty(client: LLMClient, problems: Sequence[Problem], max_tokens: int = 128
                    ) -> StageResult:
    """A 1-5 rating per problem, mapped to easy (1-2), medium (3), hard (4-5)."""
    prompt = load_prompt("difficulty")
    asks = [_Ask(p, p.id, ChatRequest(_user(prompt.render(prompt=p.prompt)), temperature=0.0,
                                      max_tokens=max_tokens, seed=0, json_object=True,
                                      stage="rate-difficulty"), prompt) for p in problems]

    def record(ask: _Ask, value: tuple[int, str], provenance: Provenance) -> DifficultyRating:
        rating, why = value
        return DifficultyRating(problem_id=ask.problem.id, rating=rating,
                                difficulty=bucket(rating), reason=why, provenance=provenance)

    return _parsed(_send(client, "rate-difficulty", asks), difficulty_rating, record)


def _parsed(answers: list[tuple[_Ask, ChatResponse | LLMError, Provenance]],
            parse: Callable[[str], Extracted], record: Callable[[_Ask, Any, Provenance], Any]
            ) -> StageResult:
    """Records of the answers ``parse`` accepts, rejections (with its reason) of the rest."""
    result = StageResult()
    for ask, answer, provenance in answers:
        if isinstance(answer, LLMError):
            result.rejected.append(_rejected(ask, f"request failed: {answer}", answer,
                                             provenance))
            continue
        found = parse(answer.text)
        if found.ok:
            result.records.append(record(ask, found.value, provenance))
        else:
            result.rejected.append(_rejected(ask, str(found.reason), answer, provenance))
    return result


def judge_verdict(text: str) -> Extracted:
    """(score 0/1, explanation) from a judge's answer, or the reason there is none."""
    found = extract_json(text)
    if not found.ok:
        return found
    score = found.value.get("score")
    if isinstance(score, str) and score.strip() in ("0", "1"):
        score = int(score)
    if isinstance(score, bool) or score not in (0, 1):
        return Extracted(reason=f"score must be 0 or 1, got {score!r}")
    return Extracted(value=(score, str(found.value.get("explanation", ""))[:1000]))


def difficulty_rating(text: str) -> Extracted:
    """(rating 1-5, reason) from an answer; ratings in words ("very hard") are mapped."""
    found = extract_json(text)
    if not found.ok:
        return found
    rating = found.value.get("difficulty")
    if isinstance(rating, str):
        words = rating.strip().lower()
        rating = int(words) if words.isdigit() else _DIFFICULTY_WORDS.get(words, rating)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        return Extracted(reason=f"difficulty must be 1-5, got {rating!r}")
    return Extracted(value=(rating, str(found.value.get("reason", ""))[:500]))
