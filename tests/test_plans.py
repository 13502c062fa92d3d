"""The removal previews' wording and arithmetic, on hand-made engine states (pure functions)."""

from datetime import datetime, timezone

from imgtui.engine.models import Container, Image
from imgtui.engine.removal import EngineState, plan_bulk, plan_prune, plan_removal

T0 = datetime.fromtimestamp(1000, timezone.utc)


def img(c: str, *names: str, size: int = 100) -> Image:
    return Image(f"sha256:{c * 64}", names, (), T0, size)


def ctr(name: str, image: Image, state: str) -> Container:
    ref = image.names[0] if image.names else image.id
    return Container(name * 8, name, ref, image.id, "sh", T0, state, state)


def state(images: list[Image], containers: list[Container] = (), children=None) -> EngineState:  # type: ignore[assignment]
    return EngineState(
        images={i.id: i for i in images},
        children=children or {},
        containers=tuple(containers),
        unique={i.id: 10 for i in images},
        layers_size=1000,
    )


def test_last_name_with_a_stopped_container_is_refused_and_force_deletes() -> None:
    a = img("a", "app:1")
    plan = plan_removal(state([a], [ctr("web", a, "exited")]), "app:1", a.id, "tag")
    assert plan.blocked and not plan.deletes
    said = plan.force_outcome()
    assert "Force deletes the image record although stopped container web uses it" in said
    assert "still starts" in said, "checked by doing it: tests/test_removal.py"


def test_shared_name_only_untags_even_with_a_container() -> None:
    a = img("a", "app:1", "app:2")
    plan = plan_removal(state([a], [ctr("web", a, "running")]), "app:1", a.id, "tag")
    assert not plan.blocked and not plan.deletes and plan.freed == 0
    assert plan.keeps == ("app:2",)


def test_image_mode_untags_every_name_then_deletes() -> None:
    a = img("a", "app:1", "other:1")
    plan = plan_removal(state([a]), "app:1", a.id, "image")
    assert plan.untag == ("app:1", "other:1") and plan.deletes and plan.freed == 10


def test_bulk_simulates_in_order() -> None:
    a = img("a", "app:1", "app:2")
    lines = plan_bulk(state([a]), [("app:1", a.id), ("app:2", a.id)])
    assert lines[0].startswith("app:1: untag only") and lines[1].startswith("app:2: deletes")


def test_prune_dangling_skips_used_and_tagged_images() -> None:
    d1, d2, t = img("a"), img("b"), img("c", "app:1")
    plan = plan_prune(state([d1, d2, t], [ctr("x", d2, "exited")]), all_unused=False)
    assert [i.id for i in plan.images] == [d1.id] and plan.freed == 10
    everything = plan_prune(state([d1, d2, t], [ctr("x", d2, "exited")]), all_unused=True)
    assert {i.id for i in everything.images} == {d1.id, t.id}


def test_the_order_the_engine_lists_names_in_is_not_a_change() -> None:
    """RepoTags come in no fixed order: the same names in another order must not abort a removal."""
    one = plan_removal(state([img("a", "x:1", "y:1", "z:1")]), "x:1", img("a").id, "tag")
    other = plan_removal(state([img("a", "z:1", "x:1", "y:1")]), "x:1", img("a").id, "tag")
    assert one.fingerprint() == other.fingerprint()
