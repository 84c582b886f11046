"""TP 1-ab, section 2.3: simplification of the forward pass with ``torch.nn``.

The network is now a ``torch.nn`` model and the loss a ``torch.nn`` loss; the gradient
descent is still written by hand.
"""

import torch


def init_model(nx, nh, ny):
    """The model and the loss (section 2.3).

    ``model`` maps ``(B, nx)`` to ``(B, ny)`` through ``torch.nn.Linear(nx, nh)``,
    ``torch.nn.Tanh()`` and ``torch.nn.Linear(nh, ny)`` (``torch.nn.Sequential``), with no
    SoftMax at the end: it outputs the logits ``ỹ``. ``loss`` is
    ``torch.nn.CrossEntropyLoss()``, which applies the SoftMax itself (question 14).
    Returns ``(model, loss)``.
    """
    raise NotImplementedError


def loss_accuracy(loss, Yhat, Y):
    """The loss and the accuracy of a batch, from the model's logits ``Yhat``.

    ``L = loss(Yhat, ...)`` with the targets ``Y`` (one-hot) or their class indices
    (``Y.argmax(1)``); ``acc`` is the rate of good predictions. Returns ``(L, acc)``.
    """
    raise NotImplementedError


def sgd(model, eta):
    """One step of gradient descent on every parameter of ``model``.

    Under ``torch.no_grad()``, each ``param`` of ``model.parameters()`` gets
    ``param -= eta * param.grad``; then ``model.zero_grad()``. Returns nothing (or the
    model).
    """
    raise NotImplementedError
