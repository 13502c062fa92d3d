"""The containerd store's size model (engine/sizes.py) on hand-made images: chain IDs as the OCI image spec
defines them, exact splits where a parent holds the shared part, estimates marked where it does not."""

from __future__ import annotations

import hashlib

from imgtui.engine.sizes import BLOCK, ContainerdSizes, ImageParts, chain_ids, on_disk

A, B, C = (f"sha256:{c * 64}" for c in "abc")
META = 2 * BLOCK


def test_chain_ids_follow_the_image_spec() -> None:
    second = "sha256:" + hashlib.sha256(f"{A} {B}".encode()).hexdigest()
    assert chain_ids([A, B]) == (A, second)
    assert chain_ids([]) == ()


def test_history_rows_that_made_no_layer_are_skipped() -> None:
    inspect = {"Size": 1_000_000, "RootFS": {"Layers": [A, B]}}
    history = [{"Size": 8192}, {"Size": 0}, {"Size": 2_000_000}, {"Size": 0}]  # newest first
    part = ImageParts.read("sha256:img", inspect, history)
    assert part.unpacked == (2_000_000, 8192) and part.exact and part.content == 1_000_000


def parts() -> dict[str, ImageParts]:
    base, child = chain_ids([A]), chain_ids([A, B])
    return {
        "parent": ImageParts("parent", base, (2_000_000,), 1_000_000),
        "child": ImageParts("child", child, (2_000_000, 8192), 1_000_700),
        "other": ImageParts("other", chain_ids([C]), (500_000,), 250_000),
    }


def test_a_child_owns_its_top_layer_and_its_compressed_copy() -> None:
    sizes = ContainerdSizes(parts())
    child = sizes.footprint("child")
    assert child.own == 8192 + on_disk(700) + META and not child.about
    assert child.total == 2_000_000 + on_disk(1_000_000) + 8192 + on_disk(700) + META
    parent = sizes.footprint("parent")
    assert parent.own == META, "its only layer is the child's too"
    assert sizes.footprint("other").own == 500_000 + on_disk(250_000) + META


def test_removing_parent_and_child_together_frees_both_layers_once() -> None:
    sizes = ContainerdSizes(parts())
    both = sizes.freed(["parent", "child"])
    assert both.own == 2_000_000 + on_disk(1_000_000) + 8192 + on_disk(700) + 2 * META
    everything = sizes.disk_total()
    assert everything == both.own + sizes.footprint("other").own


def test_siblings_without_their_parent_are_estimates() -> None:
    """Two images over a base no image holds: how their compressed bytes split is not known; said so."""
    base_b, base_c = chain_ids([A, B]), chain_ids([A, C])
    sizes = ContainerdSizes({
        "one": ImageParts("one", base_b, (1_000_000, 100_000), 600_000),
        "two": ImageParts("two", base_c, (1_000_000, 300_000), 700_000),
    })  # fmt: skip
    one = sizes.footprint("one")
    assert one.about
    assert one.own == 100_000 + on_disk(int(600_000 * 100_000 / 1_100_000)) + META
