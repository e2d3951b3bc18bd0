"""The consumers' lag gauge asks each partition's figures of the Kafka consumer it is assigned to: one inbox
serves every topic's subscriber, and a batch that committed is never failed by its gauge."""

from aiokafka import TopicPartition

from shared.inbox import Inbox


class Consumer:
    """As aiokafka's: asking about a partition that is not assigned to it is an error."""

    def __init__(self, *partitions: TopicPartition, end: int = 10):
        self.partitions, self.end = set(partitions), end

    def assignment(self):
        return set(self.partitions)

    def highwater(self, tp):
        assert tp in self.partitions, "Partition is not assigned"
        return self.end

    async def committed(self, tp):
        assert tp in self.partitions, "Partition is not assigned"
        return 4


A, B = TopicPartition("catalog", 0), TopicPartition("jury", 1)


async def test_each_partitions_lag_comes_from_its_own_topics_consumer():
    inbox = Inbox(pool=None, schema="gateway")
    inbox.consumers = {"catalog": Consumer(A, end=10), "jury": Consumer(B, end=7)}
    inbox.applied_to[A] = 3
    inbox._gauge_lags({A})  # batch B's consumer was the last to deliver: it is not asked about A
    assert await inbox.lags() == {("catalog", 0): 7, ("jury", 1): 3}


async def test_a_partition_revoked_after_the_commit_is_skipped_by_the_gauge():
    inbox = Inbox(pool=None, schema="gateway")
    inbox.consumers = {"catalog": Consumer()}
    inbox.applied_to[A] = 3
    inbox._gauge_lags({A})
    assert await inbox.lags() == {}
