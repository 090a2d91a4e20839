"""Print the version floors declared in pyproject.toml as exact pins, for ``make test-min``.

Every requirement of ``[project] dependencies`` and of every extra must read ``name>=X`` (its own
extras ``name[a,b]``, an upper bound ``,<Y`` and a marker ``; …`` may follow); it is printed as
``name==X`` (extras and marker kept).
A requirement without a floor is an error: a floor that is not declared cannot be tested.
``NEEDED`` adds what those old releases need from their own dependencies
(packages they do not pin themselves), each with its reason.

Run with any Python >= 3.11 (tomllib), no third-party package: ``python .ci/floors.py [PYPROJECT]``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

#: What the floors need beyond themselves, with the reason (pip would otherwise take the newest).
NEEDED = {
    "numpy<2": "pandas 2.2.0, pyarrow 15 and matplotlib 3.8 are built against numpy 1.x",
}

#: ``name>=X``, optionally with an upper bound (``,<Y``) and an environment marker (``; …``).
_FLOOR = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[A-Za-z0-9._,-]+\])?\s*"
    r">=\s*(?P<floor>[0-9][^,;\s]*)\s*"
    r"(?:,\s*<[^,;]+)?\s*(?:;\s*(?P<marker>.+?))?\s*$"
)


def floors(pyproject: Path) -> list[str]:
    """``name==floor`` for every declared requirement (self-references to extras skipped)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins: dict[str, str] = {}
    for requirement in requirements:
        if requirement.split("[", 1)[0].strip().lower() == project["name"]:
            continue  # e.g. dev = ["smscampaign[notebook]"]: its floors are listed there
        match = _FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"{pyproject}: {requirement!r} has no plain 'name>=X' floor")
        name = match["name"].lower().replace("_", "-")
        pin = f"{name}{match['extras'] or ''}=={match['floor']}"
        pin += f"; {match['marker']}" if match["marker"] else ""
        if pins.setdefault(name, pin) != pin:
            raise SystemExit(f"{pyproject}: two floors for {name}: {pins[name]} and {pin}")
    return [pin for _, pin in sorted(pins.items())]


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "pyproject.toml"
    lines = floors(path)
    lines += [f"{spec}  # {why}" for spec, why in NEEDED.items()]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
