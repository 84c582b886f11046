"""Correct: a Module class that holds a Softmax it never calls, one-hot targets given to
CrossEntropyLoss, sgd returning None after zeroing each gradient."""
import torch


class MLP(torch.nn.Module):
    def __init__(self, nx, nh, ny):
        super().__init__()
        self.fc1 = torch.nn.Linear(nx, nh)
        self.act = torch.nn.Tanh()
        self.fc2 = torch.nn.Linear(nh, ny)
        self.softmax = torch.nn.Softmax(dim=1)  # used only to plot probabilities

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def init_model(nx, nh, ny):
    return MLP(nx, nh, ny), torch.nn.CrossEntropyLoss()


def loss_accuracy(loss, Yhat, Y):
    L = loss(Yhat, Y)
    acc = (Yhat.argmax(1) == Y.argmax(1)).float().mean()
    return L, acc


def sgd(model, eta):
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(eta * p.grad)
            p.grad.zero_()
