"""The deadline engine, a part of the jury process (services/jury/README.md, "Deadlines"): deadlines opened, met
and cancelled by the events of the three topics (engine.py), made due and missed by durable timers on the
scheduler's clock (timers.py), each a `Deadline` aggregate of the jury's store (domain.py) whose events are
published on cqp.jury.events."""
