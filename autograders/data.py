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


def grader_data_problem(spec, fastai_home: str | None = None) -> str | None:
    """Why the grader cannot grade `spec` on this machine (its MNIST files or the datasets its notebook
    loads are missing), or None. A missing dataset is the grader's failure, never the student's."""
    if not spec.data:
        return None
    from reference.data.idx import MnistDataError
    from reference.data.layouts import fastai_data_dir
    from reference.data.locate import mnist_dir
    try:
        mnist_dir(progress=False)
    except (MnistDataError, OSError) as e:
        return f"the grader's MNIST files are missing or damaged ({e})"
    data = fastai_data_dir(fastai_home)
    missing = [name for name in spec.data if not (data / name).is_dir()]
    if missing:
        return (f"the datasets the notebook loads ({', '.join(missing)}) are not prepared in {data}; "
                "run `ch4grade data`")
    return None
