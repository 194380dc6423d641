"""``python -m zoho_cscart_sync.mapping.check [MAPPINGS_DIR]``: the CI check over every mapping file.

Not a package ``__main__``: Airflow's plugin loader executes every file under plugins/ as a top-level
module named after the file, and a ``__main__.py`` would then run as a script inside the scheduler.
"""

from __future__ import annotations

import sys
from pathlib import Path

from zoho_cscart_sync.mapping.loader import default_mappings_dir
from zoho_cscart_sync.mapping.validation import validate_all


def main(argv: list[str]) -> int:
    """Print one line per problem to stderr; exit status 1 when there is any."""
    directory = Path(argv[0]) if argv else default_mappings_dir()
    problems = validate_all(directory)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    sys.stdout.write(f"{directory}: {'OK' if not problems else f'{len(problems)} problem(s)'}\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
