# A warm standby of transform.python: started in the same sandbox as a cold step (its own fresh
# scratch directory, no network, no secrets), it imports the harness and the libraries the step's
# mode needs, says so on stdout, and waits for ONE job on stdin. Then it lowers its own limits to
# the step's (a process may lower its limits, never raise them back), and runs the job exactly as
# the cold harness would. It serves one step and exits: nothing a step does reaches the next one.
import json
import math
import os
import resource
import sys

import transform as harness

READY = 'tributary-standby-ready'


def preload(api):
    # A missing library is not the standby's failure: the harness imports it again when the step
    # runs and fails there with the same traceback a cold step shows.
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    if api == 'arrow':
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            pass


def main():
    preload(sys.argv[1] if len(sys.argv) > 1 else 'pandas')
    sys.stdout.write(READY + '\n')
    sys.stdout.flush()
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return  # ended without a step (idle, or the worker is shutting down)
    message = json.loads(line)
    # From here the process looks like a cold step's: stdin is empty.
    null = os.open('/dev/null', os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    limits = message['limits']
    # CPU time counts from the step's start: what the imports used is added to the step's limit.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime + limits['cpuSeconds'])
    # SIGXCPU at the limit (the step's error names it), SIGKILL a second later, as on the cold path.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits['memoryMb'] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    harness.main(message['job'])
    harness.finish()


if __name__ == '__main__':
    main()
