"""Plots for the HTML report: inline SVG text drawn by matplotlib (Agg canvas, no pyplot,
no GUI), one function per type of artifact that the rubric records (`grader.artifacts`),
which `plot` dispatches on.

Every function takes one artifact and returns a `Plot`, or None when its values are
missing or odd: a bad artifact gives no plot, never a broken report. Each SVG carries
`role="img"`, an `aria-label` and a `<title>` that say what it shows; its ids are
prefixed so that several SVGs share one page safely (`grader.render.figures`).
"""

from __future__ import annotations

import math
from functools import singledispatch

from grader.artifacts import CURVE_KEYS, Boundary, Curves, Gradient
from grader.render import figures
from grader.render.figures import Plot

# Colour-blind-safe pair (Okabe-Ito blue and vermillion); lines also differ by style and marker.
TRAIN, TEST = "#0072B2", "#D55E00"
TRAIN_DARK, TEST_DARK = "#003f63", "#7a3600"


# -- helpers ----------------------------------------------------------------------------


def _finite_series(values) -> list[float] | None:
    """A list of floats (non-finite values become NaN: a gap in the line), or None."""
    if not isinstance(values, (list, tuple)) or not values:
        return None
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        out.append(f if math.isfinite(f) else math.nan)
    return out if any(math.isfinite(v) for v in out) else None


def _as_fraction(series: list[float]) -> list[float]:
    """Accuracies as fractions: a run in percent is divided by 100."""
    top = max((v for v in series if math.isfinite(v)), default=0.0)
    return [v / 100 for v in series] if top > 1.0 else series


def _matrix(value) -> list[list[float]] | None:
    """A non-empty rectangular list of lists of finite floats (a flat list is one row)."""
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (list, tuple)):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        return None
    rows = []
    for row in value:
        if not isinstance(row, (list, tuple)) or not row:
            return None
        try:
            r = [float(v) for v in row]
        except (TypeError, ValueError):
            return None
        if not all(math.isfinite(v) for v in r):
            return None
        rows.append(r)
    if len({len(r) for r in rows}) != 1 or len(rows) * len(rows[0]) > 2500:
        return None
    return rows


@singledispatch
def plot(artifact) -> Plot | None:
    """The plot of one artifact, by its type; None when its values are odd."""
    raise TypeError(f"no plot draws a {type(artifact).__name__}")


# -- training curves --------------------------------------------------------------------


@plot.register(Curves)
@figures.quiet
def training_curves(curves: Curves) -> Plot | None:
    """Loss and accuracy per epoch, train and test: the student's run (solid) and, when
    given, the reference's (dashed), and the test loss and accuracy of the untrained
    network (epoch 0) when recorded."""
    title = (
        "Training curves: your run and the reference's"
        if curves.reference is not None
        else "Training curves of the short run"
    )
    runs = {}
    for who, run in (("student", curves.student), ("reference", curves.reference)):
        if not isinstance(run, dict):
            continue
        series = {k: _finite_series(run.get(k)) for k in CURVE_KEYS}
        if any(v is not None for v in series.values()):
            runs[who] = series
    if "student" not in runs:
        return None
    for series in runs.values():
        for k in ("train_acc", "test_acc"):
            if series[k] is not None:
                series[k] = _as_fraction(series[k])
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    w, h, below = 5.9, 2.72, 0.27  # inches; few ticks and no markers: each artist costs time
    fig = figures.figure(w, h)  # `below`: the legend's rows, under the axes, on no point
    ax_loss = fig.add_axes((0.5 / w, (0.45 + below) / h, 2.25 / w, 1.72 / h))
    ax_acc = fig.add_axes((3.45 / w, (0.45 + below) / h, 2.3 / w, 1.72 / h))
    # The reference is drawn over the student's run, thin and dashed in a darker shade:
    # where the two runs agree, both stay visible.
    style = {
        "student": dict(linestyle="-", linewidth=2.4, alpha=0.85, zorder=2),
        "reference": dict(linestyle=(0, (3, 2)), linewidth=1.2, zorder=3),
    }
    colours = {
        ("student", "train"): TRAIN,
        ("student", "test"): TEST,
        ("reference", "train"): TRAIN_DARK,
        ("reference", "test"): TEST_DARK,
    }
    name = {"student": "your run", "reference": "reference"}
    for who, series in runs.items():
        for ax, metric in ((ax_loss, "loss"), (ax_acc, "acc")):
            for split in ("train", "test"):
                values = series[f"{split}_{metric}"]
                if values is not None:
                    figures.line(
                        ax,
                        range(1, len(values) + 1),
                        values,
                        color=colours[who, split],
                        label=f"{split}, {name[who]}",
                        marker="o" if len(values) < 6 else "None",
                        markersize=4,
                        **style[who],
                    )
    if isinstance(curves.before, dict):
        for ax, key in ((ax_loss, "test_loss"), (ax_acc, "test_acc")):
            v = _finite_series([curves.before.get(key)])
            if v:
                v = _as_fraction(v) if key == "test_acc" else v
                figures.line(
                    ax,
                    [0],
                    v,
                    marker="s",
                    color=TEST,
                    linestyle="none",
                    markerfacecolor="white",
                    label="test, before training",
                )
    for ax in (ax_loss, ax_acc):
        ax.autoscale_view()  # add_line does not rescale the axes by itself
    figures.title(ax_loss, "Loss (cross-entropy)")
    figures.title(ax_acc, "Accuracy")
    losses = [
        v
        for s in runs.values()
        for k in ("train_loss", "test_loss")
        for v in (s[k] or [])
        if math.isfinite(v)
    ]
    if losses and min(losses) > 0 and max(losses) / min(losses) > 100:
        ax_loss.set_yscale("log")
    else:
        figures.ticks(ax_loss.yaxis, ax_loss.get_ylim(), MaxNLocator(4))
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_yticks([0, 0.5, 1])
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for ax in (ax_loss, ax_acc):
        figures.ticks(ax.xaxis, ax.get_xlim(), MaxNLocator(4, integer=True))
        ax.set_xlabel("epoch", fontsize=8, labelpad=1)
        ax.tick_params(labelsize=8, length=3, pad=2)
        ax.grid(alpha=0.3)
    handles, labels = ax_acc.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=3,
        fontsize=7,
        frameon=False,
        handlelength=2.2,
        borderpad=0.2,
        labelspacing=0.25,
        columnspacing=1.2,
    )
    s, r = runs["student"], runs.get("reference")
    words = []
    for split in ("train", "test"):
        acc = s[f"{split}_acc"]
        if acc and math.isfinite(acc[-1]):
            ref = r[f"{split}_acc"] if r else None
            words.append(
                f"final {split} accuracy {acc[-1]:.0%}"
                + (f" (reference {ref[-1]:.0%})" if ref and math.isfinite(ref[-1]) else "")
            )
    n = max(len(v) for v in s.values() if v)
    caption = (
        f"{title}: loss and accuracy per epoch over {n} epochs, train and test, "
        + ("your run (solid lines) beside the reference run (dashed lines)" if r else "your run")
        + (": " + ", ".join(words) if words else "")
        + "."
    )
    return figures.as_plot(fig, caption, Curves.kind)


# -- decision boundary --------------------------------------------------------------------


@plot.register(Boundary)
@figures.quiet
def decision_boundary(
    boundary: Boundary, title: str = "Decision boundary, P(class 1)"
) -> Plot | None:
    """The student's P(class 1) on the course grid as filled contours, the 0.5 line, and
    the training points by class."""
    axis = _finite_series(boundary.axis)
    prob = _matrix(boundary.prob)
    if (
        axis is None
        or prob is None
        or any(math.isnan(v) for v in axis)
        or len(prob) != len(axis)
        or len(prob[0]) != len(axis)
        or len(axis) < 2
    ):
        return None
    import numpy as np

    P = np.clip(np.array(prob), 0.0, 1.0)
    points, labels = boundary.points or [], boundary.labels or []
    pts = _matrix(points) if points else None
    if pts is not None and (len(pts[0]) != 2 or len(pts) != len(labels)):
        pts = None
    w, h = 3.05, 2.95  # inches: a 2.45-inch square plot
    fig = figures.figure(w, h)
    ax = fig.add_axes((0.45 / w, 0.27 / h, 2.45 / w, 2.45 / h))
    # As the course's plot_data_with_grid, the colours span P from 0.3 to 0.7: early in
    # training the network is unsure, and its boundary still shows.
    ax.contourf(
        axis,
        axis,
        P,
        levels=[0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 1.0],
        cmap="RdBu_r",
        alpha=0.85,
    )
    if P.min() < 0.5 < P.max():
        ax.contour(axis, axis, P, levels=[0.5], colors="black", linewidths=1.5)
    accuracy = None
    if pts is not None:
        xy, lab = np.array(pts), np.array([int(v) for v in labels])
        # black and white, two shapes: readable on either colour of the background
        for cls, (face, edge, mark) in enumerate(
            (("white", "black", "o"), ("black", "white", "^"))
        ):
            sel = lab == cls
            if sel.any():
                ax.scatter(
                    xy[sel, 0],
                    xy[sel, 1],
                    s=13,
                    marker=mark,
                    c=face,
                    edgecolors=edge,
                    linewidths=0.6,
                    label=f"class {cls} ({'outer' if cls == 0 else 'inner'})",
                )
        ax.legend(
            fontsize=6.5, loc="upper right", framealpha=0.85, handletextpad=0.2, borderpad=0.3
        )
        # training accuracy of the plotted boundary, read off the grid (nearest cell)
        step = (axis[-1] - axis[0]) / (len(axis) - 1)
        ix = np.clip(np.rint((xy[:, 0] - axis[0]) / step).astype(int), 0, len(axis) - 1)
        iy = np.clip(np.rint((xy[:, 1] - axis[0]) / step).astype(int), 0, len(axis) - 1)
        accuracy = float(((P[iy, ix] > 0.5).astype(int) == lab).mean()) if len(lab) else None
    ax.set_xlim(axis[0], axis[-1])
    ax.set_ylim(axis[0], axis[-1])
    ticks = [t for t in (-2, -1, 0, 1, 2) if axis[0] <= t <= axis[-1]]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.tick_params(labelsize=7, length=3, pad=2)
    figures.title(ax, title, 8.5)
    on = f" on {boundary.data}" if boundary.data else ""
    caption = (
        f"Decision boundary of your trained network{on}: its probability of class 1 over the "
        f"{len(axis)}×{len(axis)} grid from {axis[0]:g} to {axis[-1]:.1f} in colour (from blue, 0.3 or "
        "less, to red, 0.7 or more, in steps of 0.05), the 0.5 boundary as a black line"
        + (
            f", and the training points by class (white dots: {boundary.classes[0]}, black "
            f"triangles: {boundary.classes[1]})"
            if pts is not None
            else ""
        )
        + "."
    )
    if accuracy is not None:
        caption += f" It classifies {accuracy:.0%} of the training points right."
    if P.max() <= 0.5 or P.min() >= 0.5:
        caption += f" Your network predicts class {int(P.min() >= 0.5)} everywhere on the grid."
    return figures.as_plot(fig, caption, Boundary.kind)


# -- gradient heatmap ---------------------------------------------------------------------

WIDTH, HEIGHT, CELL = 6.4, 4.0, 0.36  # inches: the largest figure, the largest cell


def _range(M) -> str:
    return f"{M.min():.2g} to {M.max():.2g}"


def _text_width(text: str, size: float) -> float:
    """Width in inches of the widest line of `text` at `size` points, as the SVG will set it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(size=size)
    return (
        max(
            TextToPath().get_text_width_height_descent(line, font, ismath=False)[0]
            for line in text.splitlines()
        )
        / 72
    )


def _heatmap_axes(shapes, titles, size):
    """A figure and three axes of equal cell size, side by side or stacked, whichever
    gives the larger cells; each axes is exactly its matrix, in inches. Side by side, each
    panel gets a slot as wide as its title, so that titles never run into each other."""
    margin, title, top, gap = 0.08, 0.38, 0.04, 0.25
    rows = [s[0] for s in shapes]
    cols = [s[1] for s in shapes]
    words = [_text_width(t, size) for t in titles]
    across = min(
        CELL,
        (WIDTH - 2 * margin - 2 * gap) / sum(cols),
        (HEIGHT - top - title - margin) / max(rows),
    )
    down = min(
        CELL,
        (WIDTH - 2 * margin) / max(cols),
        (HEIGHT - top - 3 * title - 2 * gap - margin) / sum(rows),
    )
    slots = [max(across * c, w) for c, w in zip(cols, words, strict=False)]
    if sum(slots) + 2 * gap + 2 * margin > WIDTH:  # the titles do not fit side by side
        across = 0.0
    cell = max(across, down)
    if across >= down:
        width = max(2 * margin + sum(slots) + 2 * gap, 4.2)
        height = top + title + cell * max(rows) + margin
        boxes, x = [], margin + (width - 2 * margin - sum(slots) - 2 * gap) / 2
        for (r, c), slot in zip(shapes, slots, strict=False):
            boxes.append(
                (x + (slot - cell * c) / 2, height - top - title - cell * r, cell * c, cell * r)
            )
            x += slot + gap
    else:
        width = max(2 * margin + cell * max(cols), 3.0)
        height = top + 3 * title + cell * sum(rows) + 2 * gap + margin
        boxes, y = [], height - top
        for r, c in shapes:
            y -= title + cell * r
            boxes.append(((width - cell * c) / 2, y, cell * c, cell * r))
            y -= gap
    fig = figures.figure(width, height)
    return fig, [
        fig.add_axes((x / width, y / height, w / width, h / height)) for x, y, w, h in boxes
    ]


@plot.register(Gradient)
@figures.quiet
def gradient_heatmap(gradient: Gradient) -> Plot | None:
    """Expected and received gradient side by side on one colour scale, with a panel of
    their difference per entry; a received gradient whose shape is the transpose is
    compared transposed back."""
    import numpy as np

    want, got = _matrix(gradient.expected), _matrix(gradient.received)
    if want is None or got is None:
        return None
    E, R = np.array(want), np.array(got)
    name = str(gradient.name or "the gradient")[:40]
    transposed = E.shape != R.shape
    if transposed and R.T.shape != E.shape:
        return None
    D = (R.T if transposed else R) - E
    vmax = float(max(np.abs(E).max(), np.abs(R).max(), 1e-12))
    D[np.abs(D) <= 1e-5 * vmax] = 0.0  # float rounding is not an error
    dmax = float(np.abs(D).max())
    dlim = max(dmax, 0.02 * vmax)  # a tiny error stays faint
    labels = [
        f"expected {name}, {E.shape[0]}×{E.shape[1]}\n{_range(E)}",
        f"received, {R.shape[0]}×{R.shape[1]}\n{_range(R)}",
        ("received transposed\n− expected" if transposed else "received − expected")
        + f"\n{_range(D)}",
    ]
    fig, axes = _heatmap_axes([E.shape, R.shape, D.shape], labels, 7.5)
    panels = (
        (axes[0], E, vmax, "RdBu_r"),
        (axes[1], R, vmax, "RdBu_r"),
        (axes[2], D, dlim, "PuOr_r"),
    )
    for (ax, M, lim, cmap), label in zip(panels, labels, strict=False):
        ax.pcolormesh(M, cmap=cmap, vmin=-lim, vmax=lim, edgecolors="white", linewidth=0.5)
        figures.title(ax, label, 7.5, pad=2)
        ax.set_xlim(0, M.shape[1])
        ax.set_ylim(M.shape[0], 0)  # row 0 at the top, as the matrix is written
        ax.set_axis_off()
        if M is D and dmax == 0:
            ax.text(
                M.shape[1] / 2,
                M.shape[0] / 2,
                "0 everywhere",
                ha="center",
                va="center",
                fontsize=7.5,
            )
    worst = np.unravel_index(np.abs(D).argmax(), D.shape)
    caption = (
        f"Heatmaps of {name}: the expected gradient ({E.shape[0]}×{E.shape[1]}) beside the one your "
        f"backward returned ({R.shape[0]}×{R.shape[1]}), on one colour scale (blue negative, red positive, "
        f"up to ±{vmax:.2g}), and their difference per entry"
        + (" after transposing yours back" if transposed else "")
        + f", on a scale of its own (purple negative, orange positive, up to ±{dlim:.2g})"
        + (
            f"; the largest error, {D[worst]:.3g}, is at row {worst[0]}, column {worst[1]}"
            if dmax > 0
            else ": once transposed, every entry is right; only the shape is wrong"
            if transposed
            else ": every entry agrees"
        )
        + "."
    )
    return figures.as_plot(fig, caption, Gradient.kind)


# -- per test --------------------------------------------------------------------------------


def for_test(test, prefix: str = "", boundary: bool = True) -> list[Plot]:
    """The plots of one test's artifacts (none when it has none); `prefix` makes their
    SVG ids unique in a page; `boundary=False` leaves out the decision boundary."""
    drawn = [plot(a) for a in test.artifacts if boundary or not isinstance(a, Boundary)]
    plots = [p for p in drawn if p is not None]
    if prefix:  # ids unique in the page, and the same on every render of the same report
        plots = [p.renamed(f"{prefix}{k}-") for k, p in enumerate(plots)]
    return plots
