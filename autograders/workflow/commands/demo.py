"""`ch4grade demo [DIR]`: release -> submit -> collect -> autograde -> feedback -> report -> export."""
from __future__ import annotations

import time

from ...commands import isolation
from ..demo import DEMO_ASSIGNMENTS, TABLE_NOTE, run_demo, where
from ._common import friendly_errors


def add_arguments(parser) -> None:
    parser.add_argument("dir", nargs="?", default="demo_out", help="the demo course folder (the students' zip goes inside it)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="notebooks graded at once")
    parser.add_argument("--assignment", nargs="+", action="extend", dest="assignments", metavar="NAME",
                        help=f"what the demo students hand in (default: {' '.join(DEMO_ASSIGNMENTS)})")
    parser.add_argument("--mnist", metavar="DIR", help="the folder with the four MNIST .gz files "
                        "(default: $CH4GRADE_MNIST_DIR, else ../shared/data/mnist beside the checkout, else the "
                        "download cache $CH4GRADE_CACHE/mnist, downloaded once when missing)")
    parser.add_argument("--no-data", action="store_true", help="skip preparing MNIST_SAMPLE (already there)")
    isolation.add_argument(parser)


@friendly_errors
def run(args) -> int:
    t0 = time.monotonic()
    if isolation.resolve(args.isolation, "ch4grade demo") is None:
        return 2
    res = run_demo(args.dir, tuple(args.assignments or DEMO_ASSIGNMENTS), jobs=max(1, args.jobs), prepare_data=not args.no_data,
                   mnist_dir=args.mnist, isolation=args.isolation)
    print()
    print("\n".join(res.table))
    print(TABLE_NOTE)
    print()
    print("\n".join(where(res)))
    print(f"\ndemo finished in {time.monotonic() - t0:.0f} s")
    return 0
