"""The registry client against real registries (Debian's docker-registry 2.8 on 127.0.0.1) that the fixtures
start and fill by pushing from the sandbox engine; answers distribution 2.8 cannot give (paged tag lists, 429,
500, HTML) come from tests/odd_registry.py, and bearer tokens from tests/token_server.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlparse

import docker
import pytest

from imgtui.registry import AuthRequired, DeleteDisabled, NotFound, Registry, RegistryError
from imgtui.registry import client as registry_client
from imgtui.registry.operations import PlanChanged, execute_delete, plan_delete, remote_status, tag_rows
from tests.conftest import Filled
from tests.registries import push


def counted(registry: Registry) -> list[str]:
    """Every request the registry object sends (method and path), through requests' response hook."""
    seen: list[str] = []
    registry.session.hooks["response"].append(
        lambda r, *a, **k: seen.append(f"{r.request.method} {urlparse(r.url).path}")
    )
    return seen


def test_catalog_pages_follow_the_link_header(filled_registry: Filled) -> None:
    registry = Registry(filled_registry.address, page_size=3)
    seen = counted(registry)
    first = registry.catalog()
    assert len(first.names) == 3 and first.next_url is not None, "a page of 3 with a link to the next"
    names, page = list(first.names), first
    while page.next_url:
        page = registry.catalog(page.next_url)
        names.extend(page.names)
    assert names == filled_registry.repositories
    assert seen.count("GET /v2/_catalog") == 3, seen  # 7 repositories, 3 a page: 3 requests, no more


def test_tags_pages_follow_the_link_header(odd_registry: str) -> None:
    """Protocol boundary: distribution 2.8 ignores n= on tags/list, newer registries page it like _catalog."""
    from tests.odd_registry import PAGED_TAGS

    registry = Registry(odd_registry, page_size=10)
    first = registry.tags("paged")
    assert first.names == tuple(PAGED_TAGS[:10]) and first.next_url
    assert registry.all_tags("paged") == PAGED_TAGS


def test_docker_v2_manifest_and_its_history(filled_registry: Filled) -> None:
    registry = Registry(filled_registry.address)
    manifest = registry.manifest("kinds", "second")
    assert manifest.kind == "docker v2" and manifest.digest == filled_registry.second_digest
    assert len(manifest.layers) == 3
    config = registry.config("kinds", manifest)
    assert config.platform.startswith("linux/") and config.created is not None
    comments = [layer.comment for layer in config.history]
    assert comments[:2] == ["my second commit", "my first commit"], (
        comments
    )  # newest first, as docker history
    assert "echo test_second!" in config.history[0].created_by
    assert config.history[0].size == manifest.layers[-1][1], "the newest layer's compressed size"


def test_every_manifest_kind(filled_registry: Filled) -> None:
    registry = Registry(filled_registry.address)
    oci = registry.manifest("kinds", "oci")
    assert oci.kind == "oci image" and oci.digest == filled_registry.oci_digest and oci.layers
    assert registry.config("kinds", oci).history, "an OCI manifest's config is read like a Docker one"
    listed = registry.manifest("kinds", "list")
    assert listed.kind == "docker list" and listed.is_index
    assert [(p.platform, p.digest) for p in listed.platforms] == [
        ("linux/amd64", filled_registry.docker_digest),
        ("linux/arm64", filled_registry.second_digest),
    ]
    index = registry.manifest("kinds", "index")
    assert index.kind == "oci index" and [p.platform for p in index.platforms] == [
        "linux/amd64",
        "linux/arm64",
    ]
    rows = tag_rows(registry, "kinds", "index")
    assert [r.key for r in rows] == [
        "index",
        f"index@{filled_registry.oci_digest}",
        f"index@{index.platforms[1].digest}",
    ]
    assert rows[0].platform == "2 platforms" and rows[1].parent == "index"
    assert rows[1].reference == f"kinds@{filled_registry.oci_digest}", "a platform row pulls by digest"


def test_manifests_and_configs_are_cached_by_digest(filled_registry: Filled) -> None:
    registry = Registry(filled_registry.address)
    seen = counted(registry)
    manifest = registry.manifest("kinds", "docker")
    registry.config("kinds", manifest)
    before = len(seen)
    assert registry.manifest("kinds", manifest.digest) is manifest
    registry.config("kinds", manifest)
    assert len(seen) == before, f"no request for what a digest already named: {seen[before:]}"


def test_missing_repository_and_tag_are_named(filled_registry: Filled) -> None:
    registry = Registry(filled_registry.address)
    with pytest.raises(NotFound, match="NAME_UNKNOWN"):
        registry.tags("no/such/repo")
    with pytest.raises(NotFound, match="MANIFEST_UNKNOWN") as info:
        registry.manifest("kinds", "no-such-tag")
    assert "kinds:no-such-tag" in str(info.value)


def test_delete_by_digest_takes_every_sibling_tag(
    filled_registry: Filled, api: docker.APIClient, unique: str
) -> None:
    host = filled_registry.address
    repo = f"del-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    push(api, "commit_test:second", f"{host}/{repo}:b")
    push(api, "busybox:latest", f"{host}/{repo}:other")
    registry = Registry(host)
    plan = plan_delete(registry, repo, "a")
    assert plan.siblings == ("a", "b") and plan.total_tags == 3
    text = "\n".join(plan.lines())
    assert "1 other tag points at it and will be deleted: b" in text and "garbage collection" in text
    assert execute_delete(registry, plan) == ["a", "b"]
    assert registry.all_tags(repo) == ["other"], "both tags on that digest are gone, the other stays"
    with pytest.raises(NotFound, match="not found"):
        registry.digest_of(repo, "b")  # a HEAD answer has no body, so no error code
    with pytest.raises(NotFound):
        registry.manifest(repo, plan.digest)


def test_delete_refuses_when_the_tag_moved_since_the_preview(
    filled_registry: Filled, api: docker.APIClient, unique: str
) -> None:
    host = filled_registry.address
    repo = f"moved-{unique}"
    push(api, "commit_test:second", f"{host}/{repo}:a")
    registry = Registry(host)
    plan = plan_delete(registry, repo, "a")
    push(api, "busybox:latest", f"{host}/{repo}:a")  # someone pushes over it meanwhile
    with pytest.raises(PlanChanged) as info:
        execute_delete(registry, plan)
    assert info.value.plan.digest != plan.digest
    assert registry.all_tags(repo) == ["a"], "nothing was deleted"


def test_delete_disabled_says_how_to_enable_it(nodelete_registry: str) -> None:
    registry = Registry(nodelete_registry)
    plan = plan_delete(registry, "keep", "me")
    with pytest.raises(DeleteDisabled, match=r"storage\.delete\.enabled: true"):
        execute_delete(registry, plan)
    assert registry.all_tags("keep") == ["me"]


def test_basic_auth_anonymous_wrong_and_right(auth_registry: tuple[str, str, str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    address, user, password = auth_registry
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no docker login at first
    with pytest.raises(AuthRequired, match="needs a login.*imgtui-test") as info:
        Registry(address).catalog()
    assert info.value.realm == "imgtui-test" and not info.value.refused
    wrong = Registry(address)
    wrong.set_credentials(user, "not-" + password)
    with pytest.raises(AuthRequired, match=f"refused the credentials of {user}") as info:
        wrong.catalog()
    assert info.value.refused and password not in str(info.value)
    right = Registry(address)
    right.set_credentials(user, password)
    right.catalog()
    assert password not in right.describe() and password not in repr(right.credentials)
    # What `docker login` left in the docker config is used without asking.
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {address: {"auth": token}}}))
    from_config = Registry(address)
    from_config.catalog()
    assert from_config.credentials is not None and from_config.credentials.source == "docker config"


def test_bearer_token_flow(token_registry: tuple[str, str, str, object], tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    address, user, password, tokens = token_registry
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    anonymous = Registry(address)
    assert anonymous.all_tags("secret/app") == ["1"], "anonymous pull tokens read tags"
    with pytest.raises(AuthRequired, match="needs a login"):
        anonymous.catalog()  # the token service grants anonymous users no catalog
    wrong = Registry(address)
    wrong.set_credentials(user, "bad")
    with pytest.raises(AuthRequired, match=f"token service .* refused the login of {user}"):
        wrong.catalog()
    right = Registry(address)
    right.set_credentials(user, password)
    assert "secret/app" in right.catalog().names
    manifest = right.manifest("secret/app", "1")
    assert right.config("secret/app", manifest).history
    scopes = [s for r in tokens.requests for s in r["scope"]]  # type: ignore[attr-defined]
    assert "registry:catalog:*" in scopes and "repository:secret/app:pull" in scopes


def test_tls_verification_and_its_ways_out(tls_registry: tuple[str, Path], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    address, ca = tls_registry
    with pytest.raises(RegistryError, match="TLS error.*certs.d") as info:
        Registry(address).ping()
    assert "certificate" in str(info.value).lower()
    Registry(address, insecure=True).ping()  # marked insecure: no verification, as the engine does
    monkeypatch.setattr(registry_client, "CERTS_D", tmp_path)
    (tmp_path / address).mkdir()
    (tmp_path / address / "ca.crt").write_bytes(ca.read_bytes())
    trusted = Registry(address)
    trusted.ping()
    assert trusted.base_url == f"https://{address}"


def test_plain_http_only_for_loopback_or_insecure() -> None:
    with pytest.raises(RegistryError, match="plain HTTP to 10.1.2.3:5000 refused"):
        Registry("http://10.1.2.3:5000")  # refused before any connection is tried
    assert Registry("http://10.1.2.3:5000", insecure=True).host == "10.1.2.3:5000"
    with pytest.raises(RegistryError, match="not a registry address"):
        Registry("ftp://x")


def test_unreachable_rate_limited_broken_and_not_json(odd_registry: str) -> None:
    from tests.registries import free_port

    with pytest.raises(RegistryError, match=r"cannot reach 127\.0\.0\.1:\d+"):
        Registry(f"127.0.0.1:{free_port()}").catalog()
    registry = Registry(odd_registry)
    with pytest.raises(RegistryError, match=r"rate-limiting \(429: slow down\); it asks to wait 7 s"):
        registry.tags("limited")
    with pytest.raises(RegistryError, match=r"internal error \(500: storage backend down\)"):
        registry.tags("broken")
    with pytest.raises(RegistryError, match="text/html, not JSON"):
        registry.tags("html")


def test_remote_status_of_local_images(filled_registry: Filled, api: docker.APIClient, unique: str) -> None:
    host = filled_registry.address
    registry = Registry(host)
    repo = f"{host}/status-{unique}"
    push(api, "commit_test:second", f"{repo}:v1", docker_v2=False)  # as the engine pushed it
    local = [d for d in api.inspect_image(f"{repo}:v1")["RepoDigests"] if d.startswith(repo + "@")]
    digests = [d.split("@")[1] for d in local]
    assert remote_status(registry, f"status-{unique}", "v1", digests).state == "up to date"
    assert remote_status(registry, f"status-{unique}", "v2", digests).state == "not pushed"
    push(api, "busybox:latest", f"{repo}:v1")  # the registry's v1 moves on
    assert remote_status(registry, f"status-{unique}", "v1", digests).state == "differs"


def test_delete_preview_names_the_indexes_that_use_the_manifest(filled_registry: Filled) -> None:
    registry = Registry(filled_registry.address)
    plan = plan_delete(registry, "kinds", "docker")  # kinds:list's linux/amd64 entry is this manifest
    assert plan.siblings == ("docker",)
    assert plan.in_index == ("list (linux/amd64)",)
    assert "It is a platform of list (linux/amd64)" in "\n".join(plan.lines())


def test_credentials_from_a_credential_helper(auth_registry: tuple[str, str, str], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """credHelpers in the docker config: docker-py runs `docker-credential-NAME get` (a real executable here,
    speaking the helper protocol on stdin/stdout) and the registry accepts what it returns."""
    address, user, password = auth_registry
    helper = tmp_path / "bin" / "docker-credential-imgtuitest"
    helper.parent.mkdir()
    answer = json.dumps({"ServerURL": address, "Username": user, "Secret": password})
    helper.write_text(f"#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho '{answer}'\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"credHelpers": {address: "imgtuitest"}}))
    registry = Registry(address)
    registry.catalog()
    assert registry.credentials is not None and registry.credentials.username == user
    assert password not in registry.describe()


def test_deleting_the_last_tags_says_the_repository_stays_listed(
    filled_registry: Filled, api: docker.APIClient, unique: str
) -> None:
    host, repo = filled_registry.address, f"last-{unique}"
    push(api, "busybox:latest", f"{host}/{repo}:only")
    registry = Registry(host)
    plan = plan_delete(registry, repo, "only")
    assert f"{repo} keeps none of its 1 tags (the catalog still lists it)." in plan.lines()
    execute_delete(registry, plan)
    assert registry.all_tags(repo) == [], "tags/list answers null once every tag is gone"
    page = registry.catalog()
    names = list(page.names)
    while page.next_url:
        page = registry.catalog(page.next_url)
        names += page.names
    assert repo in names, "distribution keeps listing a repository with no tags"


def test_pull_references_take_a_digest() -> None:
    from imgtui.engine.reference import BadReference, validate, validate_pull

    digest = "sha256:" + "ab" * 32
    assert validate_pull(f"127.0.0.1:5000/base/os@{digest}") == ("127.0.0.1:5000/base/os", digest)
    assert validate_pull("base/os:1") == ("base/os", "1")
    with pytest.raises(BadReference, match="not a digest"):
        validate_pull("base/os@sha256:xyz")
    with pytest.raises(BadReference, match="not both"):
        validate_pull(f"base/os:1@{digest}")
    with pytest.raises(BadReference, match="cannot be used as a new name"):
        validate(f"base/os@{digest}")  # a digest is something to pull, never a name to give
