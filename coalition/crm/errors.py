"""The domain errors of the member CRM, in a module of their own so other apps' hooks can raise them."""


class CoalitionError(Exception):
    """A change that the CRM refuses, with a message fit to show to staff."""


class MergeError(CoalitionError):
    """A merge that cannot be made as the data stands; the message says what to resolve."""
