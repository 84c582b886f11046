"""TP 1-cd: a small CNN on CIFAR-10 and its improvements (the instructor's solution).

Written without torchvision: the transforms use torch alone.
"""
import torch
import torch.nn as nn


class ConvNet(nn.Module):
    """The handout's network (Q10): three conv 5x5 + ReLU + max-pool 2 blocks, then two fc."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=5, stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(32, 64, kernel_size=5, stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(64, 64, kernel_size=5, stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
        )
        self.classifier = nn.Sequential(
            nn.Linear(64 * 4 * 4, 1000),
            nn.ReLU(),
            nn.Linear(1000, 10),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class ConvNetImproved(nn.Module):
    """The same with batch norm after each convolution, dropout before fc5, and a last
    pool with ceil_mode=True so that 28x28 crops reach fc4 as 64x4x4."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=5, stride=1, padding=2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(32, 64, kernel_size=5, stride=1, padding=2),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(64, 64, kernel_size=5, stride=1, padding=2),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True),
        )
        self.classifier = nn.Sequential(
            nn.Linear(64 * 4 * 4, 1000),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(1000, 10),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def accuracy(output, target, topk=(1,)):
    """Percentage of samples whose class is among the k best scores, for each k."""
    maxk = max(topk)
    _, pred = output.topk(maxk, dim=1)
    correct = pred.eq(target.view(-1, 1))
    return [correct[:, :k].any(dim=1).float().mean().item() * 100.0 for k in topk]


class AverageMeter:
    """Running average of a value, as the course's utils.AverageMeter."""

    def __init__(self):
        self.val = self.avg = self.sum = 0.0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def epoch(data, model, criterion, optimizer=None, cuda=False):
    """One pass over `data`: a training pass with `optimizer`, an evaluation pass without.

    Returns the averages of top-1 and top-5 accuracy (percentages) and of the loss.
    """
    model.eval() if optimizer is None else model.train()
    avg_loss, avg_top1, avg_top5 = AverageMeter(), AverageMeter(), AverageMeter()
    for inputs, targets in data:
        if cuda:
            inputs, targets = inputs.cuda(), targets.cuda()
        with torch.set_grad_enabled(optimizer is not None):
            output = model(inputs)
            loss = criterion(output, targets)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        top1, top5 = accuracy(output.detach(), targets, topk=(1, 5))
        avg_loss.update(loss.item())
        avg_top1.update(top1)
        avg_top5.update(top5)
    return avg_top1.avg, avg_top5.avg, avg_loss.avg


def compute_mean_std(images):
    """Per-channel mean and standard deviation of a (N, 3, H, W) tensor (Q19-21)."""
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3))
    return mean, std


class Transform:
    """Crop to 28x28 (random or centred), maybe flip, normalise: one image at a time."""

    def __init__(self, train, mean, std, size=28):
        self.train, self.size = train, size
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, image):
        height, width = image.shape[-2:]
        if self.train:
            top = int(torch.randint(0, height - self.size + 1, (1,)))
            left = int(torch.randint(0, width - self.size + 1, (1,)))
        else:
            top = int(round((height - self.size) / 2.0))
            left = int(round((width - self.size) / 2.0))
        image = image[..., top:top + self.size, left:left + self.size]
        if self.train and torch.rand(1).item() < 0.5:
            image = image.flip(-1)
        return (image - self.mean) / self.std


def get_transforms(train, mean, std):
    """Train: random 28x28 crop, random horizontal flip, normalisation (Q22-25).
    Test: centred 28x28 crop, normalisation."""
    return Transform(train, mean, std)


# CIFAR-10's published per-channel statistics (Q19-21): the mean, and the std of its training
# pixels or the one that many tutorials quote beside it. Students write them to 3 decimals.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STDS = ((0.2470, 0.2435, 0.2616), (0.2023, 0.1994, 0.2010))

LR_GAMMA = 0.95


def make_scheduler(optimizer):
    """The learning rate times 0.95 after each epoch (Q26-28)."""
    return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=LR_GAMMA)


def lr_schedule(lr0, epochs):
    """The learning rate of each epoch under make_scheduler, stepped once an epoch."""
    return [lr0 * LR_GAMMA ** k for k in range(epochs)]
