"""ansible-test's pip bootstrap, offline: what get-pip.py does, from pip's own wheel.

ansible-test makes every sanity test's virtual environment without pip, then runs
~/.ansible/test/cache/get_pip_<version>.py, which it downloads from ci-files.testing.ansible.com:
unreachable here and in CI. scripts/setup.sh puts this file there under that name instead, beside
pip's wheel of that version from PyPI. Like get-pip.py it takes pip install's arguments and its
own --no-setuptools and --no-wheel (nothing but pip is installed either way).
"""

import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__)
    version = here.stem.removeprefix("get_pip_").replace("_", ".")
    wheel = here.with_name(f"pip-{version}-py3-none-any.whl")
    sys.path.insert(0, str(wheel))  # pip runs from its wheel, as get-pip.py runs it from its embedded copy
    from pip._internal.cli.main import main as pip  # noqa: PLC0415 - importable only once the wheel is on the path

    arguments = [argument for argument in sys.argv[1:] if argument not in ("--no-setuptools", "--no-wheel")]
    return pip(["install", *arguments])


if __name__ == "__main__":
    sys.exit(main())
