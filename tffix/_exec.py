"""The process that actually executes user programs, in two modes (an internal module: `python -m tffix._exec`).

    python -m tffix._exec run RESULT_JSON PROGRAM [ARGS...]
        Runs PROGRAM as __main__ and writes what ended it (exit code, uncaught exception) to RESULT_JSON.

    python -m tffix._exec serve PRELOAD[,PRELOAD...]
        A warm worker: imports the PRELOAD modules once (TensorFlow costs ~3 s to import), then reads one JSON
        request per line on stdin and, for each, forks a child that runs the program exactly as `run` would.
        The fork gives every program a private copy of the interpreter, so graph mode, soft placement or device
        configuration set by one program never leaks into the next. The parent never runs a TensorFlow op, so
        the runtime is first initialised inside each child.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import time
import traceback


def _run_main(program: str, args: list[str], result_path: str, prelude: str | None) -> int:
    sys.argv = [program, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    record: dict = {"exception": None, "message": None, "exit_code": 0}
    try:
        if prelude:
            exec(compile(prelude, "<tffix prelude>", "exec"), {"__name__": "__tffix_prelude__"})
        runpy.run_path(program, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        record["exit_code"] = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
    except BaseException as exc:  # noqa: BLE001 - we report whatever ended the program
        traceback.print_exc()
        record.update(
            exception=f"{type(exc).__module__}.{type(exc).__qualname__}",
            message=str(exc),
            exit_code=1,
        )
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    return record["exit_code"]


def _serve(preload: list[str]) -> None:
    for name in preload:
        if name:
            __import__(name)
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    # From here on fd 1 must never carry anything but protocol lines: point it at stderr.
    os.dup2(2, 1)
    protocol.write(json.dumps({"ready": True, "preloaded": preload}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        protocol.write(json.dumps(_serve_one(request)) + "\n")


def _serve_one(request: dict) -> dict:
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.setsid()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            for fd, path, flags in (
                (0, os.devnull, os.O_RDONLY),
                (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            ):
                target = os.open(path, flags, 0o644)
                os.dup2(target, fd)
                os.close(target)
            sys.stdin = open(0, closefd=False)  # noqa: SIM115
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
            os.chdir(request["cwd"])
            os.environ.update(request.get("env") or {})
            code = _run_main(request["program"], request["args"], request["result"], request.get("prelude"))
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        finally:
            os._exit(code if isinstance(code, int) else 1)
    deadline = started + float(request["timeout"])
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {"exit_code": os.waitstatus_to_exitcode(status), "timed_out": False,
                    "seconds": time.monotonic() - started}
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return {"exit_code": None, "timed_out": True, "seconds": time.monotonic() - started}
        time.sleep(0.005)


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "run":
        result_path, program, *args = argv[1:]
        return _run_main(program, args, result_path, os.environ.pop("TFFIX_PRELUDE", None))
    if len(argv) == 2 and argv[0] == "serve":
        _serve(argv[1].split(","))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
