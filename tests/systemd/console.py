#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The systemd tier's supervisor: run CMD with a new pty as its stdout and
# stderr (and as fd SD_CONSOLE_FD, which the namespace's init binds onto
# /dev/console: systemd writes nothing to a console that is not a terminal),
# copy everything written to the pty into LOG, and exit with CMD's status
# once every holder of the pty's other side is gone.  Both this process and
# CMD die with their parent (PR_SET_PDEATHSIG), so a killed test leaves
# nothing behind: CMD is `unshare --kill-child`, whose child is PID 1.
#
# usage: console.py LOG PIDFILE CMD...   (PIDFILE gets CMD's pid)
import ctypes
import errno
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main():
    log, pidfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    die_with_parent()
    if os.getppid() == 1:
        sys.exit(1)
    master, slave = os.openpty()
    env = dict(os.environ, SD_CONSOLE_FD=str(slave))
    with open(os.devnull, "rb") as null:
        p = subprocess.Popen(cmd, stdin=null, stdout=slave, stderr=slave, pass_fds=[slave],
                             env=env, start_new_session=True, preexec_fn=die_with_parent)
    os.close(slave)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{p.pid}\n")
    os.rename(pidfile + ".tmp", pidfile)
    with open(log, "ab", buffering=0) as out:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError as e:
                if e.errno == errno.EIO:      # no holder of the other side left
                    break
                raise
            if not data:
                break
            out.write(data)
    sys.exit(p.wait())


main()
