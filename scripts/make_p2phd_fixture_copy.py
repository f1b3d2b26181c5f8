"""Make the small in-repo copy of the pix2pixHD reference fixtures (tests/fixtures/p2phd/).

The reference fixtures (``../shared/fixtures/nvidia-vid2vid/p2phd_*``) hold the original
generator's weights (3-12 MB of random numbers) that a clone cannot carry. They were made with
``torch.manual_seed(0)``, PyTorch's default layer initialisation and pix2pixHD's ``weights_init``
(convolution weights redrawn from N(0, 0.02) in module order), so the copy stores:

- ``config.json``: the fixture's options, as they are;
- ``io.safetensors``: its labels (as uint8) and the original's outputs (float32);
- ``weights.json``: the recipe that redraws the weights (seed, layers in construction order,
  including layers built and then dropped) and the SHA-256 of the original ``.pth``'s tensors.

The tests redraw the weights, check them against that SHA-256 (so they are the original's, bit
for bit), write them as a ``.pth`` and replay the fixture through the public path.

    python scripts/make_p2phd_fixture_copy.py ../shared/fixtures/nvidia-vid2vid tests/fixtures/p2phd
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fixtures.p2phd.weights import redraw_state_dict, state_dict_sha256  # noqa: E402


def layer_recipe(state_dict: dict[str, torch.Tensor], local: bool) -> list[dict]:
    """Layers in construction order from the state dict's key order (+ the dropped global output conv)."""
    layers: list[dict] = []
    for key, value in state_dict.items():
        if key.endswith(".weight") and value.dim() == 4:
            name = key[: -len(".weight")]
            # ConvTranspose2d weights are (in, out, k, k) and sit in the up-sampling stacks with stride 2
            transposed = _is_transposed(name, state_dict, local)
            c_in, c_out = (value.shape[0], value.shape[1]) if transposed else (value.shape[1], value.shape[0])
            k = value.shape[-1]
            stride = 2 if transposed or _is_strided(name, k) else 1
            layers.append(
                {
                    "name": name,
                    "type": "conv_transpose" if transposed else "conv",
                    "in": int(c_in),
                    "out": int(c_out),
                    "kernel": int(k),
                    "stride": stride,
                    "kept": True,
                }
            )
        elif key.endswith(".running_mean"):
            layers.append(
                {"name": key[: -len(".running_mean")], "type": "norm", "channels": int(value.shape[0])}
            )
    if local:
        # the LocalEnhancer builds a whole GlobalGenerator and drops its last 3 modules (pad, 7x7 conv,
        # tanh): that conv drew random numbers after the global up-sampling stack
        last_global = max(i for i, layer in enumerate(layers) if layer["name"].startswith("model."))
        last_conv = max(
            i
            for i, layer in enumerate(layers)
            if layer["name"].startswith("model.") and layer["type"] != "norm"
        )
        ngf_global = layers[last_conv]["out"]
        layers.insert(
            last_global + 1,
            {
                "name": "dropped_global_output",
                "type": "conv",
                "in": ngf_global,
                "out": 3,
                "kernel": 7,
                "stride": 1,
                "kept": False,
            },
        )
    return layers


def _is_transposed(name: str, sd: dict[str, torch.Tensor], local: bool) -> bool:
    # transposed convs are never inside residual blocks and follow the blocks in each stack
    if "conv_block" in name:
        return False
    w = sd[name + ".weight"]
    if w.shape[-1] != 3:
        return False
    prefix, _, index = name.rpartition(".")
    blocks = [int(k.split(".")[1]) for k in sd if k.startswith(prefix + ".") and ".conv_block." in k]
    return bool(blocks) and int(index) > max(blocks)


def _is_strided(name: str, kernel: int) -> bool:
    return kernel == 3 and "conv_block" not in name


def main(src_root: str, dst_root: str) -> None:
    for folder in sorted(Path(src_root).glob("p2phd_*")):
        cfg = json.loads((folder / "config.json").read_text())
        (weights_file,) = cfg["weights"]
        sd = torch.load(folder / weights_file, map_location="cpu", weights_only=True)
        recipe = {"seed": 0, "init_std": 0.02, "layers": layer_recipe(sd, cfg["kind"].endswith("local"))}
        redrawn = redraw_state_dict(recipe)
        digest = state_dict_sha256(sd)
        if state_dict_sha256(redrawn) != digest:
            raise SystemExit(f"{folder.name}: the recipe does not redraw the original weights")
        out = Path(dst_root) / folder.name
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        (out / "weights.json").write_text(
            json.dumps({"file": weights_file, "sha256": digest, "recipe": recipe}, indent=1) + "\n"
        )
        io = load_file(folder / "io.safetensors")
        save_file(
            {"labels": io["labels"].to(torch.uint8), "expected": io["expected"].contiguous()},
            out / "io.safetensors",
        )
        print(f"{folder.name}: {sum(p.stat().st_size for p in out.iterdir()) / 1024:.0f} KB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
