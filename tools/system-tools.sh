#!/usr/bin/env bash
# Installs the system programs evidencekit and its tests use, where they are missing:
# a Chromium-family browser (capture, PDF reports), openssl (local TSA in tests),
# a C++ compiler (to build the pdqhash package), minisign, jq, unzip and xxd (checking bundles by hand as a recipient without evidencekit, as
# README.txt in each bundle shows) and poppler-utils (reading PDFs).
# Uses Debian's apt when run as root; otherwise says what to install.
set -u

have_browser() {
  [ -n "${EVIDENCEKIT_BROWSER:-}" ] && [ -x "${EVIDENCEKIT_BROWSER}" ] && return 0
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$name" >/dev/null 2>&1 && return 0
  done
  ls "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium-*/chrome-linux*/chrome >/dev/null 2>&1
}

missing=()
have_browser || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v minisign >/dev/null 2>&1 || missing+=(minisign)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v xxd >/dev/null 2>&1 || missing+=(xxd)
command -v g++ >/dev/null 2>&1 || missing+=(g++)  # pdqhash builds Meta's PDQ from source
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v fc-list >/dev/null 2>&1 && fc-list | grep -qi dejavu || missing+=(fonts-dejavu-core)
command -v fc-list >/dev/null 2>&1 && fc-list | grep -qi "color emoji" || missing+=(fonts-noto-color-emoji)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing with apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null && exit 0
  echo "apt-get could not install: ${missing[*]}" >&2
  exit 1
fi
echo "Please install these programs with your system's package manager: ${missing[*]}" >&2
echo "(On Debian or Ubuntu: sudo apt-get install ${missing[*]})" >&2
echo "Or point EVIDENCEKIT_BROWSER at a Chromium or Chrome you already have." >&2
[[ " ${missing[*]} " == *" chromium "* ]] && exit 1
exit 0
