"""`torchvision.transforms`, the part the course uses, with torchvision's semantics.

Geometric transforms take a PIL image, a tensor (..., H, W) or an HWC array and return
the same kind; their random draws are torch's, as in torchvision. `ToTensor` turns a PIL
image or an HWC array into a float (C, H, W) tensor (uint8 scaled to [0, 1]); `Normalize`
takes a tensor.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F

try:
    from PIL import Image
except ImportError:
    Image = None

__all__ = [
    "CenterCrop",
    "Compose",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Resize",
    "ToTensor",
]


def _pair(size) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    return (size[0], size[0]) if len(size) == 1 else size


def _is_pil(img) -> bool:
    return Image is not None and isinstance(img, Image.Image)


def _hw(img) -> tuple[int, int]:
    if _is_pil(img):
        return img.height, img.width
    if isinstance(img, torch.Tensor):
        return int(img.shape[-2]), int(img.shape[-1])
    if isinstance(img, np.ndarray):
        return img.shape[:2]
    raise TypeError(f"img should be a PIL Image, a tensor or an ndarray; got {type(img).__name__}")


def _crop(img, top: int, left: int, height: int, width: int):
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    if isinstance(img, torch.Tensor):
        return img[..., top : top + height, left : left + width]
    return img[top : top + height, left : left + width]


def _pad(img, padding, fill=0, padding_mode="constant"):
    left, top, right, bottom = (
        (padding,) * 4
        if isinstance(padding, numbers.Integral)
        else (padding[0], padding[1]) * 2
        if len(padding) == 2
        else tuple(padding)
    )
    if isinstance(img, torch.Tensor):
        mode = "replicate" if padding_mode == "edge" else padding_mode
        value = fill if mode == "constant" else None
        return F.pad(
            img,
            (left, right, top, bottom),
            mode=mode,
            **({"value": value} if value is not None else {}),
        )
    array = np.asarray(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
    mode = "edge" if padding_mode == "edge" else padding_mode
    padded = np.pad(
        array, widths, mode=mode, **({"constant_values": fill} if mode == "constant" else {})
    )
    return Image.fromarray(padded) if _is_pil(img) else padded


def _hflip(img):
    if _is_pil(img):
        return img.transpose(Image.FLIP_LEFT_RIGHT)
    if isinstance(img, torch.Tensor):
        return img.flip(-1)
    return img[:, ::-1].copy()


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


class ToTensor:
    def __call__(self, pic):
        if isinstance(pic, torch.Tensor) or not (_is_pil(pic) or isinstance(pic, np.ndarray)):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        array = np.array(pic, copy=True)
        if array.ndim == 2:
            array = array[:, :, None]
        tensor = torch.from_numpy(array).permute(2, 0, 1).contiguous()
        return tensor.float().div(255) if tensor.dtype == torch.uint8 else tensor

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"Input tensor should be a torch tensor. Got {type(tensor)}.")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(
                f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero."
            )
        return tensor.sub_(mean).div_(std) if self.inplace else (tensor - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class RandomCrop:
    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size)
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = (
            padding,
            pad_if_needed,
            fill,
            padding_mode,
        )

    def __call__(self, img):
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        height, width = _hw(img)
        th, tw = self.size
        if self.pad_if_needed and (height < th or width < tw):
            img = _pad(img, [max(tw - width, 0), max(th - height, 0)], self.fill, self.padding_mode)
            height, width = _hw(img)
        if height < th or width < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(height, width)}"
            )
        top = int(torch.randint(0, height - th + 1, size=(1,)).item())
        left = int(torch.randint(0, width - tw + 1, size=(1,)).item())
        return _crop(img, top, left, th, tw)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class CenterCrop:
    def __init__(self, size):
        self.size = _pair(size)

    def __call__(self, img):
        height, width = _hw(img)
        th, tw = self.size
        return _crop(img, int(round((height - th) / 2.0)), int(round((width - tw) / 2.0)), th, tw)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return _hflip(img) if torch.rand(1) < self.p else img

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Resize:
    def __init__(self, size, interpolation=None, max_size=None, antialias=True):
        self.size, self.antialias = size, antialias

    def _target(self, height: int, width: int) -> tuple[int, int]:
        if isinstance(self.size, numbers.Integral) or len(self.size) == 1:
            short = int(self.size if isinstance(self.size, numbers.Integral) else self.size[0])
            if height <= width:
                return short, int(short * width / height)
            return int(short * height / width), short
        return int(self.size[0]), int(self.size[1])

    def __call__(self, img):
        th, tw = self._target(*_hw(img))
        if _is_pil(img):
            return img.resize((tw, th), Image.BILINEAR)
        tensor = (
            torch.as_tensor(np.asarray(img)).permute(2, 0, 1)
            if isinstance(img, np.ndarray)
            else img
        )
        batch = tensor.reshape(-1, *tensor.shape[-3:]) if tensor.dim() >= 3 else tensor[None, None]
        out = F.interpolate(
            batch.float(),
            size=(th, tw),
            mode="bilinear",
            align_corners=False,
            antialias=self.antialias,
        ).reshape(*tensor.shape[:-2], th, tw)
        if not tensor.is_floating_point():
            out = out.round().clamp(0, 255).to(tensor.dtype)
        return out.permute(1, 2, 0).numpy() if isinstance(img, np.ndarray) else out

    def __repr__(self):
        return f"Resize(size={self.size})"
