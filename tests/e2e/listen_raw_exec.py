"""Listens on 127.0.0.1 (an ephemeral port), says "listening", then replaces
itself with `sleep 60` through a raw execve system call without LD_PRELOAD:
the shim's execve wrapper (which removes the segment) never runs, so the
process is alive, no longer runs the shim, and leaves its segment stale.
With --wait it reads a line from stdin before the exec."""
import ctypes
import os
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print("listening", flush=True)
if "--wait" in sys.argv[1:]:
    sys.stdin.readline()
env = [b"%s=%s" % (k, v) for k, v in os.environb.items() if k != b"LD_PRELOAD"]
argv = (ctypes.c_char_p * 3)(b"sleep", b"60", None)
envp = (ctypes.c_char_p * (len(env) + 1))(*env, None)
nr = {"x86_64": 59, "aarch64": 221}[os.uname().machine]
ctypes.CDLL(None, use_errno=True).syscall(nr, b"/bin/sleep", argv, envp)
sys.exit("execve failed")
