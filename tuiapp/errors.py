"""Errors a user can fix: reported as one clear line, exit code 2, never a traceback."""


class UserError(Exception):
    """A mistake the user can fix (bad value, missing file, corrupt data, unknown run)."""


class DataError(UserError):
    """A data file that is missing, truncated or corrupt, or a data set that cannot be found."""


class ConfigError(UserError):
    """One or more fields of a RunConfig are invalid; `problems` lists them one per field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


_UNSAFE = ("unsafe", "allow_pickle", "safe_mode", "trust the source")


def safe_message(exc: BaseException) -> str:
    """An exception's text without advice to load a file unsafely (NumPy's and Keras's own messages suggest
    `allow_pickle=True` or `safe_mode=False`: a damaged or planted file must never be loaded that way)."""
    import re

    text = str(exc)
    kept = [part for part in re.split(r"(?<=[.;:])\s+", text) if not any(w in part.lower() for w in _UNSAFE)]
    return " ".join(kept).strip() or type(exc).__name__
