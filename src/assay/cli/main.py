"""Entry point of the ``assay`` console script."""

from __future__ import annotations

import logging

import typer

from assay.cli import languages, run, selfcheck

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


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug output.")
         ) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    app()
