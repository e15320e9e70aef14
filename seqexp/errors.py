"""The one exception type for user mistakes and missing inputs.

The CLI prints its message as a single paragraph and exits with code 2, without a traceback;
anything else that goes wrong is a bug and keeps its traceback.
"""


class SeqexpError(Exception):
    """A bad config value, a missing file or an impossible combination the user can fix."""
