"""Publish/subscribe for live updates (asset created, job changed, node progress).

Payloads are small JSON objects of ids: a subscriber reads the rows itself, with its own
owner scoping, so the same messages can cross process boundaries. Three transports:

- `InProcessBroker`: one process (the embedded default);
- `PostgresBroker`: LISTEN/NOTIFY on the application database (several processes);
- `RedisBroker`: Redis pub/sub (TROVE_BROKER_URL=redis://...).

Durable events (assets created) are also written to the `events` table, so a subscriber
that reconnects with the last event it saw misses nothing committed meanwhile.
"""

from services.events.inprocess import InProcessBroker
from services.events.protocol import (
    BrokerEvent,
    EventBroker,
    EventHistoryGone,
    asset_topic,
    job_topic,
    prune_events,
)

__all__ = [
    "BrokerEvent",
    "EventBroker",
    "EventHistoryGone",
    "InProcessBroker",
    "asset_topic",
    "job_topic",
    "prune_events",
]
