"""Why a measured case cannot be scored: raised with a reason, reported as "not scored"."""


class NotScored(Exception):
    """The case lacks an input its metric needs, or measures something outside the model."""
