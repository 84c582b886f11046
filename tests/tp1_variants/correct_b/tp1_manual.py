"""Correct: biases (n, 1) with gradients of shape (n,), plain torch.randn init, float64
inside, matmul, gradients of the batch mean, loss as a Python float, accuracy as a
one-element tensor, sgd returning a new dict."""
import torch


def init_params(nx, nh, ny):
    params = {}
    params["Wh"] = torch.randn(nh, nx)
    params["bh"] = torch.zeros(nh, 1)
    params["Wy"] = torch.randn(ny, nh)
    params["by"] = torch.zeros(ny, 1)
    return params


def forward(params, X):
    X = X.double()
    htilde = (torch.matmul(params["Wh"].double(), X.T) + params["bh"].double()).T
    h = torch.tanh(htilde)
    ytilde = (torch.matmul(params["Wy"].double(), h.T) + params["by"].double()).T
    yhat = torch.softmax(ytilde, dim=1)
    return yhat, dict(X=X, htilde=htilde, h=h, ytilde=ytilde, yhat=yhat)


def loss_accuracy(Yhat, Y):
    L = float(-(Y.double() * Yhat.double().log()).sum() / Y.shape[0])
    acc = (Yhat.argmax(1) == Y.argmax(1)).double().mean().reshape(1)
    return L, acc


def backward(params, outputs, Y):
    B = Y.shape[0]
    gy = (outputs["yhat"].double() - Y.double()) / B
    gh = torch.matmul(gy, params["Wy"].double()) * (1 - outputs["h"].double() ** 2)
    return {"Wy": torch.matmul(gy.T, outputs["h"].double()), "by": gy.sum(0),
            "Wh": torch.matmul(gh.T, outputs["X"].double()), "bh": gh.sum(0)}


def sgd(params, grads, eta):
    return {k: params[k] - eta * grads[k].reshape(params[k].shape).to(params[k].dtype) for k in params}
