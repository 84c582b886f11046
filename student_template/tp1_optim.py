"""TP 1-ab, section 2.4: simplification of the SGD with ``torch.optim``.

The update is now ``optim.zero_grad()``, ``L.backward()``, ``optim.step()``: only the
model, the loss and the optimizer are left to create.
"""

import torch


def init_model(nx, nh, ny, eta):
    """The model, the loss and the optimizer (section 2.4).

    ``model`` and ``loss`` as in section 2.3 (Linear, Tanh, Linear, no SoftMax;
    ``torch.nn.CrossEntropyLoss()``), and ``optim = torch.optim.SGD(model.parameters(),
    lr=eta)``, plain (no momentum, no weight decay). Returns ``(model, loss, optim)``.
    """
    raise NotImplementedError


def loss_accuracy(loss, Yhat, Y):
    """As in section 2.3: ``(L, acc)`` from the logits ``Yhat`` and the one-hot ``Y``."""
    raise NotImplementedError
