"""The parent side of a run: the store (SQLite index + run folders), RunDir, statuses, events, launchers.

Both processes import `rundir`, `events`, `files` and `faults`; nothing here imports a deep-learning framework.
"""
