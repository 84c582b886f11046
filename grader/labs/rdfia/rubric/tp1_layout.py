"""The shapes a student's TP 1-ab parameters use: the handout's layout or the transposed
one, biases (n,), (1, n) or (n, 1) (contract); read once from their init_params."""

from __future__ import annotations

import weakref

import torch

from grader.checks import CheckFailed, came_back, expect_keys, fail
from grader.labs.rdfia.inputs.tp1 import KEYS, NH, NX, NY
from grader.sandbox import StudentFault

BIAS_KINDS = {"vector": lambda n: (n,), "row": lambda n: (1, n), "column": lambda n: (n, 1)}


class Layout:
    """The shapes the student's init_params uses: weights as in the handout or transposed,
    biases (n,), (1, n) or (n, 1). Converts the reference's tensors to and from them."""

    def __init__(self, transposed: dict | None = None, bias: dict | None = None):
        self.transposed = transposed or {"Wh": False, "Wy": False}
        self.bias = bias or {"bh": "vector", "by": "vector"}

    @staticmethod
    def shapes(nx, nh, ny) -> dict:
        return {"Wh": (nh, nx), "bh": (nh,), "Wy": (ny, nh), "by": (ny,)}

    def shape(self, key, nx=NX, nh=NH, ny=NY) -> tuple:
        s = self.shapes(nx, nh, ny)[key]
        if key in self.transposed:
            return s[::-1] if self.transposed[key] else s
        return BIAS_KINDS[self.bias[key]](s[0])

    def to_student(self, key, tensor: torch.Tensor) -> torch.Tensor:
        if key in self.transposed:
            return tensor.t().contiguous() if self.transposed[key] else tensor.clone()
        return tensor.reshape(BIAS_KINDS[self.bias[key]](tensor.numel())).clone()

    def params_to_student(self, params: dict) -> dict:
        return {k: self.to_student(k, params[k]) for k in KEYS}

    def from_student(self, key, value, n: int | None = None) -> torch.Tensor | None:
        """A student's tensor for `key` (a parameter or its gradient) in the reference
        layout, or None when its shape is not one the contract accepts."""
        if not isinstance(value, torch.Tensor):
            return None
        value = value.detach()
        if key in self.transposed:
            want = self.shape(key)
            if tuple(value.shape) != want:
                return None
            return value.t() if self.transposed[key] else value
        n = n or (NH if key == "bh" else NY)
        if tuple(value.shape) in [f(n) for f in BIAS_KINDS.values()]:
            return value.reshape(n)
        return None

    def label(self) -> str:
        parts = []
        if any(self.transposed.values()):
            parts.append("the transposed weight layout")
        kinds = {self.bias[k] for k in self.bias}
        if kinds != {"vector"}:
            parts.append("biases as " + " / ".join(sorted(kinds)) + "s")
        return ", ".join(parts) or "the handout's layout"


def why_shape(key: str, layout: Layout, nx=NX, nh=NH, ny=NY) -> str:
    sizes = {"nx": nx, "nh": nh, "ny": ny}
    dims = {"Wh": ("nh", "nx"), "Wy": ("ny", "nh"), "bh": ("nh",), "by": ("ny",)}[key]
    if key in layout.transposed and layout.transposed[key]:
        dims = dims[::-1]
    if key in layout.transposed:
        what = "in your transposed layout" if layout.transposed[key] else "as in the handout"
        return f"{key} is ({', '.join(dims)}) = {tuple(sizes[d] for d in dims)} {what}"
    n = sizes[dims[0]]
    return f"{key} is ({dims[0]},) = ({n},), or ({n}, 1) or (1, {n})"


def read_layout(params, what: str, sizes=(NX, NH, NY)) -> Layout:
    """The layout of a student's init_params result; fails with the expected shapes."""
    nx, nh, ny = sizes
    expect_keys(params, KEYS, what)
    ref_shapes = Layout.shapes(nx, nh, ny)
    transposed, bias = {}, {}
    for key in KEYS:
        value = params[key]
        if not isinstance(value, torch.Tensor):
            fail(f"{what}[{key!r}] should be a tensor; got {came_back(value)}.")
        shape, s = tuple(value.shape), ref_shapes[key]
        if key.startswith("W"):
            if shape == s:
                transposed[key] = False
            elif shape == s[::-1]:
                transposed[key] = True
            else:
                fail(
                    f"{what}[{key!r}] should have shape {s} (handout: {key} is "
                    f"{'(nh, nx)' if key == 'Wh' else '(ny, nh)'}), or {s[::-1]} in the transposed layout; "
                    f"got {shape}."
                )
        else:
            kind = next((k for k, f in BIAS_KINDS.items() if f(s[0]) == shape), None)
            if kind is None:
                fail(
                    f"{what}[{key!r}] should have shape ({s[0]},) ({'nh' if key == 'bh' else 'ny'} = {s[0]}), "
                    f"or (1, {s[0]}) or ({s[0]}, 1); got {shape}."
                )
            bias[key] = kind
    return Layout(transposed, bias)


_layouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def student_layout(student) -> Layout:
    """The layout of the student's init_params(2, 10, 2); the handout's layout when
    init_params fails (its own check reports that, and the other functions are still
    judged: one mistake costs one function)."""
    if student not in _layouts:
        try:
            _layouts[student] = read_layout(
                student.call("init_params", NX, NH, NY), "init_params(2, 10, 2)"
            )
        except (StudentFault, CheckFailed):
            return Layout()
    return _layouts[student]
