"""The schedules on a Prefect server's work pool, so that workers on any machine run them.

`fengqiao deploy --pool NAME` registers the same two deployments `fengqiao serve` serves (the daily
run and the weekly retraining), loaded from the repository's source (this checkout's folder, or a git
repository and branch that every worker can reach), on a `process` work pool of the server at
PREFECT_API_URL. Workers started with `prefect worker start --pool NAME` then fetch that code and run
the flows. The runs' settings travel in the deployment's job variables as FENGQIAO_* variables; the
pseudonymisation key and database passwords never do: workers read them from their own environment
(FENGQIAO_PSEUDONYM_KEY; PGPASSWORD or ~/.pgpass for PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound
from prefect.runner.storage import GitRepository, RunnerStorage
from prefect.settings import get_current_settings
from prefect.workers.process import ProcessWorker

from contracts.settings import Settings
from pipelines.serve import deployments

REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Deployed:
    """What `deploy_to_pool` registered, and where."""

    api_url: str
    pool: str
    pool_created: bool
    source: str
    names: tuple[str, ...]
    ids: tuple[UUID, ...]
    passwords_removed: tuple[str, ...]


def code_source(source: str | None = None, ref: str | None = None) -> str | RunnerStorage:
    """Where workers fetch the code: a folder (default this checkout, for workers that share it or the
    same path), or a git repository URL, at branch `ref` when given."""
    if ref:
        if not source:
            raise ValueError("--ref needs --source, the git repository to fetch")
        return GitRepository(url=source, branch=ref)
    return source or str(REPOSITORY)


def without_password(value: str) -> str:
    """A URL with the password of its user part taken out (other values unchanged)."""
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    if not password or not parts.scheme:
        return value
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def deployment_environment(settings: Settings) -> tuple[dict[str, str], tuple[str, ...]]:
    """The settings as FENGQIAO_* variables for the deployment (the key excluded, as in `serve`), with
    passwords taken out of URLs; and the names of the variables that lost one."""
    environment = settings.environment()
    cleaned = {name: without_password(value) for name, value in environment.items()}
    return cleaned, tuple(name for name in environment if cleaned[name] != environment[name])


def api_url() -> str:
    """The Prefect server deployments go to; an error when none is configured."""
    url = get_current_settings().api.url
    if not url:
        raise RuntimeError(
            "no Prefect server: set PREFECT_API_URL (e.g. http://prefect-host:4200/api) to the server "
            "the workers poll; `fengqiao serve` is the way to run the schedules without one"
        )
    return str(url)


def ensure_process_pool(pool: str) -> bool:
    """Create the work pool (type `process`) when it does not exist; True if it was created."""
    with get_client(sync_client=True) as client:
        try:
            found = client.read_work_pool(pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(WorkPoolCreate(name=pool, type="process", base_job_template=template))
            return True
    if found.type != "process":
        raise ValueError(
            f"work pool {pool!r} is of type {found.type!r}: use a `process` pool "
            f"(prefect work-pool create NAME --type process)"
        )
    return False


def deploy_to_pool(
    settings: Settings, pool: str, source: str | None = None, ref: str | None = None
) -> Deployed:
    """Register the daily run and the weekly retraining on `pool` of the server at PREFECT_API_URL.

    Registering again under the same names updates the deployments (code location, settings,
    schedules) instead of adding new ones.
    """
    storage = code_source(source, ref)
    url = api_url()
    created = ensure_process_pool(pool)
    environment, removed = deployment_environment(settings)
    made = deployments(settings, storage, work_pool_name=pool, job_variables={"env": environment})
    ids = tuple(deployment.apply(work_pool_name=pool) for deployment in made)
    return Deployed(
        api_url=url,
        pool=pool,
        pool_created=created,
        source=storage if isinstance(storage, str) else f"{source} ({ref})",
        names=tuple(f"{deployment.flow_name}/{deployment.name}" for deployment in made),
        ids=ids,
        passwords_removed=removed,
    )
