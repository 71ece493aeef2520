"""Agent images as pipeline targets: an agent with a build context (``build:``, a folder with a
Dockerfile) is built locally by the engine, never pulled from a registry; its image id is
written to a file that the agent's runs depend on, so a changed image reruns that agent's runs
only. An agent naming an image already present (``image:``) is run from it as it is, and every
run records the id and digests of the image it ran (run.json ``runner_identity``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlepipe.agents.config import load_agents
from mlepipe.harness.container import DEFAULT_ENGINE, engine_client
from mlepipe.harness.runner import SandboxUnavailable


def build_image(
    engine: str,
    context: Path,
    tag: str,
    log: Path | None = None,
    dockerfile: str = "Dockerfile",
    build_args: dict[str, str] | None = None,
) -> str:
    """Build the image of folder ``context`` (its ``dockerfile``, with ``build_args``) as
    ``tag``; returns its id."""
    import docker

    if not (context / dockerfile).is_file():
        raise SandboxUnavailable(f"build context {context} has no {dockerfile}")
    client = engine_client(engine, timeout=3600)
    try:
        image, lines = client.images.build(
            path=str(context), dockerfile=dockerfile, buildargs=build_args or None, tag=tag,
            rm=True, pull=False,
        )  # fmt: skip
    except docker.errors.BuildError as exc:
        tail = "".join(str(line.get("stream", "")) for line in exc.build_log)[-2000:]
        raise SandboxUnavailable(
            f"building {context}/{dockerfile} failed: {exc.msg}\n{tail}"
        ) from None
    if log is not None:
        log.write_text("".join(str(line.get("stream", "")) for line in lines))
    return image.id


def cmd_build_image(args) -> int:
    agent = load_agents(Path(args.agents_file))[args.agent]
    if agent.build_dir is None:
        raise SandboxUnavailable(f"agent {args.agent} has no build context (`build:`)")
    image_id = build_image(
        args.container_engine, agent.build_dir, agent.image,
        dockerfile=agent.dockerfile, build_args=agent.build_args,
    )  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(image_id + "\n")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser("build-image", help="build an agent's image in the container engine")
    sp.add_argument("--agent", required=True)
    sp.add_argument("--agents-file", default="config/agents.yaml")
    sp.add_argument("--container-engine", default=DEFAULT_ENGINE)
    sp.add_argument("--out", required=True, help="file that receives the image id")
    sp.set_defaults(func=cmd_build_image)
