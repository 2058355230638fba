#!/usr/bin/env bash
# Install the real web servers that tests/integration/ starts. Idempotent; Debian 12, as root.
#
#   PYTHON=.venv/bin/python bash .ci/install-servers.sh
#
# 1. apt: apache2 + mod_wsgi + mod_python, lighttpd, Debian's uWSGI + python3 plugin,
#    python3-pip for Debian's Python, gcc to build pip's uWSGI, libmariadb-dev and
#    pkg-config to build mysqlclient.
# 2. pip, into the Python that runs pytest ($PYTHON): gunicorn, uvicorn, waitress, flup, uwsgi,
#    mysqlclient.
# 3. pip --target, for Debian's /usr/bin/python3 (embedded by mod_wsgi, mod_python and
#    Debian's uWSGI): .ci/embedded-requirements.txt into $LAZYCRON_EMBEDDED_SITE
#    (default /opt/lazycron-py3-embedded). The system site-packages are not touched.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}
SYSTEM_PYTHON=/usr/bin/python3
EMBEDDED_SITE=${LAZYCRON_EMBEDDED_SITE:-/opt/lazycron-py3-embedded}

apt_packages=(
    apache2 libapache2-mod-wsgi-py3 libapache2-mod-python
    lighttpd
    uwsgi uwsgi-plugin-python3
    python3 python3-pip
    gcc libc6-dev
    libmariadb-dev pkg-config
    chromium chromium-driver
)
missing=()
for package in "${apt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    echo "install-servers: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Test-side packages (uwsgi has no wheels: pip builds it with gcc, about a minute, once;
# mysqlclient, MariaDB's driver for tests/backends, builds against libmariadb-dev).
"$PYTHON" -m pip install -q \
    "gunicorn>=22" "uvicorn>=0.30" "waitress>=3" "flup>=1.0.3" "uwsgi>=2.0.28" \
    "pytest>=8" "requests>=2.31" "mysqlclient>=2.2.1"

# Debian's Python: a private --target tree, rebuilt only when the pins or Python change.
stamp="$EMBEDDED_SITE/.lazycron-stamp"
want="$(sha256sum "$here/embedded-requirements.txt" | cut -d' ' -f1) $("$SYSTEM_PYTHON" -V 2>&1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "install-servers: $SYSTEM_PYTHON -m pip install --target $EMBEDDED_SITE"
    rm -rf "$EMBEDDED_SITE"
    "$SYSTEM_PYTHON" -m pip install -q --disable-pip-version-check --no-warn-script-location \
        --target "$EMBEDDED_SITE" -r "$here/embedded-requirements.txt"
    chmod -R a+rX "$EMBEDDED_SITE"
    echo "$want" >"$stamp"
fi
PYTHONPATH="$EMBEDDED_SITE" "$SYSTEM_PYTHON" -c "import croniter, filelock, flup"

# Versions, for the log.
apache2 -v | head -1
lighttpd -v | head -1
echo "uWSGI (Debian) $(uwsgi --version), uWSGI (pip) $("$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")/uwsgi" --version)"
"$PYTHON" -m pip list 2>/dev/null | grep -iE '^(gunicorn|uvicorn|waitress|flup|uwsgi|mysqlclient) '
