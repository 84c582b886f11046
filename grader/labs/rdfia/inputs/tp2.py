"""TP 1-cd's inputs, drawn from the seed: images, the epoch checks' data and TinyNet weights,
the normalisation checks' images, and the sizes of `main`'s and the training run's."""

from __future__ import annotations

import torch

from grader.labs.rdfia.worker.probes.tp2_cnn import TinyNet


def seeded(seed: int, build):
    """`build()` under `torch.manual_seed(seed)`, leaving the global RNG as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build()


def generator(seed: int, salt: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1000 + salt)


def inputs(seed: int, n: int, size: int) -> torch.Tensor:
    """A batch of images drawn from the seed, one draw per image size."""
    return torch.randn(n, 3, size, size, generator=generator(seed, size))


def tiny_state(seed: int) -> dict:
    """Initial weights of the grader's TinyNet, with running statistics that are not the
    defaults, so that an evaluation in train mode shows."""

    def build():
        net = TinyNet()
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
        net.bn.weight.data.uniform_(0.5, 1.5)
        return {k: v.detach().clone() for k, v in net.state_dict().items()}

    return seeded(seed, build)


def drawn_state(seed: int, state: dict) -> dict:
    """A state of the shapes of `state`, drawn from the seed: weights at the scale of their
    fan-in, vectors (biases, batch norm's scales, means and variances) in [0.5, 1.5], so that
    every layer, a batch norm left unused too, changes the outputs. Counters are kept."""
    g = generator(seed, 41)
    drawn = {}
    for name, t in state.items():
        if not t.is_floating_point():
            drawn[name] = t.clone()
        elif t.dim() > 1:
            drawn[name] = torch.randn(t.shape, generator=g) * (t[0].numel() ** -0.5)
        else:
            drawn[name] = torch.rand(t.shape, generator=g) + 0.5
    return drawn


def steps(description: dict) -> list:
    return [
        (t["type"], t["in_shape"], t["out_shape"])
        for t in description["trace"]
        if t["type"] != "Dropout"
    ]


BATCH, N_EPOCH, LR = 8, 40, 0.1


def epoch_data(seed):
    g = generator(seed, 7)
    x = torch.randn(N_EPOCH, 3, 8, 8, generator=g)
    y = torch.randint(0, 10, (N_EPOCH,), generator=g)
    return tiny_state(seed), x, y


def channel_images(seed):
    g = generator(seed, 19)
    base = torch.rand(12, 3, 16, 16, generator=g)
    return base * torch.tensor([0.5, 0.8, 0.3]).view(1, 3, 1, 1) + torch.tensor(
        [0.1, 0.05, 0.5]
    ).view(1, 3, 1, 1)


MAIN = dict(
    batch_size=32, lr=0.1, epochs=2
)  # two epochs of 4 batches on the grader's small CIFAR-10

# Over seeds 0-9 the reference's best training loss is at most 0.56 x the untrained test loss
# and its best test accuracy at least 50%: far from the check's 0.85 x and 25%.
RUN = dict(n_per_class=24, n_test_per_class=5, epochs=3, batch=10, lr=0.03)
