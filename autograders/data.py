"""Make sure the fastai datasets a batch needs are materialised before any kernel starts."""
from __future__ import annotations

from .checks import get_assignment


def prepare_for(assignments: list[str], fastai_home: str | None = None, progress: bool = True) -> None:
    "Materialise (idempotently) the datasets the given assignments load with `untar_data`."
    names = sorted({d for a in assignments for d in get_assignment(a).data})
    if not names:
        return
    from reference.data.layouts import prepare_fastai_data
    prepare_fastai_data(names=tuple(names), fastai_home=fastai_home, progress=progress)
