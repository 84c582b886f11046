"""Correct: biases (1, n), explicit exp SoftMax, matmul, sgd setting .grad to None."""
import torch


def init_params(nx, nh, ny):
    params = {"Wh": torch.randn(nh, nx) * 0.3, "bh": torch.zeros(1, nh),
              "Wy": torch.randn(ny, nh) * 0.3, "by": torch.zeros(1, ny)}
    for p in params.values():
        p.requires_grad = True
    return params


def forward(params, X):
    htilde = torch.matmul(X, params["Wh"].T) + params["bh"]
    h = torch.tanh(htilde)
    ytilde = torch.matmul(h, params["Wy"].T) + params["by"]
    e = torch.exp(ytilde)
    yhat = e / e.sum(dim=1, keepdim=True)
    return yhat, {"X": X, "htilde": htilde, "h": h, "ytilde": ytilde, "yhat": yhat}


def loss_accuracy(Yhat, Y):
    L = -(Y * torch.log(Yhat)).sum(1).mean()
    acc = (Yhat.argmax(1) == Y.argmax(1)).float().mean()
    return L, acc


def sgd(params, eta):
    with torch.no_grad():
        for p in params.values():
            p -= eta * p.grad
            p.grad = None
    return params
