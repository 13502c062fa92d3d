"""Registry retention from the keyboard (the registry view's `T` and `K`), against the sandbox's real
registries (docker-registry 2.8 on 127.0.0.1)."""

from __future__ import annotations

import docker
import pytest

from imgtui.registry import NotFound, Registry
from imgtui.ui.app import ImgtuiApp
from imgtui.ui.dialogs.choice import ChoiceDialog
from imgtui.ui.dialogs.retention import RetentionDialog
from tests.conftest import wait_for
from tests.registries import push
from tests.test_registry_retention import dated_repository
from tests.test_registry_ui import cursor_to, open_registry, open_repository
from tests.test_removal import log


def dialog(app: ImgtuiApp, name: str) -> bool:
    return isinstance(app.screen, ChoiceDialog) and app.screen.id == name


async def test_delete_only_this_tag_from_d_or_T_keeps_the_other_tag(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, retention_registry: str, api: docker.APIClient, unique: str
) -> None:
    host, repo = retention_registry, f"ui-only-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    push(api, "busybox:latest", f"{host}/{repo}:other")
    digest = Registry(host).digest_of(repo, "a")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_registry(pilot, app, host)
        await open_repository(pilot, screen, repo)
        await cursor_to(pilot, screen, "a")
        await pilot.press("d")  # today's delete offers the other way beside it
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog), timeout=20)
        assert "y delete   t only a (T)   n keep" in app.screen.shown_text  # type: ignore[attr-defined]
        await pilot.press("t")
        await wait_for(pilot, lambda: dialog(app, "untag-plan"), timeout=20)
        shown = app.screen.shown_text  # type: ignore[attr-defined]
        assert f"Delete only the tag {host}/{repo}:a?" in shown
        assert f"Remove only the tag {host}/{repo}:a; its manifest {digest} stays." in shown
        assert "1 other tag stays on that digest, as it is: b" in shown
        assert "this takes two requests:" in shown and f"{repo} keeps 2 of 3 tags." in shown
        await pilot.press("y")
        await wait_for(pilot, lambda: [r.tag for r in screen.tags.items] == ["b", "other"], timeout=20)
        said = log(app)
        assert f"{host}/{repo}:a still points at {digest[:19]}" in said
        assert f"{host}/{repo}:a now points at the throwaway sha256:" in said
        gone = f"Tag gone: {host}/{repo}:a (deleted the throwaway); {digest[:19]} stays; b stays on it"
        assert gone in said
    registry = Registry(host)
    assert registry.digest_of(repo, "b") == digest
    with pytest.raises(NotFound):
        registry.digest_of(repo, "a")


async def test_T_on_a_registry_without_deletes_says_one_sentence(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, nodelete_registry: str
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_registry(pilot, app, nodelete_registry)
        await open_repository(pilot, screen, "keep")
        await pilot.press("T")
        await wait_for(pilot, lambda: dialog(app, "untag-plan"), timeout=20)
        await pilot.press("y")
        await wait_for(pilot, lambda: "storage.delete.enabled" in screen.problem, timeout=20)
        assert screen.problem.startswith(f"{nodelete_registry} does not allow deleting (405")
        assert f"{nodelete_registry} does not allow deleting (405" in log(app)
        assert "now points at the throwaway" not in log(app), "nothing was written"
    assert Registry(nodelete_registry).all_tags("keep") == ["me"]


async def test_retention_preview_then_y_applies_it_with_a_log_line_per_answer(  # type: ignore[no-untyped-def]
    app: ImgtuiApp, retention_registry: str, unique: str
) -> None:
    host, repo = retention_registry, f"ui-keep-{unique}"
    d = dated_repository(host, repo)
    where = f"{host}/{repo}"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_registry(pilot, app, host)
        await open_repository(pilot, screen, repo)
        await pilot.press("K")
        await wait_for(pilot, lambda: isinstance(app.screen, RetentionDialog))
        await pilot.press("enter")  # empty: refused with a sentence
        await wait_for(pilot, lambda: "an empty policy would delete every tag" in app.screen.error)  # type: ignore[attr-defined]
        await pilot.press("2", "tab", *"latest", "enter")
        await wait_for(pilot, lambda: dialog(app, "retention-plan"), timeout=20)
        shown = app.screen.shown_text  # type: ignore[attr-defined]
        assert f"Apply retention to {where}?" in shown
        assert f"Delete 3 tags of {repo} (1 alone, by a throwaway manifest), keep 3" in shown
        v1 = f"delete v1  created 2024-01-01 10:00:00  {d['v1'][:19]}  (not among the newest 2, #4)"
        assert v1 in shown
        assert "its digest is shared with kept latest: only this tag goes" in shown
        assert f"keep v9  created 2024-01-04 10:00:00  {d['v9'][:19]}  (among the newest 2, #1)" in shown
        assert f"keep v10  created 2024-01-03 10:00:00  {d['v10'][:19]}  (among the newest 2, #2)" in shown
        await pilot.press("y")
        await wait_for(
            pilot, lambda: sorted(r.tag for r in screen.tags.items) == ["latest", "v10", "v9"], timeout=30
        )
        await wait_for(pilot, lambda: f"Tag gone: {where}:v2" in log(app), timeout=10)
        said = log(app).splitlines()
        action = f"retention of {where}: keep the newest 2 by created time and tags matching latest; "
        start = next(n for n, line in enumerate(said) if line.endswith(action + "delete the other tags"))
        assert len(said) - start == 1 + 7, "the action, then one line per registry answer"
        assert f"Deleted {where}@{d['v1']}: {where}:stable, {where}:v1 gone" in said[start + 3]
    registry = Registry(host)
    assert sorted(registry.all_tags(repo)) == ["latest", "v10", "v9"]
    assert registry.digest_of(repo, "latest") == d["v2"]
