"""Leaves a spinning thread and a double-forked setsid daemon behind (it writes its pid to the
marker dir and then sleeps); its tokenizer is correct."""
# llmspec-honest-stages: tokenizer_v1
import os
import threading
import time


def _spin():
    while True:
        time.sleep(0.01)


threading.Thread(target=_spin, daemon=False).start()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        try:
            with open("@@MARKER_DIR@@/daemon-%d.pid" % os.getpid(), "w") as fh:
                fh.write(str(os.getpid()))
        except OSError:
            pass
        time.sleep(600)
    os._exit(0)

# @@HONEST_GOOD@@: the test pastes honest_good.py's tokenizer here

