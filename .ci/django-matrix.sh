#!/usr/bin/env bash
# Run tests/django against each supported (Python, Django) pair, each in its own venv
# under .venv-matrix/<name>. Exits non-zero if any leg fails; prints a summary.
#
#   bash .ci/django-matrix.sh            # every leg
#   bash .ci/django-matrix.sh dj42-py311 # only the legs named
set -uo pipefail
cd "$(dirname "$0")/.."

PY311=${PY311:-python3.11}
PY312=${PY312:-$HOME/.pyenv/versions/3.12.1/bin/python3.12}
PY313=${PY313:-$HOME/.pyenv/versions/3.13.0/bin/python3.13}

# name python django-requirement
LEGS=(
  "dj42-py311 $PY311 Django>=4.2,<4.3"
  "dj52-py311 $PY311 Django>=5.2,<5.3"
  "dj6-py312  $PY312 Django>=6,<7"
  "dj6-py313  $PY313 Django>=6,<7"
)

failed=()
summary=()
for leg in "${LEGS[@]}"; do
  read -r name python django <<<"$leg"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  venv=.venv-matrix/$name
  echo "=== $name: $python, $django"
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "$name: $python not found"; failed+=("$name"); summary+=("$name: no interpreter"); continue
  fi
  if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || { failed+=("$name"); summary+=("$name: venv failed"); continue; }
  fi
  "$venv/bin/python" -m pip install -q --upgrade 'pip>=25.1'  # --group needs pip 25.1
  if ! "$venv/bin/python" -m pip install -q -e . --group test "$django" 2>&1 | grep -v '^WARNING: Location'; then :; fi
  version=$("$venv/bin/python" -c 'import django, sys; print(django.__version__, "on Python", sys.version.split()[0])' 2>/dev/null) \
    || { failed+=("$name"); summary+=("$name: install failed"); continue; }
  log=$(mktemp)
  "$venv/bin/python" -m pytest tests/django -q -p no:cacheprovider 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  result=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$log" | tail -1 | tr -d '=')
  rm -f "$log"
  summary+=("$name (Django $version): ${result:-no result}")
  [ "$status" -eq 0 ] || failed+=("$name")
done

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED legs: ${failed[*]}"
  exit 1
fi
echo "all legs passed"
