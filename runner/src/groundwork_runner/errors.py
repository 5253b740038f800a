"""Every error this library raises derives from GroundworkRunnerError."""


class GroundworkRunnerError(Exception):
    """Base class: catch this to handle any failure to start or finish a run."""


class AnsibleNotFoundError(GroundworkRunnerError):
    """ansible-playbook (ansible-core) is not installed where the wrapper looks."""


class PlaybookNotFoundError(GroundworkRunnerError):
    """The playbook path does not exist, or no collection provides the named playbook."""


class InventoryNotFoundError(GroundworkRunnerError):
    """An inventory source does not exist."""


class InvalidExtravarsError(GroundworkRunnerError):
    """Extra variables are not a mapping of names to JSON-serialisable values."""


class EventCallbackError(GroundworkRunnerError):
    """The caller's on_event callback raised; the run was cancelled. The cause is chained."""
