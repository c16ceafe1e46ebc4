#!/usr/bin/env bash
# Sets up keras_ae on a fresh Debian machine: system packages, a virtual environment in .venv, the library.
#   bash scripts/install.sh          library + offline data sources
#   bash scripts/install.sh --test   the same plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
extras="data"
[ "${1:-}" = "--test" ] && extras="data,test"

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
python3 -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || { echo "keras_ae needs Python 3.11 as python3" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
# Offline data (../shared/DATA.md): Fashion-MNIST images; the novels' package is fetched on first use with
# `apt-get download`, which needs the package lists.
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
# Speech engines beside eSpeak NG (keras_ae.data.festival): Flite voices for varied training speech, Festival voices
# held out for evaluation.
command -v flite >/dev/null || missing+=(flite)
command -v festival >/dev/null || missing+=(festival)
[ -d /usr/share/festival/voices/english/kal_diphone ] || missing+=(festvox-kallpc16k)
[ -d /usr/share/festival/voices/english/ked_diphone ] || missing+=(festvox-kdlpc16k)
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || missing+=(festvox-us-slt-hts)
# Debian's English package descriptions (keras_ae.data.debian_packages) come with the package lists when apt is
# asked for them.
if [ ${#missing[@]} -gt 0 ] || ! apt-cache show r-cran-janeaustenr >/dev/null 2>&1 \
    || ! compgen -G "/var/lib/apt/lists/*_i18n_Translation-en*" >/dev/null; then
  sudo_if_needed apt-get update -q -o Acquire::Languages=en
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${extras}]"
echo "keras_ae installed in $(pwd)/.venv"
