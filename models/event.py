from tortoise import fields
from tortoise.models import Model


class Event(Model):
    """A published event kept for a while, so a subscriber that reconnects can catch up.

    The payload is ids only: subscribers read the rows themselves, with their own scoping.
    Rows older than TROVE_EVENT_RETENTION_SECONDS are pruned.
    """

    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=300)
    # What the event is about (an asset id, a job id), to find where a subscriber left off.
    subject = fields.CharField(max_length=255)
    payload: fields.JSONField[dict[str, object]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "events"
        indexes = (("topic", "id"), ("topic", "subject"))
