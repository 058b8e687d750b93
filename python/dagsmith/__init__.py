"""dagsmith: check Apache Airflow DAG files without running them.

The wheel installs the ``dagsmith`` executable into the environment's scripts directory;
this package only finds it, so that ``python -m dagsmith`` works wherever ``pip`` put it.
"""

from __future__ import annotations

import os
import sys
import sysconfig

__all__ = ["find_dagsmith_bin"]


def _candidate_dirs() -> list[str]:
    dirs = [sysconfig.get_path("scripts")]
    # `pip install --user`: the user scheme's scripts directory.
    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    elif os.name == "nt":
        user_scheme = "nt_user"
    elif sys.platform == "darwin" and getattr(sys, "_framework", None):
        user_scheme = "osx_framework_user"
    else:
        user_scheme = "posix_user"
    try:
        dirs.append(sysconfig.get_path("scripts", scheme=user_scheme))
    except KeyError:
        pass
    # `pip install --target DIR`: the package is DIR/dagsmith, the executable DIR/bin.
    dirs.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin"))
    return dirs


def find_dagsmith_bin() -> str:
    """The path of the ``dagsmith`` executable installed with this package."""
    name = "dagsmith" + (sysconfig.get_config_var("EXE") or "")
    for directory in _candidate_dirs():
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(
        f"the {name} executable was not found next to this Python package "
        f"(looked in {', '.join(_candidate_dirs())}); reinstall the dagsmith wheel"
    )
