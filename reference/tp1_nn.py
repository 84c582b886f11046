"""TP 1-ab, part 3: the network with torch.nn layers (handout section 2.3)."""
import torch


def init_model(nx, nh, ny):
    """Linear(nx, nh), Tanh, Linear(nh, ny): logits, no softmax; the loss works on logits."""
    model = torch.nn.Sequential(
        torch.nn.Linear(nx, nh),
        torch.nn.Tanh(),
        torch.nn.Linear(nh, ny),
    )
    loss = torch.nn.CrossEntropyLoss()
    return model, loss


def loss_accuracy(loss, Yhat, Y):
    """Yhat are logits, Y one-hot: mean cross-entropy and the rate of good predictions."""
    _, indsY = torch.max(Y, 1)
    L = loss(Yhat, indsY)
    _, indsYhat = torch.max(Yhat, 1)
    acc = torch.sum(indsY == indsYhat).item() / Y.shape[0]
    return L, acc


def sgd(model, eta):
    """p <- p - eta * p.grad for every parameter, then reset the gradients."""
    with torch.no_grad():
        for param in model.parameters():
            param -= eta * param.grad
    model.zero_grad()
    return model
