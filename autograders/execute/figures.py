"""Matplotlib figures as plain data: per axes, its lines' x and y, labels and titles.

Self-contained (NumPy only) because its source also runs in the student's kernel, where the grader's
startup code records every figure a cell draws; a student's self-check uses the same function.
"""


def axes_data(figures, max_axes=10, max_lines=20, max_points=200000):
    "[{'lines': [{'x', 'y', 'label'}], 'title', 'xlabel', 'ylabel'}] for every axes of `figures`."
    import numpy as np
    out = []
    for fig in figures:
        for ax in fig.axes[:max_axes]:
            lines = []
            for line in ax.get_lines()[:max_lines]:
                x = np.asarray(line.get_xdata(), dtype="float64").ravel()[:max_points]
                y = np.asarray(line.get_ydata(), dtype="float64").ravel()[:max_points]
                lines.append({"x": x, "y": y, "label": str(line.get_label())[:200]})
            out.append({"lines": lines, "title": str(ax.get_title())[:200],
                        "xlabel": str(ax.get_xlabel())[:200], "ylabel": str(ax.get_ylabel())[:200]})
    return out
