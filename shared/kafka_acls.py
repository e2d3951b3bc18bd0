"""Who may do what on the event topics: the broker's ACLs of one topic prefix.

The broker denies whatever no ACL allows (StandardAuthorizer, allow.everyone.if.no.acl.found=false):
each service may write (and describe) only its own topic, and read only the topics it consumes, with
its own consumer group; the gateway reads and never writes; anonymous clients get nothing. Topics and
groups carry CQP_TOPIC_PREFIX (every test system has its own), so the ACLs are made per prefix, on the
exact (LITERAL) names. An idempotent producer needs no IdempotentWrite on the cluster: since Kafka 3.0
Write on a topic implies it.

aiokafka has the CreateAcls protocol messages but no admin method for them: `ensure_acls` sends the
request itself through the admin client's connection (aiokafka is pinned in pyproject.toml).
"""

from __future__ import annotations

from enum import IntEnum

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest

from shared.contracts import candidacy, catalog, jury


class Resource(IntEnum):
    TOPIC = 2
    GROUP = 3


class Operation(IntEnum):
    READ = 3
    WRITE = 4
    DESCRIBE = 8


LITERAL = 3  # pattern type: the exact name
ALLOW = 3  # permission type

# The topics each process publishes and consumes (services/*/__main__.py, services/gateway/readmodels.py).
WRITES = {"catalog": catalog.TOPIC, "candidacy": candidacy.TOPIC, "jury": jury.TOPIC}
READS = {
    "candidacy": (catalog.TOPIC, candidacy.TOPIC, jury.TOPIC),  # its own: the candidate told of each step
    "jury": (catalog.TOPIC, candidacy.TOPIC, jury.TOPIC),  # its own: each certificate issued gets its PDF
    "gateway": (catalog.TOPIC, candidacy.TOPIC, jury.TOPIC),
}


def principal(process: str) -> str:
    """The SCRAM user of a process is its name (deploy/kafka/kafka.sh)."""
    return f"User:{process}"


def group(process: str, prefix: str = "") -> str:
    """The consumer group of a process (shared/service.py, services/gateway/rebuild.py)."""
    return f"{prefix}cqp.{process}"


def acls(prefix: str = "") -> list[tuple[Resource, str, str, Operation]]:
    """Every ACL of the prefix: (resource type, name, principal, operation), all ALLOW from any host."""
    rules = []
    for process, topic in WRITES.items():
        # READ of its own topic too: its relay reads what each partition holds before publishing more.
        rules += [(Resource.TOPIC, f"{prefix}{topic}", principal(process), op)
                  for op in (Operation.WRITE, Operation.READ, Operation.DESCRIBE)]
    for process, topics in READS.items():
        rules += [(Resource.TOPIC, f"{prefix}{topic}", principal(process), op)
                  for topic in topics for op in (Operation.READ, Operation.DESCRIBE)]
        rules.append((Resource.GROUP, group(process, prefix), principal(process), Operation.READ))
    return rules


class _CreateAcls(CreateAclsRequest):
    """CreateAcls (version 1 and later: pattern types) with every creation in one request."""

    def __init__(self, creations: list[tuple]):
        self.creations = creations

    def build(self, request_struct_class):
        if request_struct_class.API_VERSION < 1:
            raise RuntimeError("the broker is too old for prefixed ACLs (CreateAcls v1)")
        return request_struct_class(self.creations)


async def ensure_acls(admin: AIOKafkaAdminClient, prefix: str = "") -> int:
    """Create the ACLs of the prefix (creating an existing ACL again changes nothing); returns how many."""
    rules = acls(prefix)
    creations = [(resource, name, LITERAL, who, "*", operation, ALLOW) for resource, name, who, operation in rules]
    response = await admin._send_request(_CreateAcls(creations))
    for error_code, message in response.creation_responses:
        if error_code:
            raise for_code(error_code)(message)
    return len(rules)
