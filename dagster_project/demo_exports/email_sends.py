"""What happens to one batch of sent messages: drops, bounces, deliveries, opens, clicks, opt-outs.

Human opens follow the owner's engagement and stop almost entirely once they have churned;
Apple Mail Privacy Protection users also produce machine opens on nearly every delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EVENT_NAMES = ("processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "spamreport",
               "unsubscribe", "group_unsubscribe", "group_resubscribe")
(PROCESSED, DELIVERED, DEFERRED, BOUNCE, DROPPED, OPEN, CLICK, SPAMREPORT,
 UNSUBSCRIBE, GROUP_UNSUBSCRIBE, GROUP_RESUBSCRIBE) = range(len(EVENT_NAMES))
REASONS = ("550 5.1.1 The email account that you tried to reach does not exist.",
           "550 5.7.1 Message blocked due to sender reputation", "Invalid", "Bounced Address")
BOUNCED_NO_MAILBOX, BLOCKED, DROPPED_INVALID, DROPPED_BOUNCED = range(len(REASONS))
HUMAN_AGENTS = 6  # agent indices below this are people's mail clients; the last one is Apple's proxy
# Narrow types keep millions of events small in memory.
EVENT_COLUMNS = {"recipient": np.int32, "ts": np.int64, "event": np.int8, "message": np.int32, "campaign": np.int16,
                 "url": np.int16, "agent": np.int8, "ip": np.int64, "machine": np.int8, "reason": np.int8,
                 "asm": np.int16}


@dataclass
class EventLog:
    """Column chunks of emitted events, concatenated once at the end."""

    chunks: dict[str, list[np.ndarray]] = field(default_factory=lambda: {c: [] for c in EVENT_COLUMNS})

    def add(self, recipient: np.ndarray, ts: np.ndarray, event: int, **columns: np.ndarray | int) -> None:
        """Append events of one type; unspecified columns are -1."""
        n = len(recipient)
        given = {"recipient": recipient, "ts": ts, "event": event, **columns}
        for name, dtype in EVENT_COLUMNS.items():
            self.chunks[name].append(np.broadcast_to(np.asarray(given.get(name, -1)).astype(dtype), (n,)).copy())


@dataclass(frozen=True)
class Batch:
    """Messages sent together: recipients, owners' state at send time, and the campaign (-1 transactional)."""

    recipient: np.ndarray
    sent_at: np.ndarray
    message: np.ndarray
    campaign: int
    asm_group: int
    engagement: np.ndarray
    alive: np.ndarray
    apple_privacy: np.ndarray
    url_base: int
    appeal: float = 1.0


def send_batch(batch: Batch, valid: np.ndarray, deliverable: np.ndarray, bounced: np.ndarray,
               log: EventLog, rng: np.random.Generator) -> np.ndarray:
    """Emit the events of a batch and return the mask of delivered messages."""
    r, t, n = batch.recipient, batch.sent_at, len(batch.recipient)
    ids: dict[str, np.ndarray | int] = {"message": batch.message, "campaign": batch.campaign}
    log.add(r, t, PROCESSED, **ids)
    invalid = ~valid[r]
    suppressed = valid[r] & bounced[r]
    hard = valid[r] & ~bounced[r] & ~deliverable[r]
    blocked = ~invalid & ~suppressed & ~hard & (rng.random(n) < 0.003)
    log.add(r[invalid], t[invalid] + 1, DROPPED, reason=DROPPED_INVALID, **_pick(ids, invalid))
    log.add(r[suppressed], t[suppressed] + 1, DROPPED, reason=DROPPED_BOUNCED, **_pick(ids, suppressed))
    log.add(r[hard], t[hard] + 5, BOUNCE, reason=BOUNCED_NO_MAILBOX, **_pick(ids, hard))
    log.add(r[blocked], t[blocked] + 5, BOUNCE, reason=BLOCKED, **_pick(ids, blocked))
    bounced[r[hard]] = True
    ok = ~invalid & ~suppressed & ~hard & ~blocked
    deferred = ok & (rng.random(n) < 0.01)
    log.add(r[deferred], t[deferred] + 30, DEFERRED, **_pick(ids, deferred))
    delivered_at = t + np.where(deferred, rng.integers(600, 7200, size=n), rng.integers(1, 30, size=n))
    log.add(r[ok], delivered_at[ok], DELIVERED, **_pick(ids, ok))
    machine = ok & batch.apple_privacy & (rng.random(n) < 0.85)
    log.add(r[machine], delivered_at[machine] + rng.integers(30, 1800, size=machine.sum()), OPEN,
            agent=HUMAN_AGENTS, ip=(17 << 24) + rng.integers(0, 1 << 24, size=machine.sum()), machine=1,
            **_pick(ids, machine))
    base = batch.engagement * np.where(batch.alive, 1.0, 0.15)
    open_prob = np.clip(base * batch.appeal if batch.campaign >= 0 else 0.35 + 0.5 * base, 0, 0.95)
    opened = ok & (rng.random(n) < open_prob)
    first_open = delivered_at + np.minimum(rng.lognormal(np.log(7200), 1.2, size=n), 20 * 86400).astype(np.int64)
    agent = rng.integers(0, HUMAN_AGENTS, size=n)
    ip = rng.integers(1 << 24, 223 << 24, size=n)
    repeats = np.where(opened, 1 + rng.poisson(0.3, size=n), 0)
    rows = np.repeat(np.arange(n), repeats)
    first_of_row = np.arange(len(rows)) == np.searchsorted(rows, rows)
    later = np.where(first_of_row, 0, rng.integers(60, 3 * 86400, size=len(rows)))
    log.add(r[rows], first_open[rows] + later, OPEN, agent=agent[rows], ip=ip[rows], machine=0,
            **_pick(ids, rows))
    clicked = opened & (rng.random(n) < 0.1 + 0.35 * batch.engagement)
    clicks = np.repeat(np.arange(n), np.where(clicked, 1 + rng.poisson(0.2, size=n), 0))
    log.add(r[clicks], first_open[clicks] + rng.integers(5, 900, size=len(clicks)), CLICK,
            agent=agent[clicks], ip=ip[clicks], url=batch.url_base + rng.integers(0, 3, size=len(clicks)),
            **_pick(ids, clicks))
    return ok


def _pick(ids: dict[str, np.ndarray | int], rows: np.ndarray) -> dict[str, np.ndarray | int]:
    return {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in ids.items()}
