"""One exception type for problems in the user's data or config.

The CLI prints these as one clear line each and exits non-zero; it never shows a traceback
for bad input.
"""


class StudyError(Exception):
    """A problem with input data or configuration, described for the user."""


class ProblemList(StudyError):
    """Several independent problems found at once (validation)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
