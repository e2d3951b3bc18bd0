import pytest_asyncio

from tests.harness import System


@pytest_asyncio.fixture
async def system():
    """A fresh system for one test; its processes are started by the test."""
    system = await System.create()
    yield system
    system.stop()
