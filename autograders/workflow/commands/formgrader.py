"""`ch4grade formgrader`: nbgrader's formgrader for the course, on 127.0.0.1 behind a random token."""
from __future__ import annotations

import signal
import webbrowser

from ..course import DEFAULT_COURSE_DIR
from ..formgrader import start
from ._common import friendly_errors, open_course


def add_arguments(parser) -> None:
    parser.add_argument("--course", default=DEFAULT_COURSE_DIR, metavar="DIR",
                        help=f"the course folder (default: ./{DEFAULT_COURSE_DIR})")
    parser.add_argument("--port", type=int, default=None, help="the port (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")


def interrupt(signum, frame):
    raise KeyboardInterrupt


@friendly_errors
def run(args) -> int:
    signal.signal(signal.SIGTERM, interrupt)   # `kill` stops the server as cleanly as Ctrl-C
    course = open_course(args, create=False)
    print("starting formgrader ...", flush=True)
    fg = start(course, args.port, log=None)
    print(f"\nformgrader for {course.root}:\n\n    {fg.url}\n\nCtrl-C stops it.", flush=True)
    if not args.no_browser:
        webbrowser.open(fg.url)
    try:
        return fg.process.wait()
    except KeyboardInterrupt:
        print("\nstopping formgrader ...", flush=True)
        fg.stop()
        return 0
