"""Registry retention against the sandbox's real registries (docker-registry 2.8 on 127.0.0.1, deletes
enabled, and one with deletes disabled): "delete only this tag" through a throwaway manifest, and a retention
policy whose plans are checked line by line. Images with chosen created times are written with the registry
API (the busybox layers mounted across, a config of their own), so the time order is known exactly."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import docker
import pytest

from imgtui.registry import AuthRequired, DeleteDisabled, NotFound, Registry, RegistryError
from imgtui.registry.retention import (
    RetentionChanged,
    RetentionError,
    RetentionPolicy,
    UntagChanged,
    apply_retention,
    execute_untag,
    plan_retention,
    plan_untag,
)
from tests.fault_proxy import Canned, FaultProxy, Rule
from tests.registries import DOCKER_V2, OCI_INDEX, Raw, push


@pytest.fixture
def fault_proxy(retention_registry: str) -> Iterator[FaultProxy]:
    """The fault proxy (tests/fault_proxy.py) in front of the retention registry: relays every request
    unless a rule of the test breaks it."""
    proxy = FaultProxy(retention_registry)
    yield proxy
    proxy.stop()


def counted(registry: Registry) -> list[str]:
    """Every request the registry object sends (method and path), through requests' response hook."""
    seen: list[str] = []
    registry.session.hooks["response"].append(
        lambda r, *a, **k: seen.append(f"{r.request.method} {urlparse(r.url).path} {r.status_code}")
    )
    return seen


def dated_image(host: str, repository: str, tag: str, created: str) -> str:
    """Write `repository:tag` as busybox (its layer mounted from `alpha`) with a config of its own whose
    `created` is the given time; returns the manifest's digest."""
    raw = Raw(host)
    _, manifest_raw = raw.get_manifest("alpha", "latest")
    manifest = json.loads(manifest_raw)
    config_digest = manifest["config"]["digest"]
    with urllib.request.urlopen(f"http://{host}/v2/alpha/blobs/{config_digest}", timeout=10) as answer:
        config = json.loads(answer.read())
    config["created"] = created
    config_raw = json.dumps(config).encode()
    digest = "sha256:" + hashlib.sha256(config_raw).hexdigest()
    for blob in manifest["layers"]:
        mount = urllib.request.Request(
            f"http://{host}/v2/{repository}/blobs/uploads/?mount={blob['digest']}&from=alpha", method="POST"
        )
        with urllib.request.urlopen(mount, timeout=10) as answer:
            assert answer.status == 201
    start = urllib.request.Request(f"http://{host}/v2/{repository}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start, timeout=10) as answer:
        location = answer.headers["Location"]
    put = urllib.request.Request(
        f"{location}&digest={digest}",
        data=config_raw,
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(put, timeout=10) as answer:
        assert answer.status == 201
    manifest["config"] = {**manifest["config"], "digest": digest, "size": len(config_raw)}
    return raw.put_manifest(repository, tag, DOCKER_V2, manifest)


def same_digest(host: str, repository: str, tag: str, source: str) -> str:
    raw = Raw(host)
    _, body = raw.get_manifest(repository, source)
    return raw.put_manifest(repository, tag, DOCKER_V2, json.loads(body))


# -- delete only this tag ------------------------------------------------------------------------------
def test_delete_only_this_tag_leaves_the_other_tag_on_its_digest(
    retention_registry: str, api: docker.APIClient, unique: str
) -> None:
    host, repo = retention_registry, f"only-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    push(api, "busybox:latest", f"{host}/{repo}:other")
    registry = Registry(host)
    digest = registry.digest_of(repo, "a")
    plan = plan_untag(registry, repo, "a")
    assert plan.digest == digest and plan.stay == ("b",) and plan.total_tags == 3
    text = "\n".join(plan.lines())
    assert f"Remove only the tag {host}/{repo}:a; its manifest {digest} stays." in text
    assert "1 other tag stays on that digest, as it is: b" in text
    assert "this takes two requests:" in text and f"{repo} keeps 2 of 3 tags." in text
    seen = counted(registry)
    steps = list(execute_untag(registry, plan))
    assert steps == [
        ("info", f"{host}/{repo}:a still points at {digest[:19]}"),
        ("info", f"{host} allows deletes (a DELETE of an unused digest answered 404)"),
        ("info", f"Uploaded the empty config blob (2 bytes) to {host}/{repo}"),
        ("tagged", f"{host}/{repo}:a now points at the throwaway {plan.throwaway_digest[:19]}"),
        (
            "untagged",
            f"Tag gone: {host}/{repo}:a (deleted the throwaway); {digest[:19]} stays; b stays on it",
        ),
    ]
    changes = [s for s in seen if s.split()[0] in ("PUT", "DELETE", "POST")]
    assert changes == [
        f"DELETE /v2/{repo}/manifests/{plan.throwaway_digest} 404",
        f"POST /v2/{repo}/blobs/uploads/ 202",
        f"PUT {changes[2].split()[1]} 201",
        f"PUT /v2/{repo}/manifests/a 201",
        f"DELETE /v2/{repo}/manifests/{plan.throwaway_digest} 202",
    ]
    assert registry.digest_of(repo, "b") == digest, "the other tag still resolves to the same digest"
    with pytest.raises(NotFound):
        registry.digest_of(repo, "a")
    assert sorted(registry.all_tags(repo)) == ["b", "other"]
    assert registry.manifest(repo, digest).digest == digest, "the manifest itself is still there"


def test_delete_only_this_tag_refuses_when_the_tag_moved(
    retention_registry: str, api: docker.APIClient, unique: str
) -> None:
    host, repo = retention_registry, f"onlymoved-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    registry = Registry(host)
    plan = plan_untag(registry, repo, "a")
    push(api, "busybox:latest", f"{host}/{repo}:a")  # someone pushes over it meanwhile
    with pytest.raises(UntagChanged, match="changed since the preview; nothing was changed") as info:
        list(execute_untag(registry, plan))
    assert info.value.plan.digest != plan.digest and info.value.plan.stay == ()
    assert sorted(registry.all_tags(repo)) == ["a", "b"]


def test_delete_only_this_tag_on_a_registry_without_deletes_changes_nothing(nodelete_registry: str) -> None:
    registry = Registry(nodelete_registry)
    before = registry.digest_of("keep", "me")
    plan = plan_untag(registry, "keep", "me")
    seen = counted(registry)
    with pytest.raises(DeleteDisabled) as info:
        list(execute_untag(registry, plan))
    said = str(info.value)
    assert said.startswith(f"{nodelete_registry} does not allow deleting (405")
    assert "storage.delete.enabled: true" in said and "\n" not in said
    assert not [s for s in seen if s.startswith("PUT")], "nothing was written"
    assert registry.all_tags("keep") == ["me"] and registry.digest_of("keep", "me") == before


def test_a_delete_failing_after_the_put_puts_the_original_back(
    retention_registry: str, api: docker.APIClient, unique: str, fault_proxy: FaultProxy
) -> None:
    host, repo = retention_registry, f"putback-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    registry = Registry(fault_proxy.address)
    digest = registry.digest_of(repo, "a")
    plan = plan_untag(registry, repo, "a")
    gone = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
    broken = json.dumps({"errors": [{"code": "UNKNOWN", "message": "disk full"}]}).encode()
    fault_proxy.rules += [
        Rule(plan.throwaway_digest, "DELETE", answer=Canned(404, gone)),  # the probe, as the registry says
        Rule(plan.throwaway_digest, "DELETE", answer=Canned(500, broken)),  # the delete itself fails
    ]
    steps: list[tuple[str, str]] = []
    with pytest.raises(RegistryError) as info:
        steps.extend(execute_untag(registry, plan))
    assert str(info.value) == (
        f"deleting {repo}@{plan.throwaway_digest[:19]}: {fault_proxy.address} had an internal error "
        f"(500: disk full); {fault_proxy.address}/{repo}:a was put back on {digest[:19]}: nothing changed"
    )
    assert steps[-1] == ("tagged", f"{fault_proxy.address}/{repo}:a points at {digest[:19]} again (put back)")
    direct = Registry(host)
    assert direct.digest_of(repo, "a") == digest and direct.digest_of(repo, "b") == digest


def test_when_putting_the_original_back_fails_too_the_sentence_says_how_to_fix_it(
    retention_registry: str, api: docker.APIClient, unique: str, fault_proxy: FaultProxy
) -> None:
    host, repo = retention_registry, f"stuck-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    registry = Registry(fault_proxy.address)
    digest = registry.digest_of(repo, "a")
    plan = plan_untag(registry, repo, "a")
    gone = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
    fault_proxy.rules += [
        Rule(plan.throwaway_digest, "DELETE", answer=Canned(404, gone)),
        Rule(plan.throwaway_digest, "DELETE", answer=Canned(503, b"")),
        Rule(f"/v2/{repo}/manifests/a", "PUT"),  # the throwaway's PUT goes through
        Rule(f"/v2/{repo}/manifests/a", "PUT", answer=Canned(503, b"")),  # putting the original back fails
    ]
    with pytest.raises(RegistryError) as info:
        list(execute_untag(registry, plan))
    where = f"{fault_proxy.address}/{repo}"
    said = str(info.value)
    proxy = fault_proxy.address
    assert said.startswith(f"deleting {repo}@{plan.throwaway_digest[:19]}: {proxy} had an internal")
    assert "putting the original back failed too" in said and "\n" not in said
    assert f"{where}:a now points at the throwaway {plan.throwaway_digest}" in said
    assert f"`crane tag {where}@{digest} a`, or pull {where}@{digest}, tag it {where}:a and push" in said
    direct = Registry(host)
    assert direct.digest_of(repo, "a") == plan.throwaway_digest, "what the sentence says is so"
    assert direct.digest_of(repo, "b") == digest
    direct.put_manifest(repo, "a", *direct.manifest_bytes(repo, digest))  # the fix it names, done by hand
    assert direct.digest_of(repo, "a") == digest


def test_retention_keeps_the_platforms_of_a_kept_index(retention_registry: str, unique: str) -> None:
    """A tag that goes, on a digest a kept index lists as a platform: only the tag goes (the index stays
    whole)."""
    host, repo = retention_registry, f"plat-{unique}"
    image = dated_image(host, repo, "img", "2024-02-01T00:00:00Z")
    _, body = Raw(host).get_manifest(repo, "img")
    index = Raw(host).index(repo, "idx", OCI_INDEX, [(image, DOCKER_V2, len(body), "linux/amd64")])
    registry = Registry(host)
    plan = plan_retention(registry, repo, RetentionPolicy(None, ("idx",)))
    assert [(v.tag, v.shared_with) for v in plan.doomed] == [("img", ("idx (a platform of it)",))]
    assert plan.whole_digests == [] and plan.requests == 2
    assert [(v.tag, v.digest, v.reason) for v in plan.kept] == [("idx", index, "matches idx")]
    assert plan.kept[0].created == datetime(2024, 2, 1, tzinfo=timezone.utc), "an index: its platform's time"
    list(apply_retention(registry, plan))
    assert registry.all_tags(repo) == ["idx"]
    assert registry.manifest(repo, image).digest == image, "the index's platform is still there"


# -- retention -----------------------------------------------------------------------------------------
TIMES = {
    "v1": "2024-01-01T10:00:00Z",
    "v2": "2024-01-02T10:00:00Z",
    "v10": "2024-01-03T10:00:00Z",
    "v9": "2024-01-04T10:00:00Z",  # made after v10: string order and time order differ
}


def dated_repository(host: str, repo: str) -> dict[str, str]:
    """v1 < v2 < v10 < v9 by created time; `latest` on v2's digest, `stable` on v1's: tag -> digest."""
    digests = {tag: dated_image(host, repo, tag, when) for tag, when in TIMES.items()}
    digests["latest"] = same_digest(host, repo, "latest", "v2")
    digests["stable"] = same_digest(host, repo, "stable", "v1")
    assert digests["latest"] == digests["v2"] and digests["stable"] == digests["v1"]
    return digests


def test_retention_plan_keeps_the_newest_by_created_time_and_patterns(
    retention_registry: str, unique: str
) -> None:
    host, repo = retention_registry, f"keep-{unique}"
    d = dated_repository(host, repo)
    registry = Registry(host)
    seen = counted(registry)
    plan = plan_retention(registry, repo, RetentionPolicy(2, ("latest",)))
    gets = [s for s in seen if s.startswith("GET")]
    assert len([s for s in seen if s.startswith("HEAD")]) == 6, "one HEAD a tag"
    assert len(gets) == 1 + 4 + 4, f"the tag list, then a manifest and a config per digest: {gets}"
    assert plan.lines() == [
        "Policy: keep the newest 2 by created time and tags matching latest; delete the other tags",
        f"Delete 3 tags of {repo} (1 alone, by a throwaway manifest), keep 3: 3 requests that change the "
        "registry.",
        f"delete stable  created 2024-01-01 10:00:00  {d['v1'][:19]}  (not among the newest 2, #4)",
        f"delete v1  created 2024-01-01 10:00:00  {d['v1'][:19]}  (not among the newest 2, #4)",
        f"delete v2  created 2024-01-02 10:00:00  {d['v2'][:19]}  (not among the newest 2, #3)",
        "  its digest is shared with kept latest: only this tag goes (pointed at a throwaway manifest, then "
        "that is deleted by digest)",
        f"  {d['v1'][:19]} is deleted once: stable, v1 go together",
        f"keep v9  created 2024-01-04 10:00:00  {d['v9'][:19]}  (among the newest 2, #1)",
        f"keep v10  created 2024-01-03 10:00:00  {d['v10'][:19]}  (among the newest 2, #2)",
        f"keep latest  created 2024-01-02 10:00:00  {d['v2'][:19]}  (matches latest)",
        "Space on the registry's disk comes back only when its garbage collection runs.",
    ]
    steps = list(apply_retention(registry, plan))
    where = f"{host}/{repo}"
    kinds = [k for k, _ in steps]
    assert kinds == ["info", "info", "deleted", "info", "info", "tagged", "untagged"], steps
    assert steps[2] == ("deleted", f"Deleted {where}@{d['v1']}: {where}:stable, {where}:v1 gone")
    assert steps[-1][1].startswith(f"Tag gone: {where}:v2 (deleted the throwaway)")
    assert sorted(registry.all_tags(repo)) == ["latest", "v10", "v9"]
    assert registry.digest_of(repo, "latest") == d["v2"], "the kept tag on the shared digest still resolves"
    for tag in ("v1", "v2", "stable"):
        with pytest.raises(NotFound):
            registry.digest_of(repo, tag)
    with pytest.raises(NotFound):
        registry.manifest(repo, d["v1"])


def test_retention_by_patterns_only_and_created_unknown_is_kept(retention_registry: str, unique: str) -> None:
    host, repo = retention_registry, f"pat-{unique}"
    d = dated_repository(host, repo)
    registry = Registry(host)
    plan = plan_retention(registry, repo, RetentionPolicy(None, ("v1*", "stable")))
    assert [(v.tag, v.reason) for v in plan.kept] == [
        ("v10", "matches v1*"), ("v1", "matches v1*"), ("stable", "matches stable"),
    ]  # fmt: skip
    assert [(v.tag, v.reason, v.shared_with) for v in plan.doomed] == [
        ("latest", "matches no keep pattern", ()), ("v2", "matches no keep pattern", ()),
        ("v9", "matches no keep pattern", ()),
    ]  # fmt: skip
    assert plan.whole_digests == [(d["v2"], ["latest", "v2"]), (d["v9"], ["v9"])]
    assert datetime(2024, 1, 4, 10, tzinfo=timezone.utc) == plan.doomed[-1].created


def test_retention_refuses_an_empty_policy() -> None:
    with pytest.raises(RetentionError, match="an empty policy would delete every tag"):
        RetentionPolicy()
    with pytest.raises(RetentionError, match="keep must be a whole number"):
        RetentionPolicy(-1)


def test_retention_apply_refuses_when_the_tags_moved(retention_registry: str, unique: str) -> None:
    host, repo = retention_registry, f"moved-{unique}"
    d = dated_repository(host, repo)
    registry = Registry(host)
    plan = plan_retention(registry, repo, RetentionPolicy(3))
    assert [v.tag for v in plan.doomed] == ["stable", "v1"]
    dated_image(host, repo, "v11", "2024-01-05T10:00:00Z")  # pushed after the preview
    with pytest.raises(RetentionChanged, match="changed since the preview; nothing was changed") as info:
        list(apply_retention(registry, plan))
    assert [v.tag for v in info.value.plan.doomed] == ["stable", "v1", "latest", "v2"]
    assert registry.digest_of(repo, "v1") == d["v1"], "nothing was deleted"


def test_retention_on_a_registry_without_deletes_is_one_sentence(nodelete_registry: str) -> None:
    registry = Registry(nodelete_registry)
    plan = plan_retention(registry, "keep", RetentionPolicy(0))
    assert [v.tag for v in plan.doomed] == ["me"]
    with pytest.raises(DeleteDisabled, match=r"storage\.delete\.enabled: true"):
        list(apply_retention(registry, plan))
    assert registry.all_tags("keep") == ["me"]


def test_delete_only_this_tag_with_bearer_tokens(
    token_registry: tuple[str, str, str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    """The PUT asks for a push token, the DELETE for a delete token; anonymous users get one sentence."""
    address, user, password, tokens = token_registry
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    registry = Registry(address)
    registry.set_credentials(user, password)
    digest = registry.digest_of("secret/app", "1")
    copy = f"copy-{unique}"
    registry.put_manifest("secret/app", copy, *registry.manifest_bytes("secret/app", digest))
    anonymous = Registry(address)
    with pytest.raises(AuthRequired, match="needs a login"):
        list(execute_untag(anonymous, plan_untag(anonymous, "secret/app", copy)))
    plan = plan_untag(registry, "secret/app", copy)
    assert plan.stay == ("1",)
    assert [kind for kind, _ in execute_untag(registry, plan)][-1] == "untagged"
    assert registry.all_tags("secret/app") == ["1"] and registry.digest_of("secret/app", "1") == digest
    scopes = {s for r in tokens.requests for s in r["scope"]}  # type: ignore[attr-defined]
    assert {"repository:secret/app:pull,push", "repository:secret/app:delete"} <= scopes
