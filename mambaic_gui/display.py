"""Decide, before Qt starts, whether a window can be opened at all.

Qt's xcb plugin calls qFatal (abort, core dump) when it cannot reach the X server, so on a headless
machine `mambaic-gui` would crash instead of explaining itself. We probe the display sockets the
way the client libraries would and let `app.main` exit with a message instead.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Mapping

_X_DISPLAY = re.compile(r"^(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?$")


def _x_display_reachable(display: str) -> bool:
    """True when something accepts connections on the X display `display` (e.g. ':0', 'host:10')."""
    match = _X_DISPLAY.match(display)
    if match is None:
        return True  # a form we do not parse (e.g. a launchd path on macOS): let Qt decide
    host, number = match.group("host"), int(match.group("number"))
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        for address in (path, "\0" + path):  # filesystem socket, then Linux abstract namespace
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(1.0)
                    sock.connect(address)
                    return True
            except OSError:
                continue
        if host == "unix":
            return False
        host = "localhost"
    try:
        with socket.create_connection((host, 6000 + number), timeout=1.0):
            return True
    except OSError:
        return False


def _wayland_reachable(env: Mapping[str, str]) -> bool:
    name = env.get("WAYLAND_DISPLAY", "")
    if not name:
        return False
    path = name if os.path.isabs(name) else os.path.join(env.get("XDG_RUNTIME_DIR", ""), name)
    return os.path.exists(path)


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can be opened here, or None when one probably can."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have a window server for a logged-in user
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs…: the user chose a platform that needs no server
    if _wayland_reachable(env):
        return None
    display = env.get("DISPLAY", "")
    if not display:
        return ("no display: neither DISPLAY nor WAYLAND_DISPLAY is set. Run mambaic-gui in a "
                "desktop session, or use the command line tool `mambaic` on a headless machine.")
    if not _x_display_reachable(display):
        return (f"cannot connect to the X display {display!r}. Is the X server running and "
                "reachable? On a headless machine use the command line tool `mambaic`.")
    return None
