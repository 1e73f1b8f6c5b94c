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
