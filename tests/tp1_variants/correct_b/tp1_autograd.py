"""Correct: transposed layout, biases (n, 1) used as columns, float64 inside, plain
torch.randn, updates through .data, accuracy in percent."""
import torch


def init_params(nx, nh, ny):
    return {"Wh": torch.randn(nx, nh, requires_grad=True), "bh": torch.zeros(nh, 1, requires_grad=True),
            "Wy": torch.randn(nh, ny, requires_grad=True), "by": torch.zeros(ny, 1, requires_grad=True)}


def forward(params, X):
    X = X.double()
    htilde = X @ params["Wh"].double() + params["bh"].double().T
    h = torch.tanh(htilde)
    ytilde = h @ params["Wy"].double() + params["by"].double().T
    yhat = torch.nn.functional.softmax(ytilde, dim=-1)
    return yhat, {"X": X, "htilde": htilde, "h": h, "ytilde": ytilde, "yhat": yhat}


def loss_accuracy(Yhat, Y):
    L = torch.nn.functional.nll_loss(torch.log(Yhat), Y.argmax(1))
    acc = 100 * (Yhat.argmax(1) == Y.argmax(1)).sum().item() / len(Y)
    return L, acc


def sgd(params, eta):
    for p in params.values():
        p.data -= eta * p.grad.data
        p.grad.data.zero_()
    return params
