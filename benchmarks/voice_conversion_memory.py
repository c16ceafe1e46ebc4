"""Peak memory of the voice-conversion recipe against the number of training voices.

`python -m benchmarks.voice_conversion_memory [--extra-speakers 0 32 128] [--through-evaluation] [-- RECIPE FLAGS]`
runs `keras_ae.recipes.voice_conversion` once per `--extra-speakers` count (12 seen voices plus that many; the
default flags are session 29's 140-voice setting, `--epochs 1`, `--no-export`) in a child process and prints its peak
resident memory (the kernel's high-water mark, `VmHWM` of /proc/PID/status, read every second) with the training
pool's size. The child is stopped once its first epoch is written (training memory: the corpus, the crop pipeline,
the model and its steps), or left to finish with `--through-evaluation`. A count's eSpeak voices are synthesized and
cached on first use (about 4 min for 128). Run it alone: the numbers are this process tree's, but a loaded machine
makes the minutes long.

Example (session 30, the crop pipeline's int16 store and the pool released after its last use):
    python -m benchmarks.voice_conversion_memory --extra-speakers 0 32 128
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from keras_ae.core.validation import non_negative_int

SESSION_29 = ["--method", "adain", "--seed", "0", "--no-export", "--dynamics-weight", "1", "--dynamics-target",
              "speaker-shift", "--envelope-weight", "1", "--speaker-reference", "other", "--pairs", "64",
              "--speaker-augmentation", "--no-scale-steps", "--epochs", "1"]


def peak_memory(extra_speakers, flags, through_evaluation=False):
    """`{"peak_gib", "seconds", "pool"}` of one recipe run with `--extra-speakers extra_speakers` and `flags`."""
    with tempfile.TemporaryDirectory(prefix="vc_memory_") as folder:
        run_dir = Path(folder) / "run"
        command = [sys.executable, "-u", "-m", "keras_ae.recipes.voice_conversion", *flags,
                   "--extra-speakers", str(extra_speakers), "--run-dir", str(run_dir)]
        log = Path(folder) / "log.txt"
        started = time.perf_counter()
        with open(log, "w") as output:
            child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
            peak = 0
            while child.poll() is None:
                peak = max(peak, _high_water_kib(child.pid))
                if not through_evaluation and _epochs_written(folder):
                    child.terminate()
                    child.wait()
                    break
                time.sleep(1)
        seconds = time.perf_counter() - started
        text = log.read_text()
        if child.returncode not in (0, -15):
            raise RuntimeError(f"the recipe failed ({child.returncode}):\n{text[-3000:]}")
        pool = re.search(r"training on (\d+) utterances", text)
        return {"peak_gib": peak / 2**20, "seconds": seconds, "pool": int(pool.group(1)) if pool else None}


def _epochs_written(folder):
    """Whether the run under `folder` has written an epoch to its history.csv (a header comes first)."""
    return any(len(path.read_text().splitlines()) > 1 for path in Path(folder).glob("run*/history.csv"))


def _high_water_kib(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # just ended
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-speakers", type=non_negative_int, nargs="+", default=[0, 32, 128],
                        help="extra eSpeak voices per run (the training voices are 12 more)")
    parser.add_argument("--through-evaluation", action="store_true",
                        help="let each run finish its evaluation (default: stop after the first epoch)")
    parser.add_argument("recipe_flags", nargs="*", help="after --: the recipe's flags (default: session 29's)")
    args = parser.parse_args(argv)
    flags = args.recipe_flags or SESSION_29
    stop = "after evaluation" if args.through_evaluation else "after epoch 1"
    print(f"recipe flags: {' '.join(flags)}; stopped {stop}")
    print("| training voices | training utterances | peak RSS (GiB) | minutes |")
    print("|---|---|---|---|")
    for count in args.extra_speakers:
        row = peak_memory(count, flags, args.through_evaluation)
        print(f"| {12 + count} | {row['pool']} | {row['peak_gib']:.2f} | {row['seconds'] / 60:.1f} |", flush=True)


if __name__ == "__main__":
    main()
