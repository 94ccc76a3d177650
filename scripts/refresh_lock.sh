#!/usr/bin/env bash
# Re-resolve every dependency from pyproject.toml and write constraints.txt, the lock `make` installs
# from. Run it when you change a dependency or want newer releases, then run `make test` on the
# new lock before committing it:
#     scripts/refresh_lock.sh && make clean && make test
# It resolves in a throwaway virtual environment, so the project's .venv is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
# torch and torchaudio must stay an exact pair (pyproject pins them): torchaudio's C++ library is
# built against one torch release and does not load with another.
"$work/venv/bin/python" -m pip install --quiet -e '.[dev,styletts2]'
"$work/venv/bin/python" -c "import torch, torchaudio, styletts2; print('torch', torch.__version__, 'torchaudio', torchaudio.__version__)"
{
  echo "# The lock: every distribution the test suite ran with, at the version it ran with."
  echo "# make installs with pip's -c constraints.txt, so a fresh machine gets exactly these."
  echo "# Regenerate with scripts/refresh_lock.sh (Python $("$work/venv/bin/python" -c 'import platform; print(platform.python_version())'), $(uname -m))."
  echo "pip==$("$work/venv/bin/python" -m pip --version | cut -d' ' -f2)"
  "$work/venv/bin/python" -m pip freeze --exclude-editable --all | grep -v '^pip==' | LC_ALL=C sort -f
} > constraints.txt.new
mv constraints.txt.new constraints.txt
echo "wrote constraints.txt ($(grep -vc '^#' constraints.txt) pins)"
