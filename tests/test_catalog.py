"""The grouping and the one-image updates that live refresh relies on (pure data, no engine needed)."""

from datetime import datetime, timezone

from imgtui.engine import NONE, Catalog, Image


def image(image_id: str, *names: str, created: int = 1000, size: int = 100) -> Image:
    return Image(
        f"sha256:{image_id * 64}"[:71], tuple(names), (), datetime.fromtimestamp(created, timezone.utc), size
    )


def test_repositories_group_names_and_put_dangling_last() -> None:
    cat = Catalog([image("a", "app:1", "app:2", "other/app:1"), image("b"), image("c", "base:latest")])
    repos = {r.name: r for r in cat.repositories()}
    assert [r.name for r in cat.repositories()] == ["app", "base", "other/app", NONE]
    assert [t.tag for t in repos["app"].tags] == ["1", "2"]
    assert repos["app"].size == 100, "two tags of one image count its size once"
    assert cat.totals().dangling == 1


def test_registry_port_is_not_a_tag() -> None:
    cat = Catalog([image("a", "localhost:5000/ns/app:1.0")])
    (repo,) = cat.repositories()
    assert (repo.name, repo.tags[0].tag) == ("localhost:5000/ns/app", "1.0")


def test_moving_a_tag_takes_it_from_the_old_image() -> None:
    """`docker tag B app:1` sends an event for B only; A must lose the name (and turn dangling)."""
    cat = Catalog([image("a", "app:1"), image("b", "base:1")])
    touched = cat.apply(image("b", "base:1", "app:1"))
    assert "app" in touched
    a = cat.get(f"sha256:{'a' * 64}")
    assert a is not None and a.dangling
    assert [t.image.id[7:8] for t in cat.repository("app").tags] == ["b"]  # type: ignore[union-attr]


def test_remove_and_resolve() -> None:
    cat = Catalog([image("a", "app:1")])
    assert cat.resolve("app:1") == f"sha256:{'a' * 64}"
    assert cat.resolve("aaaaaaaaaaaa") == f"sha256:{'a' * 64}"
    assert cat.remove(f"sha256:{'a' * 64}") == {"app"}
    assert cat.repositories() == []
