"""LPIPS with random weights: identities, an independent re-derivation, weight files and offline errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models import alexnet

from vid2vid.metrics import LPIPS


@pytest.fixture(scope="module")
def lpips() -> LPIPS:
    torch.manual_seed(0)
    return LPIPS("alex", weights=None)


def test_identical_images_score_zero_and_the_distance_is_symmetric(lpips: LPIPS) -> None:
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    y = torch.rand(2, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(lpips(x, x), torch.zeros(2))
    torch.testing.assert_close(lpips(x, y), lpips(y, x))
    assert (lpips(x, y) > 0).all()
    assert lpips(x, x * 0.9).mean() < lpips(x, y).mean()


def test_matches_the_definition_computed_with_hooks_on_torchvision_alexnet(lpips: LPIPS) -> None:
    # rebuild the backbone from the module's weights and read the 5 ReLU outputs with hooks
    net = alexnet(weights=None).features[:12].eval()  # up to relu5 (the last max-pool is unused)
    flat = [m for block in lpips.slices for m in block]
    net.load_state_dict(
        {f"{i}.{k}": v for i, m in enumerate(flat) for k, v in m.state_dict().items()}, strict=False
    )
    relus = [1, 4, 7, 9, 11]
    x = torch.rand(1, 3, 48, 64) * 2 - 1
    y = torch.rand(1, 3, 48, 64) * 2 - 1

    def acts(img: torch.Tensor) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        hooks = [net[i].register_forward_hook(lambda m, a, o: out.append(o.clone())) for i in relus]
        shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
        scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
        with torch.no_grad():
            net((img - shift) / scale)
        for h in hooks:
            h.remove()
        return out

    expected = 0.0
    for k, (a, b) in enumerate(zip(acts(x), acts(y), strict=False)):
        na = a / (a.norm(dim=1, keepdim=True) + 1e-10)
        nb = b / (b.norm(dim=1, keepdim=True) + 1e-10)
        w = lpips.heads[k].weight.view(1, -1, 1, 1)
        expected += float(((na - nb) ** 2 * w).sum(dim=1).mean())
    assert lpips(x, y).item() == pytest.approx(expected, rel=1e-4)


def test_loads_backbone_and_heads_files(tmp_path: Path, lpips: LPIPS) -> None:
    backbone = {
        f"features.{i}.{k}": v
        for i, m in enumerate(m for b in lpips.slices for m in b)
        for k, v in m.state_dict().items()
    }
    heads = {f"lin{k}.model.1.weight": h.weight.detach().clone() for k, h in enumerate(lpips.heads)}
    torch.save(backbone, tmp_path / "alexnet.pth")
    torch.save(heads, tmp_path / "alex.pth")
    loaded = LPIPS("alex", backbone_weights=tmp_path / "alexnet.pth", head_weights=tmp_path / "alex.pth")
    x, y = torch.rand(2, 3, 40, 40) * 2 - 1, torch.rand(2, 3, 40, 40) * 2 - 1
    torch.testing.assert_close(loaded(x, y), lpips(x, y))
    torch.save({"lin0.model.1.weight": heads["lin0.model.1.weight"]}, tmp_path / "bad.pth")
    with pytest.raises(KeyError, match="lin1.model.1.weight"):
        LPIPS("alex", backbone_weights=tmp_path / "alexnet.pth", head_weights=tmp_path / "bad.pth")


def test_offline_error_names_the_file_and_where_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("VID2VID_LPIPS_ALEX_BACKBONE", raising=False)
    with pytest.raises(RuntimeError, match="alexnet-owt-7be5be79.pth") as err:
        LPIPS("alex")
    assert str(tmp_path / "hub" / "checkpoints") in str(err.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LPIPS("alex", backbone_weights=tmp_path / "missing.pth")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="net must be one of"):
        LPIPS("resnet", weights=None)
    with pytest.raises(ValueError, match="at least 32x32"):
        LPIPS("alex", weights=None)(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16))
