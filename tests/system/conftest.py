import pytest

from tests import services
from tests.system.stack import ScratchPostgres, Stack


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/system/" in str(item.fspath):
            item.add_marker(pytest.mark.system)


@pytest.fixture
def stack_factory(tmp_path):
    """Build Stacks on a chosen database ("sqlite" or "postgresql") and broker ("embedded" or "redis")."""
    stacks: list[Stack] = []
    scratch: list[ScratchPostgres] = []

    def build(*, database: str = "sqlite", broker: str = "embedded", **extra_env: str) -> Stack:
        root = tmp_path / f"stack{len(stacks)}"
        root.mkdir()
        database_url = ""
        if database == "postgresql":
            scratch.append(ScratchPostgres(services.postgres_url()))
            database_url = scratch[-1].url
        redis_url = services.redis_url() if broker == "redis" else ""
        stack = Stack(root=root, database_url=database_url, redis_url=redis_url, extra_env=extra_env)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.stop_all()
    for database in scratch:
        database.drop()
