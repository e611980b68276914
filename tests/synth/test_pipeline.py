"""``assay synth`` end to end on HumanEval problems against the real local SmolLM2 server:
every stage runs, every request ends as a record or a rejection with a reason, and a rerun
is served from the response cache. Also the hybrid selection rule and the config checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.data import read_records
from assay.data.records import Solution, SolutionReport
from assay.llm.server import LocalServer
from assay.synth.pipeline import SynthConfig, select_hybrid
from assay.synth.records import Judgement, Provenance

CONFIG = """problems = "humaneval"
limit = 2
output = "out"
[solutions]
n = 1
include_reference = true
include_variants = true
max_tokens = 256
[tests]
strategies = ["minimal", "structured", "contrastive"]
count = 4
[select]
suite = "original"
tau = 1.0
soft_tau = 0.5
"""
STAGES = ["rate-difficulty", "gen-solutions", "gen-tests:minimal", "gen-tests:structured",
          "gen-tests:contrastive", "judge", "select"]


def synth(local_llm: LocalServer, config: Path, cache: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, [
        "synth", str(config), "--base-url", local_llm.base_url, "--model",
        local_llm.model_name, "--json"], env={"ASSAY_CACHE_DIR": str(cache)})
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def runs(local_llm: LocalServer, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    root = tmp_path_factory.mktemp("synth")
    config = root / "synth.toml"
    config.write_text(CONFIG)
    first = synth(local_llm, config, root / "cache")
    second = synth(local_llm, config, root / "cache")
    return root / "out", first, second


def test_every_stage_runs_and_every_request_is_accounted_for(
        runs: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    out, first, _ = runs
    stages = {s["stage"]: s for s in first["stages"]}
    assert list(stages) == STAGES
    problems = 2
    assert stages["rate-difficulty"]["made"] + stages["rate-difficulty"]["rejected"] == problems
    solutions = stages["gen-solutions"]
    assert solutions["made"] + solutions["rejected"] == solutions["requests"] == problems
    assert solutions["known"] == 2 * 3  # each reference and its two wrong variants
    for strategy in ("minimal", "structured", "contrastive"):
        tests = stages[f"gen-tests:{strategy}"]
        assert tests["made"] + tests["rejected"] == problems
        assert tests["requests"] == problems  # every problem had what its strategy needs
    judged = stages["judge"]
    written = len(list(read_records(out / "solutions.jsonl", Solution)))
    assert judged["made"] + judged["rejected"] == judged["requests"] == written
    rejected = [json.loads(line) for line in (out / "rejected.jsonl").read_text().splitlines()]
    assert all(r["reason"] for r in rejected)
    asked = sum(s["requests"] for s in first["stages"])
    made = sum(s["made"] for s in first["stages"] if s["stage"] != "select")
    assert made + len(rejected) == asked


def test_selection_keeps_the_references_and_drops_the_wrong_variants(
        runs: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    out, _, _ = runs
    kept = [json.loads(line) for line in (out / "selected.jsonl").read_text().splitlines()]
    ids = {row["solution_id"] for row in kept}
    assert {"HumanEval/0/reference", "HumanEval/1/reference"} <= ids
    assert not [i for i in ids if "/variant-" in i]
    reports = list(read_records(out / "reports-original.jsonl", SolutionReport))
    assert {r.solution_id for r in reports} == {
        s.id for s in read_records(out / "solutions.jsonl", Solution)}


def test_records_say_which_model_prompt_and_temperature_made_them(
        runs: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    out, _, _ = runs
    for line in (out / "rejected.jsonl").read_text().splitlines():
        provenance = json.loads(line)["provenance"]
        assert provenance["model"] and provenance["prompt"] and provenance["prompt_digest"]
        assert "temperature" in provenance


def test_a_rerun_is_served_from_the_cache(
        runs: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, first, second = runs
    for before, after in zip(first["stages"], second["stages"], strict=True):
        assert after["cached"] == after["requests"], after
        assert (after["made"], after["rejected"]) == (before["made"], before["rejected"])


def provenance() -> Provenance:
    return Provenance(stage="judge", model="m", prompt="judge", prompt_digest="d",
                      temperature=0.0)


def report(solution_id: str, fraction: float | None) -> SolutionReport:
    return SolutionReport(problem_id="p", solution_id=solution_id, language="python", code="",
                          outcomes=[], passed=0, total=4, pass_fraction=fraction,
                          score=None if fraction is None else 100 * fraction)


def test_hybrid_selection_rules() -> None:
    reports = [report("full", 1.0), report("judged", 0.75), report("judged-low", 0.25),
               report("unjudged", 0.75), report("rejected-by-judge", 0.75),
               report("no-tests", None)]
    judgements = [Judgement(solution_id=s, problem_id="p", score=score,
                            provenance=provenance())
                  for s, score in (("judged", 1), ("judged-low", 1), ("rejected-by-judge", 0),
                                   ("full", 0))]
    kept = {row["solution_id"]: row["kept_by"]
            for row in select_hybrid(reports, judgements, tau=1.0, soft_tau=0.5)}
    assert kept == {"full": "verified", "judged": "judge + soft tau"}


def test_config_errors_name_the_file_and_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('problems = "p.jsonl"\n[tests]\nstrategies = ["fuzzy"]\n')
    with pytest.raises(ValueError, match=r"bad\.toml: unknown test strategies \['fuzzy'\]"):
        SynthConfig.load(path)
    path.write_text('problems = "p.jsonl"\ncolour = "blue"\n')
    with pytest.raises(ValueError, match=r"bad\.toml: unknown settings: colour"):
        SynthConfig.load(path)
    path.write_text("limit = 3\n")
    with pytest.raises(ValueError, match=r"bad\.toml: missing setting 'problems'"):
        SynthConfig.load(path)
