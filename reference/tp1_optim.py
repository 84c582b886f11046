"""TP 1-ab, part 4: the update by torch.optim (handout section 2.4)."""
import torch


def init_model(nx, nh, ny, eta):
    """The torch.nn network, its loss, and plain SGD over all its parameters at rate eta."""
    model = torch.nn.Sequential(
        torch.nn.Linear(nx, nh),
        torch.nn.Tanh(),
        torch.nn.Linear(nh, ny),
    )
    loss = torch.nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=eta)
    return model, loss, optim


def loss_accuracy(loss, Yhat, Y):
    """Yhat are logits, Y one-hot: mean cross-entropy and the rate of good predictions."""
    _, indsY = torch.max(Y, 1)
    L = loss(Yhat, indsY)
    _, indsYhat = torch.max(Yhat, 1)
    acc = torch.sum(indsY == indsYhat).item() / Y.shape[0]
    return L, acc
