"""How a converted pix2pixHD generator's input channels split (pix2pixHD's option semantics)."""

from __future__ import annotations

import pytest

from vid2vid.convert import ConversionError
from vid2vid.convert.original import image_model_inputs_from_options


@pytest.mark.parametrize(
    ("options", "channels", "expected"),
    [
        ({"label_nc": 35}, 36, (35, True, 0, 0)),  # pix2pixHD defaults: labels + instance edge
        ({"label_nc": 35, "no_instance": True}, 35, (35, False, 0, 0)),
        ({"label_nc": 35, "instance_feat": True, "feat_num": 3}, 39, (35, True, 0, 3)),
        ({"label_nc": 0, "input_nc": 3, "no_instance": True}, 3, (0, False, 3, 0)),
        ({"input_nc": 35}, 35, (35, False, 0, 0)),  # the reference fixtures: one-hot labels only
        ({}, 36, (35, True, 0, 0)),  # no options, 36 channels: Cityscapes labels + edge
    ],
)
def test_input_layout(options: dict, channels: int, expected: tuple) -> None:
    got = image_model_inputs_from_options(options, channels)
    assert (got["label_nc"], got["use_instance"], got["input_nc"], got["feature_channels"]) == expected


def test_options_that_do_not_add_up_are_named() -> None:
    with pytest.raises(ConversionError, match=r"36 generator input channels .* the weights take 35"):
        image_model_inputs_from_options({"label_nc": 35}, 35)
