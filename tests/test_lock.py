"""``requirements.lock``, which the Docker image installs from, against ``pyproject.toml``.

The lock is made by ``uv pip compile`` (README "Operating it" says how to refresh it); this
checks, without a network, that it still fits: every dependency of ``[project.dependencies]``,
and theirs (as the installed distributions declare them), is pinned at a version their
requirements allow, with hashes; nothing else is pinned for the image's platform; the tests ran
the pinned versions (``dev.py`` installs under the lock's pins); and the ``Dockerfile`` installs
the lock, checks its hashes, labels the version of ``pyproject.toml`` and does not migrate on start.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# The image: python:3.12-slim (Debian, CPython).
IMAGE = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}


@dataclass(frozen=True)
class Pin:
    version: Version
    marker: Marker | None
    hashes: int

    def in_image(self) -> bool:
        return self.marker is None or self.marker.evaluate(IMAGE | {"extra": ""})


def read_lock() -> dict[NormalizedName, Pin]:
    pins: dict[NormalizedName, Pin] = {}
    name: NormalizedName | None = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            requirement = Requirement(line.removesuffix("\\").strip())
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            name = canonicalize_name(requirement.name)
            assert name not in pins, f"{name} pinned twice"
            pins[name] = Pin(Version(specifier.version), requirement.marker, 0)
        elif line.strip().startswith("--hash=sha256:"):
            assert name is not None
            pins[name] = Pin(pins[name].version, pins[name].marker, pins[name].hashes + 1)
    return pins


def applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether the image installs ``requirement`` of a distribution asked for with ``extras``."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate(IMAGE | {"extra": e}) for e in ("", *extras))


def image_closure() -> dict[NormalizedName, list[Requirement]]:
    """Every distribution the image needs, with the requirements that ask for it: from
    pyproject's dependencies through each installed distribution's own."""
    wanted: dict[NormalizedName, list[Requirement]] = {}
    queue = [(Requirement(text), frozenset[str]()) for text in PYPROJECT["project"]["dependencies"]]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    while queue:
        requirement, asking_extras = queue.pop()
        if not applies(requirement, asking_extras):
            continue
        name = canonicalize_name(requirement.name)
        wanted.setdefault(name, []).append(requirement)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(requirement.name) or []:
            queue.append((Requirement(text), frozenset(requirement.extras)))
    return wanted


def test_the_lock_pins_every_dependency_the_image_needs_at_a_version_it_allows() -> None:
    pins = read_lock()
    for name, requirements in image_closure().items():
        assert name in pins, f"{name} (needed by {requirements}) is not in requirements.lock"
        assert pins[name].in_image(), f"{name}: the lock's marker leaves it out of the image"
        for requirement in requirements:
            assert requirement.specifier.contains(pins[name].version, prereleases=True), (
                f"requirements.lock pins {name}=={pins[name].version}, outside {requirement}"
            )


def test_the_lock_pins_nothing_else_for_the_image() -> None:
    """A dependency dropped from pyproject.toml leaves the lock too (refresh it)."""
    needed = image_closure()
    stale = [name for name, pin in read_lock().items() if pin.in_image() and name not in needed]
    assert stale == []


def test_every_pin_has_hashes() -> None:
    assert all(pin.hashes > 0 for pin in read_lock().values())


def test_the_tests_run_the_versions_the_image_installs() -> None:
    """dev.py installs under the lock's pins; a venv made before the lock changed is stale."""
    for name, pin in read_lock().items():
        if pin.in_image():
            assert Version(metadata.version(name)) == pin.version, (
                f"{name}: {metadata.version(name)} installed, {pin.version} locked; "
                "run `python3 dev.py setup`"
            )


def test_the_image_installs_the_lock_and_migrates_only_when_asked() -> None:
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.lock" in DOCKERFILE
    assert "pip install ." not in DOCKERFILE
    version = re.search(r"^ARG VERSION=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert version is not None
    assert version[1] == PYPROJECT["project"]["version"]
    for label in ("version", "revision", "source", "licenses", "title"):
        assert f"org.opencontainers.image.{label}=" in DOCKERFILE
    assert 'ENTRYPOINT ["python", "-m", "app"]' in DOCKERFILE
    assert 'CMD ["serve", "--no-migrate"]' in DOCKERFILE
    assert "app migrate" not in DOCKERFILE.split("CMD")[-1]
