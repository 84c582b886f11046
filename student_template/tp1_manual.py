"""TP 1-ab, section 2.1: forward and backward passes "by hand".

A one-hidden-layer perceptron on the 2-D Circles data: a linear layer, tanh, a linear
layer, SoftMax, trained by mini-batch gradient descent on the cross-entropy. Every
gradient is computed by hand from the formulas of section 1 (questions 15 to 17). Only
plain tensor operations here: no autograd, no ``torch.nn``.

Conventions: ``X`` is ``(B, nx)``, one sample a row; ``Y`` is one-hot ``(B, ny)``,
float32 as ``CirclesData`` gives it. Default sizes on Circles: ``nx = 2``, ``nh = 10``,
``ny = 2``, batch 10, ``eta = 0.03``.
"""

import torch


def init_params(nx, nh, ny):
    """Create the network's parameters (section 2.1, step 2).

    Returns a dict with keys ``"Wh"`` ``(nh, nx)``, ``"bh"`` ``(nh,)``, ``"Wy"``
    ``(ny, nh)`` and ``"by"`` ``(ny,)``. Draw the weights from a normal distribution
    N(0, 0.3²) (``torch.randn(...) * 0.3``); the biases may be zero or random.
    """
    raise NotImplementedError


def forward(params, X):
    """The forward pass (section 2.1, step 3; question 7).

    With ``X`` ``(B, nx)``, compute, one sample a row:
    ``htilde = X Whᵀ + bh``, ``h = tanh(htilde)``, ``ytilde = h Wyᵀ + by``,
    ``yhat = SoftMax(ytilde)`` (each row sums to 1).

    Returns ``(Yhat, outputs)``: ``Yhat`` is ``(B, ny)`` and ``outputs`` a dict holding
    the intermediate values the backward pass needs, keys ``"X"``, ``"htilde"``,
    ``"h"``, ``"ytilde"`` and ``"yhat"``.
    """
    raise NotImplementedError


def loss_accuracy(Yhat, Y):
    """The loss and the accuracy of a batch (section 2.1, step 4; questions 8, 9, 14).

    ``L`` is the batch mean of the cross-entropy ``−Σᵢ yᵢ log ŷᵢ``; ``acc`` the rate of
    good predictions, a prediction being the class of highest ``ŷ`` (``argmax``) and
    the truth that of ``Y``. Returns ``(L, acc)``.
    """
    raise NotImplementedError


def backward(params, outputs, Y):
    """The gradients of the loss, by hand (section 2.1, step 5; questions 15 to 17).

    From the forward ``outputs`` and the targets ``Y``:
    ``∇Ỹ = Ŷ − Y``, ``∇Wy = ∇Ỹᵀ H``, ``∇by = Σ_rows ∇Ỹ``,
    ``∇H̃ = (∇Ỹ Wy) ⊙ (1 − H²)``, ``∇Wh = ∇H̃ᵀ X``, ``∇bh = Σ_rows ∇H̃``.
    These are the gradients of the batch sum of the losses; those of the batch mean (all
    divided by B) are fine too, as long as all four use the same one.

    Returns a dict with keys ``"Wh"``, ``"bh"``, ``"Wy"``, ``"by"``, each gradient the
    shape of its parameter.
    """
    raise NotImplementedError


def sgd(params, grads, eta):
    """One step of gradient descent (section 2.1, step 6; questions 10, 11).

    Each parameter ``p ← p − eta·g`` with ``g`` its gradient in ``grads``. Returns the
    updated dict (updating in place and returning it is fine).
    """
    raise NotImplementedError
