"""The runners by the name `sandbox:` takes. Adding a runner is one class (a `Runner` of its own
module) and one entry here."""

from __future__ import annotations

from mlepipe.harness.apptainer import ApptainerRunner
from mlepipe.harness.bubblewrap import BubblewrapRunner
from mlepipe.harness.container import ContainerRunner
from mlepipe.harness.host import HostRunner
from mlepipe.harness.runner import Runner, SandboxUnavailable


def runner_classes() -> dict[str, type[Runner]]:
    """Every runner, by the name ``sandbox:`` takes; one entry per runner."""
    return {
        cls.name: cls for cls in (BubblewrapRunner, ContainerRunner, ApptainerRunner, HostRunner)
    }


def get_runner(name: str, **options) -> Runner:
    """The runner called ``name`` (``options`` go to a runner that takes them, such as the
    container runner's engine and image); SandboxUnavailable for an unknown name."""
    classes = runner_classes()
    if name not in classes:
        raise SandboxUnavailable(
            f"unknown sandbox runner {name!r}: use one of {', '.join(classes)}"
        )
    return classes[name](**options)


def check_runner(name: str) -> None:
    """Raise SandboxUnavailable, saying what to do, unless runner ``name`` can run here."""
    get_runner(name).check()
