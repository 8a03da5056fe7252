"""An image generation service labels each picture before it leaves, in memory.

    python image_service.py KEY_FILE PRODUCER OUT.png

`generate()` stands in for a diffusion pipeline (diffusers returns PIL images or NumPy arrays);
`label_image` encodes and labels in one call: XMP label, seal, invisible watermark, and with
explicit=True a visible corner mark. No temporary files.
"""

import sys

import numpy as np

import aigcmark


def generate(seed: int) -> np.ndarray:
    """A stand-in for the model: an H×W×3 uint8 image."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:640, 0:1024]
    base = np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.int16)
    return np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)


def main(key_file: str, producer: str, out_path: str) -> None:
    signer = aigcmark.Signer.load(key_file)  # load once, reuse for every request
    pixels = generate(seed=1)
    png = aigcmark.label_image(pixels, "png", signer=signer, producer=producer, explicit=True)
    with open(out_path, "wb") as f:
        f.write(png)
    print(f"{out_path}: {len(png)} bytes, labeled")


if __name__ == "__main__":
    main(*sys.argv[1:4])
