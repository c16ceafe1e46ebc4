#!/usr/bin/env bash
# Screenshots of TensorBoard tabs for a run folder, with headless Chromium (apt-get install chromium).
#   bash scripts/tensorboard_screenshots.sh RUN_DIR OUT_PREFIX TAB [TAB ...]     e.g. ... runs/vqvae docs/vqvae images projector
# Starts a TensorBoard on a free port for RUN_DIR/tensorboard, loads each tab (#images, #audio, #projector,
# #hparams, #text) and writes OUT_PREFIX_TAB.png, then stops the TensorBoard it started.
set -euo pipefail
run_dir=$1; prefix=$2; shift 2
python=${PYTHON:-.venv/bin/python}
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m tensorboard.main --logdir "$run_dir/tensorboard" --port "$port" --host 127.0.0.1 >/dev/null 2>&1 &
board=$!
trap 'kill $board' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 2; done
sleep 5  # let TensorBoard read the event files
for tab in "$@"; do
  chromium --headless=new --no-sandbox --enable-unsafe-swiftshader --use-angle=swiftshader --hide-scrollbars \
    --window-size=1280,800 --virtual-time-budget=60000 --screenshot="${prefix}_${tab}.png" \
    "http://127.0.0.1:$port/#$tab" >/dev/null 2>&1
  echo "${prefix}_${tab}.png"
done
