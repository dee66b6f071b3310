"""Leaves a spinning thread and a double-forked setsid daemon behind (it writes its pid to the
marker dir and then sleeps); its tokenizer is correct."""
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

import re as _re


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        pre = [t.strip() for t in _re.split(r"([,.:;?_!\"()\x27]|--|\s)", text) if t.strip()]
        return [self.str_to_int[s] for s in pre]

    def decode(self, ids):
        text = " ".join(self.int_to_str[i] for i in ids)
        return _re.sub(r"\s+([,.?!\"()\x27])", r"\1", text)

