"""Fixed data for the snapshot tests: the seed notes' images, layers, containers and a registry, as the
sandbox engine shows them, with IDs made from their names and times a fixed while before now, so that a
screenshot is the same from run to run. Behaviour is tested against the real engine elsewhere; these only
answer what the screens ask, the way the engine would."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

from imgtui.engine import Container, Engine, EngineInfo, Image, Layer, removal
from imgtui.engine.transfer import SearchResult
from imgtui.layers import Analysis, Entry, Kind, LayerIndex, analyze
from imgtui.registry import Registry
from imgtui.registry.models import ImageConfig, Manifest, Page, RemoteLayer


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


class FixedEngine(Engine):
    """An Engine whose answers are fixed: what the seed makes, at fixed ages."""

    def __init__(self) -> None:
        info = EngineInfo("unix:///tmp/imgtui-sandbox/docker.sock", "DOCKER_HOST", "20.10.24+dfsg1", "1.41",
                          "linux", "amd64", "classic", "1.41")  # fmt: skip
        super().__init__(None, info)  # type: ignore[arg-type]
        now = datetime.now(timezone.utc)

        def ago(minutes: float) -> datetime:
            return now - timedelta(minutes=minutes, seconds=5)

        base = Image(digest("busybox"), ("busybox:latest",), (), ago(58), 1_981_392)
        first = Image(digest("first"), ("commit_test:first",), (), ago(57), 1_981_404)
        second = Image(digest("second"), ("commit_test:second",), (), ago(56), 1_981_417)
        names = ("alicek107/my-image-name:0.0", "my-image-name:0.0")
        copy = Image(digest("copy"), names, (), ago(55), 1_981_516)
        old_app = Image(digest("app1"), (), (), ago(54), 1_981_414)
        app = Image(digest("app2"), ("demo/app:latest",), (), ago(53), 1_981_414)
        self.images = [base, first, second, copy, old_app, app]
        imported = Layer(base.id, ago(58), "", 1_981_392, "Imported from -", ("busybox:latest",))
        made_first = Layer(first.id, ago(57), "sh -c echo test_first! >> first", 12, "my first commit",
                           ("commit_test:first",))  # fmt: skip
        made_second = Layer(second.id, ago(56), "sh -c echo test_second! >> second", 13, "my second commit",
                            ("commit_test:second",))  # fmt: skip
        script = "sh -c mkdir -p /app && echo 'version {}' > /app/VERSION"
        build = Layer(app.id, ago(53), script.format(2), 22, "build 2", ("demo/app:latest",))
        self.layers = {
            base.id: (imported,),
            first.id: (made_first, imported),
            second.id: (made_second, made_first, imported),
            copy.id: (Layer(copy.id, ago(55), "", 1_981_516, "", copy.names),),
            old_app.id: (Layer(old_app.id, ago(54), script.format(1), 22, "build 1"), imported),
            app.id: (build, imported),
        }
        self.container_rows = [
            Container(digest("c1")[7:], "commit_test", "busybox:latest", base.id,
                      "sh -c 'echo test_first! >> first'", ago(57), "exited", "Exited (0) 57 minutes ago"),
            Container(digest("c2")[7:], "commit_test2", "commit_test:first", first.id,
                      "sh -c 'echo test_second! >> second'", ago(56), "exited", "Exited (0) 56 minutes ago"),
        ]  # fmt: skip
        self.state = removal.EngineState(
            images={i.id: i for i in self.images},
            children={base.id: (first.id, old_app.id, app.id), first.id: (second.id,)},
            containers=tuple(self.container_rows),
            unique={base.id: 0, first.id: 12, second.id: 13, copy.id: 1_981_516, old_app.id: 22, app.id: 22},
            layers_size=3_963_010,
        )

    def list_images(self) -> list[Image]:
        return list(self.images)

    def cached_history(self, image_id: str) -> tuple[Layer, ...] | None:
        return None

    def history(self, image_id: str) -> tuple[Layer, ...]:
        return self.layers[image_id]

    def disk_usage(self, image_ids: list[str] | None = None) -> int:
        return self.state.layers_size

    def removal_state(self) -> removal.EngineState:
        return self.state

    def containers(self) -> list[Container]:
        return list(self.container_rows)

    def inspect_raw(self, id_or_name: str) -> dict[str, Any]:
        image = next(i for i in self.images if id_or_name in (i.id, *i.names))
        return {"Id": image.id, "RepoTags": list(image.names), "Architecture": "amd64", "Os": "linux",
                "Size": image.size, "Config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
                "RootFS": {"Type": "layers", "Layers": [digest(f"layer-{image.id}")]}}  # fmt: skip

    def analyze(self, name: str, report: Any, stop: Any, cache: Any = None) -> Analysis:
        """commit_test:second's layers, as the engine's save stream gives them (tests/test_layers_engine.py
        reads the real ones)."""
        files = [Entry(f"/bin/{n}", Kind.SYMLINK, 0, 0o777, 0, 0, "busybox") for n in ("sh", "ls", "cat")]
        base = LayerIndex(digest("l0"), (
            Entry("/bin", Kind.DIR, 0, 0o755, 0, 0), Entry("/bin/busybox", Kind.FILE, 1_981_392, 0o755, 0, 0),
            *files, Entry("/etc", Kind.DIR, 0, 0o755, 0, 0), Entry("/etc/passwd", Kind.FILE, 30, 0o644, 0, 0),
            Entry("/tmp", Kind.DIR, 0, 0o1777, 0, 0),
        ))  # fmt: skip
        first = LayerIndex(digest("l1"), (Entry("/first", Kind.FILE, 12, 0o644, 0, 0),))
        second = LayerIndex(digest("l2"), (Entry("/second", Kind.FILE, 13, 0o644, 0, 0),
                                           Entry("/etc/passwd", Kind.FILE, 60, 0o644, 0, 0)),
                            removed=("/tmp",))  # fmt: skip
        commands = ["", "sh -c echo test_first! >> first", "sh -c echo test_second! >> second"]
        return analyze(name, [base, first, second], commands)

    def search(self, term: str) -> list[SearchResult]:
        return [SearchResult("busybox", "Busybox base image.", 3500, True, False),
                SearchResult("alicek106/busybox", "a busybox of my own", 3, False, False)]  # fmt: skip

    def close(self) -> None:
        pass


class FixedRegistry(Registry):
    """A registry at a fixed address whose catalog, tags, manifests and configs are fixed."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1:5000")
        self.when = datetime.now(timezone.utc) - timedelta(minutes=40, seconds=5)

    def ping(self) -> None:
        pass

    def catalog(self, next_url: str | None = None) -> Page:
        return Page(("base/os", "demo/app", "team/tools"), None)

    def tags(self, repository: str, next_url: str | None = None) -> Page:
        return Page(("stable", "v2") if repository == "team/tools" else ("latest",), None)

    def manifest(self, repository: str, reference: str) -> Manifest:
        layers = ((digest("blob-base"), 1_069_324), (digest(f"blob-{repository}"), 146))
        kind = "application/vnd.docker.distribution.manifest.v2+json"
        config = digest(f"config-{repository}")
        return Manifest(digest(f"{repository}:{reference}"), kind, 739, config_digest=config, layers=layers)

    def config(self, repository: str, manifest: Manifest) -> ImageConfig:
        history = (
            RemoteLayer(self.when, "sh -c echo test_second! >> second", "my second commit", 146,
                        manifest.layers[1][0]),
            RemoteLayer(self.when, "", "Imported from -", 1_069_324, manifest.layers[0][0]),
        )  # fmt: skip
        return ImageConfig(manifest.config_digest, self.when, "linux/amd64", history)
