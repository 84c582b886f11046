"""TP 1-ab, section 2.2: simplification of the backward pass with ``torch.autograd``.

The same network as in section 2.1, but PyTorch computes the gradients: the parameters
are created with ``requires_grad=True``, ``L.backward()`` fills each one's ``.grad``, and
there is no ``backward`` function to write any more.
"""

import torch


def init_params(nx, nh, ny):
    """Create the parameters as in section 2.1, each a leaf tensor with ``requires_grad=True``.

    Returns a dict with keys ``"Wh"`` ``(nh, nx)``, ``"bh"`` ``(nh,)``, ``"Wy"``
    ``(ny, nh)`` and ``"by"`` ``(ny,)``, weights drawn from N(0, 0.3²). Mind that
    ``torch.randn(...) * 0.3`` is no longer a leaf: set ``requires_grad`` after scaling.
    """
    raise NotImplementedError


def forward(params, X):
    """The forward pass of section 2.1, differentiable by autograd.

    Returns ``(Yhat, outputs)`` as in section 2.1: ``Yhat`` ``(B, ny)``, each row a
    SoftMax, and ``outputs`` with keys ``"X"``, ``"htilde"``, ``"h"``, ``"ytilde"``,
    ``"yhat"``.
    """
    raise NotImplementedError


def loss_accuracy(Yhat, Y):
    """The batch-mean cross-entropy ``L`` (a tensor autograd can differentiate) and the
    rate of good predictions ``acc``, as in section 2.1. Returns ``(L, acc)``.
    """
    raise NotImplementedError


def sgd(params, eta):
    """One step of gradient descent with the gradients autograd computed.

    Under ``torch.no_grad()``, each parameter ``p ← p − eta·p.grad``; then reset the
    gradients (``p.grad.zero_()`` or ``p.grad = None``) so that the next
    ``L.backward()`` does not add to them. The parameters must stay leaf tensors.
    Returns the dict of parameters.
    """
    raise NotImplementedError
