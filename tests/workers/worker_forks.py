"""Starts ``flask agency worker`` processes on demand, quickly, for the kill tests.

``python -m tests.workers.worker_forks`` imports the application once (the
configuration comes from the environment, as for ``flask --app wsgi``), then
for each line read on stdin forks a child that runs the ``agency worker``
command in a process group of its own, and prints the child's pid.  A fresh
``flask --app wsgi agency worker`` costs about 2.5 s of imports on this
machine; a fork costs milliseconds, so a test can kill fifty workers.

The launcher opens no database or Redis connection before forking, and
ignores SIGCHLD so a killed child is reaped at once (a zombie would still
look alive to reconcile).
"""
import os
import signal
import sys

from wsgi import app


def _worker(log_fd: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setpgid(0, 0)
    os.dup2(log_fd, 1)  # RQ logs to stdout, which carries the pids to the test
    os.dup2(log_fd, 2)
    code = 1
    try:
        with app.app_context():
            app.cli.main(args=["agency", "worker"], prog_name="flask", standalone_mode=False)
        code = 0
    finally:
        os._exit(code)


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    log_fd = os.open(os.environ["WORKER_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:
            _worker(log_fd)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
