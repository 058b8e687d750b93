"""``python -m dagsmith ARGS``: runs the ``dagsmith`` executable with ARGS."""

from __future__ import annotations

import os
import subprocess
import sys

from dagsmith import find_dagsmith_bin


def main() -> None:
    try:
        binary = find_dagsmith_bin()
    except FileNotFoundError as e:
        print(f"dagsmith: error: {e}", file=sys.stderr)
        sys.exit(2)
    args = [binary, *sys.argv[1:]]
    if os.name == "nt":
        # No exec on Windows: run it and pass its exit status on.
        sys.exit(subprocess.call(args))
    os.execv(binary, args)


if __name__ == "__main__":
    main()
