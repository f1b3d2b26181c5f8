"""Data: label encoding, datasets, video I/O and the shipped synthetic dataset."""

from vid2vid.data.labels import check_label_ids, encode_label_map, instance_edges, one_hot

__all__ = ["one_hot", "instance_edges", "encode_label_map", "check_label_ids"]
