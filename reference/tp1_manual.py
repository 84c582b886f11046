"""TP 1-ab, part 1: forward and backward passes "by hand" (handout section 2.1).

The instructor's solution. Shapes follow the handout: X is (B, nx), one sample a row;
Wh is (nh, nx), Wy is (ny, nh); biases are vectors (nh,) and (ny,).
"""
import torch


def init_params(nx, nh, ny):
    """Weights drawn from N(0, 0.3^2), biases zero."""
    params = {}
    params["Wh"] = torch.randn(nh, nx) * 0.3
    params["bh"] = torch.zeros(nh)
    params["Wy"] = torch.randn(ny, nh) * 0.3
    params["by"] = torch.zeros(ny)
    return params


def forward(params, X):
    """htilde = X Wh^T + bh, h = tanh(htilde), ytilde = h Wy^T + by, yhat = SoftMax(ytilde)."""
    outputs = {}
    outputs["X"] = X
    outputs["htilde"] = torch.mm(X, params["Wh"].t()) + params["bh"]
    outputs["h"] = torch.tanh(outputs["htilde"])
    outputs["ytilde"] = torch.mm(outputs["h"], params["Wy"].t()) + params["by"]
    # SoftMax over the classes (each row), shifted by the row's maximum for stability.
    exps = torch.exp(outputs["ytilde"] - outputs["ytilde"].max(dim=1, keepdim=True).values)
    outputs["yhat"] = exps / exps.sum(dim=1, keepdim=True)
    return outputs["yhat"], outputs


def loss_accuracy(Yhat, Y):
    """Mean cross-entropy over the batch, and the rate of good predictions."""
    L = -torch.sum(Y * torch.log(Yhat), dim=1).mean()
    _, indsYhat = torch.max(Yhat, 1)
    _, indsY = torch.max(Y, 1)
    acc = torch.sum(indsY == indsYhat).item() / Y.shape[0]
    return L, acc


def backward(params, outputs, Y):
    """Gradients of the batch MEAN loss (the handout's formulas divided by B)."""
    bsize = Y.shape[0]
    grads = {}
    grad_ytilde = (outputs["yhat"] - Y) / bsize
    grads["Wy"] = torch.mm(grad_ytilde.t(), outputs["h"])
    grads["by"] = grad_ytilde.sum(dim=0)
    grad_htilde = torch.mm(grad_ytilde, params["Wy"]) * (1 - outputs["h"] ** 2)
    grads["Wh"] = torch.mm(grad_htilde.t(), outputs["X"])
    grads["bh"] = grad_htilde.sum(dim=0)
    return grads


def sgd(params, grads, eta):
    """One step of gradient descent: p <- p - eta * grad."""
    for name in params:
        params[name] = params[name] - eta * grads[name]
    return params
