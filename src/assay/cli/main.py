"""Entry point of the ``assay`` console script."""

from __future__ import annotations

import logging

import typer

from assay.cli import (
    demo,
    importing,
    languages,
    llm,
    run,
    selfcheck,
    suites,
    swe,
    synth,
    trace,
    verification,
)

app = typer.Typer(
    name="assay",
    help="Execution-verified data for training and evaluating code models.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.command("run", help=run.HELP, epilog=run.EPILOG)(run.run)
app.command("languages", help=languages.HELP, epilog=languages.EPILOG)(languages.languages)
app.command("selfcheck", help=selfcheck.HELP, epilog=selfcheck.EPILOG)(selfcheck.selfcheck)
app.command("demo", help=demo.HELP, epilog=demo.EPILOG)(demo.demo)
app.command("import", help=importing.HELP, epilog=importing.EPILOG)(importing.import_command)
app.command("verify", help=verification.VERIFY_HELP,
            epilog=verification.VERIFY_EPILOG)(verification.verify_command)
app.command("regrade", help=verification.REGRADE_HELP,
            epilog=verification.REGRADE_EPILOG)(verification.regrade_command)
app.command("select", help=verification.SELECT_HELP,
            epilog=verification.SELECT_EPILOG)(verification.select_command)
app.command("passk", help=verification.PASSK_HELP,
            epilog=verification.PASSK_EPILOG)(verification.passk_command)
app.command("agree", help=verification.AGREE_HELP,
            epilog=verification.AGREE_EPILOG)(verification.agree_command)
app.command("suites", help=suites.HELP, epilog=suites.EPILOG)(suites.suites)
app.add_typer(trace.trace_app, name="trace", help="Execution traces, tasks and their scores.")
app.add_typer(swe.swe_app, name="swe", help=swe.HELP)
app.add_typer(llm.llm_app, name="llm", help=llm.HELP)
app.command("synth", help=synth.SYNTH_HELP, epilog=synth.SYNTH_EPILOG)(synth.synth_command)
app.command("gen-solutions", help=synth.GEN_SOLUTIONS_HELP,
            epilog=synth.GEN_SOLUTIONS_EPILOG)(synth.gen_solutions_command)
app.command("gen-tests", help=synth.GEN_TESTS_HELP,
            epilog=synth.GEN_TESTS_EPILOG)(synth.gen_tests_command)
app.command("judge", help=synth.JUDGE_HELP, epilog=synth.JUDGE_EPILOG)(synth.judge_command)
app.command("rate-difficulty", help=synth.DIFFICULTY_HELP,
            epilog=synth.DIFFICULTY_EPILOG)(synth.rate_difficulty_command)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug output.")
         ) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    app()
