"""TP 1-ab, part 2: the backward pass by autograd (handout section 2.2)."""
import torch


def init_params(nx, nh, ny):
    """Weights from N(0, 0.3^2), biases zero; every tensor a leaf that requires a gradient."""
    params = {}
    params["Wh"] = (torch.randn(nh, nx) * 0.3).requires_grad_(True)
    params["bh"] = torch.zeros(nh, requires_grad=True)
    params["Wy"] = (torch.randn(ny, nh) * 0.3).requires_grad_(True)
    params["by"] = torch.zeros(ny, requires_grad=True)
    return params


def forward(params, X):
    """The same forward as by hand, differentiable."""
    outputs = {}
    outputs["X"] = X
    outputs["htilde"] = torch.mm(X, params["Wh"].t()) + params["bh"]
    outputs["h"] = torch.tanh(outputs["htilde"])
    outputs["ytilde"] = torch.mm(outputs["h"], params["Wy"].t()) + params["by"]
    outputs["yhat"] = torch.softmax(outputs["ytilde"], dim=1)
    return outputs["yhat"], outputs


def loss_accuracy(Yhat, Y):
    """Mean cross-entropy (differentiable) and the rate of good predictions."""
    L = -torch.sum(Y * torch.log(Yhat), dim=1).mean()
    _, indsYhat = torch.max(Yhat, 1)
    _, indsY = torch.max(Y, 1)
    acc = torch.sum(indsY == indsYhat).item() / Y.shape[0]
    return L, acc


def sgd(params, eta):
    """p <- p - eta * p.grad under no_grad, then reset the gradients."""
    with torch.no_grad():
        for name in params:
            params[name] -= eta * params[name].grad
            params[name].grad.zero_()
    return params
