"""``assay synth CONFIG``: problems -> solutions -> tests -> verify -> judge -> select.

The config is TOML (or YAML when PyYAML is installed)::

    problems = "humaneval"        # or a problems JSONL
    limit = 3                     # the first N problems
    output = "synth-out"
    [llm]                         # optional: base_url, model, api_key, ... (else env / local)
    [solutions]
    n = 2
    temperatures = [0.2, 0.8]
    models = ["a", "b"]           # optional: several models behind the same server
    include_reference = false     # add each problem's reference solution as a candidate
    include_variants = false      # and wrong variants of it (off by one, wrong return)
    [tests]
    strategies = ["minimal", "structured", "contrastive"]
    count = 6
    [judge]
    enabled = true
    [difficulty]
    enabled = true
    [select]
    suite = "original"            # which suite's pass fraction decides: original or a strategy
    tau = 1.0                     # keep when V >= tau
    soft_tau = 0.5                # ... or when the judge says 1 and V >= soft_tau

Every stage writes its records to ``output`` (``solutions.jsonl``, ``tests-<strategy>.jsonl``,
``reports-<suite>.jsonl``, ``judgements.jsonl``, ``difficulty.jsonl``, ``selected.jsonl``)
and its rejections to ``rejected.jsonl``; LLM answers come from the response cache on a
rerun and verification from the run store, so a killed run resumes at no cost.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assay.data.importers.base import Imported, ImportOptions
from assay.data.importers.humaneval import import_humaneval
from assay.data.io import RecordWriter, read_records
from assay.data.records import Problem, Solution, SolutionReport
from assay.demo.variants import make_variant
from assay.engine import RunStore
from assay.llm.client import LLMClient
from assay.sandbox import Sandbox
from assay.synth.records import Judgement, Rejected
from assay.synth.stages import (
    StageResult,
    gen_solutions_from,
    gen_tests,
    judge,
    rate_difficulty,
)
from assay.verify import VerifyConfig, verify

STRATEGIES = ("minimal", "structured", "contrastive")


@dataclass(frozen=True)
class SynthConfig:
    """A pipeline run (see the module docstring for the file format)."""

    problems: str
    output: Path
    limit: int | None = None
    llm: dict[str, Any] = field(default_factory=dict)
    n: int = 2
    models: tuple[str, ...] = ()  # several models of the same server; () = the llm's
    include_reference: bool = False
    include_variants: bool = False
    temperatures: tuple[float, ...] = (0.8,)
    max_tokens: int = 768
    strategies: tuple[str, ...] = STRATEGIES
    test_count: int = 6
    judge: bool = True
    difficulty: bool = True
    select_suite: str = "original"
    tau: float = 1.0
    soft_tau: float = 0.5

    @classmethod
    def load(cls, path: Path) -> SynthConfig:
        """Read a config file; ValueError naming the file and what is wrong."""
        data = _read(path)
        try:
            solutions, tests = data.pop("solutions", {}), data.pop("tests", {})
            select, judged = data.pop("select", {}), data.pop("judge", {})
            difficulty = data.pop("difficulty", {})
            config = cls(
                problems=str(data.pop("problems")),
                output=(path.parent / str(data.pop("output", "synth-out"))),
                limit=data.pop("limit", None), llm=dict(data.pop("llm", {})),
                n=int(solutions.pop("n", 2)),
                models=tuple(str(m) for m in solutions.pop("models", [])),
                include_reference=bool(solutions.pop("include_reference", False)),
                include_variants=bool(solutions.pop("include_variants", False)),
                temperatures=tuple(float(t) for t in solutions.pop("temperatures", [0.8])),
                max_tokens=int(solutions.pop("max_tokens", 768)),
                strategies=tuple(tests.pop("strategies", list(STRATEGIES))),
                test_count=int(tests.pop("count", 6)),
                judge=bool(judged.pop("enabled", True)),
                difficulty=bool(difficulty.pop("enabled", True)),
                select_suite=str(select.pop("suite", "original")),
                tau=float(select.pop("tau", 1.0)), soft_tau=float(select.pop("soft_tau", 0.5)))
        except KeyError as exc:
            raise ValueError(f"{path}: missing setting {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        leftover = [k for k, v in {"": data, "solutions.": solutions, "tests.": tests,
                                   "select.": select, "judge.": judged,
                                   "difficulty.": difficulty}.items() for k in
                    [f"{k}{name}" for name in v]]
        if leftover:
            raise ValueError(f"{path}: unknown settings: {', '.join(sorted(leftover))}")
        bad = [s for s in config.strategies if s not in STRATEGIES]
        if bad:
            raise ValueError(f"{path}: unknown test strategies {bad}; known: {STRATEGIES}")
        if config.select_suite not in ("original", *config.strategies):
            raise ValueError(f"{path}: select.suite must be original or one of the strategies")
        return config


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise ValueError(f"{path}: YAML configs need PyYAML (pip install pyyaml); "
                             "or write the config as TOML") from None
        data = yaml.safe_load(text)
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a table of settings")
    return data


@dataclass
class StageSummary:
    """One stage's counts, for the table and ``--json``."""

    stage: str
    made: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    known: int = 0  # solutions added from the reference, not asked of the model
    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "made": self.made, "known": self.known,
                "rejected": sum(self.rejected.values()),
                "rejected_by_reason": dict(self.rejected.most_common()),
                "requests": self.requests, "cached": self.cached,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}


def load_problems(config: SynthConfig) -> list[Problem]:
    if config.problems == "humaneval":
        problems = [item.record for item in import_humaneval(None, ImportOptions())
                    if isinstance(item, Imported) and isinstance(item.record, Problem)]
    else:
        problems = list(read_records(config.problems, Problem))
    return problems[:config.limit] if config.limit else problems


def run_pipeline(config: SynthConfig, client: LLMClient, sandbox: Sandbox,
                 on_stage: Callable[[str], None] | None = None) -> list[StageSummary]:
    """Run every stage; returns a summary per stage."""
    out = config.output
    out.mkdir(parents=True, exist_ok=True)
    problems = load_problems(config)
    by_id = {p.id: p for p in problems}
    summaries: list[StageSummary] = []
    rejected: list[Rejected] = []

    def stage(name: str, result: StageResult, path: str | None) -> StageResult:
        if on_stage is not None:
            on_stage(name)
        summary = StageSummary(name, made=len(result.records),
                               rejected=Counter(r.reason.split(":")[0]
                                                for r in result.rejected))
        for record in [*result.records, *result.rejected]:
            provenance = _origin(record)
            if provenance is not None and provenance.get("asked", True) and \
                    "stage" in provenance:
                summary.requests += 1
                summary.cached += bool(provenance.get("cached"))
                summary.prompt_tokens += int(provenance.get("prompt_tokens", 0))
                summary.completion_tokens += int(provenance.get("completion_tokens", 0))
        summaries.append(summary)
        rejected.extend(result.rejected)
        if path is not None:
            _write(out / path, result.records)
        return result

    _write(out / "problems.jsonl", problems)
    if config.difficulty:
        stage("rate-difficulty", rate_difficulty(client, problems), "difficulty.jsonl")
    clients = [replace(client, model=m, usage={}) for m in config.models] or [client]
    generated = gen_solutions_from(clients, problems, config.n, config.temperatures,
                                   config.max_tokens)
    known = known_solutions(problems, config.include_reference, config.include_variants)
    generated.records += known
    solutions: list[Solution] = stage("gen-solutions", generated, "solutions.jsonl").records
    summaries[-1].made -= len(known)
    summaries[-1].known = len(known)
    candidates: dict[str, list[Solution]] = {}
    for solution in solutions:
        candidates.setdefault(solution.problem_id, []).append(solution)
    suites = {"original": out / "problems.jsonl"}
    for strategy in config.strategies:
        path = f"tests-{strategy}.jsonl"
        stage(f"gen-tests:{strategy}", gen_tests(client, problems, strategy,  # type: ignore[arg-type]
                                                 candidates, config.test_count), path)
        suites[strategy] = out / path
    reports = _verify_all(suites, out, sandbox, bool(solutions))
    judgements: list[Judgement] = []
    if config.judge and solutions:
        judgements = stage("judge", judge(client, by_id, solutions), "judgements.jsonl").records
    selected = select_hybrid(reports.get(config.select_suite, []), judgements, config.tau,
                             config.soft_tau)
    _write(out / "selected.jsonl", selected)
    summaries.append(StageSummary("select", made=len(selected),
                                  rejected=Counter({"below tau": len(
                                      reports.get(config.select_suite, [])) - len(selected)})))
    _write(out / "rejected.jsonl", rejected)
    return summaries


def known_solutions(problems: list[Problem], reference: bool, variants: bool
                    ) -> list[Solution]:
    """Solutions known to be right (the reference) or wrong (variants of it) next to the
    model's: they calibrate the judge (does it accept wrong code?) and the generated suites
    (do they catch it?), give contrastive tests their candidates, and keep every later stage
    fed when a small model writes nothing usable."""
    known = []
    for problem in problems:
        if not problem.reference:
            continue
        if reference:
            known.append(Solution(id=f"{problem.id}/reference", problem_id=problem.id,
                                  code=problem.reference, language=problem.language,
                                  origin={"kind": "reference"}))
        if variants and problem.entry_point and problem.language == "python":
            for kind in ("off_by_one", "wrong_return"):
                code = make_variant(problem.reference, problem.entry_point, kind)
                if code is not None:
                    known.append(Solution(id=f"{problem.id}/variant-{kind}",
                                          problem_id=problem.id, code=code,
                                          language=problem.language,
                                          origin={"kind": "variant", "mutation": kind}))
    return known


def _origin(record: Any) -> dict[str, Any] | None:
    """The provenance of a stage's record, as a dict."""
    if isinstance(getattr(record, "provenance", None), BaseModel):
        return dict(record.provenance.model_dump())
    if isinstance(record, Solution):
        return record.origin
    if isinstance(record, Problem):
        generated = record.metadata.get("generated_tests")
        return generated if isinstance(generated, dict) else None
    return None


def _verify_all(suites: dict[str, Path], out: Path, sandbox: Sandbox, any_solution: bool
                ) -> dict[str, list[SolutionReport]]:
    """Reports of every solution against each suite that has problems."""
    reports: dict[str, list[SolutionReport]] = {}
    if not any_solution:
        return reports
    with RunStore(out / "verify.store.sqlite") as store:
        for name, problems_path in suites.items():
            ids = {p.id for p in read_records(problems_path, Problem)}
            solutions = [s for s in read_records(out / "solutions.jsonl", Solution)
                         if s.problem_id in ids]
            if not solutions:
                continue
            subset = out / f".solutions-{name}.jsonl"
            _write(subset, solutions)
            path = out / f"reports-{name}.jsonl"
            verify(problems_path, subset, path, store, sandbox, VerifyConfig())
            subset.unlink()
            reports[name] = list(read_records(path, SolutionReport))
    return reports


def select_hybrid(reports: list[SolutionReport], judgements: list[Judgement], tau: float,
                  soft_tau: float) -> list[dict[str, Any]]:
    """Keep a solution when its pass fraction V >= tau, or when the judge gave it 1 and
    V >= soft_tau. Each kept row says which rule kept it."""
    judged = {j.solution_id: j.score for j in judgements}
    kept = []
    for report in reports:
        fraction = report.pass_fraction
        if fraction is None:
            continue
        if fraction >= tau:
            why = "verified"
        elif judged.get(report.solution_id) == 1 and fraction >= soft_tau:
            why = "judge + soft tau"
        else:
            continue
        kept.append({"solution_id": report.solution_id, "problem_id": report.problem_id,
                     "pass_fraction": fraction, "judge": judged.get(report.solution_id),
                     "kept_by": why, "code": report.code})
    return kept


def _write(path: Path, records: list[Any]) -> None:
    with RecordWriter(path) as writer:
        for record in records:
            writer.write(record if isinstance(record, (BaseModel, dict)) else dict(record))
