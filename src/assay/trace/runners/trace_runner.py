# mypy: ignore-errors
"""assay's trace runner, run inside the sandbox by the system python3.

It runs programs several times each under the same environment and reports, for every run,
what the program wrote on stderr (its trace), how it ended and how long it took, as JSON
lines on the report fd. Whether the runs agree is decided outside the sandbox, from these
raw results.

Two ways in:

``runner.py --python JOBS_JSON`` (the entry of a batch of Python programs, started by the
language's launcher). This process, the driver, reads every input first (jobs, sources, the
tracer) and never runs untrusted code: it only compiles it. For run k it starts a fresh
interpreter, the worker (``-c`` with this file's source, the jobs on a sealed memfd, so that
nothing a program writes to the work dir reaches later runs), which forks one child per job:
the child scatters its heap (so that, as in a freshly started process, objects do not sit
at the addresses of the previous run), runs the program, traced or not, and exits. The
worker enforces each run's time limit and caps, kills what the run left behind and wipes
the run dir and /tmp. If a worker dies, the job it was running is reported and a new worker
takes the jobs after it.

``python3 -I -S runner.py --exec PROGRAM...`` (the wrapper of one program in any language;
the job on stdin). It starts the program's own run command once per run, each time in the
work dir, and reports the same results.
"""

import builtins
import contextlib
import ctypes
import gc
import json
import mmap
import os
import selectors
import shutil
import signal
import sys
import time
import traceback
import types

READ_CHUNK = 65536
PR_SET_DUMPABLE = 4
F_ADD_SEALS, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 1033, 0x2, 0x4, 0x8
GRACE_S = 5.0  # how long past a run's time limit the driver waits for its worker
TRACE_MARK = b"\nTRACE:"
# Imported by each worker before forking, so that no run pays for them (and no run's trace
# shows the first import of a module only in run 1).
WARM_MODULES = ("math", "re", "collections", "itertools", "functools", "heapq", "bisect",
                "string", "random", "copy", "operator", "ast", "dis", "traceback", "time")


def write_event(fd, event):
    data = (json.dumps(event, ensure_ascii=False) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


def make_undumpable():
    """Programs run as our user: without this they could ptrace us and forge the report."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def sealed_memfd(data, name):
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    with contextlib.suppress(OSError):
        import fcntl

        fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
    return fd


def reopen(fd):
    """A new open file description of a memfd: its own offset, starting at 0."""
    return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY)


# -- one run of one program ------------------------------------------------------------------


class Capture:
    """What one run did."""

    def __init__(self):
        self.stderr = bytearray()
        self.stdout_bytes = 0
        self.events = 0
        self.carry = b"\n"
        self.exit = None
        self.signal = None
        self.timeout = False
        self.over = None
        self.seconds = 0.0

    def take_stderr(self, data, max_bytes, max_events):
        if len(self.stderr) <= max_bytes:
            self.stderr += data
        joined = self.carry + data
        self.events += joined.count(TRACE_MARK)
        self.carry = joined[-(len(TRACE_MARK) - 1):]
        if self.over is None:
            if len(self.stderr) > max_bytes:
                self.over = "bytes"
            elif self.events > max_events:
                self.over = "events"
        return self.over is None

    def result(self, max_bytes):
        return {"exit": self.exit, "signal": self.signal, "timeout": self.timeout,
                "over": self.over, "time": round(self.seconds, 6), "events": self.events,
                "stdout_bytes": self.stdout_bytes,
                "trace": bytes(self.stderr[:max_bytes]).decode("utf-8", "replace")}


def kill_group(pid):
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def kill_running(pid):
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    kill_group(pid)


def supervise(pid, out_fd, err_fd, limits, on_exit):
    """Collect a forked run's output until it exits (or is killed for its time limit or
    caps); ``on_exit`` kills what it left behind before the pipes are drained."""
    capture = Capture()
    start = time.monotonic()
    pidfd = os.pidfd_open(pid)
    selector = selectors.DefaultSelector()
    selector.register(pidfd, selectors.EVENT_READ, "exit")
    for fd, kind in ((out_fd, "out"), (err_fd, "err")):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, kind)
    deadline = start + limits["timeout"]
    exited = False
    while not exited:
        left = deadline - time.monotonic()
        if left <= 0:
            capture.timeout = True
            kill_running(pid)
            break
        for key, _ in selector.select(left):
            if key.data == "exit":
                exited = True
            elif not drain(key.fd, key.data, capture, limits):
                selector.unregister(key.fd)
        if capture.over is not None:
            kill_running(pid)
            break
    _, status, _ = os.wait4(pid, 0)
    capture.seconds = time.monotonic() - start
    kill_group(pid)
    on_exit()
    finish = time.monotonic() + 0.5  # writers that escaped the group are dead or get 0.5 s
    selector.unregister(pidfd)
    while selector.get_map() and time.monotonic() < finish:
        for key, _ in selector.select(max(0.0, finish - time.monotonic())):
            if not drain(key.fd, key.data, capture, limits):
                selector.unregister(key.fd)
    selector.close()
    os.close(pidfd)
    if os.WIFSIGNALED(status):
        capture.signal = os.WTERMSIG(status)
    else:
        capture.exit = os.WEXITSTATUS(status)
    return capture


def drain(fd, kind, capture, limits):
    try:
        data = os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not data:
        return False
    if kind == "out":
        capture.stdout_bytes += len(data)
    else:
        capture.take_stderr(data, limits["max_bytes"], limits["max_events"])
    return True


def fork_run(child, stdin_data):
    """Fork a run: ``child()`` runs in the new process with stdin, stdout and stderr set up
    (it must not return); returns (pid, stdout read end, stderr read end)."""
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    stdin_fd = sealed_memfd(stdin_data, "stdin") if stdin_data else os.open(os.devnull,
                                                                              os.O_RDONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.dup2(stdin_fd, 0)
            if stdin_data:
                os.lseek(0, 0, os.SEEK_SET)
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            child()
        finally:
            os._exit(70)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    for fd in (out_write, err_write, stdin_fd):
        os.close(fd)
    return pid, out_read, err_read


# Set by the bwrap sandbox (cold and warm runs alike): every process of our uid in this pid
# namespace, and everything in /tmp, belongs to this run, so kill(-1) and wiping /tmp touch
# nothing else. Never set by the local backend, which runs on the host itself.
SANDBOXED = os.environ.pop("ASSAY_SANDBOXED", "") == "1" and os.getuid() != 0


# -- keeping runs apart ----------------------------------------------------------------------


def kill_strays(keep, sandboxed):
    """Kill every process of this sandbox but ``keep`` (only inside our own pid namespace)."""
    if not sandboxed:
        return
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in keep:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def wipe(directory, keep=()):
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            if entry in keep:
                continue
            path = os.path.join(directory, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def reset_dir(path):
    """An empty directory at ``path`` (a run may have replaced it with a file or a link)."""
    if os.path.islink(path) or not os.path.isdir(path):
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.makedirs(path, exist_ok=True)
    else:
        wipe(path)


def clean_up(work_dir, work_entries, sandboxed):
    """What a run left in the work dir or /tmp does not reach the next run."""
    wipe(work_dir, work_entries)
    if sandboxed:  # the host's /tmp is not ours to wipe (local backend)
        wipe("/tmp")


def child_env():
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSAY_")}
    env.setdefault("PYTHONHASHSEED", "0")
    return env


# -- Python programs: the worker's children --------------------------------------------------


_scattered = []


def scatter_heap():
    """Put a random number of objects of every small size class, and a random-sized
    mapping, before the program's own: then, as in a freshly started process, what depends
    on object addresses (id(), default hashes, the order of sets of such objects) changes
    from run to run, and the determinism filter sees it."""
    noise = os.urandom(80)
    for index in range(64):
        _scattered.extend(bytes(8 * index) for _ in range(noise[index] % 24))
    _scattered.extend([] for _ in range(noise[64] % 32))
    _scattered.extend({} for _ in range(noise[65] % 32))
    _scattered.append(mmap.mmap(-1, mmap.PAGESIZE * (1 + noise[66] % 64)))


def fresh_stdio():
    """New stdio objects on fds 0-2 (the worker's may hold buffered state)."""

    def stream(fd, mode, **options):
        return open(fd, mode, encoding="utf-8", closefd=False, **options)

    sys.stdin = sys.__stdin__ = stream(0, "r")
    sys.stdout = sys.__stdout__ = stream(1, "w")
    sys.stderr = sys.__stderr__ = stream(2, "w", errors="backslashreplace", buffering=1)


def exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        print(code, file=sys.stderr)
    return 1


def run_python_job(job, config, tracer, run_dir):
    """In the forked child: run one Python program (never returns)."""
    os.closerange(3, 1 << 16)
    status = 1
    try:
        fresh_stdio()
        os.chdir(run_dir)
        sys.path[0:0] = [run_dir]
        scatter_heap()
        gc.collect()
        sys.argv = [job["entry"], *job["argv"]]
        module = types.ModuleType("__main__")
        module.__dict__.update(__file__=job["entry"], __builtins__=builtins)
        sys.modules["__main__"] = module
        namespace = module.__dict__
        script = (compile(job["script"], job["entry"], "exec", dont_inherit=True)
                  if job.get("script") is not None else None)
        if config["instrument"]:
            trace_fd = os.dup(2)
            tracer.run_traced(job["source"], job["filename"], config["tracer"], trace_fd,
                              namespace, call=job.get("call"), script=script)
        else:
            run_plain(job, namespace, script)
        status = 0
    except SystemExit as exc:
        status = exit_status(exc)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
        status = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(status)


def run_plain(job, namespace, script):
    """A program that prints its own trace lines."""
    code = compile(job["source"], job["filename"], "exec", dont_inherit=True)
    if script is not None:
        name = os.path.splitext(job["filename"])[0]
        program = types.ModuleType(name)
        program.__dict__.update(__file__=job["filename"], __builtins__=builtins)
        sys.modules[name] = program
        exec(code, program.__dict__)
        exec(script, namespace)
    elif job.get("call") is not None:
        exec(code, namespace)
        eval(compile(job["call"], "<call>", "eval", dont_inherit=True), namespace)
    else:
        exec(code, namespace)


def load_tracer(source):
    module = types.ModuleType("assay_tracer")
    exec(compile(source, "<assay-tracer>", "exec", dont_inherit=True), module.__dict__)
    return module


def warm_up():
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            __import__(name)


def worker_main(run, indices):
    """Run ``run`` of the given jobs, one forked child each; JSON lines on stdout."""
    make_undumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    payload = json.loads(sys.stdin.buffer.read())
    config, jobs = payload["config"], payload["jobs"]
    tracer = load_tracer(payload["tracer"]) if config["instrument"] else None
    warm_up()
    gc.collect()
    gc.freeze()  # children do not copy the worker's objects when they collect
    out = sys.stdout
    keep = {1, os.getpid(), os.getppid()}
    run_dir, work_dir = payload["run_dir"], payload["work_dir"]
    reset_dir(run_dir)
    work_entries = {*payload["work_entries"], os.path.basename(run_dir)}
    for index in indices:
        job = jobs[index]
        out.write(json.dumps({"start": index}) + "\n")
        out.flush()
        reset_dir(run_dir)
        pid, out_fd, err_fd = fork_run(
            lambda job=job: run_python_job(job, config, tracer, run_dir),
            job["stdin"].encode())
        capture = supervise(pid, out_fd, err_fd, config,
                            lambda: kill_strays(keep, payload["sandboxed"]))
        os.close(out_fd)
        os.close(err_fd)
        clean_up(work_dir, work_entries, payload["sandboxed"])
        out.write(json.dumps({"result": index, **capture.result(config["max_bytes"])},
                             ensure_ascii=False) + "\n")
        out.flush()


# -- the driver of a Python batch ------------------------------------------------------------


def read_jobs(path):
    """Every input, read before anything runs."""
    with open(path) as handle:
        spec = json.load(handle)
    jobs = []
    for job in spec["jobs"]:
        with open(job["program"], encoding="utf-8") as handle:
            source = handle.read()
        script = None
        if job.get("script"):
            with open(job["script"], encoding="utf-8") as handle:
                script = handle.read()
        jobs.append({"source": source, "script": script, "call": job.get("call"),
                     "filename": job["filename"], "entry": job["entry"],
                     "argv": list(job.get("argv") or []), "stdin": job.get("stdin") or ""})
    return spec["config"], jobs


def compile_error(job):
    """The syntax error of a job's program or script (compiled only, never run)."""
    sources = [(job["source"], job["filename"])]
    if job["script"] is not None:
        sources.append((job["script"], job["entry"]))
    if job["call"] is not None:
        sources.append((job["call"], "<call>"))
    for source, name in sources:
        try:
            compile(source, name, "eval" if name == "<call>" else "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            return "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return None


class Worker:
    """A worker interpreter running one run of some jobs, watched by the driver."""

    def __init__(self, payload_fd, run, indices, hash_seed):
        source = RUNNER_SOURCE
        env = child_env()
        env["PYTHONHASHSEED"] = str(hash_seed)
        stdin = reopen(payload_fd)
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.dup2(stdin, 0)
                os.dup2(write_fd, 1)
                os.closerange(3, 1 << 16)
                argv = [sys.executable, "-P", "-s", "-c", source, "--worker", str(run),
                        ",".join(map(str, indices))]
                os.execve(sys.executable, argv, env)
            finally:
                os._exit(70)
        os.close(stdin)
        os.close(write_fd)
        self.reader = os.fdopen(read_fd, "rb")


def driver_main(jobs_path):
    make_undumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    report_fd = int(os.environ.pop("ASSAY_REPORT_FD"))
    os.set_inheritable(report_fd, False)
    config, jobs = read_jobs(jobs_path)
    work_dir = os.getcwd()
    sandboxed = SANDBOXED
    runnable = []
    for index, job in enumerate(jobs):
        problem = compile_error(job)
        if problem is None:
            runnable.append(index)
        else:
            for run in range(1, config["runs"] + 1):
                write_event(report_fd, {"job": index, "run": run, "compile_error": problem})
    tracer_source = ""
    if config["instrument"]:
        with open(config["tracer_file"], encoding="utf-8") as handle:
            tracer_source = handle.read()
    payload = json.dumps({
        "config": config, "jobs": jobs, "tracer": tracer_source, "sandboxed": sandboxed,
        "run_dir": os.path.join(work_dir, config["run_dir"]), "work_dir": work_dir,
        "work_entries": sorted(os.listdir(work_dir))}).encode()
    payload_fd = sealed_memfd(payload, "jobs")
    work_entries = set(os.listdir(work_dir))
    for run in range(1, config["runs"] + 1):
        seed = run - 1 if config["vary_hash_seed"] else config["hash_seed"]
        remaining = list(runnable)
        while remaining:
            reported, current, status = watch_worker(
                Worker(payload_fd, run, remaining, seed), run, config, report_fd)
            kill_strays({1, os.getpid()}, sandboxed)
            clean_up(work_dir, work_entries, sandboxed)
            if current is not None and current not in reported:
                write_event(report_fd, {"job": current, "run": run,
                                        "crashed": f"the runner died while running it "
                                                   f"({describe_status(status)})"})
                reported.add(current)
            if not reported:
                for index in remaining:
                    write_event(report_fd, {"job": index, "run": run,
                                            "infra": f"the trace worker died before running "
                                                     f"it ({describe_status(status)})"})
                break
            remaining = [index for index in remaining if index not in reported]
    write_event(report_fd, {"done": True})


def watch_worker(worker, run, config, report_fd):
    """Forward a worker's results; kill it if a job outlives its time limit by far."""
    reported, current, started = set(), None, time.monotonic()
    selector = selectors.DefaultSelector()
    selector.register(worker.reader, selectors.EVENT_READ)
    buffer = b""
    patience = config["timeout"] + GRACE_S
    fd = worker.reader.fileno()
    while True:
        left = started + patience - time.monotonic() if current is not None else 3600
        if left <= 0:
            kill_running(worker.pid)
            write_event(report_fd, {"job": current, "run": run, "timeout": True,
                                    "crashed": "the runner stopped responding"})
            reported.add(current)
            break
        if not selector.select(left):
            continue
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "start" in message:
                current, started = message["start"], time.monotonic()
                write_event(report_fd, {"start": current, "run": run})
            elif "result" in message:
                index = message.pop("result")
                write_event(report_fd, {"job": index, "run": run, **message})
                reported.add(index)
                current = None
    selector.close()
    worker.reader.close()
    _, status = os.waitpid(worker.pid, 0)
    return reported, current, status


def describe_status(status):
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"killed by {name}" + (" (out of memory?)" if number == signal.SIGKILL else "")
    return f"exit status {os.WEXITSTATUS(status)}"


# -- one program of any language: the wrapper ------------------------------------------------


def exec_main(program):
    make_undumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    report_fd = int(os.environ.pop("ASSAY_REPORT_FD"))
    os.set_inheritable(report_fd, False)
    status_fd = int(os.environ.pop("ASSAY_STATUS_FD", "-1"))
    if status_fd >= 0:
        os.set_inheritable(status_fd, False)
    config = json.load(sys.stdin)
    work_dir = os.getcwd()
    work_entries = set(os.listdir(work_dir))
    sandboxed = SANDBOXED
    env = child_env()
    stdin = config.get("stdin", "").encode()
    for run in range(1, config["runs"] + 1):
        syntax_read = syntax_write = -1
        run_env = dict(env)
        if run == 1 and status_fd >= 0:  # the launcher's syntax check, first run only
            syntax_read, syntax_write = os.pipe()
            os.set_blocking(syntax_read, False)
            run_env["ASSAY_STATUS_FD"] = str(syntax_write)

        def child(syntax_write=syntax_write, run_env=run_env):
            if syntax_write >= 0:
                os.closerange(3, syntax_write)
                os.closerange(syntax_write + 1, 1 << 16)
                os.set_inheritable(syntax_write, True)
            else:
                os.closerange(3, 1 << 16)
            os.chdir(work_dir)
            os.execvpe(program[0], program, run_env)

        write_event(report_fd, {"start": 0, "run": run})
        pid, out_fd, err_fd = fork_run(child, stdin)
        if syntax_write >= 0:
            os.close(syntax_write)
        capture = supervise(pid, out_fd, err_fd, config,
                            lambda: kill_strays({1, os.getpid()}, sandboxed))
        os.close(out_fd)
        os.close(err_fd)
        if syntax_read >= 0:
            problem = read_all(syntax_read)
            os.close(syntax_read)
            if problem and capture.exit != 0:
                os.write(status_fd, problem)  # the run becomes a COMPILE_ERROR
                sys.exit(1)
        clean_up(work_dir, work_entries, sandboxed)
        write_event(report_fd, {"job": 0, "run": run, **capture.result(config["max_bytes"])})
    write_event(report_fd, {"done": True})


def read_all(fd):
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(fd, READ_CHUNK):
            chunks.append(chunk)
    return b"".join(chunks)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "--worker":
        worker_main(int(sys.argv[2]), [int(i) for i in sys.argv[3].split(",") if i])
    elif mode == "--python":
        driver_main(sys.argv[2])
    elif mode == "--exec":
        exec_main(sys.argv[2:])
    else:
        sys.exit("usage: trace_runner.py --python JOBS_JSON | --exec PROGRAM...")


# The worker is started with this very source (read before any job ran).
if "__file__" in globals():
    with open(__file__, encoding="utf-8") as _handle:
        RUNNER_SOURCE = _handle.read()
main()
