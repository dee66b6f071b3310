"""The simple bonus notebook before the book repository fixed its "empty-pair edge case" (April 2026):
with no adjacent pair left (a text of one character, or none) it asked ``max()`` of nothing and
train("H", ...) raised ``ValueError``.  The current notebooks stop when no pair is left; the stage
says so."""
from notebook_simple_style import BPETokenizerSimple as _Current


class BPETokenizerSimple(_Current):
    @staticmethod
    def count_pairs(ids):
        pairs = _Current.count_pairs(ids)
        max(pairs.values())  # the old code took the best pair before looking whether there was one
        return pairs
