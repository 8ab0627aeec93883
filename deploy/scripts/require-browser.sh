#!/usr/bin/env bash
# Installs what the real-browser tests (site/browsertest) need when it is
# missing: Debian's Chromium, the Noto fonts (so that Arabic, Pashto and
# Tigrinya render in screenshots as they do on phones), axe-core pinned by
# site/browsertest/axe/package-lock.json, and the Nu HTML Checker (vnu.jar,
# pinned by site/browsertest/vnu/package-lock.json) with a Java runtime to
# run it. Nothing is downloaded when the tests run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-core 2>/dev/null | grep -q "ok installed" || need+=(fonts-noto-core)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "require-browser: installing ${need[*]} from Debian" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "require-browser: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

axe="$root/site/browsertest/axe"
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ] || [ "$axe/package-lock.json" -nt "$axe/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "require-browser: npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
  (cd "$axe" && npm ci --no-audit --no-fund --loglevel=error)
fi

vnu="$root/site/browsertest/vnu"
if [ ! -f "$vnu/node_modules/vnu-jar/build/dist/vnu.jar" ] || [ "$vnu/package-lock.json" -nt "$vnu/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "require-browser: npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
  # --ignore-scripts: vnu-jar's postinstall would fetch a Java runtime; Debian's
  # default-jre-headless (above) runs the jar, and nothing downloads at run time.
  (cd "$vnu" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
