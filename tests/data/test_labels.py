"""Label encoding and pyramids."""

from __future__ import annotations

import pytest
import torch

from vid2vid.data.labels import encode_label_map, instance_edges, one_hot
from vid2vid.nn.pyramid import build_pyramid, downsample2x


def test_one_hot() -> None:
    labels = torch.tensor([[[0, 2], [1, 2]]])
    out = one_hot(labels, 3)
    assert out.shape == (1, 3, 2, 2)
    assert out.sum(dim=1).eq(1).all()
    assert out[0, 2].tolist() == [[0, 1], [0, 1]]
    assert one_hot(labels.unsqueeze(0), 3).shape == (1, 1, 3, 2, 2)


def test_one_hot_rejects_out_of_range_ids_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match=r"class id 35, outside \[0, 35\).*label_nc"):
        one_hot(torch.tensor([[0, 35]]), 35)
    with pytest.raises(ValueError, match="class id -1"):
        one_hot(torch.tensor([[-1, 0]]), 35)
    with pytest.raises(ValueError, match="integer tensor"):
        one_hot(torch.zeros(2, 2), 35)


def test_instance_edges_mark_both_sides_of_a_boundary() -> None:
    inst = torch.zeros(5, 6, dtype=torch.long)
    inst[1:3, 2:4] = 7
    edges = instance_edges(inst)[0]
    expected = torch.zeros(5, 6)
    expected[1:3, 2:4] = 1  # the object's border pixels (a 2x2 object is all border)
    expected[1:3, 1] = expected[1:3, 4] = 1  # left/right neighbours
    expected[0, 2:4] = expected[3, 2:4] = 1  # top/bottom neighbours
    assert torch.equal(edges, expected)
    assert instance_edges(inst.expand(2, 3, 5, 6)).shape == (2, 3, 1, 5, 6)


def test_encode_label_map() -> None:
    labels = torch.randint(0, 4, (2, 3, 8, 8))
    inst = torch.randint(0, 2, (2, 3, 8, 8))
    enc = encode_label_map(labels, 4, instances=inst)
    assert enc.shape == (2, 3, 5, 8, 8)
    assert torch.equal(enc[:, :, 4:], instance_edges(inst))
    cont = encode_label_map(None, 0, inputs=torch.rand(2, 3, 6, 8, 8))
    assert cont.shape == (2, 3, 6, 8, 8)
    with pytest.raises(ValueError, match="must match"):
        encode_label_map(labels, 4, instances=inst[..., :4])


def test_downsample_and_pyramid() -> None:
    x = torch.ones(2, 3, 4, 9, 10)
    levels = build_pyramid(x, 3)
    assert [tuple(level.shape) for level in levels] == [(2, 3, 4, 9, 10), (2, 3, 4, 5, 5), (2, 3, 4, 3, 3)]
    # Padding is not counted: a constant image stays constant, borders included.
    assert torch.allclose(levels[2], torch.ones_like(levels[2]))
    ramp = torch.arange(4.0).view(1, 1, 4).expand(1, 4, 4)
    assert torch.allclose(downsample2x(ramp)[0, 0], torch.tensor([0.5, 2.0]))
