"""Drive the real app window on a virtual X display with one big photo and measure it.

The session a user would have: start `mambaic-gui PHOTO` (fresh settings), let the encode run,
press Esc once during it, encode again (`]`, quality +0.1), wait until the app is idle, point
at the image and then away from it (the pixel readout), and quit with Ctrl+Q. With
`--quit-after S` instead: Ctrl+Q S seconds into the first encode (does quitting wait for the
model?). Every step is timed from the outside; the app's resident memory is polled (psutil,
every 0.25 s) and its peak also read from `/usr/bin/time -v`. Screenshots, the samples
(rss.csv) and the summary (session.json) go to OUT/.

"Idle" is judged from the app's CPU time: below 10 % of one core for `IDLE_SECONDS` in a row.
The app writes no log, so this (and the screenshots, which show the status bar) is what can be
seen without changing it.

Needs Debian's xvfb, xdotool and imagemagick (see scripts/screenshot.sh).
Usage: nice -n 10 .venv/bin/python scripts/big_photo_session.py PHOTO OUT [--cancel-after S]
       [--quit-after S]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

DISPLAY = ":71"
SCREEN = "1600x1000x24"
WINDOW_CROP = "1440x900+0+0"  # a fresh profile's window size at the top left (no window manager)
POLL_SECONDS = 0.25
IDLE_SECONDS = 5.0
IDLE_CPU_SHARE = 0.10


class Sampler(threading.Thread):
    """Polls the app's RSS and CPU time; `busy_since(t)` tells whether it worked after `t`."""

    def __init__(self, process: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.samples: list[tuple[float, int, float]] = []  # (time, rss bytes, cpu seconds)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                cpu = self.process.cpu_times()
                self.samples.append((time.monotonic(), self.process.memory_info().rss,
                                     cpu.user + cpu.system))
            except psutil.Error:
                return
            time.sleep(POLL_SECONDS)

    def peak_rss(self) -> int:
        return max(rss for _, rss, _ in self.samples)

    def quiet_since(self, after: float) -> float | None:
        """When the app last used CPU (above `IDLE_CPU_SHARE`) after `after`, e.g. when it
        stopped working once Esc was pressed; None if it never did after `after`."""
        last = None
        for (t0, _, cpu0), (t1, _, cpu1) in zip(self.samples, self.samples[1:]):
            if t1 > after and (cpu1 - cpu0) / (t1 - t0) >= IDLE_CPU_SHARE:
                last = t1
        return last

    def idle(self) -> bool:
        """CPU share over the last `IDLE_SECONDS` below `IDLE_CPU_SHARE`."""
        if not self.samples:
            return False
        now, _, cpu_now = self.samples[-1]
        older = [s for s in self.samples if s[0] <= now - IDLE_SECONDS]
        if not older:
            return False
        then, _, cpu_then = older[-1]
        return (cpu_now - cpu_then) / (now - then) < IDLE_CPU_SHARE


def xdotool(*args: str) -> str:
    return subprocess.run(["xdotool", *args], capture_output=True, text=True,
                          env={**os.environ, "DISPLAY": DISPLAY}).stdout.strip()


def window_title(window: str) -> str:
    return xdotool("getwindowname", window)


def key(window: str, keys: str) -> None:
    xdotool("windowfocus", window)
    xdotool("key", keys)


def screenshot(out: Path, name: str) -> None:
    subprocess.run(["import", "-window", "root", "-crop", WINDOW_CROP, "+repage",
                    str(out / name)], env={**os.environ, "DISPLAY": DISPLAY}, check=True)


def wait_for(condition, timeout: float, step: float = 0.5) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return False


def full_session(window: str, sampler: Sampler, out: Path, args: argparse.Namespace,
                 mark: Callable[[str], float]) -> None:
    """Cancel the first encode, run a second one to the end, try the readout, quit when idle."""
    time.sleep(args.cancel_after / 2)
    screenshot(out, "1-first-encode.png")
    time.sleep(args.cancel_after / 2)
    esc = mark("Esc pressed")
    key(window, "Escape")
    wait_for(sampler.idle, 900)
    mark("idle after cancel")
    stopped = sampler.quiet_since(esc)
    if stopped is not None:
        mark("app stopped working after Esc", stopped)
    screenshot(out, "2-cancelled.png")
    key(window, "bracketright")
    mark("] pressed: second encode starts")
    time.sleep(args.cancel_after)
    screenshot(out, "3-second-encode.png")
    finished = wait_for(sampler.idle, args.timeout, 1.0)
    mark("idle after second encode" if finished else "TIMEOUT waiting for the second encode")
    screenshot(out, "4-encoded.png")
    xdotool("mousemove", "300", "400")
    time.sleep(1)
    xdotool("mousemove", "310", "410")
    time.sleep(2)
    screenshot(out, "5-readout-over-image.png")
    xdotool("mousemove", "1590", "990")  # off the window
    time.sleep(2)
    screenshot(out, "6-readout-after-leaving.png")
    mark("Ctrl+Q pressed")
    key(window, "ctrl+q")


def quit_during_encode(window: str, out: Path, args: argparse.Namespace,
                       mark: Callable[[str], float]) -> None:
    """Ctrl+Q while the first encode runs; when the window went away is marked."""
    time.sleep(args.quit_after)
    screenshot(out, "1-encoding-before-quit.png")
    mark("Ctrl+Q pressed during the encode")
    key(window, "ctrl+q")
    wait_for(lambda: not xdotool("search", "--onlyvisible", "--name", "MambaIC"), 120, 0.05)
    mark("window gone")


def peak_from_time_v(path: Path) -> int | None:
    """`/usr/bin/time -v`'s "Maximum resident set size (kbytes)", in bytes (its kB are KiB)."""
    for line in path.read_text().splitlines():
        if "Maximum resident set size" in line:
            return int(line.rsplit(":", 1)[1]) * 1024
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cancel-after", type=float, default=60.0,
                        help="seconds into the first encode to press Esc")
    parser.add_argument("--timeout", type=float, default=2700.0,
                        help="longest wait for the second encode, seconds")
    parser.add_argument("--quit-after", type=float, default=None,
                        help="instead of the full session: Ctrl+Q this many seconds into the "
                             "first encode")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp())
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", SCREEN, "-nolisten", "tcp"])
    time.sleep(2)
    env = {**os.environ, "DISPLAY": DISPLAY, "XDG_CONFIG_HOME": str(profile),
           "QT_QPA_PLATFORM": "xcb"}
    times: dict[str, float] = {}

    def mark(name: str, when: float | None = None) -> float:
        """Record step `name` (at monotonic time `when`, default now); returns that time."""
        when = time.monotonic() if when is None else when
        times[name] = round(when - start, 2)
        print(f"{times[name]:8.2f}  {name}", flush=True)
        return when

    start = time.monotonic()
    app = subprocess.Popen(["/usr/bin/time", "-v", "-o", str(out / "time-v.txt"),
                            ".venv/bin/mambaic-gui", str(args.photo)], env=env)
    wait_for(lambda: psutil.Process(app.pid).children(), 30, 0.05)
    gui = psutil.Process(app.pid).children()[0]
    sampler = Sampler(gui)
    sampler.start()
    mark("started")
    window = ""

    def find_window() -> bool:
        nonlocal window
        # Visible only: Qt's hidden helper windows ("Qt Selection Owner for mambaic-gui") match too.
        window = xdotool("search", "--onlyvisible", "--name", "MambaIC").split("\n")[0]
        return bool(window)

    wait_for(find_window, 120)
    mark("window shown")
    wait_for(lambda: args.photo.name in window_title(window), 600)
    mark("photo opened (title), first encode starts")
    if args.quit_after is None:
        full_session(window, sampler, out, args, mark)
    else:
        quit_during_encode(window, out, args, mark)
    app.wait(timeout=120)
    mark("process exited")
    sampler.stop.set()
    xvfb.terminate()
    (out / "rss.csv").write_text("seconds,rss_bytes,cpu_seconds\n" + "".join(
        f"{t - start:.2f},{rss},{cpu:.2f}\n" for t, rss, cpu in sampler.samples))
    summary = {"times_s": times, "peak_rss_polled_bytes": sampler.peak_rss(),
               "peak_rss_time_v_bytes": peak_from_time_v(out / "time-v.txt"),
               "exit_status": app.returncode, "photo": str(args.photo),
               "photo_bytes": args.photo.stat().st_size}
    (out / "session.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
